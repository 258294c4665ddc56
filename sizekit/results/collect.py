"""Assemble results.json from the records the stages left under the output folder."""
import hashlib
import os

from .. import __version__

from ..plan.records import BuildMeta, CellRecord, ReferenceRecord, SmokeRecord
from .cells import add_change_pct
from .fleet import fleet_summaries
from .results_file import VERSION


def collect(plan):
    matrix, layout = plan.matrix, plan.layout
    cells = []
    for cell in plan.cells:
        measured = CellRecord.read(layout.cell_record(cell))
        rec = measured.present() if measured else {
            "crate": cell.crate.name, "target": cell.target, "variant": cell.variant.name,
            "label": cell.variant.label, "status": "failed", "reason": "not measured; run doit again",
            "stages": [], "final_bytes": None}
        meta = BuildMeta.read(layout.build_meta(cell.build.key))
        info = plan.toolchains[cell.build.toolchain]
        rec = dict(rec)
        rec["toolchain"] = {"name": cell.build.toolchain or "PATH", "rustc": info.rustc_version}
        rec["build"] = {"key": cell.build.key, "seconds": meta and meta.seconds,
                        "command": meta and meta.command, "shared_with": [
                            v for v in cell.build.variants if v != cell.variant.name]}
        if meta and meta.cache:
            rec["build"]["cache"] = meta.cache
        if meta and meta.shared and rec.get("status") == "ok":
            folder = os.path.dirname(layout.build_artifact(cell.build, "x"))
            rec["shared_libraries"] = [{"name": n, "path": layout.rel(os.path.join(folder, n)), "bytes": b}
                                       for n, b in sorted(meta.shared.items())]
        smoke = SmokeRecord.read(layout.smoke_record(cell)) if cell.crate.smoke else None
        rec["smoke"] = smoke and smoke.present()
        cells.append(rec)
    add_change_pct(cells, matrix.baseline)
    references = []
    for crate, target in plan.reference_targets():
        ref = ReferenceRecord.read(layout.reference_record(crate, target))
        if ref:
            references.append({"crate": crate.name, "target": target, **ref.present()})
    out = {"version": VERSION, "matrix": os.path.relpath(matrix.path, matrix.root),
           "matrix_digest": matrix_digest(matrix.path), "sizekit_version": __version__,
           "baseline": matrix.baseline, "variants": [v.name for v in matrix.variants],
           "tools": tools_in_use(), "cells": cells}
    if plan.shard:
        out["shard"] = {"index": plan.shard[0], "count": plan.shard[1], "matrix_cells": plan.all_cells}
    if references:
        out["references"] = references
    if matrix.fleets:
        out["fleets"] = fleet_summaries(out, layout.results_json, matrix.fleets)
    return out


def tools_in_use():
    """What measured these cells: the estimate's backend (C or its Python copy) and the demangler."""
    from ..elf import demangle, engine   # loaded by the measure stage already
    return {"native_backend": engine.BACKEND, "demangler": demangle.backend_name()}


def matrix_digest(path):
    """sha256 of the matrix file's bytes: shards of one matrix carry the same one."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()



