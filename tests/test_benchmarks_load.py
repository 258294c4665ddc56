"""Every benchmark loads against today's package layout and has a main (its figures are quoted)."""
import glob
import importlib.util
import os

import pytest

from conftest import ROOT

# benchjson.py is the benchmarks' shared writer of --json files, not a benchmark.
BENCHES = sorted(p for p in glob.glob(os.path.join(ROOT, "benchmarks", "*.py")) if not p.endswith("benchjson.py"))


@pytest.mark.parametrize("path", BENCHES, ids=[os.path.basename(p) for p in BENCHES])
def test_benchmark_imports(path):
    spec = importlib.util.spec_from_file_location(f"bench_{os.path.basename(path)[:-3]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None))


def _bench(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", os.path.join(ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_estimate_summaries_use_one_set():
    """The split itself is tested in test_estimate_split.py; here a summary reads one part."""
    be = _bench("bench_estimate")

    def row(name, part, kind, upx, est):
        lv = {"upx": upx, "estimate": est, "refusal": None if upx else "too small"}
        return {"name": name, "set": part, "kind": kind, "arch": "x86_64", "stripped": True,
                "best": lv, "lzma": lv}
    rows = [row("a", "sealed", "exec", 1000, 1010), row("b", "sealed", "exec", 1000, 1100),
            row("c", "sealed", "shlib", None, 900), row("d", "fit", "exec", 1000, 2000)]
    s = be.summarize(rows, "best", "sealed")
    n, med, worst, right, total = s["exec"]
    assert (n, round(med, 3), round(worst, 3)) == (2, 0.055, 0.1)  # the fit row is left out
    assert s["shlib"][0] == 0 and s["shlib"][3:] == (1, 1)  # a refusal predicted is counted right
    assert be.sets_of(rows) == ["fit", "sealed"]


def _blocks(curve, noise=()):
    """Calibration blocks (r, UPX / stream, stream, size) whose UPX bytes follow A = curve(r)
    as est_scale applies it (fade 5000), times 1 + the block's noise."""
    pts = []
    for i in range(12):
        r, s = 0.2 + 0.3 * i / 11, 20_000 + 7_000 * i
        g = s / (s + 5000)
        y = (1 - (1 - curve(r)) * g) * (1 + (noise[i] if noise else 0))
        pts.append((r, y, s, int(s / r)))
    return pts


NOISE = (0.004, -0.003, 0.002, -0.004, 0.003, 0.001, -0.002, 0.004, -0.001, -0.003, 0.002, -0.004)


def test_estimate_fit_picks_the_curve_by_leave_one_out():
    be = _bench("estimate_fit")
    fades = {"nrv": 300, "lzma": 5000}
    points = {("aarch64", "lzma", "code"): _blocks(lambda r: 0.70 + 0.9 * r - 1.0 * r * r),
              ("x86_64", "lzma", "code"): _blocks(lambda r: 0.84 + 0.19 * r, NOISE),
              ("armv7", "lzma", "code"): _blocks(lambda r: 0.93, NOISE)}
    table = be.fit_lines(points, fades)
    a, b, c, lo, hi, n = table[("aarch64", "lzma", "code")]
    assert (a, b, c, n) == (700, 900, -1000, 12)  # a parabola is recovered
    assert (lo, hi) == (200, 500)                   # with the range it was fitted on
    assert table[("x86_64", "lzma", "code")][2] == 0      # noisy line: no r^2 term
    assert table[("x86_64", "lzma", "code")][1] != 0
    assert table[("armv7", "lzma", "code")][1:3] == (0, 0)  # noise about a constant: a constant
    assert table[("armv7", "lzma", "code")][3:5] == (0, 1000)


def test_estimate_scale_holds_r_to_the_fitted_range():
    from sizekit.elf.pyport.upx import est_scale
    k = (700, 900, -1000, 200, 500)
    at = {r: est_scale(k, 10_000, int(10_000 / r), 5000) for r in (0.1, 0.2, 0.35, 0.5, 0.9)}
    assert at[0.1] == at[0.2] and at[0.9] == at[0.5]  # no extrapolation past the blocks
    assert len({at[0.2], at[0.35], at[0.5]}) == 3


def test_fresh_picks_are_none_of_the_corpus_picks():
    ec = _bench("estimate_corpus")
    cands = [(1000 + 37 * i, f"/f{i}") for i in range(50)]
    corpus = ec.spaced(cands, 12, fresh=False)
    fresh = ec.spaced(cands, 12, fresh=True)
    assert len(corpus) == len(fresh) == 12
    assert not set(corpus) & set(fresh)
    # fewer files than twice the picks: the fresh set takes what the corpus left
    few = ec.spaced(cands[:15], 12, fresh=True)
    assert few and not set(few) & set(ec.spaced(cands[:15], 12, fresh=False))
