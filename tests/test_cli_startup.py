"""`sizekit --help` and `sizekit plan` load no build tool, native code or compression library:
commands load by name on use (sizekit/cli/main.py's COMMANDS)."""
import argparse
import importlib
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, TINY, write
from sizekit.cli.main import COMMANDS, build_parser

HEAVY = ("doit", "SCons", "zstandard", "numpy", "sizekit.elf._native", "_cffi_backend", "elftools")


def imported(*args, cwd=ROOT):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "sizekit", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {m.group(1) for m in re.finditer(r"\|\s+(\S+)$", proc.stderr, re.M)}


@pytest.mark.parametrize("args", [["--help"], ["plan", "MATRIX", "--json"], ["check", "--help"]])
def test_light_commands_load_nothing_heavy(tmp_path, args):
    write(tmp_path / "m.yaml", f"version: 1\ncrates:\n  tiny: {{path: {TINY}}}\nvariants:\n  - {{name: release}}\n")
    modules = imported(*[str(tmp_path / "m.yaml") if a == "MATRIX" else a for a in args])
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
    assert heavy == []


def test_every_command_of_the_table_registers_itself_and_nothing_else():
    for name, (module, register, help_text) in COMMANDS.items():
        sub = argparse.ArgumentParser().add_subparsers()
        getattr(importlib.import_module(f"sizekit.cli.{module}"), register)(sub)
        assert list(sub.choices) == [name], (name, list(sub.choices))
        assert help_text and len(help_text) < 80
    # The full parser (every module) knows every command of the table.
    full = build_parser()
    names = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert list(names) == list(COMMANDS)


def test_help_lists_every_command_from_the_table():
    proc = subprocess.run([sys.executable, "-m", "sizekit", "--help"], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, COLUMNS="200"))
    for name, (_, _, help_text) in COMMANDS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(help_text)}$", proc.stdout, re.M), name
