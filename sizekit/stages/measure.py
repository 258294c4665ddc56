"""The measure stage: one cell's sizes, sections, crates and UPX estimate, from its stage records."""
from ..plan.records import CellRecord, StageRecord
from ..utils.errors import SizekitError
from . import records


def _stage_view(record):
    view = {"step": record.step, "path": record.path, "bytes": record.bytes}
    if record.sections is not None:
        view["sections"] = record.sections
        view["vm_bytes"] = record.vm_bytes
    return view


def run_measure(plan, cell):
    """Measure the cell and write its record. Returns the record."""
    return CellRecord(**measure_cell(plan, cell)).write(plan.layout.cell_record(cell))


def measure_cell(plan, cell):
    # The native module and pyelftools load only when a cell is measured.
    from ..elf import engine
    from ..elf.bloat import crates_summary
    layout = plan.layout
    stage_records = [records.read(layout, s.key) for s in [cell.build, *cell.steps]]
    out = {"crate": cell.crate.name, "target": cell.target, "variant": cell.variant.name,
           "label": cell.variant.label, "status": "ok", "reason": None, "log": None, "tail": None,
           "stages": [], "final_bytes": None, "upx_estimate_bytes": None}
    for record in stage_records:
        if record is None:
            record = StageRecord(status="failed", step="?", reason="stage record missing; run doit again")
        if not record.ok:
            out.update(status=record.status, reason=record.reason, log=record.log, tail=record.tail)
            return out
        out["stages"].append(_stage_view(record))
    out["final_bytes"] = out["stages"][-1]["bytes"]
    # Attribution reads the unstripped build artifact, even for stripped rows.
    try:
        out["crates"] = crates_summary(layout.absolute(stage_records[0].path))
    except SizekitError as exc:
        out["crates"] = None
        out["crates_error"] = str(exc)
    # The estimate answers "what would UPX give for this row", so it reads the
    # last stage before any real UPX step.
    unpacked = [r for r in stage_records if r.step != "upx"][-1]
    upx = next((s for s in cell.variant.post if s.kind == "upx"), None)
    level = upx.estimate_level if upx else "best"
    try:
        est, why, other = engine.estimate_outcome(layout.absolute(unpacked.path), level)
        out["upx_estimate_bytes"] = est
        out["upx_estimate_level"] = level
        if other:
            # near a page edge: UPX may give this size instead (see engine.estimate_outcome)
            out["upx_estimate_other_bytes"] = other
        if why:
            out["upx_refusal"] = why  # no number: UPX would not pack this file
    except Exception as exc:  # an estimate must never sink a measured cell
        out["upx_estimate_error"] = str(exc)
    return out
