"""Cold build of a matrix with sizekit against the same table made by hand with cargo alone.

    python benchmarks/bench_matrix.py [--matrix matrix.yaml] [--jobs 2] [--runs 3] [--crates hello-hyper]
                                      [--variants release,...] [--json PATH]

The peer is the table as a careful human makes it with cargo alone, from a fresh checkout:
in the crate's folder, with one target folder for every row, one `cargo build` per distinct
build setting (rows that only add strip or UPX to an earlier row reuse its build), the row's
profile keys given as CARGO_PROFILE_<PROFILE>_<KEY> variables, e.g.
`CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 cargo build --release
--target x86_64-unknown-linux-gnu --no-default-features`; after each build a copy of the
artifact, then each row's post steps on copies (`strip`, `upx --best --lzma`), then `ls -l`.
What cargo can reuse between rows in one target folder (build scripts and proc macros, crates
a setting leaves alone) it reuses. The builds run one after another, as cargo uses both cores.
sizekit runs one build per distinct setting, in one cargo profile per set of profile settings (rows
that change only features share one, and so the dependencies they have in common), and lets doit
run two tasks at once (`doit -n 2`); it also measures, estimates and smoke-runs every row, which
the peer does not.

A second peer, the recipe of the table as people paste it (`--clean-peer`): one clean `cargo build`
per row, each in a fresh target folder, then the row's post steps. Each round then runs the three
sides, the careful peer first in even rounds and last in odd ones.

Timed on both sides: the builds and post steps, nothing else. The check afterwards that the
two sides' files are equal (each file's size without debug info, `strip --strip-debug`) is
outside both timed regions. Each round starts both sides cold (empty target folders, empty
output) and the rounds alternate which side goes first, so neither inherits a warmer page
cache. It prints medians and ranges (and writes them with --json), and exits 1 when a row's
final size differs from the peer's (UPX rows may differ by --upx-slack bytes). Target:
sizekit's median wall time <= 0.6x the peer's.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sizekit import api  # noqa: E402

import benchjson  # noqa: E402
from benchjson import alternate, spread  # noqa: E402

TARGET = 0.6


def bench_matrix_copy(src, folder, crates=None, variants=None):
    """The matrix with absolute crate paths and its output inside folder, limited to some crates
    and rows."""
    with open(src) as f:
        data = yaml.safe_load(f)
    if crates:
        data["crates"] = {k: v for k, v in data["crates"].items() if k in crates}
        for v in data["variants"]:
            only = v.get("only") or {}
            if "crates" in only:
                only["crates"] = [c for c in only["crates"] if c in crates]
    if variants:
        data["variants"] = [v for v in data["variants"] if v["name"] in variants]
        if data.get("baseline") not in variants:
            data["baseline"] = data["variants"][0]["name"]
        for v in data["variants"]:   # a kept row may come from one that was dropped
            parents = v.get("from") or []
            missing = [p for p in ([parents] if isinstance(parents, str) else parents) if p not in variants]
            if missing:
                raise SystemExit(f"variant {v['name']} comes from {', '.join(missing)}, which the chosen rows "
                                 f"leave out")
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


def peer_argv(info, build):
    """The careful human's `cargo build` for one build setting."""
    s = build.settings
    argv = [info.cargo or "cargo", "build", "--target", build.target]
    if s["profile"] == "release":
        argv.append("--release")
    if not s["default-features"]:
        argv.append("--no-default-features")
    if s["features"]:
        argv += ["--features", ",".join(s["features"])]
    if os.environ.get("SIZEKIT_JOBS"):   # sizekit's cargo gets the same -j
        argv += ["-j", os.environ["SIZEKIT_JOBS"]]
    return argv


