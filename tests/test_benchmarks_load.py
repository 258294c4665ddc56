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
