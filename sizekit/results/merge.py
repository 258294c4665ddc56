"""Merge the results.json files of a sharded run into one, as a single machine would have written.

Shards must come from the same matrix file (by digest) and the same sizekit version, each shard
number once, with no cell twice. Missing cells are an error unless partial, when they become
rows of status "missing". Artifacts stay where each shard built them: every merged cell names
its shard and that shard's folder, and its paths stay relative to that folder.
"""
import os

from typing import Optional

from ..utils.errors import ResultsError
from .cells import add_change_pct
from .results_file import MAX_CELLS, check_names, load_results

SHOWN = 8   # missing cells named in a message before "and N more"


def _name(cell):
    return f"{cell['crate']}/{cell['target']}/{cell['variant']}"


def shard_of(path, data):
    """(index, count, the whole matrix's cell names) of a results.json: 1 of 1 for a whole run."""
    shard = data.get("shard")
    if not isinstance(shard, dict) or not isinstance(shard.get("matrix_cells"), list):
        # A whole run is shard 1 of 1.
        return 1, 1, [_name(c) for c in data["cells"]]
    index, count = shard.get("index"), shard.get("count")
    if not (isinstance(index, int) and isinstance(count, int) and 1 <= index <= count):
        raise ResultsError(f"{path}: shard {index!r}/{count!r} is not a shard number")
    names = shard["matrix_cells"]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise ResultsError(f"{path}: shard.matrix_cells is not a list of distinct cell names; "
                           f"not a results.json as sizekit writes it")
    return index, count, names


def _parts(name, shards):
    """crate, target and variant of a cell name from a shard's matrix_cells list."""
    parts = name.split("/")
    if len(parts) != 3 or not all(parts):
        paths = ", ".join(shards[k] for k in sorted(shards))
        raise ResultsError(f"{paths}: shard.matrix_cells names {name[:80]!r}, not crate/target/variant; "
                           f"not a results.json as sizekit writes it")
    return parts


def _same(loaded, field, what):
    values: dict = {}
    for path, data in loaded:
        values.setdefault(data.get(field), []).append(path)
    if len(values) > 1:
        parts = "; ".join(f"{', '.join(paths)}: {value or 'none'}" for value, paths in values.items())
        raise ResultsError(f"these results come from different {what} ({parts}); merge shards of one run")


def _missing_text(missing):
    more = f", and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
    return ", ".join(missing[:SHOWN]) + more


def merge(paths, output, partial=False):
    """The merged results (a dict), for results.json files at paths, to be written under output."""
    if not paths:
        raise ResultsError("merge needs at least one results.json")
    loaded = [(p, load_results(p)) for p in paths]
    _same(loaded, "matrix_digest", "matrix files (their sha256 differ)")
    _same(loaded, "sizekit_version", "sizekit versions")
    shards: dict
    owner: dict
    references: dict
    shards, owner, cells, references = {}, {}, {}, {}
    order: Optional[list] = None
    for path, data in loaded:
        index, count, matrix_cells = shard_of(path, data)
        if order is None:
            order, total = matrix_cells, count
        if count != total:
            raise ResultsError(f"{path} is a shard of {count}, {paths[0]} of {total}; merge shards of one run")
        if index in shards:
            raise ResultsError(f"{shards[index]} and {path} are both shard {index}/{count}; pass each shard once")
        shards[index] = path
        folder = os.path.relpath(os.path.dirname(os.path.abspath(path)), os.path.abspath(output))
        for cell in data["cells"]:
            name = _name(cell)
            if name in owner:
                raise ResultsError(f"cell {name} is in both {owner[name]} and {path}; the shards overlap")
            owner[name] = path
            cells[name] = dict(cell, shard={"index": index, "folder": folder})
        for ref in data.get("references", []):
            references.setdefault((ref["crate"], ref["target"]), ref)
    order = order or []   # loaded is never empty: the first shard set it
    if len(order) > MAX_CELLS or len(cells) > MAX_CELLS:
        raise ResultsError(f"these shards hold {max(len(order), len(cells)):,} cells, over the limit of "
                           f"{MAX_CELLS:,} for a results.json; merge shards of one matrix")
    missing = [n for n in order if n not in cells]
    listed = set(order)
    if missing and not partial:
        raise ResultsError(f"{len(missing)} cell(s) of the matrix are in no shard given: {_missing_text(missing)}; "
                           f"pass every shard's results.json, or --partial to show them as missing")
    merged = []
    for name in order + [n for n in cells if n not in listed]:
        if name in cells:
            merged.append(cells[name])
        else:
            crate, target, variant = _parts(name, shards)
            merged.append({"crate": crate, "target": target, "variant": variant, "label": None,
                           "status": "missing", "reason": "its shard's results.json was not merged",
                           "stages": [], "final_bytes": None, "upx_estimate_bytes": None, "smoke": None})
    first = loaded[0][1]
    add_change_pct(merged, first.get("baseline"))
    out = {key: first[key] for key in ("version", "matrix", "matrix_digest", "sizekit_version", "baseline",
                                       "variants") if key in first}
    out["cells"] = merged
    out["merged_from"] = [{"index": k, "results": os.path.relpath(os.path.abspath(shards[k]), os.path.abspath(output))}
                          for k in sorted(shards)]
    if references:
        out["references"] = list(references.values())
    # Each shard's cells were checked as it loaded; the joined list gets the checks across
    # shards (names of missing cells, no cell twice) before anything is written.
    check_names(", ".join(shards[k] for k in sorted(shards)), out)
    return out
