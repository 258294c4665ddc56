"""sizekit's own state under out/ heals: a corrupt doit state file, lost stage records and a
broken results.json are rebuilt by the next run, which ends with a valid table."""
import glob
import json
import os

import pytest

from conftest import doit, ran, tiny_project

pytestmark = pytest.mark.slow

MATRIX = """
    version: 1
    crates:
      tiny: {path: tiny, artifact: bin:tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
    variants:
      - {name: release}
      - {name: release-stripped, from: release, post: [strip]}
      - {name: lto, from: release, cargo: {lto: fat}}
"""


@pytest.fixture
def built(tmp_path):
    tiny_project(tmp_path, MATRIX)
    doit(tmp_path)
    first = json.load(open(tmp_path / "out" / "results.json"))
    return tmp_path, {(c["variant"]): c["final_bytes"] for c in first["cells"]}


def sizes(folder):
    data = json.load(open(folder / "out" / "results.json"))
    assert all(c["status"] == "ok" for c in data["cells"])
    return {c["variant"]: c["final_bytes"] for c in data["cells"]}


def test_garbage_doit_state_is_set_aside_and_the_run_completes(built):
    folder, before = built
    (folder / "out" / ".sizekit" / "doit-db").write_bytes(b"\x00not a database at all" * 100)
    proc = doit(folder)
    assert "was unreadable" in proc.stderr and "starting afresh" in proc.stderr
    assert (folder / "out" / ".sizekit" / "doit-db.corrupt").exists()
    assert sizes(folder) == before
    assert ran(doit(folder)) == []  # and the healed state is a normal one


def test_half_the_stage_records_deleted_are_rebuilt(built):
    folder, before = built
    records = sorted(glob.glob(str(folder / "out" / ".sizekit" / "stages" / "*.json")))
    for path in records[::2]:
        os.unlink(path)
    proc = doit(folder)
    assert any(name.startswith(("build:", "post:")) for name in ran(proc))
    assert "is missing or unreadable; running it again" in proc.stderr
    assert sizes(folder) == before
    assert all(os.path.exists(p) for p in records)


def test_broken_results_json_is_rewritten(built):
    folder, before = built
    (folder / "out" / "results.json").write_text("{")
    proc = doit(folder)
    assert ran(proc) == ["report"]
    assert "sizekit: out/results.json is missing or not a results file; writing it again" in proc.stderr
    assert sizes(folder) == before
