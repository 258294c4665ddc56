"""sizekit.api: every public name resolves, docs/API.md lists exactly them, importing it is cheap,
and code outside the package (benchmarks, scripts, examples, make/) uses nothing else."""
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from sizekit import api

OUTSIDE = ["benchmarks", "scripts", "examples", "make"]
# The estimate's own fitting tools read the model's internals (docs/API.md says why).
MODEL_TOOLS = {"bench_estimate.py", "estimate_corpus.py", "estimate_fit.py", "estimate_split.py", "upx_blocks.py"}


@pytest.mark.parametrize("name", api.__all__)
def test_every_public_name_resolves(name):
    assert getattr(api, name) is not None


def test_docs_list_exactly_the_public_names():
    with open(os.path.join(ROOT, "docs", "API.md"), encoding="utf-8") as f:
        text = f.read()
    documented = set(re.findall(r"^\| (.+?) \|", text, re.M)) - {"name", "---"}
    names = {n for cell in documented for n in re.findall(r"`(\w+)", cell)}
    assert names == set(api.__all__)


def test_importing_the_api_loads_nothing_heavy():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import sizekit.api"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    loaded = set(re.findall(r"\|\s+(\S+)$", proc.stderr, re.M))
    assert not {m for m in loaded if m.split(".")[0] in ("doit", "SCons", "numpy", "zstandard", "elftools")}
    assert "sizekit.elf._native" not in loaded


def _deep_imports(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return re.findall(r"(?:from|import) (sizekit(?:\.\w+)+)", text)


@pytest.mark.parametrize("folder", OUTSIDE)
def test_code_outside_the_package_uses_the_public_api(folder):
    wrong = []
    for here, _, files in os.walk(os.path.join(ROOT, folder)):
        for name in files:
            if name in MODEL_TOOLS or name.endswith((".md", ".lock", ".toml", ".rs", ".c", ".h", ".json")):
                continue
            for module in _deep_imports(os.path.join(here, name)):
                if module not in ("sizekit.api", "sizekit.scons", "sizekit.tasks"):
                    wrong.append(f"{os.path.relpath(os.path.join(here, name), ROOT)}: {module}")
    assert not wrong
