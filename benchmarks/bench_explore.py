"""`sizekit explore` against random search with the same budget, and against the hand-written rows.

    python benchmarks/bench_explore.py [--matrix matrix.yaml] [--crate hello-hyper] [--builds 16]
                                       [--seed 1] [--space DIM=V,...] [--json PATH]

    python benchmarks/bench_explore.py --crate gst-rsidentity --space default-features=true \
        --space upx=none --json benchmarks/results/explore_plugin.json

The matrix must have been built (scripts/demo): the hand-written rows (release, all-stripped,
everything-upx, ...) are read from its results.json, and each row's final file is timed with the
crate's bench: command, as explore times its points. Then two studies of the same space run, each
with the same budget of new cargo builds and the same seed: explore's sampler (TPE) and optuna's
random sampler, the peer. Each study has its own name, so neither reuses the other's points.

Printed: the smallest point each found (against all-stripped, the guides' answer), what that
point costs in speed against release, every explored point that is both smaller and faster than
a hand-written row, and each front's hypervolume in (size / release, speed / release), the area
of that square the front dominates (build time aside). Targets: explore finds a point at least
as small as all-stripped; its hypervolume is at least random's.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sizekit import api  # noqa: E402

import benchjson  # noqa: E402

HAND_ROWS = ("release", "release-stripped", "all-above", "all-stripped", "everything-upx",
             "plugin-all", "plugin-all-stripped")


def hypervolume(points, higher_speed):
    """Area of [size 0..1] x [speed 0..] that the points dominate, in release-relative units."""
    pts = sorted((s, v if higher_speed else 1 / v) for s, v in points if s < 1 and v > 0)
    area, best = 0.0, 0.0
    for i, (s, v) in enumerate(pts):
        best = max(best, v)
        nxt = pts[i + 1][0] if i + 1 < len(pts) else 1.0
        area += (nxt - s) * best
    return area


def settings_words(point):
    for key, value in point.items():
        if key == "strip":
            yield from ["strip"] if value else []
        elif key == "upx":
            yield from [f"upx {value}"] if value else []
        elif key == "default-features":
            yield from [] if value else ["system malloc (no default features)"]
        else:
            yield f"{key} {value}"


def run_study(matrix, crate, sampler, seed, builds, study, spaces, report_only=False):
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "sizekit", "explore", matrix, "--crate", crate, "--study", study,
                           "--sampler", sampler, "--seed", str(seed), "--max-builds", str(builds),
                           *[f"--space={s}" for s in spaces], *(["--report-only"] if report_only else [])],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench_explore: {sampler} study failed:\n{proc.stderr[-3000:]}")
    m = api.load_matrix(os.path.join(ROOT, matrix))
    with open(os.path.join(m.output, "explore", study, "front.json")) as f:
        data = json.load(f)
    data["seconds"] = time.monotonic() - start
    data["log"] = [line for line in proc.stderr.splitlines() if line.startswith("explore: ")]
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--matrix", default="matrix.yaml")
    ap.add_argument("--crate", default="hello-hyper")
    ap.add_argument("--target", default="x86_64-unknown-linux-gnu")
    ap.add_argument("--builds", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--space", action="append", default=[], metavar="DIM=V,...",
                    help="passed to both studies (the plugin has no allocator feature: --space default-features=true)")
    ap.add_argument("--report-only", action="store_true",
                    help="search nothing: read both studies as they are (a finished run's, say) and time the rows again")
    ap.add_argument("--json", help="write the figures here (benchmarks/results/explore.json)")
    args = ap.parse_args()
    matrix = api.load_matrix(os.path.join(ROOT, args.matrix))
    crate = matrix.crates[args.crate]
    higher = crate.bench["better"] == "higher"
    results = api.load_results(os.path.join(matrix.output, "results.json"))
    hand = {}
    for cell in results["cells"]:
        if cell["crate"] == args.crate and cell["target"] == args.target and cell["variant"] in HAND_ROWS \
                and cell["status"] == "ok":
            binary = os.path.join(matrix.root, cell["stages"][-1]["path"])
            speed, runs = api.bench_artifact(matrix, args.crate, args.target, binary,
                                             os.path.join(matrix.output, "logs", f"bench-hand-{cell['variant']}.log"))
            hand[cell["variant"]] = {"bytes": cell["final_bytes"], "speed": speed, "runs": runs}
            print(f"hand-written {cell['variant']}: {cell['final_bytes']:,} bytes, bench {speed:.4g}")
    if "release" not in hand or "all-stripped" not in hand and "plugin-all-stripped" not in hand:
        raise SystemExit("bench_explore: build the matrix first (scripts/demo): no release / all-stripped row")
    release = hand["release"]
    guide = hand.get("all-stripped") or hand["plugin-all-stripped"]
    studies = {}
    for sampler in ("tpe", "random"):
        study = f"bench-{args.crate}-{sampler}-s{args.seed}-b{args.builds}"
        studies[sampler] = run_study(args.matrix, args.crate, sampler, args.seed, args.builds, study, args.space,
                                     args.report_only)
    settings = {"crate": args.crate, "target": args.target, "builds": args.builds, "seed": args.seed,
                "bench": crate.bench["command"], "better": crate.bench["better"], "space": args.space}
    out = {"hand": hand, "studies": {}}
    for sampler, data in studies.items():
        front = data["front"]
        rel = [(p["bytes"] / release["bytes"], p["speed"] / release["speed"]) for p in front]
        smallest = min(front, key=lambda p: p["bytes"])
        beats = []
        for name, row in hand.items():
            for p in front:
                faster = p["speed"] > row["speed"] if higher else p["speed"] < row["speed"]
                if p["bytes"] < row["bytes"] and faster:
                    beats.append({"row": name, "trial": p["number"], "bytes": p["bytes"], "speed": p["speed"]})
        out["studies"][sampler] = {
            "front": front, "failed": len(data["failed"]), "seconds": data["seconds"],
            "smallest": {"bytes": smallest["bytes"], "speed": smallest["speed"], "point": smallest["point"],
                         "vs_guide": smallest["bytes"] / guide["bytes"],
                         "speed_vs_release": smallest["speed"] / release["speed"]},
            "hypervolume": hypervolume(rel, higher), "beats": beats}
    tpe, rnd = out["studies"]["tpe"], out["studies"]["random"]
    out["met"] = tpe["smallest"]["bytes"] <= guide["bytes"] and tpe["hypervolume"] >= rnd["hypervolume"]
    out["hv_ratio"] = tpe["hypervolume"] / rnd["hypervolume"] if rnd["hypervolume"] else None
    lines = ["| study | smallest (bytes) | vs all-stripped | its speed vs release | front points | hypervolume |",
             "| --- | --- | --- | --- | --- | --- |"]
    for sampler in ("tpe", "random"):
        s = out["studies"][sampler]
        lines.append(f"| {sampler} | {s['smallest']['bytes']:,} | {s['smallest']['vs_guide']:.2f}x | "
                     f"{s['smallest']['speed_vs_release']:.2f}x | {len(s['front'])} | {s['hypervolume']:.3f} |")
    out["table"] = "\n".join(lines)
    front_lines = ["| bytes | vs release | build (s) | bench | settings |", "| --- | --- | --- | --- | --- |"]
    for p in sorted(tpe["front"], key=lambda p: p["bytes"]):
        words = ", ".join(settings_words(p["point"]))
        front_lines.append(f"| {p['bytes']:,} | {(p['bytes'] - release['bytes']) / release['bytes'] * 100:+.1f}% | "
                           f"{p['build_seconds']:.0f} | {p['speed']:.4g} | {words} |")
    out["front_table"] = "\n".join(front_lines)
    print(out["table"])
    print(out["front_table"])
    for sampler in ("tpe", "random"):
        for b in out["studies"][sampler]["beats"]:
            print(f"{sampler}: trial {b['trial']} ({b['bytes']:,} bytes, bench {b['speed']:.4g}) is smaller and "
                  f"faster than the hand-written {b['row']}")
    print(f"explore vs random (same {args.builds} builds, seed {args.seed}): hypervolume ratio "
          f"{out['hv_ratio']:.2f}; target met: {out['met']}" if out["hv_ratio"] else "random found no front")
    if args.json:
        benchjson.write(args.json, "bench_explore", settings, out)


if __name__ == "__main__":
    main()
