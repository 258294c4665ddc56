"""Cold build of a matrix with sizekit vs a plain script doing one clean cargo build per row.

The peer is what the seed articles did by hand: for every row of the table, a
clean `cargo build` with that row's profile settings, then strip/UPX, then `ls -l`.
sizekit runs one build per distinct build setting (rows differing only in post
steps share it) and lets doit run two tasks at once.

    python benchmarks/bench_matrix.py [--matrix matrix.yaml] [--jobs 2] [--runs 3] [--crates hello-hyper]

Each round starts both sides cold (empty target folders, empty output) and the
rounds alternate which side goes first, so neither inherits a warmer page cache.
It prints medians and spreads, and exits 1 when a row's final size differs from
the peer's (UPX rows may differ by --upx-slack bytes). Target: sizekit's median
wall time <= 0.6x the peer's.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sizekit import api  # noqa: E402


def bench_matrix_copy(src, folder, crates=None):
    """The matrix with absolute crate paths and its output inside folder, limited to some crates."""
    with open(src) as f:
        data = yaml.safe_load(f)
    if crates:
        data["crates"] = {k: v for k, v in data["crates"].items() if k in crates}
        for v in data["variants"]:
            only = v.get("only") or {}
            if "crates" in only:
                only["crates"] = [c for c in only["crates"] if c in crates]
    base = os.path.dirname(os.path.abspath(src))
    data["output"] = os.path.join(folder, "out")
    for crate in data["crates"].values():
        crate["path"] = os.path.join(base, crate["path"])
    for tc in (data.get("toolchains") or {}).values():
        if "sysroot" in tc:
            tc["sysroot"] = os.path.join(base, tc["sysroot"])
    path = os.path.join(folder, "matrix.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(data, f)
    return path


def run_sizekit(matrix, jobs):
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "doit", "-n", str(jobs), "-f", os.path.join(ROOT, "dodo.py"),
                           f"matrix={matrix}"], cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        raise SystemExit("sizekit run failed")
    builds = sum(1 for line in proc.stdout.splitlines() if line.startswith(".  build:"))
    return seconds, builds


def profile_env(build):
    """The row's settings as CARGO_PROFILE_<PROFILE>_<KEY> variables, as a person would set them."""
    s = build.settings
    prof = "DEV" if s["profile"] == "dev" else "RELEASE"
    env = {f"CARGO_PROFILE_{prof}_{k.upper().replace('-', '_')}": str(v).lower() if isinstance(v, bool) else str(v)
           for k, v in s["cargo"].items()}
    return env


def run_peer(plan, folder):
    """One clean build per available row, sequentially, then its post steps. Returns (seconds, rows, sizes)."""
    host = plan.toolchains[None].host
    start = time.monotonic()
    sizes = {}
    rows = 0
    for cell in plan.cells:
        build = cell.build
        if build.problem or any(s.problem for s in cell.steps):
            continue
        rows += 1
        target_dir = os.path.join(folder, "peer-target")
        shutil.rmtree(target_dir, ignore_errors=True)
        info = plan.toolchains[build.toolchain]
        s = build.settings
        argv = [info.cargo, "build", "--target", build.target, "--target-dir", target_dir]
        if s["profile"] == "release":
            argv.append("--release")
        if not s["default-features"]:
            argv.append("--no-default-features")
        if s["features"]:
            argv += ["--features", ",".join(s["features"])]
        env = {**os.environ, "RUSTC": info.rustc, **profile_env(build), **api.cargo_command(plan, build)[1]}
        env.pop("CARGO_TERM_COLOR", None)
        subprocess.run(argv, cwd=build.crate.path, env=env, check=True, capture_output=True)
        name = build.crate.artifact
        current = os.path.join(target_dir, build.target, "debug" if s["profile"] == "dev" else "release", name)
        for i, step in enumerate(cell.steps):
            nxt = os.path.join(folder, f"peer-{i}-{name}")
            if os.path.exists(nxt):
                os.unlink(nxt)
            if step.kind == "strip":
                argv = step.post.argv(api.strip_tool(plan.matrix, build.target, host, step), current, nxt)
            else:
                argv = step.post.argv(api.upx_binary(), current, nxt)
            subprocess.run(argv, check=True, capture_output=True)
            current = nxt
        sizes[cell.name] = (os.path.getsize(current),
                            debugless(current, api.strip_tool(plan.matrix, build.target, host), folder))
    return time.monotonic() - start, rows, sizes


def debugless(path, strip, folder):
    """The file's size without its debug sections. Debug info records the build's folders (the
    target folder, the profile's folder name), which differ between the two sides by design."""
    out = os.path.join(folder, "debugless")
    subprocess.run([strip, "--strip-debug", "-o", out, path], check=True, capture_output=True)
    size = os.path.getsize(out)
    os.unlink(out)
    return size


