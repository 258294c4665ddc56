"""The layers of docs/ARCHITECTURE.md, checked on the code: which of sizekit's folders may import which.

Imports point down the picture: utils at the bottom; config, elf and plan are siblings on it
(none imports another); stages, results, report, drivers, explore and cli above, in that order. Only the
drivers (and the two files users load them by, sizekit/scons.py and sizekit/tasks.py) import
doit or SCons. An import inside a function counts like any other.
"""
import ast
import os

import pytest

from conftest import ROOT

PACKAGE = os.path.join(ROOT, "sizekit")
# folder -> the folders (and top-level modules) it may import besides itself
ALLOWED = {
    "utils": set(),
    "config": {"utils"},
    "elf": {"utils"},
    "plan": {"utils"},
    "stages": {"utils", "config", "elf", "plan"},
    "results": {"utils", "config", "elf", "plan", "(version)"},
    "report": {"utils", "config", "elf", "plan", "results"},
    "drivers": {"utils", "config", "elf", "plan", "stages", "results", "report", "scons"},
    "explore": {"utils", "config", "elf", "plan", "stages", "results", "report", "drivers"},
    "cli": {"utils", "config", "elf", "plan", "stages", "results", "report", "drivers", "explore"},
}
BUILD_TOOLS = ("doit", "SCons")
MAY_IMPORT_BUILD_TOOLS = ("drivers", "scons.py", "tasks.py")


def modules():
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def imports(path):
    """(line, the sizekit folder or top-level module imported, or the outside package) of a file."""
    rel = os.path.relpath(path, PACKAGE).split(os.sep)
    here = ["sizekit"] + rel[:-1]
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    # Imports under `if TYPE_CHECKING:` name types for annotations only; nothing loads them at run time.
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                   for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = here[:len(here) - node.level + 1] + (node.module.split(".") if node.module else [])
            else:
                target = (node.module or "").split(".")
            names = [target + [a.name] for a in node.names] if target == ["sizekit"] else [target]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".") for a in node.names]
        else:
            continue
        for name in names:
            if name[0] == "sizekit":
                if len(name) > 1:
                    yield node.lineno, "(version)" if name[1] == "__version__" else name[1]
            else:
                yield node.lineno, name[0]


@pytest.mark.parametrize("path", sorted(modules()), ids=lambda p: os.path.relpath(p, PACKAGE))
def test_imports_point_down_the_layers(path):
    rel = os.path.relpath(path, PACKAGE).split(os.sep)
    layer = rel[0] if len(rel) > 1 else None
    wrong = []
    for line, target in imports(path):
        if target in BUILD_TOOLS and rel[0] not in MAY_IMPORT_BUILD_TOOLS:
            wrong.append(f"line {line}: {target} (only drivers/ imports build tools)")
        if layer in ALLOWED and target != layer and (target in ALLOWED or target in ("(version)", "scons", "tasks")) \
                and target not in ALLOWED[layer]:
            wrong.append(f"line {line}: {layer}/ imports {target}")
    assert not wrong, f"{os.path.relpath(path, ROOT)}: " + "; ".join(wrong)


def test_every_folder_has_a_layer():
    folders = {d for d in os.listdir(PACKAGE) if os.path.isdir(os.path.join(PACKAGE, d)) and not d.startswith("_")}
    assert folders == set(ALLOWED)
