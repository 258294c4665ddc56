"""Per-crate attribution: sizekit.bloat against the `nm -S --size-sort FILE | c++filt` pipeline, and against cargo-bloat.

    python benchmarks/bench_bloat.py [--runs 5] [--json PATH] [FILE]
    python benchmarks/bench_bloat.py --cargo-bloat [CRATE_DIR ...] [--runs 5] [--json PATH]

FILE defaults to the largest out/build/hello-hyper/x86_64-unknown-linux-gnu/*/hello-hyper (the
example's unstripped dev build). The peer is what a careful human runs with the tools a Rust
machine already has (cargo itself attributes nothing; `cargo bloat --crates`, the seed's tool,
is a separate install): `nm -S --size-sort FILE | c++filt`, then a sum per crate of the sized
text symbols. The peer pipeline groups nm's sized text symbols (t/T/W) by a
crate rule written in this file, apart from sizekit's (cargo-bloat's convention: a qualified
`<Type as Trait>::f` belongs to Type's crate, other paths to their first segment), so a bug in
sizekit's rule shows up as a disagreement. Both are timed end to end, in process,
median of N runs, after one warm-up run each.
Targets: sizekit faster than the pipeline, and on .text each of the top crates within 2% of the
pipeline's bytes. The pipeline has no [Unknown] (it never sees gaps), and it counts aliased
symbols twice, where sizekit counts each byte once.

With --cargo-bloat the peer is cargo-bloat itself (`cargo install cargo-bloat`; scripts/install
does), the seed's tool: in each crate folder (default examples/hello-hyper) `cargo bloat --release
--crates -n 0 --message-format json` builds the crate its own way, and `sizekit bloat --text-only`
reads the very file it measured (cargo's own artifact path). Per crate both tools' .text bytes and
the difference are printed, with the bytes the two put in different crates, and the median time of
each over alternating runs (cargo-bloat's includes cargo's no-op build check, which is what users
run). Target: every crate of 1% of .text or more within 2%.
"""
import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sizekit import api  # noqa: E402

import benchjson  # noqa: E402

NON_RUST, UNKNOWN = "[C/C++]", "[Unknown]"   # sizekit's names for non-Rust symbols and uncovered bytes

TEXT_TYPES = {"t", "T", "W"}
_HASH = re.compile(r"::h[0-9a-f]{16}$")
_DISAMBIGUATOR = re.compile(r"(?<=[A-Za-z0-9_])\[[0-9a-f]+\]")


def default_file():
    found = glob.glob(os.path.join(ROOT, "out", "build", "hello-hyper", "x86_64-unknown-linux-gnu", "*",
                                   "hello-hyper"))
    return max(found, key=os.path.getsize) if found else None


# The Rust distribution's own crates, folded into "std" as cargo-bloat does.
RUST_DIST = {"std", "core", "alloc", "proc_macro", "test", "panic_unwind", "panic_abort", "unwind",
             "compiler_builtins", "std_detect", "rustc_demangle", "addr2line", "gimli", "object",
             "miniz_oxide", "adler", "adler2", "rustc_std_workspace_core", "rustc_std_workspace_alloc",
             "rustc_std_workspace_std", "__rustc"}
RUNTIME_PREFIXES = ("__rust_", "__rdl_", "__rg_", "rust_eh_personality", "rust_begin_unwind", "rust_panic",
                    "DW.ref.rust_eh_personality")
_POINTERISH = re.compile(r"^(?:&'\w+ |&|mut |\*const |\*mut |dyn |impl |for<'[^>]*> )")


def _self_type(name):
    """For `<X as Y>::f` or `<X>::f`: (X, Y or None), found by counting brackets one character at a time."""
    depth, i = 0, 0
    as_pos = None
    while i < len(name):
        ch = name[i]
        if name.startswith("->", i):
            i += 2
            continue
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
            if depth == 0:
                return (name[1:as_pos], name[as_pos + 4:i]) if as_pos else (name[1:i], None)
        elif depth == 1 and as_pos is None and name.startswith(" as ", i):
            as_pos = i
        i += 1
    return name[1:], None


def _first_crate(path):
    """The first path segment of a type, after references and pointers; None for primitives."""
    while True:
        stripped = _POINTERISH.sub("", path, count=1)
        if stripped == path:
            break
        path = stripped
    if path.startswith("<"):
        return independent_crate(path)
    head = re.match(r"[A-Za-z_]\w*(?=::)", path)
    return head.group() if head else None


