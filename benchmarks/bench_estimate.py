"""Accuracy and speed of sizekit's UPX size estimate against real `upx` runs, by split part.

    python benchmarks/estimate_corpus.py                    # once: builds and collects the files
    python benchmarks/estimate_split.py                     # once: the split and the seal
    python benchmarks/bench_estimate.py [--set fit|validation|sealed|all] [--json OUT]
                                        [--figures OUT] [--runs N] [--upx PATH] [--upx-from OUT]
    python benchmarks/bench_estimate.py --rows OUT           # the tables of an earlier run

The files are those of benchmarks/estimate_corpus.py's cache (Rust bin and cdylib builds
for x86_64, armv7 and aarch64; Debian's programs and libraries; the cross packages' ARM
libraries), each in the part benchmarks/estimate_split.py gave its group
(benchmarks/estimate_split.json): "fit" (what benchmarks/estimate_fit.py fits the constants
on), "validation" (for development choices) and "sealed" (benchmarks/estimate_sealed.json:
measured once per model release, never used to choose). Every file is packed with
`upx --best` and `upx --best --lzma` in this run, and the estimate runs in-process on the
same file: --runs times each (default 3), UPX first on even runs and the estimate first on
odd ones. Reported per part and class (program / shared library, x86_64 / armv7 / aarch64,
stripped / unstripped): median and worst |error| of the packed size on the files UPX packed,
whether the estimate predicted UPX's refusals, and the error of each compressed stream
against UPX's block for the same bytes (benchmarks/upx_blocks.py); then the speed, as the
median and range over the files of UPX's time over the estimate's (medians of the runs).
Goals: median <= 2 % and worst <= 5 % per class on the packed size. `--figures OUT`
(benchmarks/results/estimate.json) writes those figures as JSON (the README's come from it).
`--json OUT` keeps every row, with UPX's blocks, loader size and stub, for estimate_fit.py.
"""
import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from sizekit.elf import engine  # noqa: E402
from upx_blocks import block_for  # noqa: E402
from estimate_split import CACHES, model_digest, part_of, read_caches  # noqa: E402

LEVELS = {"best": ["--best"], "lzma": ["--best", "--lzma"]}
TARGET_MEDIAN, TARGET_WORST = 0.02, 0.05
SETS = ("fit", "validation", "sealed", "unsplit")  # estimate_split.py's parts


def sets_of(rows):
    return [w for w in SETS if any(r["set"] == w for r in rows)]


