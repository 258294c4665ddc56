"""The records nodes leave in the state folder (sizekit.plan.records): one class writes and reads
each, with its kind and version; anything else is one RecordError line naming the file, the field
and the fix, and an up-to-date check reads it as missing (the node runs again)."""
import json

import pytest

from sizekit.plan.records import (BuildMeta, CellRecord, RecordError, ReferenceRecord, SmokeRecord,
                                  StageRecord)
from sizekit.utils.errors import UsageError

SAMPLES = [
    StageRecord(status="ok", step="build", path="out/build/a/app", log="out/logs/b.log", bytes=10, hash="ab",
                sections={".text": 4}, vm_bytes=8, nonalloc_bytes=2),
    StageRecord(status="failed", step="strip", reason="strip failed", tail="error"),
    BuildMeta(key="k", name="app/x86/release", toolchain=None, variants=["release"], seconds=1.5,
              command=["cargo", "build"], deps={"src/main.rs": [1, 2]}),
    CellRecord(crate="app", target="x86", variant="release", label=None, status="ok", reason=None, log=None,
               tail=None, stages=[{"step": "build"}], final_bytes=10, upx_estimate_bytes=None, crates={"std": 5}),
    SmokeRecord(ok=None, detail="not run: the cell has no artifact"),
    ReferenceRecord(name="c", status="unavailable", reason="no cc"),
]


@pytest.mark.parametrize("record", SAMPLES, ids=lambda r: f"{r.KIND}")
def test_round_trip(tmp_path, record):
    path = tmp_path / "r.json"
    record.write(str(path))
    data = json.loads(path.read_text())
    assert data["record"] == record.KIND and data["version"] == record.VERSION
    assert type(record).read(str(path)) == record


def test_missing_is_none_and_a_stage_record_says_ok(tmp_path):
    assert StageRecord.read(str(tmp_path / "none.json")) is None
    assert SAMPLES[0].ok and not SAMPLES[1].ok


@pytest.mark.parametrize("data,message", [
    ({"status": "ok"}, "not a stage record of version 1 (another kind of file)"),
    ({"record": "stage", "version": 0, "status": "ok", "step": "build"}, "not a stage record of version 1 (version 0)"),
    ({"record": "smoke", "version": 1, "ok": True, "detail": "x"}, "(another kind of file)"),
    ({"record": "stage", "version": 1, "step": "build"}, "stage record lacks status"),
    ({"record": "stage", "version": 1, "status": "ok", "step": "build", "bytes": "10", "path": "a"},
     "stage record's bytes is a string, not a whole number or null"),
    ({"record": "stage", "version": 1, "status": "ok", "step": "build", "bytes": True, "path": "a"},
     "stage record's bytes is true or false, not a whole number or null"),
    ({"record": "stage", "version": 1, "status": "done", "step": "build"}, "status is 'done', not one of ok, failed"),
    ({"record": "stage", "version": 1, "status": "ok", "step": "build"}, "is ok but names no artifact"),
    ({"record": "stage", "version": 1, "status": "failed", "step": "build", "extra": 1}, "unknown field extra"),
    ([1, 2], "another kind of file"),
])
def test_a_wrong_record_is_one_line(tmp_path, data, message):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError) as err:
        StageRecord.read(str(path))
    text = str(err.value)
    assert isinstance(err.value, UsageError) and "\n" not in text
    assert text.startswith(f"{path}: ") and message in text and "run the build again" in text
    assert StageRecord.read_or_none(str(path)) is None       # an up-to-date check: run the node again
