"""A no-op `doit` (and `scons`) over a built matrix vs running `cargo build` once per build task with nothing to do.

    python benchmarks/bench_noop.py [--matrix matrix.yaml] [--runs 7] [--no-scons] [--json PATH]

The matrix must have been built already (scripts/demo or doit). The peer is how a careful
human asks cargo alone "is anything stale?" across the table: one `cargo build` per distinct
build setting, each with nothing to do. It runs sizekit's exact command, manifest and
environment for each build, so it asks cargo the same question sizekit's builds would; it
keeps its Cargo.lock between calls, as sizekit does. The sides alternate (doit, cargo, scons
in even runs, the reverse in odd ones), so neither gets a warmer page cache. Medians and
ranges of --runs runs are printed and written with --json. Targets: the whole no-op doit
<= 1 s, and <= 0.25x the cargo no-ops.

The SCons driver is timed beside doit, once the two drivers' results.json are shown to hold the
same cells and references field by field (paths read relative to each output folder): `scons` with an SConstruct that declares the same
matrix with output= its own folder (out/scons-bench/out), so doit's state in out/ is not
touched. When that folder is not built yet, the first SCons run builds the whole matrix
there (as long as a cold doit build). Target: the whole no-op scons <= 2 s.
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sizekit import api  # noqa: E402

import benchjson  # noqa: E402
from benchjson import spread  # noqa: E402


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start


SCONS_DIR = os.path.join(ROOT, "out", "scons-bench")
SCONSTRUCT = """\
# Written by benchmarks/bench_noop.py: the matrix under SCons, in a folder of its own.
import sizekit.scons
env = Environment(tools=[sizekit.scons.tool])
env.SizeMatrix({matrix!r}, output="out")
"""


def scons_argv(matrix):
    """The `scons` command for the matrix (None without SCons), its SConstruct written first."""
    if importlib.util.find_spec("SCons") is None:
        return None
    os.makedirs(SCONS_DIR, exist_ok=True)
    with open(os.path.join(SCONS_DIR, "SConstruct"), "w") as f:
        f.write(SCONSTRUCT.format(matrix=matrix))
    return [sys.executable, "-m", "SCons", "-Q", "-C", SCONS_DIR]


def scons_ran(stdout):
    return [l for l in stdout.splitlines() if l.startswith("sizekit ")]


def _relative(value, output):
    """A record with the output folder in every string written as OUT, so two output folders compare."""
    if isinstance(value, dict):
        return {k: _relative(v, output) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative(v, output) for v in value]
    if isinstance(value, str):
        value = value.replace(output + "/", "OUT/")
        rel = os.path.relpath(output, ROOT) + "/"
        return "OUT/" + value[len(rel):] if value.startswith(rel) else value
    return value


VOLATILE = {("build", "seconds")}      # how long cargo took: never the same twice
# A build that holds debug info and C code (jemalloc-sys's, compiled by its build script) names
# cargo's target folder, under the output folder, in its DWARF strings: the bytes of those
# sections, and the sizes and estimates that add them up, follow the folder's path length.
PATH_BOUND = ("final_bytes", "upx_estimate_bytes", "stages")


def _debug_only(a, b):
    """Whether two cells' stages differ only in .debug_* section sizes, and their bytes by as much."""
    sa, sb = a.get("stages") or [], b.get("stages") or []
    if len(sa) != len(sb):
        return False
    for x, y in zip(sa, sb):
        xs, ys = x.get("sections") or {}, y.get("sections") or {}
        moved = {k for k in set(xs) | set(ys) if xs.get(k) != ys.get(k)}
        if any(not k.startswith(".debug_") for k in moved) or set(x) != set(y):
            return False
        if any(x[k] != y[k] for k in x if k not in ("sections", "bytes", "vm_bytes")):
            return False
        if (y.get("bytes") or 0) - (x.get("bytes") or 0) != sum((ys.get(k) or 0) - (xs.get(k) or 0) for k in moved):
            return False
    return True


def cells_differ(doit_results, doit_output, scons_results, scons_output):
    """Field by field, the cells and references of two results.json files of one matrix: (cells,
    the differences, the cells whose bytes differ only in debug strings that name the output folder)."""
    a, b = (api.load_results(p) for p in (doit_results, scons_results))
    problems, path_bound = [], []
    for part in ("cells", "references"):
        left = {(r["crate"], r["target"], r.get("variant", r.get("name"))): _relative(r, doit_output) for r in a[part]}
        right = {(r["crate"], r["target"], r.get("variant", r.get("name"))): _relative(r, scons_output) for r in b[part]}
        problems += [f"{part}: {'/'.join(k)} only under {'doit' if k in left else 'scons'}" for k in set(left) ^ set(right)]
        for key in sorted(set(left) & set(right)):
            x, y = left[key], right[key]
            for rec in (x, y):
                for outer, inner in VOLATILE:
                    if isinstance(rec.get(outer), dict):
                        rec[outer] = {k: v for k, v in rec[outer].items() if k != inner}
            fields = [f for f in sorted(set(x) | set(y)) if x.get(f) != y.get(f)]
            if fields and set(fields) <= set(PATH_BOUND) and _debug_only(x, y):
                path_bound.append("/".join(key))
                continue
            problems += [f"{part}: {'/'.join(key)}: {f}: doit {x.get(f)!r:.80} scons {y.get(f)!r:.80}" for f in fields]
    return len(a["cells"]), problems, path_bound


