"""A no-op `doit` over a built matrix vs running `cargo build` once per build task with nothing to do.

    python benchmarks/bench_noop.py [--matrix matrix.yaml] [--runs 7]

The matrix must have been built already (scripts/demo or doit). The peer is the
cheapest way to ask cargo "is anything stale?": one `cargo build` per build task,
with the exact command, manifest and environment sizekit would run. The peer keeps
its Cargo.lock between calls, as sizekit does, and the two sides alternate, so
neither gets a warmer page cache. Targets: the whole no-op doit <= 1 s, and
<= 0.25x the cargo no-ops.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sizekit.stages import cargo  # noqa: E402
from sizekit.drivers.doit.tasks import load_plan  # noqa: E402


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matrix", default=os.path.join(ROOT, "matrix.yaml"))
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    matrix = os.path.abspath(args.matrix)
    doit_argv = [sys.executable, "-m", "doit", "-f", os.path.join(ROOT, "dodo.py"), f"matrix={matrix}"]

    first = subprocess.run(doit_argv, cwd=ROOT, capture_output=True, text=True)
    executed = [l for l in first.stdout.splitlines() if l.startswith(".  ")]
    if first.returncode != 0 or executed:
        print("the matrix is not fully built yet; run doit first", executed[:5], first.stderr[-500:])
        return 1

    def noop_doit():
        out = subprocess.run(doit_argv, cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 0 and ".  " not in out.stdout, out.stdout

    plan = load_plan(matrix)
    builds = [b for b in plan.builds if not b.problem]
    commands = []
    for b in builds:
        argv, env = cargo.command(plan, b)
        commands.append((argv, {**os.environ, **env}, b.crate.path))

    def noop_cargo():
        # sizekit's own command: the overlay manifest with the lockfile sizekit keeps for it.
        for argv, env, cwd in commands:
            subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)

    doit_times, cargo_times = [], []
    for i in range(args.runs):
        sides = [(doit_times, noop_doit), (cargo_times, noop_cargo)]
        for times, fn in (sides if i % 2 == 0 else sides[::-1]):
            times.append(timed(fn))
    d, c = statistics.median(doit_times), statistics.median(cargo_times)
    print(f"matrix: {os.path.relpath(matrix)}: {len(plan.cells)} cells, {len(builds)} build tasks")
    print(f"no-op doit (whole run, median of {args.runs}, spread {min(doit_times):.3f}-{max(doit_times):.3f} s): "
          f"{d:6.3f} s  (target <= 1 s: {'PASS' if d <= 1 else 'FAIL'})")
    print(f"peer: cargo build x {len(builds)} with nothing to do (median, spread "
          f"{min(cargo_times):.3f}-{max(cargo_times):.3f} s): {c:6.3f} s")
    print(f"ratio doit/cargo: {d / c:.2f}  (target <= 0.25: {'PASS' if d / c <= 0.25 else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
