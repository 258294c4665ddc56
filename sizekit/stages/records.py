"""Stage records: what each build or post step produced, as small deterministic JSON.

Downstream work depends on these records, not on the binaries. A record holds the
artifact's content hash and no timestamps, and is rewritten only when it changes,
so a relink to identical bytes leaves everything downstream up to date.
"""
from ..utils.fsutil import read_json, write_json_if_changed

# The cell record's format (stages/measure.py), part of every measurement's signature: raise it
# to re-measure every cell under every driver after the format changes.
CELL_RECORD_VERSION = 2


def write_ok(layout, key, step, path, log=None):
    # pyelftools and the native module load only when something is measured.
    from ..elf.sections import file_facts
    facts = file_facts(path)
    record = {"status": "ok", "reason": None, "step": step, "path": layout.rel(path),
              "log": layout.rel(log), **facts}
    write_json_if_changed(layout.stage_record(key), record)
    return record


def write_problem(layout, key, step, status, reason, log=None, tail=None):
    record = {"status": status, "reason": reason, "step": step, "path": None,
              "log": layout.rel(log), "tail": tail}
    write_json_if_changed(layout.stage_record(key), record)
    return record


def read(layout, key):
    """The stage's record, or None when it is missing or not a record sizekit wrote."""
    record = read_json(layout.stage_record(key))
    if not isinstance(record, dict) or record.get("status") not in ("ok", "failed", "unavailable"):
        return None
    if record["status"] == "ok" and not isinstance(record.get("path"), str):
        return None
    return record