def scons_ready(argv):
    """Build the matrix with SCons once if needed; True when a second run has nothing to do."""
    first = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if first.returncode != 0:
        print("scons could not build the matrix:", scons_ran(first.stdout)[-5:], first.stderr[-800:])
        return False
    if scons_ran(first.stdout):
        print(f"scons built {len(scons_ran(first.stdout))} nodes into {os.path.relpath(SCONS_DIR)}/out once")
    again = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if again.returncode != 0 or scons_ran(again.stdout):
        print("a second scons run still had work:", scons_ran(again.stdout)[:5], again.stderr[-500:])
        return False
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matrix", default=os.path.join(ROOT, "matrix.yaml"))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-scons", action="store_true", help="time doit and cargo only")
    ap.add_argument("--json", help="write the settings and figures here (benchmarks/results/noop.json is the README's)")
    args = ap.parse_args(argv)
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

    plan = api.load_plan(matrix)
    builds = [b for b in plan.builds if not b.problem]
    commands = []
    for b in builds:
        argv, env = api.cargo_command(plan, b)
        commands.append((argv, {**os.environ, **env}, b.crate.path))

    def noop_cargo():
        # sizekit's own command: the overlay manifest with the lockfile sizekit keeps for it.
        for argv, env, cwd in commands:
            subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)

    scons = None if args.no_scons else scons_argv(matrix)
    if scons is None and not args.no_scons:
        print("scons is not installed (pip install scons): timing doit and cargo only")
    elif scons is not None and not scons_ready(scons):
        return 1

    parity = None
    if scons is not None:
        count, problems, path_bound = cells_differ(
            os.path.join(ROOT, "out", "results.json"), os.path.join(ROOT, "out"),
            os.path.join(SCONS_DIR, "out", "results.json"), os.path.join(SCONS_DIR, "out"))
        print(f"parity: {count} cells and the references under doit and scons, field by field (paths relative to "
              f"each output folder, build seconds aside): {'the same' if not problems else f'{len(problems)} differ'}")
        if path_bound:
            print(f"  {len(path_bound)} cells differ only in .debug_* bytes, by the length of the output folder's path "
                  f"that their debug info holds (a C build script's folder): {', '.join(path_bound)}")
        for line in problems[:20]:
            print("  " + line)
        if problems:
            return 1
        parity = {"cells": count, "differ": len(problems), "debug_path_only": path_bound}

    def noop_scons():
        out = subprocess.run(scons, cwd=ROOT, capture_output=True, text=True)
        assert out.returncode == 0 and not scons_ran(out.stdout), out.stdout

    doit_times, cargo_times, scons_times = [], [], []
    for i in range(args.runs):
        sides = [(doit_times, noop_doit), (cargo_times, noop_cargo)]
        if scons is not None:
            sides.append((scons_times, noop_scons))
        for times, fn in (sides if i % 2 == 0 else sides[::-1]):
            times.append(timed(fn))
    d, c = statistics.median(doit_times), statistics.median(cargo_times)
    print(f"matrix: {os.path.relpath(matrix)}: {len(plan.cells)} cells, {len(builds)} build tasks")
    print(f"no-op doit (whole run, median of {args.runs}, spread {min(doit_times):.3f}-{max(doit_times):.3f} s): "
          f"{d:6.3f} s  (target <= 1 s: {'PASS' if d <= 1 else 'FAIL'})")
    print(f"peer: cargo build x {len(builds)} with nothing to do (median, spread "
          f"{min(cargo_times):.3f}-{max(cargo_times):.3f} s): {c:6.3f} s")
    print(f"ratio doit/cargo: {d / c:.2f}  (target <= 0.25: {'PASS' if d / c <= 0.25 else 'FAIL'})")
    if scons_times:
        sc = statistics.median(scons_times)
        print(f"no-op scons (whole run, median of {args.runs}, spread {min(scons_times):.3f}-"
              f"{max(scons_times):.3f} s): {sc:6.3f} s  (target <= 2 s: {'PASS' if sc <= 2 else 'FAIL'})")
        print(f"ratio scons/cargo: {sc / c:.2f}")
    if args.json:
        figures = {"cells": len(plan.cells), "builds": len(builds), "doit": spread(doit_times),
                   "cargo": spread(cargo_times), "doit_ratio": d / c,
                   "scons": spread(scons_times) if scons_times else None,
                   "scons_ratio": statistics.median(scons_times) / c if scons_times else None,
                   "targets": {"doit_seconds": 1, "doit_ratio": 0.25, "scons_seconds": 2}, "parity": parity,
                   "met": d <= 1 and d / c <= 0.25 and (not scons_times or statistics.median(scons_times) <= 2)}
        benchjson.write(args.json, "bench_noop", {"matrix": os.path.relpath(matrix, ROOT), "runs": args.runs,
                                                  "scons": bool(scons_times)}, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
