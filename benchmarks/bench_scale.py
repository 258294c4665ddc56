"""Scale-out: a shared sccache on Redis, and a matrix split into shards, each against one machine.

    python benchmarks/bench_scale.py [--matrix matrix.yaml] [--crates hello-hyper] [--variants release,...]
                                     [--only cache|shards] [--repeat N]

1. Cache: machine A builds the rows cold with no cache; machine W builds them once with the
   cache (filling Redis); machine B, a fresh folder, builds them cold with that warm cache.
   Printed: B / A (target <= 0.5), and with --repeat N each round's ratio and their median
   (each round has its own redis-server on a free loopback port, so every A and W is cold).
   The cache holds rustc's compiles and the build scripts' C compiles (jemalloc's).
2. Shards: the rows cold on one machine, then shard 1/2 and shard 2/2 cold, each in its own
   folder, one after the other (each stands for one CI machine). Printed: the slower shard /
   the whole (target <= 0.6).
Every run is cold: its own output and cargo target folder. All runs use `doit -n 2`. Exit 1
when a target is missed or when a cell's size differs between the runs.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_matrix import bench_matrix_copy  # noqa: E402


def free_port():
    """A port on loopback that nothing listens on now (the OS picks it)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

import yaml  # noqa: E402

DEFAULT_VARIANTS = "release,release-stripped,release-malloc,release-abort,release-lto,release-z"


def matrix_for(folder, args, cache=None):
    """The example matrix limited to some crates and variants, output in folder, maybe with a cache."""
    os.makedirs(folder)
    path = bench_matrix_copy(args.matrix, folder, args.crates.split(","))
    with open(path) as f:
        data = yaml.safe_load(f)
    keep = set(args.variants.split(","))
    data["variants"] = [v for v in data["variants"] if v["name"] in keep]
    if data.get("baseline") not in keep:
        data["baseline"] = data["variants"][0]["name"]
    for v in data["variants"]:   # a kept row may come from one that was dropped
        if v.get("from") and v["from"] not in keep:
            raise SystemExit(f"variant {v['name']} comes from {v['from']}, which --variants leaves out")
    if cache:
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


def bench_cache(args, folder):
    ratios, differ = [], []
    for k in range(args.repeat):
        if args.repeat > 1:
            print(f"round {k + 1} of {args.repeat}", flush=True)
        ratio, bad = cache_round(args, os.path.join(folder, str(k)))
        ratios.append(ratio)
        differ += bad
    ratio = statistics.median(ratios)
    if args.repeat > 1:
        print(f"median ratio B/A over {args.repeat} rounds: {ratio:.2f} ({', '.join(f'{r:.2f}' for r in ratios)})"
              f"  (target <= 0.50: {'PASS' if ratio <= 0.5 else 'FAIL'})")
    return ratio <= 0.5, differ


def cache_round(args, folder):
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        cache = {"sccache": {"env": {"SCCACHE_REDIS_ENDPOINT": f"redis://127.0.0.1:{port}"}}}
        a_s, a = run(matrix_for(os.path.join(folder, "a"), args))
        w_s, w = run(matrix_for(os.path.join(folder, "w"), args, cache))
        b_s, b = run(matrix_for(os.path.join(folder, "b"), args, cache))
    finally:
        redis.terminate()
        redis.wait()
    ratio = b_s / a_s
    print(f"machine A, cold, no cache:             {a_s:7.1f} s")
    print(f"machine W, cold, filling the cache:    {w_s:7.1f} s  (sccache: {hits(w)[0]} hits, {hits(w)[1]} misses)")
    print(f"machine B, cold, warm cache on Redis:  {b_s:7.1f} s  (sccache: {hits(b)[0]} hits, {hits(b)[1]} misses)")
    print(f"ratio B/A: {ratio:.2f}  (target <= 0.50: {'PASS' if ratio <= 0.5 else 'FAIL'})", flush=True)
    return ratio, same_bytes(sizes(a), sizes(b)) + same_bytes(sizes(a), sizes(w))


def bench_shards(args, folder):
    whole_s, whole = run(matrix_for(os.path.join(folder, "whole"), args))
    parts = []
    for k in (1, 2):
        s, r = run(matrix_for(os.path.join(folder, f"shard{k}"), args), "--shard", f"{k}/2")
        parts.append((s, r))
    slowest = max(s for s, _ in parts)
    ratio = slowest / whole_s
    merged = {**sizes(parts[0][1]), **sizes(parts[1][1])}
    print(f"whole matrix on one machine:           {whole_s:7.1f} s  ({len(whole['cells'])} cells)")
    for k, (s, r) in enumerate(parts, 1):
        builds = len({c['build']['key'] for c in r['cells']})
        print(f"shard {k}/2:                             {s:7.1f} s  ({len(r['cells'])} cells, {builds} builds)")
    print(f"ratio slowest shard / whole: {ratio:.2f}  (target <= 0.60: {'PASS' if ratio <= 0.6 else 'FAIL'})")
    return ratio <= 0.6, same_bytes(sizes(whole), merged)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matrix", default=os.path.join(ROOT, "matrix.yaml"))
    ap.add_argument("--crates", default="hello-hyper")
    ap.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"rows to build (default {DEFAULT_VARIANTS})")
    ap.add_argument("--only", choices=("cache", "shards"), help="run one half")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the cache half (the median is compared)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be 1 or more")
    ok, differ = True, []
    with tempfile.TemporaryDirectory(prefix="sk-scale-") as folder:
        for name, fn in (("cache", bench_cache), ("shards", bench_shards)):
            if args.only in (None, name):
                print(f"-- {name} ({args.crates}: {args.variants})", flush=True)
                hit, bad = fn(args, os.path.join(folder, name))
                ok &= hit
                differ += bad
    if differ:
        print("sizes differ between runs: " + ", ".join(differ))
    return 0 if ok and not differ else 1


if __name__ == "__main__":
    sys.exit(main())
