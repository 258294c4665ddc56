"""Every benchmark loads against today's package layout and has a main (its figures are quoted)."""
import glob
import importlib.util
import os

import pytest

from conftest import ROOT

BENCHES = sorted(glob.glob(os.path.join(ROOT, "benchmarks", "*.py")))


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


def test_estimate_split_is_fixed_and_summaries_use_one_set():
    be = _bench("bench_estimate")
    names = [f"rust-skbin-{a}-{v}" for a in ("x86_64", "armv7", "aarch64") for v in ("dev", "release", "small")]
    sets = [be.split(n) for n in names]
    assert sets == [be.split(n) for n in names]  # a fixed rule, not a random draw
    assert set(sets) == {"calibration", "held-out"}

    def row(name, kind, upx, est):
        lv = {"upx": upx, "estimate": est, "refusal": None if upx else "too small"}
        return {"name": name, "set": be.split(name), "kind": kind, "arch": "x86_64", "stripped": True,
                "best": lv, "lzma": lv}
    held = [n for n in names if be.split(n) == "held-out"]
    cal = [n for n in names if be.split(n) == "calibration"]
    rows = [row(held[0], "exec", 1000, 1010), row(held[1], "exec", 1000, 1100),
            row(held[2], "shlib", None, 900), row(cal[0], "exec", 1000, 2000)]
    s = be.summarize(rows, "best", "held-out")
    n, med, worst, right, total = s["exec"]
    assert (n, round(med, 3), round(worst, 3)) == (2, 0.055, 0.1)  # the calibration row is left out
    assert s["shlib"][0] == 0 and s["shlib"][3:] == (1, 1)  # a refusal predicted is counted right
