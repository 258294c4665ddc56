"""Accuracy and speed of sizekit's UPX size estimate against real `upx` runs, held out.

    python benchmarks/estimate_corpus.py [--fresh]  # once: builds/collects the files
    python benchmarks/bench_estimate.py [--json OUT] [--upx PATH] [--set held-out|all] [--fresh]
                                        [--fit] [--rows OUT] [--upx-from OUT]

The files are benchmarks/estimate_corpus.py's (Rust bin and cdylib builds for x86_64, armv7
and aarch64; Debian's programs and libraries; the cross packages' ARM libraries). A fixed
rule splits them: crc32(file name) even is the calibration set the constants in
csrc/tables.json were fitted on, odd is the held-out set. `--cache` on the folder of
`estimate_corpus.py --fresh` (or `--fresh` here) measures its files as a third set,
"fresh", which no fit or model choice has seen. Every file is packed with
`upx --best` and `upx --best --lzma` in this run (nothing is cached), and the estimate runs
in-process on the same file. Reported per set and per class (executable / shared library,
x86_64 / armv7 / aarch64, stripped / unstripped): median and worst |error| on the files UPX
packed, and whether the estimate predicted UPX's refusals. Targets on the held-out set:
median <= 2 % and worst <= 5 % per class; the estimate >= 50x faster than `upx --best` and
no slower than zlib level 9 over the same bytes (total time over the files). `--fit`
prints EST_FADE_NRV / EST_FADE_LZMA (scanned) and EST_A (the model-to-UPX ratio per arch,
method and content) fitted on the calibration set from UPX's own blocks
(benchmarks/upx_blocks.py), EST_A as tables.json's value (then scripts/gen_tables); `--rows
OUT --fit` does it from an earlier run's --json.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from sizekit.elf import native  # noqa: E402
from sizekit.elf.pyport import tables  # noqa: E402
from sizekit.elf.pyport.upx import est_scale  # noqa: E402
from upx_blocks import block_for  # noqa: E402

LEVELS = {"best": ["--best"], "lzma": ["--best", "--lzma"]}
DEFAULT_CACHE = os.path.expanduser("~/.cache/sizekit/estimate-corpus")
FRESH_CACHE = os.path.expanduser("~/.cache/sizekit/estimate-fresh")  # estimate_corpus.py --fresh
TARGET_MEDIAN, TARGET_WORST = 0.02, 0.05


def split(name):
    """The fixed calibration / held-out rule."""
    return "calibration" if zlib.crc32(name.encode()) % 2 == 0 else "held-out"


SETS = ("calibration", "held-out", "fresh")  # fresh: estimate_corpus.py --fresh's files


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
    bytes ("upx_cpr", found by its b_info; None when UPX stored or split it differently)."""
    for p in pieces:
        b = block_for(packed, p["size"]) if packed and p["kind"] != "copied" else None
        p["upx_cpr"] = b["cpr"] if b and b["cpr"] < b["unc"] else None
    return pieces


def timed(fn, runs):
    times, val = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        val = fn()
        times.append(time.perf_counter() - t0)
    return val, statistics.median(times)


def reused_blocks(pieces, earlier):
    """The estimate's pieces with upx_cpr taken from an earlier run's pieces of the same bytes."""
    cpr = {(p["offset"], p["size"]): p.get("upx_cpr") for p in earlier}
    for p in pieces:
        p["upx_cpr"] = cpr.get((p["offset"], p["size"])) if p["kind"] != "copied" else None
    return pieces