def independent_crate(name):
    """The bench's own reading of the cargo-bloat convention, written apart from sizekit's rule:
    a qualified `<Type as Trait>::item` belongs to Type's crate (Trait's when Type is a primitive,
    core when both are), any other path to its first segment."""
    if name.startswith("<"):
        typ, trait = _self_type(name)
        return _first_crate(typ) or (trait and _first_crate(trait)) or "core"
    head = re.match(r"[A-Za-z_]\w*(?=::)", name)
    return head.group() if head else None


def pipeline_text_crates(path):
    """crate -> bytes of nm's text symbols, demangled by c++filt, grouped by this file's own rule."""
    nm = subprocess.Popen(["nm", "-S", "--size-sort", path], stdout=subprocess.PIPE)
    out = subprocess.run(["c++filt"], stdin=nm.stdout, capture_output=True, text=True, check=True).stdout
    nm.stdout.close()
    if nm.wait() != 0:
        raise SystemExit(f"nm failed on {path}")
    totals = {}
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) != 4 or parts[2] not in TEXT_TYPES:
            continue
        name = _DISAMBIGUATOR.sub("", _HASH.sub("", re.sub(r" \[clone [^\]]*\]$", "", parts[3])))
        crate = independent_crate(name)
        if crate is None:
            crate = "std" if parts[3].startswith(RUNTIME_PREFIXES) else NON_RUST
        crate = "std" if crate in RUST_DIST else crate
        totals[crate] = totals.get(crate, 0) + int(parts[1], 16)
    return totals


def sizekit_text_crates(path):
    att = api.attribute(path)
    return att, {c: b for c, b in att.sections.get(".text", {}).items() if c != UNKNOWN}


def cargo_bloat_crates(crate_dir):
    """(cargo-bloat's {crate: .text bytes}, its .text total, the file it measured) for a crate folder."""
    lib = "--lib" if 'crate-type = ["cdylib"]' in open(os.path.join(crate_dir, "Cargo.toml")).read() else None
    argv = ["cargo", "bloat", "--release", "--crates", "-n", "0", "--message-format", "json", *filter(None, [lib])]
    out = subprocess.run(argv, cwd=crate_dir, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {crate_dir}:\n{out.stderr[-1500:]}")
    data = json.loads(out.stdout)
    built = subprocess.run(["cargo", "build", "--release", "--message-format", "json", *filter(None, [lib])],
                           cwd=crate_dir, capture_output=True, text=True, check=True)
    files = [f for line in built.stdout.splitlines() if line.startswith("{")
             for m in [json.loads(line)] if m.get("reason") == "compiler-artifact"
             and os.path.realpath(os.path.dirname(m["manifest_path"])) == os.path.realpath(crate_dir)
             for f in ([m["executable"]] if m.get("executable") else [p for p in m["filenames"] if p.endswith(".so")])]
    return {c["name"]: c["size"] for c in data["crates"]}, data["text-section-size"], files[-1], argv


def std_rlibs(crate_dir):
    """The crate names of the rlibs in the toolchain's std folder for the host: cargo-bloat folds
    every one of them into "std" unless the crate depends on it by name."""
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], cwd=crate_dir, capture_output=True, text=True,
                             check=True).stdout.strip()
    host = re.search(r"^host: (\S+)", subprocess.run(["rustc", "-vV"], cwd=crate_dir, capture_output=True,
                                                      text=True, check=True).stdout, re.M).group(1)
    names = set()
    for rlib in glob.glob(os.path.join(sysroot, "lib", "rustlib", host, "lib", "lib*.rlib")):
        names.add(re.sub(r"-[0-9a-f]+$", "", os.path.basename(rlib)[3:-5]))
    return names


