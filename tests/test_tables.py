"""The numbers the C module and its Python port share live in csrc/tables.json alone.

scripts/gen_tables writes csrc/tables.h and sizekit/elf/pyport/tables.py from it; these
tests fail when either committed file differs from what the script writes now, when the C
header's values differ from the Python constants (the header is parsed here, not trusted),
when an enum of the C sources differs from the port's, and when a table is written by hand
anywhere else in either language.
"""
import ast
import glob
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from sizekit.elf import pyport
from sizekit.elf.pyport import codes, internal, tables, upx

CSRC = os.path.join(ROOT, "csrc")
PYPORT = os.path.dirname(pyport.__file__)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def entries():
    return [e for e in json.loads(read(os.path.join(CSRC, "tables.json")))["tables"] if "name" in e]


def c_values(text):
    """{name: int or nested tuple} of a C header's #defines and static const arrays."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    number = re.compile(r"\b(0x[0-9a-fA-F]+|\d+)(?:ULL|ull|UL|ul|U|u)?\b")

    def literal(s):
        return ast.literal_eval(number.sub(lambda m: str(int(m.group(1), 0)), s))

    out = {m.group(1): literal(m.group(2))
           for m in re.finditer(r"^#define (\w+) (.+)$", text, flags=re.M) if m.group(1) != "SK_TABLES_H"}
    for m in re.finditer(r"static const \w+ (\w+)((?:\[\d+\])+) = (\{.*?\});", text, flags=re.S):
        value = literal(m.group(3).replace("{", "(").replace("}", ")"))
        dims, v = [], value
        while isinstance(v, tuple):
            dims.append(len(v))
            v = v[0]
        assert "".join(f"[{n}]" for n in dims) == m.group(2), m.group(1)
        out[m.group(1)] = value
    return out


def test_generated_files_are_what_gen_tables_writes_now(tmp_path):
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_tables"), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    for made, committed in (("tables.h", os.path.join(CSRC, "tables.h")),
                            ("tables.py", os.path.join(PYPORT, "tables.py"))):
        assert read(tmp_path / made) == read(committed), \
            f"{os.path.relpath(committed, ROOT)} is stale: run scripts/gen_tables and commit it"


def test_c_header_and_python_port_hold_the_same_numbers():
    header = c_values(read(os.path.join(CSRC, "tables.h")))
    for e in entries():
        name = e["name"]
        assert hasattr(tables, name), name
        if e.get("only") == "python":
            assert name not in header, name
            continue
        assert name in header, f"{name} is missing from csrc/tables.h"
        assert header[name] == getattr(tables, name), name
    assert len(header) == sum(1 for e in entries() if e.get("only") != "python")


def test_the_c_enums_equal_the_python_ports():
    ports = {**vars(codes), **vars(internal), **vars(upx)}
    seen = 0
    for path in sorted(glob.glob(os.path.join(CSRC, "*.[ch]"))):
        name = os.path.basename(path)
        text = re.sub(r"/\*.*?\*/", "", read(path), flags=re.S)
        for body in re.findall(r"enum\s*\{(.*?)\}", text, flags=re.S):
            for const, value in re.findall(r"(\w+)\s*=\s*(-?\d+)", body):
                assert ports.get(const) == int(value), f"{name}: {const} = {value}, the port says {ports.get(const)}"
                seen += 1
    assert seen >= 45  # every code of sizekit_native.h, the arches and UPX's methods


@pytest.mark.parametrize("lang", ["c", "python"])
def test_no_table_is_written_by_hand_outside_the_generated_files(lang):
    names = [e["name"] for e in entries()]
    if lang == "c":
        files = [p for p in glob.glob(os.path.join(CSRC, "*.[ch]")) if not p.endswith("tables.h")]
        pattern = r"^\s*(?:#define\s+|static const \w+\s+)({})\b"
    else:
        files = [p for p in glob.glob(os.path.join(PYPORT, "*.py")) if not p.endswith("tables.py")]
        files += [os.path.join(ROOT, "benchmarks", n) for n in ("bench_estimate.py", "estimate_fit.py")]
        pattern = r"^\s*({})\s*="
    regex = re.compile(pattern.format("|".join(names)), flags=re.M)
    found = [f"{os.path.relpath(p, ROOT)}: {m.group(1)}" for p in files for m in regex.finditer(read(p))]
    assert not found, "defined again outside csrc/tables.json: " + ", ".join(found)
