"""`sizekit bloat --text-only` against cargo-bloat, the seed's tool, on the file cargo-bloat measured.

cargo-bloat builds the tiny fixture its own way (`cargo bloat --release --crates`), and sizekit reads
that very file. On .text alone the two must agree, once their names for the same bytes are made one
(benchmarks/bench_bloat.py's cargo_bloat_view: [C/C++] is cargo-bloat's [Unknown], std's own
dependencies such as memchr are std for cargo-bloat, its __rustc is std for sizekit).
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, copy_tiny, require_tool

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import bench_bloat  # noqa: E402

# cargo builds the fixture: deselect with -m "not slow".
pytestmark = pytest.mark.slow


def test_text_only_agrees_with_cargo_bloat(tmp_path):
    require_tool("cargo")
    require_tool("cargo-bloat")
    crate = str(copy_tiny(tmp_path / "tiny"))
    theirs, text_total, path, _ = bench_bloat.cargo_bloat_crates(crate)
    r = subprocess.run([sys.executable, "-m", "sizekit", "bloat", "--text-only", "--json", path],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    att = json.loads(r.stdout)
    assert list(att["sections"]) == [".text"] and att["total"] == text_total
    ours, theirs, notes = bench_bloat.cargo_bloat_view(att["crates"], theirs, bench_bloat.std_rlibs(crate))
    assert ours["tiny"] == theirs["tiny"] > 0
    assert set(ours) == set(theirs), (ours, theirs)
    for name, nbytes in theirs.items():
        assert abs(ours[name] - nbytes) <= 0.02 * nbytes, (name, ours[name], nbytes)
    # The default view counts more than .text: what cargo-bloat leaves out (.rodata, .data).
    full = json.loads(subprocess.run([sys.executable, "-m", "sizekit", "bloat", "--json", path], capture_output=True,
                                     text=True, cwd=ROOT).stdout)
    assert full["total"] > att["total"] and ".rodata" in full["sections"]