def cargo_bloat_view(sizekit_crates, cargo_bloat_crates, std_names):
    """Both tables under cargo-bloat's names, and what was renamed: sizekit's [C/C++] (symbols of no
    Rust crate) is cargo-bloat's [Unknown]; sizekit's [Unknown] (bytes no symbol covers) is not in
    cargo-bloat's table; a crate of the toolchain's std folder that the program does not depend on by
    name is std for cargo-bloat (memchr, hashbrown, ...); cargo-bloat's __rustc (the runtime's v0
    symbols) is std for sizekit."""
    ours, notes = {}, []
    for crate, nbytes in sizekit_crates.items():
        if crate == UNKNOWN:
            continue
        name = "[Unknown]" if crate == NON_RUST else crate
        if crate in std_names and crate != "std" and crate not in cargo_bloat_crates:
            notes.append(f"sizekit's {crate} ({nbytes:,} bytes) counted as std, as cargo-bloat does")
            name = "std"
        ours[name] = ours.get(name, 0) + nbytes
    theirs = dict(cargo_bloat_crates)
    if "__rustc" in theirs:
        notes.append(f"cargo-bloat's __rustc ({theirs['__rustc']:,} bytes) counted as std, as sizekit does")
        theirs["std"] = theirs.get("std", 0) + theirs.pop("__rustc")
    return ours, theirs, notes


def compare_cargo_bloat(crate_dirs, runs, top):
    """Per crate folder: both tools' .text bytes per crate, the worst difference, and the timings."""
    rows = []
    for crate_dir in crate_dirs:
        theirs, text_total, path, argv = cargo_bloat_crates(crate_dir)
        att = api.attribute(path, sections=[".text"])
        ours, theirs, notes = cargo_bloat_view(att.crates, theirs, std_rlibs(crate_dir))
        gaps = att.crates.get(UNKNOWN, 0)
        times_sk, times_cb = [], []
        for i in range(runs):
            pair = [(times_sk, lambda: api.attribute(path, sections=[".text"])),
                    (times_cb, lambda: subprocess.run(argv, cwd=crate_dir, capture_output=True, check=True))]
            for times, fn in (pair if i % 2 == 0 else pair[::-1]):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        names = sorted(set(ours) | set(theirs), key=lambda c: -max(ours.get(c, 0), theirs.get(c, 0)))
        print(f"\n{os.path.relpath(path, ROOT)} (built by cargo-bloat in {os.path.relpath(crate_dir, ROOT)}): "
              f".text {text_total:,} bytes (sizekit {att.section_sizes.get('.text', 0):,})")
        print(f"{'crate':<24} {'sizekit':>12} {'cargo-bloat':>12} {'diff':>8}")
        # Judged on the crates that hold at least 1% of .text (a 100-byte crate's 100% is noise), and
        # by the bytes the two tools put in different crates.
        worst, worst_crate = 0.0, None
        for i, c in enumerate(names):
            a, b = ours.get(c, 0), theirs.get(c, 0)
            pct = (a - b) * 100 / b if b else (0.0 if not a else float("inf"))
            if i < top and max(a, b) * 100 >= text_total and abs(pct) > worst:
                worst, worst_crate = abs(pct), c
            if i < top or abs(pct) > 2:
                print(f"{c:<24} {a:>12,} {b:>12,} {pct:>+7.2f}%")
        moved = sum(abs(ours.get(c, 0) - theirs.get(c, 0)) for c in names) // 2
        print(f"{'gaps (sizekit [Unknown])':<24} {gaps:>12,} {'-':>12}")
        print(f"bytes in different crates: {moved:,} ({moved * 100 / text_total:.1f}% of .text); worst crate of 1%+ "
              f"of .text: {worst_crate} {worst:.2f}%")
        for note in notes:
            print("  " + note)
        sk, cb = statistics.median(times_sk), statistics.median(times_cb)
        print(f"time: sizekit bloat --text-only {sk * 1000:.1f} ms, cargo bloat {cb * 1000:.1f} ms "
              f"(medians of {runs}, alternating): cargo-bloat/sizekit {cb / sk:.1f}x")
        rows.append({"crate_dir": os.path.relpath(crate_dir, ROOT), "file": os.path.relpath(path, ROOT),
                     "text_bytes": text_total, "sizekit_text_bytes": att.section_sizes.get(".text", 0),
                     "crates": {c: {"sizekit": ours.get(c, 0), "cargo_bloat": theirs.get(c, 0)} for c in names[:top]},
                     "worst_pct": worst, "worst_crate": worst_crate, "moved_bytes": moved,
                     "moved_pct": moved * 100 / text_total, "sizekit_seconds": sk, "cargo_bloat_seconds": cb,
                     "speedup": cb / sk})
    return rows


