import os
import shutil
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "tests", "fixtures", "tiny")


def write(path, text):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def copy_tiny(dest):
    """A private copy of the tiny fixture crate at dest (tests may edit it), without build output."""
    shutil.copytree(TINY, dest, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    return dest


DODO = "from sizekit.tasks import matrix_tasks\nglobals().update(matrix_tasks('matrix.yaml'))\n"


def tiny_project(folder, matrix_text, crate_dirs=("tiny",)):
    """A user's project in folder: copies of the tiny crate, the two-line dodo.py, a matrix."""
    if shutil.which("cargo") is None:
        pytest.skip("cargo is not installed")
    for name in crate_dirs:
        copy_tiny(os.path.join(str(folder), name))
    write(os.path.join(str(folder), "dodo.py"), DODO)
    write(os.path.join(str(folder), "matrix.yaml"), matrix_text)
    return folder


def require_tool(name):
    if shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (scripts/install installs it)")
