"""Throughput of sizekit's content hash against xxhash.xxh3_64 and hashlib.md5.

    python benchmarks/bench_hash.py [--runs N] [--mib 64] [FILE ...]

Hashes a random buffer and real artifacts (default: the four biggest ELF files in /usr/bin),
each read into memory first, and prints the median GB/s of N runs per hash.
Targets: sizekit >= 0.6x xxh3_64 and >= 10x md5 on the random buffer.
"""
import argparse
import glob
import hashlib
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sizekit import api  # noqa: E402

try:
    import xxhash
except ImportError:  # pragma: no cover
    xxhash = None


def biggest_elfs(n=4):
    out = []
    for p in glob.glob("/usr/bin/*"):
        if os.path.isfile(p) and not os.path.islink(p):
            with open(p, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    out.append((os.path.getsize(p), p))
    return [p for _, p in sorted(out, reverse=True)[:n]]


def gbps(fn, data, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - t0)
    return len(data) / statistics.median(times) / 1e9


def measure(data, runs):
    res = {"sizekit": gbps(api.hash_bytes, data, runs),
           "md5": gbps(lambda d: hashlib.md5(d).digest(), data, runs)}
    if xxhash is not None:
        res["xxh3_64"] = gbps(xxhash.xxh3_64_intdigest, data, runs)
    return res


def line(label, size, res):
    cells = "  ".join(f"{k} {v:6.2f} GB/s" for k, v in res.items())
    ratios = f"x{res['sizekit'] / res['md5']:.1f} md5"
    if "xxh3_64" in res:
        ratios = f"{res['sizekit'] / res['xxh3_64']:.2f}x xxh3, " + ratios
    print(f"{label:<28} {size / 2**20:8.1f} MiB  {cells}  ({ratios})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--mib", type=int, default=64)
    args = ap.parse_args(argv)
    print(f"backend: {api.tools_in_use()['native_backend']}   runs: {args.runs} (median)")
    if api.tools_in_use()['native_backend'] != "c":
        print("warning: the C module is not in use; numbers are for the Python reference")

    buf = os.urandom(args.mib << 20)
    main_res = measure(buf, args.runs)
    line(f"random {args.mib} MiB", len(buf), main_res)
    for p in args.files or biggest_elfs():
        with open(p, "rb") as f:
            data = f.read()
        line(os.path.basename(p), len(data), measure(data, args.runs))

    ok = True
    if "xxh3_64" in main_res:
        r = main_res["sizekit"] / main_res["xxh3_64"]
        verdict = "PASS" if r >= 0.6 else "FAIL"
        ok &= r >= 0.6
        print(f"vs xxh3_64: {r:.2f}x (target >= 0.6x): {verdict}")
    else:
        print("vs xxh3_64: not measured (pip install xxhash)")
        ok = False
    r = main_res["sizekit"] / main_res["md5"]
    verdict = "PASS" if r >= 10 else "FAIL"
    ok &= r >= 10
    print(f"vs md5: {r:.1f}x (target >= 10x): {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
