"""Scale-out: a shared sccache on Redis, and a matrix split into shards, each against its peer.

    python benchmarks/bench_scale.py [--matrix matrix.yaml] [--crates hello-hyper] [--variants release,...]
                                     [--only cache|shards] [--repeat 3] [--json PATH]

The peer is what a careful human does with cargo alone on a CI machine: the rows' cargo
builds (one `cargo build --release` per distinct setting, the row's profile keys given with
`--config 'profile.release.lto="fat"'` and the like), cold, because a fresh machine has no
target folder, and with no compile cache. `sizekit run` on a matrix without `cache:` runs
exactly those cargo builds, one per distinct setting, so it stands for the peer here: each
ratio measures the cache or the split, not sizekit against cargo (bench_matrix.py does that).

1. Cache. A: the rows cold with no cache (the peer). W: cold, filling a Redis cache.
   B: a fresh folder, cold, with W's warm cache. Ratio B / A (target <= 0.5). Each round has
   its own redis-server on a free loopback port, so every W starts from an empty cache. The
   cache holds rustc's compiles and the build scripts' C compiles (jemalloc's).
2. Shards. The whole rows on one machine (the peer), then shard 1/2 and shard 2/2, each cold in
   its own folder, one after the other (each stands for one CI machine). Ratio: the slower
   shard / the whole (target <= 0.6).

Fairness: every run is cold (its own output and cargo target folder) and uses `doit -n 2`.
Each half runs --repeat rounds (default 3), and the order alternates between rounds: even
rounds run the peer first (A, W, B; whole, shard 1, shard 2), odd rounds last (W, B, A;
shard 1, shard 2, whole), so neither side always gets the colder page cache. Printed, and
written with --json: every round's times and ratio, and the median ratio with its range,
which is compared with the target. Exit 1 when a target is missed or when a cell's size
differs between the runs.
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchjson  # noqa: E402
from bench_matrix import bench_matrix_copy  # noqa: E402
from benchjson import alternate, spread  # noqa: E402


def free_port():
    """A port on loopback that nothing listens on now (the OS picks it)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

import yaml  # noqa: E402

DEFAULT_VARIANTS = "release,release-stripped,release-malloc,release-abort,release-lto,release-z"
DEFAULT_REPEAT = 3
CACHE_TARGET, SHARDS_TARGET = 0.5, 0.6


def matrix_for(folder, args, cache=None):
    """The example matrix limited to some crates and variants, output in folder, maybe with a cache."""
    os.makedirs(folder)
    path = bench_matrix_copy(args.matrix, folder, args.crates.split(","), args.variants.split(","))
    if cache:
        with open(path) as f:
            data = yaml.safe_load(f)
        data["cache"] = cache
        with open(path, "w") as f:
            yaml.safe_dump(data, f)
    return path


def run(matrix, *extra):
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "sizekit", "run", matrix, *extra, "-n", "2"],
                          cwd=os.path.dirname(matrix), capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
        raise SystemExit(f"sizekit run {matrix} {' '.join(extra)} failed")
    with open(os.path.join(os.path.dirname(matrix), "out", "results.json")) as f:
        results = json.load(f)
    return seconds, results


def sizes(results):
    return {f"{c['crate']}/{c['target']}/{c['variant']}": c["final_bytes"] for c in results["cells"]}


def hits(results):
    seen = {}
    for c in results["cells"]:
        cache = (c.get("build") or {}).get("cache") or {}
        seen[c["build"]["key"]] = (cache.get("hits") or 0, cache.get("misses") or 0)
    return sum(h for h, _ in seen.values()), sum(m for _, m in seen.values())


def same_bytes(a, b, slack=64):
    """Cells whose sizes differ (UPX rows may differ by a few bytes)."""
    return [k for k in a if abs((a[k] or 0) - (b.get(k) or 0)) > (slack if "upx" in k else 0)]


def runs_in_order(order, runners):
    """Run each named run of a round in order; {name: (seconds, results)}."""
    return {name: runners[name]() for name in order}


def repeat(args, folder, peer, others, one_round, target, what):
    """args.repeat rounds of one half, the peer first in even rounds and last in odd ones:
    (target met, cells whose sizes differ, {rounds, ratio (median and range), target, met})."""
    rounds, differ = [], []
    for k in range(args.repeat):
        order = alternate(k, peer, others)
        print(f"round {k + 1} of {args.repeat} ({', '.join(order)})", flush=True)
        r, bad = one_round(args, os.path.join(folder, str(k)), order)
        rounds.append(r)
        differ += bad
    ratio = spread(r["ratio"] for r in rounds)
    ok = ratio["median"] <= target
    print(f"ratio {what} over {args.repeat} rounds: median {ratio['median']:.2f}, range {ratio['min']:.2f}-"
          f"{ratio['max']:.2f} ({', '.join(f'{r:.2f}' for r in ratio['values'])})  "
          f"(target <= {target:.2f}: {'PASS' if ok else 'FAIL'})", flush=True)
    return ok, differ, {"rounds": rounds, "ratio": ratio, "target": target, "met": ok}


