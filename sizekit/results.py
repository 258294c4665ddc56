"""results.json (format version 1): assemble from cell records, write atomically, read back."""
import json
import os

from .errors import ResultsError
from .fsutil import atomic_write_text, read_json
from .units import pct_change

VERSION = 1


def results_path(matrix):
    return os.path.join(matrix.output, "results.json")


def collect(plan):
    from .tasks import build_meta_path, cell_path, smoke_path
    matrix = plan.matrix
    cells = []
    for cell in plan.cells:
        rec = read_json(cell_path(matrix, cell)) or {
            "crate": cell.crate.name, "target": cell.target, "variant": cell.variant.name,
            "label": cell.variant.label, "status": "failed", "reason": "not measured; run doit again",
            "stages": [], "final_bytes": None}
        meta = read_json(build_meta_path(matrix, cell.build.key)) or {}
        info = plan.toolchains[cell.build.toolchain]
        rec = dict(rec)
        rec["toolchain"] = {"name": cell.build.toolchain or "PATH", "rustc": info.rustc_version}
        rec["build"] = {"key": cell.build.key, "seconds": meta.get("seconds"),
                        "command": meta.get("command"), "shared_with": [
                            v for v in cell.build.variants if v != cell.variant.name]}
        rec["smoke"] = read_json(smoke_path(matrix, cell)) if cell.crate.smoke else None
        cells.append(rec)
    base = {(c["crate"], c["target"]): c["final_bytes"] for c in cells if c["variant"] == matrix.baseline}
    for c in cells:
        c["change_pct"] = pct_change(c["final_bytes"], base.get((c["crate"], c["target"])))
    references = []
    for crate in matrix.crates.values():
        if crate.reference:
            from .reference import reference_path
            for target in crate.targets or [plan.toolchains[None].host]:
                rec = read_json(reference_path(matrix, crate, target))
                if rec:
                    references.append({"crate": crate.name, "target": target, **rec})
    out = {"version": VERSION, "matrix": os.path.relpath(matrix.path, matrix.root),
           "baseline": matrix.baseline, "variants": [v.name for v in matrix.variants], "cells": cells}
    if references:
        out["references"] = references
    return out


def write_results(matrix, results):
    atomic_write_text(results_path(matrix), json.dumps(results, indent=1) + "\n")


def load_results(path):
    """Read and check a results.json. Raises ResultsError naming the file."""
    if os.path.isdir(path):
        raise ResultsError(f"{path}: is a directory; pass the results.json file")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found; run doit first to build the matrix") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from None
    except ValueError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("cells"), list):
        raise ResultsError(f"{path}: not a sizekit results.json of version {VERSION}")
    for i, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict) or not all(k in cell for k in ("crate", "target", "variant", "status")):
            raise ResultsError(f"{path}: cells[{i}] lacks crate/target/variant/status")
    return data