def measure(entry, upx, runs, tmp, prior=None):
    """One file's row. prior: the same file's row from an earlier run (same sha256), whose UPX
    results are reused instead of running UPX again."""
    path = entry["path"]
    with open(path, "rb") as f:
        data = f.read()
    row = dict(entry, set=entry.get("set") or split(entry["name"]))
    _, zsecs = timed(lambda: zlib.compress(data, 9), runs)
    row["zlib9_seconds"] = zsecs
    for lv in LEVELS:
        est, est_secs = timed(lambda: native.estimate_file(path, lv), runs)
        pieces = native.estimate_pieces(data, lv)
        if prior is not None:
            old = prior[lv]
            packed, secs, err = old["upx"], old["upx_seconds"], old["upx_error"]
            pieces = reused_blocks(pieces, old["pieces"])
        else:
            packed, secs, err, out = run_upx(upx, path, lv, tmp)
            pieces = with_blocks(pieces, out)
        _, why, other = native.estimate_outcome(path, lv)
        row[lv] = {"upx": packed, "upx_seconds": secs, "upx_error": err, "estimate": est,
                   "estimate_seconds": est_secs, "refusal": why, "other": other,
                   "pieces": pieces}
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
    print(f"  near a page edge ({native.EST_BAND_PCT:g}% of the compressed bytes away): "
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


CONTENT = ("code", "data", "gap", "thumb")
ARCHES = ("x86_64", "armv7", "aarch64")


def method_of(row, lv):
    if lv == "lzma":
        return "lzma"
    return "nrv2b" if row["bytes"] <= 512 * 1024 else "nrv2e"


# the blocks the lines are fitted on, those the fade is chosen on, and the fades tried (tables.json)
FIT_MIN_STREAM, SCAN_MIN_STREAM = tables.FIT_MIN_STREAM, tables.SCAN_MIN_STREAM
FADE_SCAN = {"nrv": tables.FADE_SCAN_NRV, "lzma": tables.FADE_SCAN_LZMA}


def fit_points(rows, min_stream):
    """{(arch, method, content): [(r, upx / stream, stream, size)]} over the calibration set's
    blocks of min_stream+ model bytes (headers and stored blocks left out). Content is the
    class the estimate priced the piece with (native.estimate_pieces): code (what UPX tries its
    branch filter on), thumb (armv7 Thumb-2 code), gap (bytes outside PT_LOADs) or data."""
    points = {}
    for r in rows:
        if r["set"] != "calibration":
            continue
        for lv in LEVELS:
            for p in r[lv]["pieces"]:
                if p.get("upx_cpr") is None or p["stream"] < min_stream or p["kind"] == "headers" \
                        or p["packed"] >= p["size"]:
                    continue
                if "content" not in p:
                    raise SystemExit(f"{r['name']}: pieces without content (an older run's --json); "
                                     f"run the benchmark again")
                points.setdefault((r["arch"], method_of(r, lv), p["content"]), []).append(
                    (p["stream"] / p["size"], p["upx_cpr"] / p["stream"], p["stream"], p["size"]))
    return points


def _solve(m, v):
    """Gaussian elimination with partial pivoting for a small dense system m x = v (None when
    it is singular)."""
    n = len(v)
    a = [list(row) + [v[i]] for i, row in enumerate(m)]
    for c in range(n):
        p = max(range(c, n), key=lambda i: abs(a[i][c]))
        a[c], a[p] = a[p], a[c]
        if abs(a[c][c]) < 1e-12:
            return None
        for i in range(c + 1, n):
            f = a[i][c] / a[c][c]
            for j in range(c, n + 1):
                a[i][j] -= f * a[c][j]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (a[i][n] - sum(a[i][j] * x[j] for j in range(i + 1, n))) / a[i][i]
    return x


def _poly(pts, terms):
    """Weighted least squares of z on 1, r, r^2 (the first `terms` of them) over (r, z, w)."""
    m = [[sum(w * r ** (i + j) for r, _, w in pts) for j in range(terms)] for i in range(terms)]
    return _solve(m, [sum(w * z * r ** i for r, z, w in pts) for i in range(terms)])


def _loo_error(pts, terms):
    """Summed |error| in model bytes of each block predicted from the others' curve."""
    total = 0.0
    for i, (r, z, _, s, g) in enumerate(pts):
        x = _poly([(q[0], q[1], q[2]) for j, q in enumerate(pts) if j != i], terms)
        if x is None:
            return float("inf")
        total += abs(sum(c * r ** n for n, c in enumerate(x)) - z) * g * s
    return total


def fit_lines(points, fades):
    """{group: (a, b, c, lo, hi, blocks)}, a, b, c per mille and lo, hi the group's range of r
    per mille, for fades {"nrv": F, "lzma": F}. UPX / stream = 1 - (1 - A) * g with
    g = s / (s + F) (as est_scale), so (1 - y) / g = 1 - a - b * r - c * r^2: least squares
    weighted by sqrt(s) * g^2 (the error of y, scaled back). How many terms (a constant, a
    line with 4+ blocks, a parabola with 8+) is chosen per group by leave-one-out on its
    blocks: the curve that best predicts each block from the others."""
    table = {}
    for k, v in points.items():
        fade = fades["lzma" if k[1] == "lzma" else "nrv"]
        pts = [(r, (1 - y) * (s + fade) / s, s ** 0.5 * (s / (s + fade)) ** 2, s, s / (s + fade))
               for r, y, s, _ in v]
        allowed = [1] + [2] * (len(pts) >= 4) + [3] * (len(pts) >= 8)
        terms = min(allowed, key=lambda t: _loo_error(pts, t)) if len(allowed) > 1 else 1
        x = _poly([p[:3] for p in pts], terms) or _poly([p[:3] for p in pts], 1)
        x += [0.0] * (3 - len(x))
        lo, hi = (min(int(p[0] * 1000) for p in pts), max(int(p[0] * 1000) for p in pts)) \
            if terms > 1 else (0, 1000)
        table[k] = (round(1000 * (1 - x[0])), round(-1000 * x[1]), round(-1000 * x[2]), lo, hi, len(pts))
    return table


def block_error(points, table, fades, family):
    """Summed |model - UPX| bytes over the family's blocks (of groups with a line), the way
    est_scale computes."""
    total = 0
    for k, v in points.items():
        if ("lzma" if k[1] == "lzma" else "nrv") != family or k not in table:
            continue
        for _, y, s, size in v:
            total += abs(est_scale(table[k][:5], s, size, fades[family]) - y * s)
    return total


def fit(rows):
    """EST_A[arch][method][content] = (a, b, c, lo, hi) and EST_FADE_NRV / EST_FADE_LZMA,
    fitted on the calibration set: for each fade in FADE_SCAN the curves (blocks of
    FIT_MIN_STREAM+ model bytes), then the fade with the smallest summed error over blocks of
    SCAN_MIN_STREAM+. A missing group takes the same arch and content with NRV2E (NRV2B's
    content classes are the same data). Returns {(arch, method, content): (a, b, c, lo, hi, n)}."""
    points, scan_points = fit_points(rows, FIT_MIN_STREAM), fit_points(rows, SCAN_MIN_STREAM)
    fades = {"nrv": tables.EST_FADE_NRV, "lzma": tables.EST_FADE_LZMA}
    print(f"\nfade scan on the calibration set (summed error over blocks of {SCAN_MIN_STREAM}+ model "
          f"bytes, curves fitted on those of {FIT_MIN_STREAM}+):")
    for family, scan in FADE_SCAN.items():
        errors = {}
        for f in scan:
            trial = dict(fades, **{family: f})
            errors[f] = block_error(scan_points, fit_lines(points, trial), trial, family)
        fades[family] = min(errors, key=errors.get)
        print(f"  {family:<4} " + "  ".join(f"F={f}: {e:,.0f}" for f, e in errors.items())
              + f"  -> {fades[family]}")
    table = fit_lines(points, fades)
    for arch in ARCHES:
        for m in ("nrv2b", "nrv2e", "lzma"):
            for c in CONTENT:
                if (arch, m, c) in table:
                    continue
                if c == "thumb" and arch == "armv7":  # NRV2E on Thumb: as NRV2B
                    alt = table.get((arch, "nrv2b", c)) or table.get((arch, m, "code"))
                elif c == "thumb":  # only armv7 has Thumb code; elsewhere it is never used
                    alt = table.get((arch, m, "code")) or table.get((arch, "nrv2e", "code"))
                else:
                    alt = table.get((arch, "nrv2e", c)) or table.get((arch, m, "data")) or \
                        table.get((arch, "nrv2e", "data"))
                table[(arch, m, c)] = alt[:5] + (0,)
    print(f"\nfit on the calibration set (blocks of {FIT_MIN_STREAM}+ model bytes, EST_FADE_NRV "
          f"{fades['nrv']}, EST_FADE_LZMA {fades['lzma']}): a, b, c per mille [r range] (blocks)")
    print(f"  {'arch':<8} {'method':<6} " + " ".join(f"{c:>31}" for c in CONTENT))
    for arch in ARCHES:
        for m in ("nrv2b", "nrv2e", "lzma"):
            cells = ["{:>5} {:>+5} {:>+6} [{:>3}-{:>4}] ({:>3})".format(*table[(arch, m, c)])
                     for c in CONTENT]
            print(f"  {arch:<8} {m:<6} " + " ".join(cells))
    print("  as EST_A in csrc/tables.json (then scripts/gen_tables): " + json.dumps(
        [[[list(table[(a, m, c)][:5]) for c in CONTENT] for m in ("nrv2b", "nrv2e", "lzma")] for a in ARCHES]))
    return table


def print_speed(rows):
    """Time of the estimate against upx --best and zlib 9 over the files UPX packed (and
    the --lzma figures, which have no target); True when the targets are met."""
    ok = True
    packed = [r for r in rows if r["best"]["upx"]]
    if packed:
        # one figure over the same files: total time of each, so the big files count
        upx_t = sum(r["best"]["upx_seconds"] for r in packed)
        est_t = sum(r["best"]["estimate_seconds"] for r in packed)
        zl_t = sum(r["zlib9_seconds"] for r in packed)
        per_file = statistics.median(r["best"]["upx_seconds"] / max(r["best"]["estimate_seconds"],
                                                                     1e-9) for r in packed)
        sp, zl = upx_t / max(est_t, 1e-9), zl_t / max(est_t, 1e-9)
        hit = sp >= 50 and zl >= 1
        ok &= hit
        print(f"\nspeed over the {len(packed)} files UPX packed: upx --best {upx_t:.1f} s, "
              f"zlib level 9 {zl_t:.2f} s, estimate (in-process) {est_t:.2f} s: {sp:.0f}x "
              f"faster than upx --best, {zl:.2f}x the speed of zlib 9 (targets >= 50x, >= 1x): "
              f"{'PASS' if hit else 'FAIL'}")
        print(f"  median of per-file ratios: {per_file:.0f}x (small files: UPX's process start "
              f"dominates)")
    lz = [r for r in rows if r["lzma"]["upx"]]
    if lz:  # no target: the --lzma estimate searches wider, as LZMA does
        upx_t = sum(r["lzma"]["upx_seconds"] for r in lz)
        est_t = sum(r["lzma"]["estimate_seconds"] for r in lz)
        zl_t = sum(r["zlib9_seconds"] for r in lz)
        print(f"  --lzma over the {len(lz)} files UPX packed: upx --best --lzma {upx_t:.1f} s, "
              f"estimate {est_t:.2f} s: {upx_t / max(est_t, 1e-9):.1f}x faster, "
              f"{zl_t / max(est_t, 1e-9):.2f}x the speed of zlib 9")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", help=f"the files' folder (default {DEFAULT_CACHE})")
    ap.add_argument("--fresh", action="store_true",
                    help=f"measure the fresh set instead ({FRESH_CACHE}, from estimate_corpus.py "
                         f"--fresh)")
    ap.add_argument("--upx", default=shutil.which("upx") or "/usr/local/bin/upx")
    ap.add_argument("--json", help="write per-file results here")
    ap.add_argument("--runs", type=int, default=3, help="timing runs of estimate and zlib")
    ap.add_argument("--set", choices=["held-out", "calibration", "fresh", "all"], default="all")
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--rows", help="summarize and fit the per-file results of an earlier run "
                                   "(its --json) instead of running UPX again")
    ap.add_argument("--upx-from", metavar="JSON",
                    help="reuse UPX's sizes, times and blocks from an earlier run's --json for the "
                         "files whose bytes are the same (for trying a model change quickly; the "
                         "speed ratio then uses that run's UPX times)")
    ap.add_argument("--max-bytes", type=int, default=6_000_000,
                    help="skip bigger files (default 6 MB: the 10-40 MB unstripped Rust dev and "
                         "release builds take UPX a minute each; 0 keeps everything)")
    args = ap.parse_args(argv)

    if args.rows:
        with open(args.rows) as f:
            rows = json.load(f)
        for which in sets_of(rows):
            print_table(rows, which)
            print_page_edges(rows, which)
            print_table(rows, which, either=True)
        print_speed(rows)
        if args.fit:
            fit(rows)
        return 0
    cache = args.cache or (FRESH_CACHE if args.fresh else DEFAULT_CACHE)
    manifest = os.path.join(cache, "manifest.json")
    if not os.path.exists(manifest):
        print(f"{manifest}: no corpus; run benchmarks/estimate_corpus.py"
              + (" --fresh" if args.fresh else "") + " first", file=sys.stderr)
        return 2
    with open(manifest) as f:
        entries = json.load(f)
    if args.set != "all":
        entries = [e for e in entries if (e.get("set") or split(e["name"])) == args.set]
    if args.max_bytes:
        skipped = [e["name"] for e in entries if e["bytes"] > args.max_bytes]
        entries = [e for e in entries if e["bytes"] <= args.max_bytes]
        if skipped:
            print(f"skipped {len(skipped)} files over {args.max_bytes:,} bytes (--max-bytes 0 "
                  f"keeps them)")
    prior = {}
    if args.upx_from:
        with open(args.upx_from) as f:
            prior = {r["sha256"]: r for r in json.load(f)}
        print(f"UPX results reused from {args.upx_from} where the file is unchanged")
    print(f"backend: {native.BACKEND}   upx: {args.upx}   files: {len(entries)}")
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
        ok &= hit or which == "calibration"
    ok &= print_speed(rows)
    if args.fit:
        fit(rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