def run_peer(plan, folder, clean=False):
    """The peer's recipe (see the module's docstring), timed from the first build to the last
    post step; with clean, one clean build per row in a fresh target folder each. Returns
    (seconds, cargo builds, {row: its final file})."""
    host = plan.toolchains[None].host
    target_dir = os.path.join(folder, "peer-target")
    built, finals = {}, {}
    builds = 0
    start = time.monotonic()
    for n, cell in enumerate(plan.cells):
        build = cell.build
        if build.problem or any(s.problem for s in cell.steps):
            continue
        info = plan.toolchains[build.toolchain]
        name = build.crate.artifact
        if clean:
            target_dir = os.path.join(folder, f"clean-target-{n}")
            built.pop(build.key, None)
        if build.key not in built:
            builds += 1
            env = {**os.environ, "CARGO_TARGET_DIR": target_dir, "RUSTC": info.rustc or "rustc",
                   **profile_env(build), **api.cargo_command(plan, build)[1]}
            env.pop("CARGO_TERM_COLOR", None)
            subprocess.run(peer_argv(info, build), cwd=build.crate.path, env=env, check=True, capture_output=True)
            profile_dir = "debug" if build.settings["profile"] == "dev" else "release"
            built[build.key] = os.path.join(folder, f"peer-build-{build.key}-{name}")
            shutil.copy2(os.path.join(target_dir, build.target, profile_dir, name), built[build.key])
        current = built[build.key]
        for i, step in enumerate(cell.steps):
            nxt = os.path.join(folder, f"peer-row{n}-{i}-{name}")
            if step.kind == "strip":
                argv = step.post.argv(api.strip_tool(plan.matrix, build.target, host, step), current, nxt)
            else:
                argv = step.post.argv(api.upx_binary(), current, nxt)
            subprocess.run(argv, check=True, capture_output=True)
            current = nxt
        finals[cell.name] = current
    return time.monotonic() - start, builds, finals


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
        matrix_path = bench_matrix_copy(args.matrix, folder, args.crates.split(",") if args.crates else None,
                                        args.variants.split(",") if args.variants else None)
        plan = api.load_plan(matrix_path, cache=False)
        times, counts = {}, {}
        for side in order:
            if side == "peer":
                times["peer"], peer_builds, peer_files = run_peer(plan, folder)
            elif side == "clean":
                times["clean"], counts["clean"], _ = run_peer(plan, os.path.join(folder, "clean"), clean=True)
            else:
                times["sizekit"], builds = run_sizekit(matrix_path, args.jobs)
        counts.update(peer=peer_builds, sizekit=builds)
        # Outside both timed regions: each side's files, and their sizes without debug info.
        host = plan.toolchains[None].host
        peer_sizes = {}
        for cell in plan.cells:
            if cell.name in peer_files:
                path = peer_files[cell.name]
                peer_sizes[cell.name] = (os.path.getsize(path), debugless(
                    path, api.strip_tool(plan.matrix, cell.build.target, host), folder))
        with open(os.path.join(folder, "out", "results.json")) as f:
            results = json.load(f)
        sk_sizes = {}
        for c in results["cells"]:
            if c["status"] == "ok":
                path = os.path.join(folder, c["stages"][-1]["path"])
                sk_sizes[f"{c['crate']}/{c['target']}/{c['variant']}"] = (
                    c["final_bytes"], debugless(path, api.strip_tool(plan.matrix, c["target"], host), folder))
        bad, paths_only = compare_sizes(peer_sizes, sk_sizes, args.upx_slack)
    return plan, counts, times, bad, paths_only, len(peer_sizes)


