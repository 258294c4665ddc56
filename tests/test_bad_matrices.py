"""Every malformed matrix in tests/bad_matrices/ gets its exact one-line message and exit status 2.

expected.tsv holds "file<TAB>message"; {tests} stands for the absolute tests folder.
Nothing may be built or written: no out/ folder appears.
"""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

HERE = os.path.join(ROOT, "tests", "bad_matrices")


def expectations():
    with open(os.path.join(HERE, "expected.tsv")) as f:
        for line in f:
            name, message = line.rstrip("\n").split("\t")
            yield name, message.replace("{tests}", os.path.join(ROOT, "tests"))


CASES = list(expectations())


def test_corpus_is_complete():
    files = sorted(f for f in os.listdir(HERE) if f.endswith(".yaml"))
    assert files == sorted(name for name, _ in CASES)
    assert len(files) >= 25


@pytest.mark.parametrize("name,message", CASES, ids=[c[0] for c in CASES])
def test_bad_matrix_is_rejected_with_its_message(name, message):
    proc = subprocess.run([sys.executable, "-m", "sizekit", "run", name], cwd=HERE,
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (2, message + "\n")
    assert not os.path.exists(os.path.join(HERE, "out"))
    assert not os.path.exists(os.path.join(ROOT, "tests", "fixtures", "out"))


def test_through_doit_too():
    name, message = CASES[16]
    proc = subprocess.run([sys.executable, "-m", "doit", "-f", os.path.join(ROOT, "dodo.py"),
                           f"matrix={os.path.join(HERE, name)}"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr == f"tests/bad_matrices/{message}\n"