def compare_sizes(peer_sizes, sk_sizes, upx_slack):
    """(rows whose sizes differ, rows equal only outside debug info). Sizes are (bytes, bytes without
    debug sections); plain rows must match exactly, UPX rows within upx_slack bytes."""
    bad, paths_only = [], []
    for name, (peer, peer_nodebug) in sorted(peer_sizes.items()):
        mine, mine_nodebug = sk_sizes.get(name, (None, None))
        slack = upx_slack if "upx" in name.rsplit("/", 1)[-1] else 0
        if mine is not None and abs(mine - peer) <= slack:
            continue
        if mine is not None and mine_nodebug == peer_nodebug:
            paths_only.append(f"{name}: {mine - peer:+d} bytes, all in debug info")
            continue
        bad.append(f"{name}: peer {peer}, sizekit {mine}")
    return bad, paths_only


def one_round(args, order):
    """Both sides from cold (fresh target folders, fresh output), in the given order."""
    with tempfile.TemporaryDirectory(prefix="sk-bench-") as folder:
        matrix_path = bench_matrix_copy(args.matrix, folder, args.crates.split(",") if args.crates else None)
        plan = api.load_plan(matrix_path, cache=False)
        times = {}
        for side in order:
            if side == "peer":
                times["peer"], rows, peer_sizes = run_peer(plan, folder)
            else:
                times["sizekit"], builds = run_sizekit(matrix_path, args.jobs)
        with open(os.path.join(folder, "out", "results.json")) as f:
            results = json.load(f)
        host = plan.toolchains[None].host
        sk_sizes = {}
        for c in results["cells"]:
            if c["status"] == "ok":
                path = os.path.join(folder, c["stages"][-1]["path"])
                sk_sizes[f"{c['crate']}/{c['target']}/{c['variant']}"] = (
                    c["final_bytes"], debugless(path, api.strip_tool(plan.matrix, c["target"], host), folder))
        bad, paths_only = compare_sizes(peer_sizes, sk_sizes, args.upx_slack)
    return plan, rows, builds, times, bad, paths_only, len(peer_sizes)


def spread(values):
    return f"median {statistics.median(values):7.1f} s, spread {min(values):.1f}-{max(values):.1f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matrix", default=os.path.join(ROOT, "matrix.yaml"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3, help="rounds, alternating which side goes first (at least 3)")
    ap.add_argument("--upx-slack", type=int, default=64,
                    help="bytes two UPX runs of the same input may differ by (default 64)")
    ap.add_argument("--crates", default="hello-hyper",
                    help="comma-separated crates of the matrix to build (default: the Tiny Rocket table)")
    args = ap.parse_args()
    if args.runs < 3:
        ap.error("--runs must be at least 3: one round says nothing about a noisy machine")
    peer_times, sk_times, mismatches, debug_only = [], [], [], []
    for i in range(args.runs):
        order = ("peer", "sizekit") if i % 2 == 0 else ("sizekit", "peer")
        plan, rows, builds, times, bad, paths_only, compared = one_round(args, order)
        debug_only += [f"round {i + 1}: {p}" for p in paths_only]
        peer_times.append(times["peer"])
        sk_times.append(times["sizekit"])
        mismatches += [f"round {i + 1}: {b}" for b in bad]
        print(f"round {i + 1} ({' first, '.join(order)} second): peer {times['peer']:.1f} s, "
              f"sizekit {times['sizekit']:.1f} s", flush=True)
    ratios = [s / p for s, p in zip(sk_times, peer_times)]
    ratio = statistics.median(ratios)
    print(f"matrix: {os.path.relpath(args.matrix)} (crates: {args.crates or 'all'}): "
          f"{len(plan.cells)} rows, {rows} buildable here, {args.runs} rounds")
    print(f"peer (one clean cargo build per row, sequential): {spread(peer_times)}  ({rows} cargo builds)")
    print(f"sizekit cold (doit -n {args.jobs}):                  {spread(sk_times)}  ({builds} build tasks)")
    print(f"ratio sizekit/peer: median {ratio:.2f}, spread {min(ratios):.2f}-{max(ratios):.2f}  "
          f"(target <= 0.60: {'PASS' if ratio <= 0.6 else 'FAIL'})")
    print(f"final sizes equal to the peer's: {compared - (len(mismatches) + len(debug_only)) // args.runs}/"
          f"{compared} rows (UPX rows within {args.upx_slack} bytes)")
    if debug_only:
        print("equal once debug info is set aside (it records each side's build folders):\n  "
              + "\n  ".join(debug_only))
    if mismatches:
        print("sizes differ:\n  " + "\n  ".join(mismatches))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