def bench_cache(args, folder):
    ok, differ, figures = repeat(args, folder, "a", ["w", "b"], cache_round, CACHE_TARGET, "B/A")
    rounds = figures["rounds"]
    figures.update({side: spread(r["seconds"][side] for r in rounds) for side in ("a", "w", "b")})
    figures.update(b_hits=sum(r["b_hits"] for r in rounds),
                   b_compiles=sum(r["b_hits"] + r["b_misses"] for r in rounds))
    return ok, differ, figures


@contextlib.contextmanager
def redis_server():
    """A redis-server of its own on a free loopback port, stopped on leaving; yields its URL."""
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}"
    finally:
        redis.terminate()
        redis.wait()


def cache_round(args, folder, order):
    with redis_server() as url:
        cache = {"sccache": {"env": {"SCCACHE_REDIS_ENDPOINT": url}}}
        done = runs_in_order(order, {
            "a": lambda: run(matrix_for(os.path.join(folder, "a"), args)),
            "w": lambda: run(matrix_for(os.path.join(folder, "w"), args, cache)),
            "b": lambda: run(matrix_for(os.path.join(folder, "b"), args, cache))})
    (a_s, a), (w_s, w), (b_s, b) = done["a"], done["w"], done["b"]
    ratio = b_s / a_s
    print(f"machine A, cold, no cache:             {a_s:7.1f} s")
    print(f"machine W, cold, filling the cache:    {w_s:7.1f} s  (sccache: {hits(w)[0]} hits, {hits(w)[1]} misses)")
    print(f"machine B, cold, warm cache on Redis:  {b_s:7.1f} s  (sccache: {hits(b)[0]} hits, {hits(b)[1]} misses)")
    print(f"ratio B/A: {ratio:.2f}", flush=True)
    figures = {"order": order, "seconds": {"a": a_s, "w": w_s, "b": b_s}, "ratio": ratio,
               "b_hits": hits(b)[0], "b_misses": hits(b)[1]}
    return figures, same_bytes(sizes(a), sizes(b)) + same_bytes(sizes(a), sizes(w))


def bench_shards(args, folder):
    ok, differ, figures = repeat(args, folder, "whole", ["shard1", "shard2"], shards_round, SHARDS_TARGET,
                                 "slowest shard / whole")
    figures.update(whole=spread(r["seconds"]["whole"] for r in figures["rounds"]),
                   slowest=spread(r["slowest"] for r in figures["rounds"]))
    return ok, differ, figures


def shards_round(args, folder, order):
    done = runs_in_order(order, {
        "whole": lambda: run(matrix_for(os.path.join(folder, "whole"), args)),
        "shard1": lambda: run(matrix_for(os.path.join(folder, "shard1"), args), "--shard", "1/2"),
        "shard2": lambda: run(matrix_for(os.path.join(folder, "shard2"), args), "--shard", "2/2")})
    whole_s, whole = done["whole"]
    parts = [done["shard1"], done["shard2"]]
    slowest = max(s for s, _ in parts)
    ratio = slowest / whole_s
    merged = {**sizes(parts[0][1]), **sizes(parts[1][1])}
    print(f"whole matrix on one machine:           {whole_s:7.1f} s  ({len(whole['cells'])} cells)")
    builds = []
    for k, (s, r) in enumerate(parts, 1):
        builds.append(len({c['build']['key'] for c in r['cells']}))
        print(f"shard {k}/2:                             {s:7.1f} s  ({len(r['cells'])} cells, {builds[-1]} builds)")
    print(f"ratio slowest shard / whole: {ratio:.2f}", flush=True)
    figures = {"order": order, "seconds": {name: s for name, (s, _) in done.items()}, "slowest": slowest,
               "ratio": ratio, "cells": len(whole["cells"]), "shard_builds": builds}
    return figures, same_bytes(sizes(whole), merged)


def arguments(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matrix", default=os.path.join(ROOT, "matrix.yaml"))
    ap.add_argument("--crates", default="hello-hyper")
    ap.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"rows to build (default {DEFAULT_VARIANTS})")
    ap.add_argument("--only", choices=("cache", "shards"), help="run one half")
    ap.add_argument("--repeat", type=int, default=DEFAULT_REPEAT,
                    help=f"rounds of each half, the order alternating (default {DEFAULT_REPEAT}; the median is compared)")
    ap.add_argument("--json", help="write the settings and figures here (benchmarks/results/scale.json is the README's)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be 1 or more")
    return args


def main(argv=None):
    args = arguments(argv)
    ok, differ, figures = True, [], {}
    with tempfile.TemporaryDirectory(prefix="sk-scale-") as folder:
        for name, fn in (("cache", bench_cache), ("shards", bench_shards)):
            if args.only in (None, name):
                print(f"-- {name} ({args.crates}: {args.variants})", flush=True)
                hit, bad, figures[name] = fn(args, os.path.join(folder, name))
                ok &= hit
                differ += bad
    if differ:
        print("sizes differ between runs: " + ", ".join(differ))
    if args.json:
        settings = {"matrix": os.path.relpath(args.matrix, ROOT), "crates": args.crates.split(","),
                    "variants": args.variants.split(","), "repeat": args.repeat, "only": args.only,
                    "doit_jobs": 2, "cargo_jobs": os.environ.get("SIZEKIT_JOBS")}
        benchjson.write(args.json, "bench_scale", settings, {**figures, "sizes_equal": not differ})
    return 0 if ok and not differ else 1


if __name__ == "__main__":
    sys.exit(main())
