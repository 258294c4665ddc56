"""Cold build of a matrix with sizekit vs a plain script doing one clean cargo build per row.

The peer is what the seed articles did by hand: for every row of the table, a
clean `cargo build` with that row's profile settings, then strip/UPX, then `ls -l`.
sizekit runs one build per distinct build setting (rows differing only in post
steps share it) and lets doit run two tasks at once.

    python benchmarks/bench_matrix.py [--matrix matrix.yaml] [--jobs 2]

Target: sizekit's wall time <= 0.6x the peer's.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sizekit.stages import cargo as skcargo  # noqa: E402
from sizekit.config.load import load_matrix  # noqa: E402
from sizekit.plan.availability import strip_tool, upx_binary  # noqa: E402
from sizekit.plan.cells import make_plan  # noqa: E402


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
        env = {**os.environ, "RUSTC": info.rustc, **profile_env(build), **skcargo.command(plan, build)[1]}
        env.pop("CARGO_TERM_COLOR", None)
        subprocess.run(argv, cwd=build.crate.path, env=env, check=True, capture_output=True)
        name = build.crate.artifact
        current = os.path.join(target_dir, build.target, "debug" if s["profile"] == "dev" else "release", name)
        for i, step in enumerate(cell.steps):
            nxt = os.path.join(folder, f"peer-{i}-{name}")
            if os.path.exists(nxt):
                os.unlink(nxt)
            if step.kind == "strip":
                argv = step.post.argv(strip_tool(plan.matrix, build.target, host, step), current, nxt)
            else:
                argv = step.post.argv(upx_binary(), current, nxt)
            subprocess.run(argv, check=True, capture_output=True)
            current = nxt
        sizes[cell.name] = os.path.getsize(current)
    return time.monotonic() - start, rows, sizes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matrix", default=os.path.join(ROOT, "matrix.yaml"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--crates", default="hello-hyper",
                    help="comma-separated crates of the matrix to build (default: the Tiny Rocket table)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sk-bench-") as folder:
        matrix_path = bench_matrix_copy(args.matrix, folder, args.crates.split(",") if args.crates else None)
        plan = make_plan(load_matrix(matrix_path))
        peer_s, rows, peer_sizes = run_peer(plan, folder)
        sk_s, builds = run_sizekit(matrix_path, args.jobs)
        with open(os.path.join(folder, "out", "results.json")) as f:
            results = json.load(f)
        sk_sizes = {f"{c['crate']}/{c['target']}/{c['variant']}": c["final_bytes"] for c in results["cells"]
                    if c["status"] == "ok"}
    same = sum(1 for k, v in peer_sizes.items() if sk_sizes.get(k) == v)
    ratio = sk_s / peer_s
    print(f"matrix: {os.path.relpath(args.matrix)}: {len(plan.cells)} rows, {rows} buildable here")
    print(f"peer (one clean cargo build per row, sequential): {peer_s:7.1f} s  ({rows} cargo builds)")
    print(f"sizekit cold (doit -n {args.jobs}):                  {sk_s:7.1f} s  ({builds} build tasks, unavailable ones included)")
    print(f"ratio sizekit/peer: {ratio:.2f}  (target <= 0.60: {'PASS' if ratio <= 0.6 else 'FAIL'})")
    print(f"final sizes equal to the peer's: {same}/{len(peer_sizes)} rows "
          f"(UPX output may differ by a few bytes between runs)")


if __name__ == "__main__":
    main()
