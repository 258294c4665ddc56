"""Accuracy and speed of sizekit's UPX size estimate against real `upx` runs, held out.

    python benchmarks/estimate_corpus.py          # once: builds/collects the files
    python benchmarks/bench_estimate.py [--json OUT] [--upx PATH] [--set held-out|all]

The files are benchmarks/estimate_corpus.py's (Rust bin and cdylib builds for x86_64, armv7
and aarch64; Debian's programs and libraries; the cross packages' ARM libraries). A fixed
rule splits them: crc32(file name) even is the calibration set the constants in
csrc/sizekit_native.c were fitted on, odd is the held-out set. Every file is packed with
`upx --best` and `upx --best --lzma` in this run (nothing is cached), and the estimate runs
in-process on the same file. Reported per set and per class (executable / shared library,
x86_64 / armv7 / aarch64, stripped / unstripped): median and worst |error| on the files UPX
packed, and whether the estimate predicted UPX's refusals. Targets on the held-out set:
median <= 2 % and worst <= 5 % per class; the estimate >= 50x faster than `upx --best` and
no slower than zlib level 9 over the same bytes. `--fit` prints the per-method ratio (EST_A)
that fits the calibration set's programs best.
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
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sizekit.elf import native  # noqa: E402

LEVELS = {"best": ["--best"], "lzma": ["--best", "--lzma"]}
DEFAULT_CACHE = os.path.expanduser("~/.cache/sizekit/estimate-corpus")
TARGET_MEDIAN, TARGET_WORST = 0.02, 0.05


def split(name):
    """The fixed calibration / held-out rule."""
    return "calibration" if zlib.crc32(name.encode()) % 2 == 0 else "held-out"


def run_upx(upx, src, level, workdir):
    out = os.path.join(workdir, "packed")
    if os.path.exists(out):
        os.unlink(out)
    t0 = time.perf_counter()
    r = subprocess.run([upx, "-q", "-q", *LEVELS[level], "-o", out, src],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0 or not os.path.exists(out):
        last = (r.stdout.strip().splitlines() or ["upx failed"])[-1]
        return None, dt, last.split(": ", 2)[-1]
    return os.path.getsize(out), dt, None


def timed(fn, runs):
    times, val = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        val = fn()
        times.append(time.perf_counter() - t0)
    return val, statistics.median(times)


def measure(entry, upx, runs, tmp):
    path = entry["path"]
    with open(path, "rb") as f:
        data = f.read()
    row = dict(entry, set=split(entry["name"]))
    _, zsecs = timed(lambda: zlib.compress(data, 9), runs)
    row["zlib9_seconds"] = zsecs
    for lv in LEVELS:
        packed, secs, err = run_upx(upx, path, lv, tmp)
        est, est_secs = timed(lambda: native.estimate_file(path, lv), runs)
        row[lv] = {"upx": packed, "upx_seconds": secs, "upx_error": err, "estimate": est,
                   "estimate_seconds": est_secs, "refusal": native.upx_refusal(path, lv)}
        if lv == "best":
            row["pieces"] = native.estimate_pieces(data, lv)
    return row


def classes(row):
    strip = "stripped" if row["stripped"] else "unstripped"
    return [row["kind"], row["arch"], strip]


def summarize(rows, lv, which):
    """{class: (n, median, worst, refusals right, refusals total)} over one set."""
    groups = {}
    for r in rows:
        if which != "all" and r["set"] != which:
            continue
        for c in ["all"] + classes(r):
            groups.setdefault(c, []).append(r)
    out = {}
    for c, rs in groups.items():
        errs = [abs(r[lv]["estimate"] - r[lv]["upx"]) / r[lv]["upx"]
                for r in rs if r[lv]["upx"] and r[lv]["refusal"] is None]
        right = sum(1 for r in rs if (r[lv]["upx"] is None) == (r[lv]["refusal"] is not None))
        out[c] = (len(errs), statistics.median(errs) if errs else None,
                  max(errs) if errs else None, right, len(rs))
    return out


def print_table(rows, which):
    order = ["all", "exec", "shlib", "x86_64", "armv7", "aarch64", "stripped", "unstripped"]
    ok = True
    print(f"\n{which} set:")
    print(f"  {'class':<11} {'level':<5} {'n':>3} {'median':>7} {'worst':>7} {'refusals':>9}")
    for lv in LEVELS:
        s = summarize(rows, lv, which)
        for c in order:
            if c not in s:
                continue
            n, med, worst, right, total = s[c]
            if n == 0:
                print(f"  {c:<11} {lv:<5} {n:>3} {'-':>7} {'-':>7} {right:>4}/{total:<4}")
                continue
            hit = med <= TARGET_MEDIAN and worst <= TARGET_WORST
            ok &= hit
            print(f"  {c:<11} {lv:<5} {n:>3} {100 * med:6.2f}% {100 * worst:6.1f}% "
                  f"{right:>4}/{total:<4} {'PASS' if hit else 'FAIL'}")
    return ok


def fit(rows):
    """The EST_A (per mille) with the smallest median |error| on calibration programs."""
    for lv, method in (("best", "nrv"), ("lzma", "lzma")):
        xs = [r for r in rows if r["set"] == "calibration" and r["kind"] == "exec"
              and r[lv]["upx"] and r[lv]["refusal"] is None]
        if not xs:
            continue
        best = None
        for a in range(800, 1001, 2):
            errs = []
            for r in xs:
                pieces = native.estimate_pieces(open(r["path"], "rb").read(), lv)
                comp = sum(min(p["stream"] * a // 1000, p["size"]) + 12 - p["packed"]
                           for p in pieces if p["kind"] != "copied")
                errs.append(abs(r[lv]["estimate"] + comp - r[lv]["upx"]) / r[lv]["upx"])
            med = statistics.median(errs)
            if best is None or med < best[0]:
                best = (med, a)
        print(f"fit {method}: A = {best[1]} (median |error| {100 * best[0]:.2f}% "
              f"on {len(xs)} calibration programs)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("--upx", default=shutil.which("upx") or "/usr/local/bin/upx")
    ap.add_argument("--json", help="write per-file results here")
    ap.add_argument("--runs", type=int, default=3, help="timing runs of estimate and zlib")
    ap.add_argument("--set", choices=["held-out", "calibration", "all"], default="all")
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--max-bytes", type=int, default=5_000_000,
                    help="skip bigger files (default 5 MB: the 10-13 MB unstripped Rust dev and "
                         "release builds take UPX minutes each; 0 keeps everything)")
    args = ap.parse_args(argv)

    manifest = os.path.join(args.cache, "manifest.json")
    if not os.path.exists(manifest):
        print(f"{manifest}: no corpus; run benchmarks/estimate_corpus.py first", file=sys.stderr)
        return 2
    with open(manifest) as f:
        entries = json.load(f)
    if args.set != "all":
        entries = [e for e in entries if split(e["name"]) == args.set]
    if args.max_bytes:
        skipped = [e["name"] for e in entries if e["bytes"] > args.max_bytes]
        entries = [e for e in entries if e["bytes"] <= args.max_bytes]
        if skipped:
            print(f"skipped {len(skipped)} files over {args.max_bytes:,} bytes (--max-bytes 0 "
                  f"keeps them)")
    print(f"backend: {native.BACKEND}   upx: {args.upx}   files: {len(entries)}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for e in entries:
            r = measure(e, args.upx, args.runs, tmp)
            rows.append(r)
            cells = []
            for lv in LEVELS:
                x = r[lv]
                if x["upx"] and x["refusal"] is None:
                    cells.append(f"{lv} {x['upx']:>9,} est {x['estimate']:>9,} "
                                 f"{100 * (x['estimate'] - x['upx']) / x['upx']:+6.1f}%")
                else:
                    cells.append(f"{lv} upx: {x['upx'] or x['upx_error']} / est: "
                                 f"{'refuses' if x['refusal'] else x['estimate']}")
            print(f"{r['set'][:4]} {r['name'][:40]:<40} {r['bytes']:>10,}  " + "  ".join(cells),
                  flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    ok = True
    for which in ("calibration", "held-out"):
        if any(r["set"] == which for r in rows):
            hit = print_table(rows, which)
            ok &= hit or which == "calibration"
    speed = [r["best"]["upx_seconds"] / max(r["best"]["estimate_seconds"], 1e-9)
             for r in rows if r["best"]["upx"]]
    vs_zlib = [r["zlib9_seconds"] / max(r["best"]["estimate_seconds"], 1e-9) for r in rows]
    if speed:
        sp, zl = statistics.median(speed), statistics.median(vs_zlib)
        hit = sp >= 50 and zl >= 1
        ok &= hit
        print(f"\nspeed (median over files): estimate {sp:.0f}x faster than upx --best, "
              f"{zl:.2f}x the speed of zlib level 9 on the same bytes (targets >= 50x, "
              f">= 1x): {'PASS' if hit else 'FAIL'}")
    if args.fit:
        fit(rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
