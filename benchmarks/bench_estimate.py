"""Accuracy and speed of sizekit's UPX size estimate against real `upx` runs.

    python benchmarks/bench_estimate.py [--json OUT] [--upx PATH] [FILE ...]

Without files: the example matrix's artifacts under out/build and out/post (UPX-packed ones
and duplicate stripped contents skipped), the Rust toolchain's own
binaries, and ELF programs from /usr/bin between 50 KB and 5 MB. Each file is copied to a
temporary folder and stripped, then packed with `upx --best` and `upx --best --lzma`.
Targets: median absolute error <= 5 % per level, estimate >= 50x faster than `upx --best`.
UPX results are cached by content hash (--cache) so reruns only time the estimate.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sizekit import native  # noqa: E402

LEVELS = {"best": ["--best"], "lzma": ["--best", "--lzma"]}
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CACHE = os.path.join(tempfile.gettempdir(), "sizekit-bench-upx-cache.json")


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def is_upx_packed(path):
    with open(path, "rb") as f:
        head = f.read(4096)
    return b"UPX!" in head


def default_files():
    files = []
    # the example matrix's artifacts: out/build/<example>/<target>/<cell>/<binary> (as
    # built) and out/post/... (post-processed: stripped, maybe already packed by UPX)
    out = os.path.join(HERE, "..", "out")
    for sub in ("artifacts", "build", "post"):
        pat = os.path.join(out, sub, "*", "*", "*", "*")
        for p in sorted(glob.glob(pat)):
            if os.path.isfile(p) and is_elf(p) and os.path.getsize(p) >= 40_000 \
                    and not is_upx_packed(p):
                files.append(p)
    rust = os.path.expanduser("~/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin")
    for name in ("rustc", "cargo-clippy", "cargo-fmt", "rustfmt"):
        p = os.path.join(rust, name)
        if is_elf(p):
            files.append(p)
    cands = []
    for p in glob.glob("/usr/bin/*"):
        if os.path.islink(p) or not os.path.isfile(p) or not is_elf(p):
            continue
        size = os.path.getsize(p)
        if 50_000 <= size <= 5_000_000:
            cands.append((size, p))
    cands.sort()
    # spread over the size range: 14 picks at evenly spaced ranks
    want = 14
    if cands:
        step = max(1, len(cands) // want)
        files += [p for _, p in cands[::step][:want]]
    return files


def run_upx(upx, src, level, workdir):
    out = os.path.join(workdir, "packed")
    if os.path.exists(out):
        os.unlink(out)
    t0 = time.perf_counter()
    r = subprocess.run([upx, "-q", "-q", *LEVELS[level], "-o", out, src],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0 or not os.path.exists(out):
        return None, dt, r.stdout.strip().splitlines()[-1:] or ["upx failed"]
    return os.path.getsize(out), dt, None


def time_estimate(path, level, runs):
    times = []
    est = None
    for _ in range(runs):
        t0 = time.perf_counter()
        est = native.estimate_file(path, level)
        times.append(time.perf_counter() - t0)
    return est, statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--upx", default=shutil.which("upx") or "/usr/local/bin/upx")
    ap.add_argument("--json", help="write per-file results (incl. model stream sizes) here")
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("--runs", type=int, default=5, help="estimate timing runs per file")
    args = ap.parse_args(argv)

    files = args.files or default_files()
    cache = {}
    if args.cache and os.path.exists(args.cache):
        with open(args.cache) as f:
            cache = json.load(f)
    print(f"backend: {native.BACKEND}   upx: {args.upx}   files: {len(files)}")
    rows = []
    errs = {lv: [] for lv in LEVELS}
    speed = []
    seen = set()
    with tempfile.TemporaryDirectory() as tmp:
        for src in files:
            work = os.path.join(tmp, "in")
            shutil.copyfile(src, work)
            os.chmod(work, 0o755)  # upx refuses non-executable files
            subprocess.run(["strip", "-s", work], stderr=subprocess.DEVNULL)
            key = native.hash_hex(native.hash_file(work))
            if key in seen:  # the same stripped bytes under another path
                continue
            seen.add(key)
            size = os.path.getsize(work)
            row = {"file": src, "bytes": size, "key": key}
            for lv in LEVELS:
                c = cache.get(f"{key}:{lv}")
                if c is None:
                    packed, secs, err = run_upx(args.upx, work, lv, tmp)
                    c = {"packed": packed, "seconds": secs, "error": err}
                    if packed:
                        cache[f"{key}:{lv}"] = c
                est, est_secs = time_estimate(work, lv, args.runs)
                with open(work, "rb") as f:
                    stream = native.estimate_stream(f.read(), lv)
                row[lv] = {"upx": c["packed"], "upx_seconds": c["seconds"], "estimate": est,
                           "stream": stream, "estimate_seconds": est_secs,
                           "error": c["error"]}
                if c["packed"]:
                    errs[lv].append((est - c["packed"]) / c["packed"])
                    if lv == "best":
                        speed.append(c["seconds"] / max(est_secs, 1e-9))
            rows.append(row)
            cells = []
            for lv in LEVELS:
                r = row[lv]
                if r["upx"]:
                    cells.append(f"{lv}: upx {r['upx']:>9,} est {r['estimate']:>9,} "
                                 f"{100 * (r['estimate'] - r['upx']) / r['upx']:+6.1f}% "
                                 f"({r['upx_seconds']:.2f}s vs {1000 * r['estimate_seconds']:.1f}ms)")
                else:
                    cells.append(f"{lv}: upx failed: {r['error'][0] if r['error'] else '?'}")
            print(f"{os.path.basename(src):<22} {size:>10,}  " + "  ".join(cells), flush=True)
    if args.cache:
        with open(args.cache, "w") as f:
            json.dump(cache, f)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)

    ok = True
    for lv in LEVELS:
        if not errs[lv]:
            print(f"{lv}: no successful upx runs")
            ok = False
            continue
        med = statistics.median(abs(e) for e in errs[lv])
        worst = max(abs(e) for e in errs[lv])
        bias = statistics.median(errs[lv])
        verdict = "PASS" if med <= 0.05 else "FAIL"
        ok &= med <= 0.05
        print(f"{lv:<5} n={len(errs[lv]):>2}  median |error| {100 * med:5.2f}%  "
              f"(median signed {100 * bias:+.2f}%, worst {100 * worst:.1f}%)  "
              f"target <= 5%: {verdict}")
    if speed:
        sp = statistics.median(speed)
        verdict = "PASS" if sp >= 50 else "FAIL"
        ok &= sp >= 50
        print(f"speed: estimate is {sp:.0f}x faster than upx --best (median over files); "
              f"target >= 50x: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
