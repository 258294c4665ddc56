"""Fits every fitted constant of sizekit's UPX size estimate, from the fit part's files only.

    python benchmarks/bench_estimate.py --set fit --json FIT.json   # UPX over the fit files
    python benchmarks/estimate_fit.py --rows FIT.json [--write]     # then scripts/gen_tables

The fitted constants, all from real `upx` runs over the files benchmarks/estimate_split.py
puts in the fit part (fit_files(); the validation half and the sealed test set are never
read, and a row of a sealed file stops the fit):
- EST_A (the model-to-UPX ratio curves per arch, method and content) and EST_FADE_NRV /
  EST_FADE_LZMA (chosen from FADE_SCAN_*), from UPX's own blocks (benchmarks/upx_blocks.py);
- EST_LSIZE, UPX's loader size: the median l_lsize of the packed files' l_info per arch, kind
  and method;
- EST_STUB: for programs the median of packed size minus UPX's blocks (each with its 12-byte
  b_info); for shared libraries the loader plus FIT_SHLIB_EXTRA (their stub cannot be read off
  one file: the loader's size shifts the copied segments' padding);
- EST_BAND: the FIT_BAND_QUANTILE quantile of the block errors of the fitted curves.
A class the fit part has no file of follows the rules in tables.json's EST_LSIZE and EST_STUB
notes, printed as it is used. The design constants (FIT_MIN_STREAM, SCAN_MIN_STREAM, the
FADE_SCAN_* grids, FIT_BAND_QUANTILE, FIT_SHLIB_EXTRA, the LZ model's parameters) are chosen,
not fitted; tables.json says so. `--write` puts the fitted values into csrc/tables.json and
runs scripts/gen_tables; rebuild the C module after it (pip install -e . or scripts/install).
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
from sizekit.elf.pyport import tables  # noqa: E402
from sizekit.elf.pyport.upx import est_scale  # noqa: E402
from estimate_split import fit_files, load_sealed  # noqa: E402

TABLES_JSON = os.path.join(ROOT, "csrc", "tables.json")
LEVELS = ("best", "lzma")
CONTENT = ("code", "data", "gap", "thumb")
ARCHES = ("x86_64", "armv7", "aarch64")
METHODS = ("nrv2b", "nrv2e", "lzma")
KINDS = ("exec", "shlib")
# the blocks the lines are fitted on, those the fade is chosen on, and the fades tried (tables.json)
FIT_MIN_STREAM, SCAN_MIN_STREAM = tables.FIT_MIN_STREAM, tables.SCAN_MIN_STREAM
FADE_SCAN = {"nrv": tables.FADE_SCAN_NRV, "lzma": tables.FADE_SCAN_LZMA}


def method_of(row, lv):
    if lv == "lzma":
        return "lzma"
    return "nrv2b" if row["bytes"] <= tables.EST_SMALL_FILE else "nrv2e"


def fit_rows(rows, split_doc=None, sealed=None):
    """The rows the fit uses: fit_files() of them. A sealed file among the rows stops the fit
    (SystemExit naming it), whatever part it is given."""
    sealed = load_sealed() if sealed is None else set(sealed)
    bad = [r["name"] for r in rows if r["sha256"] in sealed]
    if bad:
        raise SystemExit(f"estimate_fit: refusing the sealed test files {', '.join(sorted(bad))}: "
                         f"the fit reads the fit part only (benchmarks/estimate_split.py)")
    return fit_files(rows, split_doc, sealed)


def fit_points(rows, min_stream):
    """{(arch, method, content): [(r, upx / stream, stream, size)]} over the rows' blocks of
    min_stream+ model bytes (headers and stored blocks left out). Content is the class the
    estimate priced the piece with (engine.estimate_pieces): code (what UPX tries its branch
    filter on), thumb (armv7 Thumb-2 code), gap (bytes outside PT_LOADs) or data."""
    points = {}
    for r in rows:
        for lv in LEVELS:
            for p in r[lv]["pieces"]:
                if p.get("upx_cpr") is None or p["stream"] < min_stream or p["kind"] == "headers" \
                        or p["packed"] >= p["size"]:
                    continue
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


def block_errors(points, table, fades, family=None):
    """[(|model - UPX| bytes, UPX bytes)] over the blocks of groups with a curve (of one
    family, "nrv" or "lzma", or both), the way est_scale computes."""
    out = []
    for k, v in points.items():
        fam = "lzma" if k[1] == "lzma" else "nrv"
        if (family and fam != family) or k not in table:
            continue
        for _, y, s, size in v:
            out.append((abs(est_scale(table[k][:5], s, size, fades[fam]) - y * s), y * s))
    return out


def fill_missing(table):
    """A group with no blocks takes a neighbour's curve (tables.json's EST_A note)."""
    for arch in ARCHES:
        for m in METHODS:
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
                if alt is None:
                    raise SystemExit(f"estimate_fit: no blocks for {arch} {m} {c} nor a neighbour")
                table[(arch, m, c)] = alt[:5] + (0,)
    return table


def fit_curves(rows):
    """(EST_A table {(arch, method, content): (a, b, c, lo, hi, n)}, fades, points)."""
    points, scan_points = fit_points(rows, FIT_MIN_STREAM), fit_points(rows, SCAN_MIN_STREAM)
    fades = {"nrv": tables.EST_FADE_NRV, "lzma": tables.EST_FADE_LZMA}
    print(f"fade scan (summed error over blocks of {SCAN_MIN_STREAM}+ model bytes, curves fitted "
          f"on those of {FIT_MIN_STREAM}+):")
    for family, scan in FADE_SCAN.items():
        errors = {}
        for f in scan:
            trial = dict(fades, **{family: f})
            errors[f] = sum(e for e, _ in block_errors(scan_points, fit_lines(points, trial), trial,
                                                       family))
        fades[family] = min(errors, key=errors.get)
        print(f"  {family:<4} " + "  ".join(f"F={f}: {e:,.0f}" for f, e in errors.items())
              + f"  -> {fades[family]}")
    table = fill_missing(fit_lines(points, fades))
    print(f"\nEST_A (blocks of {FIT_MIN_STREAM}+ model bytes, EST_FADE_NRV {fades['nrv']}, "
          f"EST_FADE_LZMA {fades['lzma']}): a, b, c per mille [r range] (blocks)")
    for arch in ARCHES:
        for m in METHODS:
            cells = ["{:>5} {:>+5} {:>+6} [{:>3}-{:>4}] ({:>3})".format(*table[(arch, m, c)])
                     for c in CONTENT]
            print(f"  {arch:<8} {m:<6} " + " ".join(cells))
    return table, fades, points


def fit_band(points, table, fades):
    """EST_BAND per mille: the FIT_BAND_QUANTILE quantile of the blocks' relative errors."""
    errs = sorted(e / u for e, u in block_errors(points, table, fades) if u > 0)
    q = errs[min(len(errs) - 1, tables.FIT_BAND_QUANTILE * len(errs) // 1000)]
    band = math.ceil(1000 * q)
    print(f"\nEST_BAND: {tables.FIT_BAND_QUANTILE / 10:g}% of the {len(errs)} blocks of {FIT_MIN_STREAM}+ "
          f"model bytes within {100 * q:.2f}% -> {band} per mille")
    return band


def fit_loader(rows):
    """(EST_LSIZE, EST_STUB) as [arch][kind][method] lists, from the packed files."""
    lsize, stub = {}, {}
    for r in rows:
        for lv in LEVELS:
            x = r[lv]
            if not x["upx"] or x.get("upx_lsize") is None:
                continue
            k = (r["arch"], r["kind"], method_of(r, lv))
            lsize.setdefault(k, []).append(x["upx_lsize"])
            if r["kind"] == "exec" and x.get("upx_stub") is not None:
                stub.setdefault(k, []).append(x["upx_stub"])
    out_l, out_s = {}, {}
    print("\nEST_LSIZE and EST_STUB (median over the fit part's packed files; n):")
    for arch in ARCHES:
        for kind in KINDS:
            for m in METHODS:
                k = (arch, kind, m)
                if k in lsize:
                    out_l[k] = round(statistics.median(lsize[k]))
    for arch in ARCHES:
        for kind in KINDS:
            for m, other, step in (("nrv2e", "nrv2b", 40), ("nrv2b", "nrv2e", -40)):
                if (arch, kind, m) not in out_l and (arch, kind, other) in out_l:
                    out_l[(arch, kind, m)] = out_l[(arch, kind, other)] + step
                    print(f"  {arch} {kind} {m}: no file; loader taken as {other} {step:+d}")
            if (arch, kind, "lzma") not in out_l:
                raise SystemExit(f"estimate_fit: no {arch} {kind} file packed with LZMA in the fit part")
    for arch in ARCHES:
        extra = [statistics.median(stub[k]) - out_l[k] for k in stub if k[0] == arch]
        for m in METHODS:
            k = (arch, "exec", m)
            if k in stub:
                out_s[k] = round(statistics.median(stub[k]))
            elif extra:
                out_s[k] = out_l[k] + round(statistics.median(extra))
                print(f"  {arch} exec {m}: no file; stub taken as its loader + the other "
                      f"methods' median extra {round(statistics.median(extra))}")
            else:
                raise SystemExit(f"estimate_fit: no {arch} program in the fit part")
            out_s[(arch, "shlib", m)] = out_l[(arch, "shlib", m)] + tables.FIT_SHLIB_EXTRA
        for kind in KINDS:
            print(f"  {arch:<8} {kind:<5} " + "  ".join(
                f"{m} {out_l[(arch, kind, m)]:>5} / {out_s[(arch, kind, m)]:>5} "
                f"({len(lsize.get((arch, kind, m), []))})" for m in METHODS))
    as_list = lambda d: [[[d[(a, k, m)] for m in METHODS] for k in KINDS] for a in ARCHES]  # noqa: E731
    return as_list(out_l), as_list(out_s)


def fit(rows):
    """{name: value} of every fitted constant, in tables.json's form."""
    table, fades, points = fit_curves(rows)
    band = fit_band(points, table, fades)
    lsize, stub = fit_loader(rows)
    est_a = [[[list(table[(a, m, c)][:5]) for c in CONTENT] for m in METHODS] for a in ARCHES]
    return {"EST_A": est_a, "EST_FADE_NRV": fades["nrv"], "EST_FADE_LZMA": fades["lzma"],
            "EST_BAND": band, "EST_LSIZE": lsize, "EST_STUB": stub}


FITTED = ("EST_A", "EST_FADE_NRV", "EST_FADE_LZMA", "EST_BAND", "EST_LSIZE", "EST_STUB")


def write(values):
    """Puts the fitted values into csrc/tables.json in place (the rest of the text, docs
    included, is left as it is), then runs scripts/gen_tables."""
    with open(TABLES_JSON, encoding="utf-8") as f:
        text = f.read()
    for name, value in values.items():
        at = text.index(f'"name": "{name}"')
        v = text.index('"value": ', at) + len('"value": ')
        _, end = json.JSONDecoder().raw_decode(text, v)
        indent = " " * (v - text.rindex("\n", 0, v) - 1 - len('"value": '))
        text = text[:v] + _dump(value, indent) + text[end:]
    json.loads(text)
    tmp = TABLES_JSON + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, TABLES_JSON)
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_tables")], check=True)


def _dump(value, indent):
    """A value in tables.json's layout: lists of numbers on one line, others one element a
    line, indented under the "value" key."""
    text = json.dumps(value, indent=2)
    text = re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    return text.replace("\n", "\n" + indent)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", required=True,
                    help="bench_estimate.py --json output holding the fit part's files")
    ap.add_argument("--write", action="store_true",
                    help="write the values into csrc/tables.json and run scripts/gen_tables")
    args = ap.parse_args(argv)
    with open(args.rows) as f:
        rows = json.load(f)
    mine = fit_rows(rows)
    if not mine:
        raise SystemExit("estimate_fit: none of these rows is in the fit part")
    print(f"fitting on {len(mine)} files of the fit part ({len(rows) - len(mine)} other rows left out)\n")
    values = fit(mine)
    for name in FITTED:
        print(f"{name} = {json.dumps(values[name])}")
    if args.write:
        write(values)
    return 0


if __name__ == "__main__":
    sys.exit(main())