def median_time(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", help="an unstripped ELF (default: the example's dev build)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--top", type=int, default=10, help="crates compared (largest on .text)")
    ap.add_argument("--json", help="write the settings and figures here (benchmarks/results/bloat.json is the README's)")
    ap.add_argument("--cargo-bloat", nargs="*", metavar="CRATE_DIR",
                    help="compare with cargo-bloat on these crate folders (default: examples/hello-hyper)")
    args = ap.parse_args(argv)
    if args.cargo_bloat is not None:
        dirs = [os.path.abspath(d) for d in args.cargo_bloat] or [os.path.join(ROOT, "examples", "hello-hyper")]
        rows = compare_cargo_bloat(dirs, args.runs, args.top)
        close = all(r["worst_pct"] <= 2.0 for r in rows)
        print(f"\nagreement on .text: {'PASS' if close else 'FAIL'} (worst difference on a crate of 1%+ of .text "
              f"{max(r['worst_pct'] for r in rows):.2f}%, limit 2%)")
        if args.json:
            benchjson.write(args.json, "bench_bloat_cargo_bloat", {"runs": args.runs, "top": args.top,
                                                                   "cargo_bloat": subprocess.run(
                                                                       ["cargo", "bloat", "--version"], capture_output=True,
                                                                       text=True).stdout.strip()},
                            {"crates": rows, "targets": {"worst_pct": 2.0}, "met": close})
        return 0 if close else 1
    path = args.file or default_file()
    if path is None:
        print("no FILE given and no out/build/hello-hyper/x86_64-unknown-linux-gnu/*/hello-hyper; "
              "build the example matrix first")
        return 2

    t_sk = median_time(lambda: api.attribute(path), args.runs)
    t_nm = median_time(lambda: pipeline_text_crates(path), args.runs)
    att, ours = sizekit_text_crates(path)
    theirs = pipeline_text_crates(path)
    nsyms = sum(1 for f in att.functions)

    print(f"{path}: {os.path.getsize(path):,} bytes, {nsyms:,} attributed symbols, demangler {att.demangler}")
    print(f"sizekit.bloat.attribute (all {len(att.sections)} sections): {t_sk * 1000:8.1f} ms median of {args.runs}")
    print(f"nm -S --size-sort | c++filt + grouping (text only): {t_nm * 1000:8.1f} ms median of {args.runs}")
    print(f"ratio pipeline/sizekit: {t_nm / t_sk:.2f}x")

    top = sorted(set(ours) | set(theirs), key=lambda c: -max(ours.get(c, 0), theirs.get(c, 0)))[:args.top]
    print(f"\n.text by crate (top {len(top)}; sizekit's [Unknown] gaps left out: "
          f"{att.sections.get('.text', {}).get(UNKNOWN, 0):,} bytes)")
    print(f"{'crate':<20} {'sizekit':>12} {'pipeline':>12} {'diff':>8}")
    worst = 0.0
    for c in top:
        a, b = ours.get(c, 0), theirs.get(c, 0)
        pct = (a - b) * 100 / b if b else float("inf")
        worst = max(worst, abs(pct))
        print(f"{c:<20} {a:>12,} {b:>12,} {pct:>+7.2f}%")
    ta, tb = sum(ours.values()), sum(theirs.values())
    print(f"{'all crates':<20} {ta:>12,} {tb:>12,} {(ta - tb) * 100 / tb:>+7.2f}%")

    faster = t_sk < t_nm
    close = worst <= 2.0
    print(f"\nspeed: {'PASS' if faster else 'FAIL'} (sizekit {'faster' if faster else 'slower'} than the pipeline)")
    print(f"agreement: {'PASS' if close else 'FAIL'} (worst top-crate difference {worst:.2f}%, limit 2%)")
    if args.json:
        benchjson.write(args.json, "bench_bloat", {"file": os.path.relpath(path, ROOT), "runs": args.runs,
                                                   "top": args.top}, {
            "bytes": os.path.getsize(path), "symbols": nsyms, "demangler": att.demangler,
            "sizekit_seconds": t_sk, "peer_seconds": t_nm, "speedup": t_nm / t_sk,
            "worst_top_crate_pct": worst, "targets": {"faster": True, "worst_pct": 2.0}, "met": faster and close})
    return 0 if faster and close else 1


if __name__ == "__main__":
    sys.exit(main())