def seconds(values):
    return f"median {statistics.median(values):7.1f} s, range {min(values):.1f}-{max(values):.1f} s"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matrix", default=os.path.join(ROOT, "matrix.yaml"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3, help="rounds, alternating which side goes first (at least 3)")
    ap.add_argument("--upx-slack", type=int, default=64,
                    help="bytes two UPX runs of the same input may differ by (default 64)")
    ap.add_argument("--crates", default="hello-hyper",
                    help="comma-separated crates of the matrix to build (default: the Tiny Rocket table)")
    ap.add_argument("--variants", help="comma-separated rows to build (default: all); a kept row's parents must be kept")
    ap.add_argument("--clean-peer", action="store_true",
                    help="also time one clean cargo build per row, each in a fresh target folder")
    ap.add_argument("--json", help="write the settings and figures here (benchmarks/results/matrix.json is the README's)")
    args = ap.parse_args(argv)
    if args.runs < 3:
        ap.error("--runs must be at least 3: one round says nothing about a noisy machine")
    peer_times, sk_times, clean_times, orders, mismatches, debug_only = [], [], [], [], [], []
    for i in range(args.runs):
        order = alternate(i, "peer", ["clean", "sizekit"] if args.clean_peer else ["sizekit"])
        orders.append(order)
        plan, counts, times, bad, paths_only, rows = one_round(args, order)
        peer_builds, builds = counts["peer"], counts["sizekit"]
        debug_only += [f"round {i + 1}: {p}" for p in paths_only]
        peer_times.append(times["peer"])
        sk_times.append(times["sizekit"])
        clean_times += [times["clean"]] if "clean" in times else []
        mismatches += [f"round {i + 1}: {b}" for b in bad]
        print(f"round {i + 1} ({', then '.join(order)}): " + ", ".join(f"{side} {times[side]:.1f} s" for side in order),
              flush=True)
    ratios = spread(s / p for s, p in zip(sk_times, peer_times))
    clean_ratios = spread(s / c for s, c in zip(sk_times, clean_times)) if clean_times else None
    profiles = len({b.profile for b in plan.builds if not b.problem})
    ok = ratios["median"] <= TARGET
    equal = rows - (len(mismatches) + len(debug_only)) // args.runs
    print(f"matrix: {os.path.relpath(args.matrix)} (crates: {args.crates or 'all'}): "
          f"{len(plan.cells)} rows, {rows} buildable here, {args.runs} rounds")
    print(f"peer (one cargo build per distinct setting, one target folder): {seconds(peer_times)}  "
          f"({peer_builds} cargo builds)")
    if clean_times:
        print(f"clean peer (one clean cargo build per row):        {seconds(clean_times)}  "
              f"({counts['clean']} cargo builds)")
    print(f"sizekit cold (doit -n {args.jobs}):                  {seconds(sk_times)}  ({builds} build tasks, "
          f"{profiles} cargo profiles)")
    if clean_ratios:
        print(f"ratio sizekit/clean peer: median {clean_ratios['median']:.2f}, range {clean_ratios['min']:.2f}-"
              f"{clean_ratios['max']:.2f}")
    print(f"ratio sizekit/peer: median {ratios['median']:.2f}, range {ratios['min']:.2f}-{ratios['max']:.2f}  "
          f"(target <= {TARGET:.2f}: {'PASS' if ok else 'FAIL'})")
    if clean_ratios:
        print(f"ratio sizekit/clean peer against the target <= {TARGET:.2f}: "
              f"{'PASS' if clean_ratios['median'] <= TARGET else 'FAIL'}")
    print(f"final sizes equal to the peer's: {equal}/{rows} rows (UPX rows within {args.upx_slack} bytes)")
    if debug_only:
        print("equal once debug info is set aside (it records each side's build folders):\n  "
              + "\n  ".join(debug_only))
    if mismatches:
        print("sizes differ:\n  " + "\n  ".join(mismatches))
    if args.json:
        settings = {"matrix": os.path.relpath(args.matrix, ROOT), "crates": args.crates.split(",") if args.crates else None,
                    "variants": args.variants.split(",") if args.variants else None, "runs": args.runs, "doit_jobs": args.jobs, "upx_slack": args.upx_slack,
                    "cargo_jobs": os.environ.get("SIZEKIT_JOBS")}
        benchjson.write(args.json, "bench_matrix", settings, {
            "orders": orders, "rows": len(plan.cells), "buildable": rows, "peer_builds": peer_builds,
            "sizekit_builds": builds, "sizekit_profiles": profiles, "peer": spread(peer_times),
            "clean": spread(clean_times) if clean_times else None, "clean_builds": counts.get("clean"),
            "clean_ratio": clean_ratios, "clean_met": bool(clean_ratios and clean_ratios["median"] <= TARGET), "sizekit": spread(sk_times), "ratio": ratios,
            "target": TARGET, "met": ok, "sizes_equal": equal, "debug_info_only": len(debug_only) // args.runs,
            "mismatches": mismatches})
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
