"""Assemble results.json from the records the stages left under the output folder."""
import hashlib
import os

from .. import __version__

from ..utils.fsutil import read_json
from ..utils.units import pct_change
from .format import VERSION


def collect(plan):
    matrix, layout = plan.matrix, plan.layout
    cells = []
    for cell in plan.cells:
        rec = read_json(layout.cell_record(cell)) or {
            "crate": cell.crate.name, "target": cell.target, "variant": cell.variant.name,
            "label": cell.variant.label, "status": "failed", "reason": "not measured; run doit again",
            "stages": [], "final_bytes": None}
        meta = read_json(layout.build_meta(cell.build.key)) or {}
        info = plan.toolchains[cell.build.toolchain]
        rec = dict(rec)
        rec["toolchain"] = {"name": cell.build.toolchain or "PATH", "rustc": info.rustc_version}
        rec["build"] = {"key": cell.build.key, "seconds": meta.get("seconds"),
                        "command": meta.get("command"), "shared_with": [
                            v for v in cell.build.variants if v != cell.variant.name]}
        if meta.get("cache"):
            rec["build"]["cache"] = meta["cache"]
        rec["smoke"] = read_json(layout.smoke_record(cell)) if cell.crate.smoke else None
        cells.append(rec)
    add_change_pct(cells, matrix.baseline)
    references = []
    for crate, target in plan.reference_targets():
        rec = read_json(layout.reference_record(crate, target))
        if rec:
            references.append({"crate": crate.name, "target": target, **rec})
    out = {"version": VERSION, "matrix": os.path.relpath(matrix.path, matrix.root),
           "matrix_digest": matrix_digest(matrix.path), "sizekit_version": __version__,
           "baseline": matrix.baseline, "variants": [v.name for v in matrix.variants],
           "tools": tools_in_use(), "cells": cells}
    if plan.shard:
        out["shard"] = {"index": plan.shard[0], "count": plan.shard[1], "matrix_cells": plan.all_cells}
    if references:
        out["references"] = references
    return out


def tools_in_use():
    """What measured these cells: the estimate's backend (C or its Python copy) and the demangler."""
    from ..elf import demangle, native   # loaded by the measure stage already
    return {"native_backend": native.BACKEND, "demangler": demangle.backend_name()}


def matrix_digest(path):
    """sha256 of the matrix file's bytes: shards of one matrix carry the same one."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def add_change_pct(cells, baseline):
    """Each cell's change_pct against its crate and target's baseline row (None when absent)."""
    base = {(c["crate"], c["target"]): c["final_bytes"] for c in cells if c["variant"] == baseline}
    for c in cells:
        c["change_pct"] = pct_change(c["final_bytes"], base.get((c["crate"], c["target"])))


