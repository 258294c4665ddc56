"""Stage records: what each build or post step produced (sizekit.plan.records.StageRecord).

Downstream work depends on these records, not on the binaries. A record holds the
artifact's content hash and no timestamps, and is rewritten only when it changes,
so a relink to identical bytes leaves everything downstream up to date.
"""
from ..plan.records import StageRecord


def write_ok(layout, key, step, path, log=None):
    # pyelftools and the native module load only when something is measured.
    from ..elf.sections import file_facts
    return StageRecord(status="ok", step=step, path=layout.rel(path), log=layout.rel(log),
                       **file_facts(path)).write(layout.stage_record(key))


def write_problem(layout, key, step, status, reason, log=None, tail=None):
    return StageRecord(status=status, step=step, reason=reason, log=layout.rel(log),
                       tail=tail).write(layout.stage_record(key))


def read(layout, key):
    """The stage's record, or None when it is missing or not a record this sizekit wrote (so the
    step runs again and rewrites it)."""
    return StageRecord.read_or_none(layout.stage_record(key))
