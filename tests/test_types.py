"""The package type-checks: mypy, configured by mypy.ini (function bodies without hints checked
too), finds no error in sizekit/, and the package says it is typed (PEP 561's py.typed)."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def test_mypy_finds_no_error():
    # mypy is a test tool scripts/install puts in place: missing, this fails (it is no absent system tool)
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir",
                          os.path.join(ROOT, ".mypy_cache")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_the_package_ships_py_typed():
    assert os.path.isfile(os.path.join(ROOT, "sizekit", "py.typed"))
    setup = open(os.path.join(ROOT, "setup.py")).read()
    assert '"py.typed"' in setup


@pytest.mark.parametrize("module", ["sizekit.config.model", "sizekit.plan.cells"])
def test_the_plan_is_typed(module):
    """config -> plan: the dataclasses say what they hold (no bare object or a None typed as str)."""
    import dataclasses
    import importlib
    import typing
    mod = importlib.import_module(module)
    config = vars(importlib.import_module("sizekit.config.model"))   # plan names its types only when type-checking
    for cls in vars(mod).values():
        if dataclasses.is_dataclass(cls) and cls.__module__ == module:
            hints = typing.get_type_hints(cls, localns=config)
            for f in dataclasses.fields(cls):
                assert hints[f.name] is not object, f"{cls.__name__}.{f.name} is typed as object"
                if f.default is None:
                    assert type(None) in typing.get_args(hints[f.name]), f"{cls.__name__}.{f.name} = None not Optional"
