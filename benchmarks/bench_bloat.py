"""Per-crate attribution: sizekit.bloat against the `nm -S --size-sort FILE | c++filt` pipeline.

    python benchmarks/bench_bloat.py [--runs 5] [FILE]

FILE defaults to the largest out/build/hello-hyper/x86_64-unknown-linux-gnu/*/hello-hyper (the
example's unstripped dev build). The peer pipeline groups nm's sized text symbols (t/T/W) by the
same crate rule (sizekit.demangle.crate_of) in Python. Both are timed end to end, in process,
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
from sizekit.elf import bloat
from sizekit.elf import demangle as dm  # noqa: E402

TEXT_TYPES = {"t", "T", "W"}
_HASH = re.compile(r"::h[0-9a-f]{16}$")
_DISAMBIGUATOR = re.compile(r"(?<=[A-Za-z0-9_])\[[0-9a-f]+\]")


def default_file():
    found = glob.glob(os.path.join(ROOT, "out", "build", "hello-hyper", "x86_64-unknown-linux-gnu", "*",
                                   "hello-hyper"))
    return max(found, key=os.path.getsize) if found else None


def pipeline_text_crates(path, split_std=False):
    """crate -> bytes of nm's text symbols, demangled by c++filt, grouped by the same rule."""
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
        name = parts[3]
        short = _DISAMBIGUATOR.sub("", _HASH.sub("", name))
        crate = dm.crate_of(short) if "::" in short else dm.unmangled_crate(name)
        crate = dm.group(crate, split_std)
        totals[crate] = totals.get(crate, 0) + int(parts[1], 16)
    return totals


def sizekit_text_crates(path):
    att = bloat.attribute(path)
    return att, {c: b for c, b in att.sections.get(".text", {}).items() if c != dm.UNKNOWN}


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
    args = ap.parse_args(argv)
    path = args.file or default_file()
    if path is None:
        print("no FILE given and no out/build/hello-hyper/x86_64-unknown-linux-gnu/*/hello-hyper; "
              "build the example matrix first")
        return 2

    t_sk = median_time(lambda: bloat.attribute(path), args.runs)
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
          f"{att.sections.get('.text', {}).get(dm.UNKNOWN, 0):,} bytes)")
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
    return 0 if faster and close else 1


if __name__ == "__main__":
    sys.exit(main())
