"""Throughput of sizekit's content hash against xxhash.xxh3_64 and hashlib.md5.

    python benchmarks/bench_hash.py [--runs N] [--mib 64] [--json PATH] [FILE ...]

The peers are what a careful human would pick to fingerprint a build's output: cargo has no
content hash of its own to call, so the fastest well-known one (`xxhash.xxh3_64_intdigest`)
and the one doit uses by default (`hashlib.md5(data).digest()`), each on the same bytes in
the same process. Hashes a random buffer and real artifacts (default: the four biggest ELF
files in /usr/bin), each read into memory first, and prints the median GB/s of N runs per
hash, alternating which hash goes first on each file. Targets: sizekit >= 0.6x xxh3_64 and
>= 10x md5 on the random buffer.
"""
import argparse
import glob
import hashlib
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sizekit import api  # noqa: E402

import benchjson  # noqa: E402
from benchjson import alternate, spread  # noqa: E402

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


def measure(data, runs, k=0):
    """{hash: GB/s} on data; the hashes run in turn, sizekit first when k is even, last when odd."""
    hashes = {"md5": lambda d: hashlib.md5(d).digest()}
    if xxhash is not None:
        hashes["xxh3_64"] = xxhash.xxh3_64_intdigest
    order = alternate(k, "sizekit", list(hashes))
    hashes["sizekit"] = api.hash_bytes
    res = {name: gbps(hashes[name], data, runs) for name in order}
    return {name: res[name] for name in ("sizekit", "md5", "xxh3_64") if name in res}


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
    ap.add_argument("--json", help="write the settings and figures here (benchmarks/results/hash.json is the README's)")
    args = ap.parse_args(argv)
    print(f"backend: {api.tools_in_use()['native_backend']}   runs: {args.runs} (median)")
    if api.tools_in_use()['native_backend'] != "c":
        print("warning: the C module is not in use; numbers are for the Python reference")

    buf = os.urandom(args.mib << 20)
    main_res = measure(buf, args.runs)
    line(f"random {args.mib} MiB", len(buf), main_res)
    files = []
    for k, p in enumerate(args.files or biggest_elfs(), 1):
        with open(p, "rb") as f:
            data = f.read()
        res = measure(data, args.runs, k)
        files.append({"file": p, "bytes": len(data), "gbps": res})
        line(os.path.basename(p), len(data), res)

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
    if args.json:
        def vs(res, peer):
            return res["sizekit"] / res[peer] if peer in res else None
        file_xxh3 = [vs(f["gbps"], "xxh3_64") for f in files if "xxh3_64" in f["gbps"]]
        benchjson.write(args.json, "bench_hash", {"runs": args.runs, "mib": args.mib,
                                                  "backend": api.tools_in_use()["native_backend"]}, {
            "random": {"bytes": len(buf), "gbps": main_res, "vs_xxh3": vs(main_res, "xxh3_64"),
                       "vs_md5": vs(main_res, "md5")},
            "files": files, "files_vs_xxh3": spread(file_xxh3) if file_xxh3 else None,
            "targets": {"vs_xxh3": 0.6, "vs_md5": 10}, "met": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