def run_upx(upx, src, level, workdir):
    """(packed size or None, seconds, UPX's error or None, packed bytes or None)."""
    out = os.path.join(workdir, "packed")
    if os.path.exists(out):
        os.unlink(out)
    t0 = time.perf_counter()
    r = subprocess.run([upx, "-q", "-q", *LEVELS[level], "-o", out, src],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0 or not os.path.exists(out):
        last = (r.stdout.strip().splitlines() or ["upx failed"])[-1]
        return None, dt, last.split(": ", 2)[-1], None
    with open(out, "rb") as f:
        return os.path.getsize(out), dt, None, f.read()


def with_blocks(pieces, packed):
    """The estimate's pieces, each with the compressed size of UPX's block for the same
    bytes ("upx_cpr", found by its b_info; None when UPX stored or split it differently)
    and that block's bytes whether stored or not ("upx_block")."""
    for p in pieces:
        b = block_for(packed, p["size"]) if packed and p["kind"] != "copied" else None
        p["upx_cpr"] = b["cpr"] if b and b["cpr"] < b["unc"] else None
        p["upx_block"] = b["cpr"] if b else None
    return pieces


def loader_of(row, pieces, packed):
    """(l_lsize, stub) of a packed file: the loader's size from UPX's l_info (the first
    "UPX!": checksum, magic, l_lsize), and for a program its packed size minus UPX's blocks
    for the pieces (each with its 12-byte b_info), None where a block was not found."""
    i = packed.find(b"UPX!")
    lsize = struct.unpack_from("<H", packed, i + 4)[0] if i >= 4 else None
    blocks = [p["upx_block"] for p in pieces]
    stub = None
    if row["kind"] == "exec" and None not in blocks and all(p["kind"] != "copied" for p in pieces):
        stub = len(packed) - sum(12 + b for b in blocks)
    return lsize, stub


def timed(fn, runs):
    times, val = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        val = fn()
        times.append(time.perf_counter() - t0)
    return val, statistics.median(times)


def reused_blocks(pieces, earlier):
    """The estimate's pieces with upx_cpr taken from an earlier run's pieces of the same bytes."""
    cpr = {(p["offset"], p["size"]): (p.get("upx_cpr"), p.get("upx_block")) for p in earlier}
    for p in pieces:
        p["upx_cpr"], p["upx_block"] = cpr.get((p["offset"], p["size"]), (None, None)) \
            if p["kind"] != "copied" else (None, None)
    return pieces


def measure(entry, upx, runs, tmp, prior=None):
    """One file's row: UPX and the estimate `runs` times each at each level, UPX first on
    even runs and the estimate first on odd ones (times: the medians). prior: the same file's
    row from an earlier run (same sha256), whose UPX results are reused instead of running
    UPX again (its times then come from that run)."""
    path = entry["path"]
    with open(path, "rb") as f:
        data = f.read()
    row = dict(entry)
    _, zsecs = timed(lambda: zlib.compress(data, 9), runs)
    row["zlib9_seconds"] = zsecs
    for lv in LEVELS:
        upx_secs, est_secs, first = [], [], None
        for k in range(runs):
            for who in (("upx", "est") if k % 2 == 0 else ("est", "upx")):
                if who == "est":
                    t0 = time.perf_counter()
                    est = engine.estimate_file(path, lv)
                    est_secs.append(time.perf_counter() - t0)
                elif prior is None:
                    got = run_upx(upx, path, lv, tmp)
                    upx_secs.append(got[1])
                    first = first or got
        pieces = engine.estimate_pieces(data, lv)
        lsize = stub = None
        if prior is not None:
            old = prior[lv]
            packed, secs, err = old["upx"], old["upx_seconds"], old["upx_error"]
            lsize, stub = old.get("upx_lsize"), old.get("upx_stub")
            pieces = reused_blocks(pieces, old["pieces"])
        else:
            packed, _, err, out = first
            secs = statistics.median(upx_secs)
            pieces = with_blocks(pieces, out)
            if out:
                lsize, stub = loader_of(row, pieces, out)
        _, why, other = engine.estimate_outcome(path, lv)
        row[lv] = {"upx": packed, "upx_seconds": secs, "upx_error": err, "estimate": est,
                   "estimate_seconds": statistics.median(est_secs), "refusal": why, "other": other,
                   "upx_lsize": lsize, "upx_stub": stub, "pieces": pieces}
    return row


def classes(row):
    strip = "stripped" if row["stripped"] else "unstripped"
    return [row["kind"], row["arch"], strip]


def error(x, either=False):
    """|estimate - UPX| / UPX; with either, the nearer of the estimate and the other size it
    names near a page edge."""
    sizes = [x["estimate"]] + ([x["other"]] if either and x.get("other") else [])
    return min(abs(s - x["upx"]) for s in sizes) / x["upx"]


def summarize(rows, lv, which, either=False):
    """{class: (n, median, worst, refusals right, refusals total)} over one set."""
    groups = {}
    for r in rows:
        if which != "all" and r["set"] != which:
            continue
        for c in ["all"] + classes(r):
            groups.setdefault(c, []).append(r)
    out = {}
    for c, rs in groups.items():
        errs = [error(r[lv], either) for r in rs if r[lv]["upx"] and r[lv]["refusal"] is None]
        right = sum(1 for r in rs if (r[lv]["upx"] is None) == (r[lv]["refusal"] is not None))
        out[c] = (len(errs), statistics.median(errs) if errs else None,
                  max(errs) if errs else None, right, len(rs))
    return out


def print_page_edges(rows, which):
    """The estimates that also name another size (a shared library whose writable segments
    move a page if the compressed bytes are EST_BAND more or fewer), and which of the two
    UPX gave; then the misses over 5% where no other size was named."""
    named, missed = [], []
    for r in rows:
        if r["set"] != which:
            continue
        for lv in LEVELS:
            x = r[lv]
            if not x["upx"] or x["refusal"] is not None:
                continue
            if x.get("other"):
                named.append((r["name"], lv, x))
            elif abs(x["estimate"] - x["upx"]) > TARGET_WORST * x["upx"]:
                missed.append((r["name"], lv, x))
    print(f"  near a page edge ({engine.EST_BAND_PCT:g}% of the compressed bytes away): "
          f"{len(named)} estimates also name the other size; UPX gave the estimate in "
          f"{sum(x['upx'] == x['estimate'] for _, _, x in named)}, the other size in "
          f"{sum(x['upx'] == x['other'] for _, _, x in named)}")
    for name, lv, x in named:
        print(f"    {name[:44]:<44} {lv:<4} upx {x['upx']:>9,}  est {x['estimate']:>9,} "
              f"or {x['other']:>9,}")
    print(f"  misses over {100 * TARGET_WORST:.0f}% with no other size named: {len(missed)}"
          + "".join(f"\n    {n[:44]:<44} {lv:<4} upx {x['upx']:>9,}  est {x['estimate']:>9,}"
                    for n, lv, x in missed))


def print_table(rows, which, either=False):
    order = ["all", "exec", "shlib", "x86_64", "armv7", "aarch64", "stripped", "unstripped"]
    ok = True
    print(f"\n{which} set" + (", counting a named other size (near a page edge) as the "
                               "estimate:" if either else ":"))
    print(f"  {'class':<11} {'level':<5} {'n':>3} {'median':>7} {'worst':>7} {'refusals':>9}")
    for lv in LEVELS:
        s = summarize(rows, lv, which, either)
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
    """--fit: benchmarks/estimate_fit.py's fit over these rows' fit part (printed only;
    estimate_fit.py --rows OUT --write writes it into csrc/tables.json)."""
    import estimate_fit  # noqa: E402  (lazy: only --fit needs it)
    return estimate_fit.fit(estimate_fit.fit_rows(rows))


# The stream figures count UPX's blocks of this many compressed bytes or more (the size the
# curves are fitted on): a block of zeros that UPX writes in 110 bytes and the model in 7 says
# nothing about compression, and a block size can match an unrelated small block of the loader.
STREAM_MIN_BLOCK = 2000


def stream_errors(rows, lv, which):
    """{class: [|model - UPX| / UPX]} of the compressed streams: each piece the estimate
    compresses against UPX's block for the same bytes (both compressed, STREAM_MIN_BLOCK+
    bytes out of UPX), over one set, by program / shared library."""
    out = {}
    for r in rows:
        if which != "all" and r["set"] != which:
            continue
        for p in r[lv]["pieces"]:
            if p.get("upx_cpr") is None or p["upx_cpr"] < STREAM_MIN_BLOCK or p["packed"] - 12 >= p["size"]:
                continue
            e = abs(p["packed"] - 12 - p["upx_cpr"]) / p["upx_cpr"]
            for c in ("all", r["kind"]):
                out.setdefault(c, []).append(e)
    return out


def print_streams(rows, which):
    print(f"\n{which} set, compressed streams against UPX's blocks ({STREAM_MIN_BLOCK}+ bytes out):")
    print(f"  {'class':<11} {'level':<5} {'blocks':>6} {'median':>7} {'worst':>7}")
    for lv in LEVELS:
        for c, errs in sorted(stream_errors(rows, lv, which).items()):
            print(f"  {c:<11} {lv:<5} {len(errs):>6} {100 * statistics.median(errs):6.2f}% "
                  f"{100 * max(errs):6.1f}%")


def speed(rows, lv):
    """Over the files UPX packed at this level: (files, per-file UPX / estimate time ratios,
    total UPX seconds, total estimate seconds, total zlib 9 seconds)."""
    packed = [r for r in rows if r[lv]["upx"]]
    ratios = [r[lv]["upx_seconds"] / max(r[lv]["estimate_seconds"], 1e-9) for r in packed]
    return (len(packed), ratios, sum(r[lv]["upx_seconds"] for r in packed),
            sum(r[lv]["estimate_seconds"] for r in packed), sum(r["zlib9_seconds"] for r in packed))


def print_speed(rows):
    """UPX's time over the estimate's, file by file (each the median of the same number of
    runs, order alternated): the median and range over the files, and the totals."""
    for lv in LEVELS:
        n, ratios, upx_t, est_t, zl_t = speed(rows, lv)
        if not n:
            continue
        print(f"\nspeed, {' '.join(LEVELS[lv])}, over the {n} files UPX packed: per file UPX / "
              f"estimate median {statistics.median(ratios):.0f}x (range {min(ratios):.1f}x-"
              f"{max(ratios):.0f}x); totals upx {upx_t:.1f} s, estimate (in-process) {est_t:.2f} s "
              f"({upx_t / max(est_t, 1e-9):.0f}x), zlib level 9 {zl_t:.2f} s "
              f"({zl_t / max(est_t, 1e-9):.2f}x the estimate's time)")


def summary(rows, runs):
    """The figures the README quotes, per set and level: packed size and streams by class,
    refusals, page edges and speed."""
    out = {"date": time.strftime("%Y-%m-%d"), "model": model_digest(), "backend": engine.BACKEND,
           "runs": runs, "stream_min_block": STREAM_MIN_BLOCK, "sets": {}}
    for which in sets_of(rows):
        sets = out["sets"][which] = {"files": sum(1 for r in rows if r["set"] == which)}
        for lv in LEVELS:
            plain, either = summarize(rows, lv, which), summarize(rows, lv, which, True)
            streams = stream_errors(rows, lv, which)
            mine = [r for r in rows if r["set"] == which]
            n, ratios, upx_t, est_t, _ = speed(mine, lv)
            sets[lv] = {
                "packed": {c: {"n": v[0], "median": v[1], "worst": v[2], "worst_or": either[c][2],
                               "refusals_right": v[3], "files": v[4]} for c, v in plain.items()},
                "streams": {c: {"blocks": len(e), "median": statistics.median(e), "worst": max(e)}
                            for c, e in streams.items()},
                "speed": {"files": n, "median": statistics.median(ratios) if ratios else None,
                          "min": min(ratios, default=None), "max": max(ratios, default=None),
                          "upx_seconds": upx_t, "estimate_seconds": est_t}}
    return out


def readme_table(fig, which="sealed"):
    """The README's table of one set's figures (fig: summary()), as markdown lines."""
    lines = ["| class | level | files packed | packed size: median | worst | worst, or | "
             "streams (blocks) | stream median | stream worst |", "| --- " * 9 + "|"]
    names = {"exec": "programs", "shlib": "shared libraries"}
    for c in ("exec", "shlib"):
        for lv in LEVELS:
            p, st = fig["sets"][which][lv]["packed"].get(c), fig["sets"][which][lv]["streams"].get(c)
            if not p or not p["n"]:
                continue
            lines.append(f"| {names[c]} | `{' '.join(LEVELS[lv])}` | {p['n']} | {100 * p['median']:.2f}% | "
                         f"{100 * p['worst']:.1f}% | {100 * p['worst_or']:.1f}% | "
                         + (f"{st['blocks']} | {100 * st['median']:.2f}% | {100 * st['worst']:.1f}% |"
                            if st else "0 | - | - |"))
    return lines


def entries_of(caches):
    """The files of the caches, each with its split part as its set."""
    out = read_caches(caches)
    parts = part_of(out)
    for e in out:
        e["set"] = parts[e["sha256"]]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", action="append",
                    help=f"a corpus folder (repeatable; default {CACHES[0]})")
    ap.add_argument("--upx", default=shutil.which("upx") or "/usr/local/bin/upx")
    ap.add_argument("--json", help="write per-file results here")
    ap.add_argument("--figures", help="write the figures the README quotes here as JSON "
                                      "(benchmarks/results/estimate.json, for scripts/bench_figures.py)")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs of UPX and of the estimate per file and level (the same for both)")
    ap.add_argument("--set", choices=list(SETS[:3]) + ["all"], default="all")
    ap.add_argument("--fit", action="store_true", help="print estimate_fit.py's fit of the fit part")
    ap.add_argument("--rows", help="summarize the per-file results of an earlier run (its --json) "
                                   "instead of running UPX again")
    ap.add_argument("--upx-from", metavar="JSON",
                    help="reuse UPX's sizes, times and blocks from an earlier run's --json for the "
                         "files whose bytes are the same (for trying a model change on the fit or "
                         "validation part quickly; the speed then uses that run's UPX times)")
    ap.add_argument("--max-bytes", type=int, default=6_000_000,
                    help="skip bigger files (default 6 MB: the 10-40 MB unstripped Rust dev and "
                         "release builds take UPX a minute each; 0 keeps everything)")
    args = ap.parse_args(argv)

    if args.rows:
        with open(args.rows) as f:
            rows = json.load(f)
    else:
        entries = entries_of(args.cache or CACHES)
        if args.set != "all":
            entries = [e for e in entries if e["set"] == args.set]
        if args.max_bytes:
            skipped = [e["name"] for e in entries if e["bytes"] > args.max_bytes]
            entries = [e for e in entries if e["bytes"] <= args.max_bytes]
            if skipped:
                print(f"skipped {len(skipped)} files over {args.max_bytes:,} bytes (--max-bytes 0 "
                      f"keeps them)")
        prior = {}
        if args.upx_from:
            if args.set in ("sealed", "all"):
                raise SystemExit("--upx-from is for the fit and validation parts: the sealed set is "
                                 "measured whole, UPX and estimate in the same run")
            with open(args.upx_from) as f:
                prior = {r["sha256"]: r for r in json.load(f)}
            print(f"UPX results reused from {args.upx_from} where the file is unchanged")
        print(f"backend: {engine.BACKEND}   upx: {args.upx}   model: {model_digest()}   "
              f"files: {len(entries)}   runs: {args.runs}")
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for e in entries:
                r = measure(e, args.upx, args.runs, tmp, prior.get(e.get("sha256")))
                rows.append(r)
                cells = []
                for lv in LEVELS:
                    x = r[lv]
                    if x["upx"] and x["refusal"] is None:
                        cells.append(f"{lv} {x['upx']:>9,} est {x['estimate']:>9,} "
                                     f"{100 * (x['estimate'] - x['upx']) / x['upx']:+6.1f}%"
                                     + (f" (or {x['other']:,})" if x["other"] else ""))
                    else:
                        cells.append(f"{lv} upx: {x['upx'] or x['upx_error']} / est: "
                                     f"{'refuses' if x['refusal'] else x['estimate']}")
                print(f"{r['set'][:4]} {r['name'][:40]:<40} {r['bytes']:>10,}  " + "  ".join(cells),
                      flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)
    ok = True
    for which in sets_of(rows):
        hit = print_table(rows, which)
        print_page_edges(rows, which)
        print_table(rows, which, either=True)
        print_streams(rows, which)
        ok &= hit or which == "fit"
    print_speed(rows)
    fig = summary(rows, args.runs)
    if "sealed" in fig["sets"]:
        print("\nthe README's table of the sealed set:\n" + "\n".join(readme_table(fig)))
    if args.figures:
        with open(args.figures, "w") as f:
            json.dump(fig, f, indent=1)
            f.write("\n")
    if args.fit:
        fit(rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
