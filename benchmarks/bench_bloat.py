"""Per-crate attribution: sizekit.bloat against the `nm -S --size-sort FILE | c++filt` pipeline.

    python benchmarks/bench_bloat.py [--runs 5] [--json PATH] [FILE]

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
"""
import argparse
import glob
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
    args = ap.parse_args(argv)
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
