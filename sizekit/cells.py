"""One cell's measurements, assembled from its stage records."""
from . import native, stages
from .errors import SizekitError


def _stage_view(record):
    view = {"step": record["step"], "path": record["path"], "bytes": record["bytes"]}
    if "sections" in record:
        view["sections"] = record["sections"]
        view["vm_bytes"] = record["vm_bytes"]
    return view


def measure_cell(plan, cell):
    matrix = plan.matrix
    records = [stages.read(matrix, s.key) for s in [cell.build, *cell.steps]]
    out = {"crate": cell.crate.name, "target": cell.target, "variant": cell.variant.name,
           "label": cell.variant.label, "status": "ok", "reason": None, "log": None, "tail": None,
           "stages": [], "final_bytes": None, "upx_estimate_bytes": None}
    for record in records:
        if record is None:
            record = {"status": "failed", "reason": "stage record missing; run doit again", "step": "?"}
        if record["status"] != "ok":
            out.update(status=record["status"], reason=record["reason"],
                       log=record.get("log"), tail=record.get("tail"))
            return out
        out["stages"].append(_stage_view(record))
    out["final_bytes"] = out["stages"][-1]["bytes"]
    # Attribution reads the unstripped build artifact, even for stripped rows.
    from .bloat import crates_summary
    try:
        out["crates"] = crates_summary(stages.absolute(matrix, records[0]["path"]))
    except SizekitError as exc:
        out["crates"] = None
        out["crates_error"] = str(exc)
    # The estimate answers "what would UPX give for this row", so it reads the
    # last stage before any real UPX step.
    unpacked = [r for r in records if r["step"] != "upx"][-1]
    upx = next((s["upx"] for s in cell.variant.post if "upx" in s), {})
    level = "lzma" if upx.get("lzma") else "best"
    try:
        out["upx_estimate_bytes"] = native.estimate_file(stages.absolute(matrix, unpacked["path"]), level)
        out["upx_estimate_level"] = level
    except Exception as exc:  # an estimate must never sink a measured cell
        out["upx_estimate_error"] = str(exc)
    return out
