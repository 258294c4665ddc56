"""`sizekit diff OLD NEW` over results.json files or snapshots: cells, then crates and symbols.

sizekit.results.cell_diff compares the cells (sizes, sections, crates); this adds, for cells whose
both sides carry symbols (snapshots), the symbol-level diff of their unstripped artifacts
(sizekit.results.symdiff), the per-crate verdicts of a pull-request comment with their labels,
and the cells over the threshold. --cells narrows both sides first.
"""
import fnmatch
import functools

from .cell_diff import diff_results
from .symdiff import diff_tables
from .threshold import Threshold

LABELS = ("size/none", "size/small", "size/large")


def cell_name(cell):
    return f"{cell['crate']}/{cell['target']}/{cell['variant']}"


def cell_matches(cell, patterns):
    """A pattern with a / matches crate/target/variant; one without matches any of the three."""
    if not patterns:
        return True
    full = cell_name(cell)
    for p in patterns:
        if "/" in p:
            if fnmatch.fnmatchcase(full, p):
                return True
        elif any(fnmatch.fnmatchcase(cell[k], p) for k in ("crate", "target", "variant")):
            return True
    return False


def _narrow(snap, patterns):
    """(results with only the matching cells, {cell key: SymbolTable or None})."""
    cells, tables = [], {}
    for i, cell in enumerate(snap.results["cells"]):
        if cell_matches(cell, patterns):
            cells.append(cell)
            tables[(cell["crate"], cell["target"], cell["variant"])] = snap.table_of(i)
    return {**snap.results, "cells": cells}, tables


def compare(old, new, threshold=None, patterns=None, symbols=True):
    """A JSON-ready comparison of two loaded inputs (sizekit.results.snapshot.Snapshot); with
    symbols=False the cells only (what `check --max-growth` reads), without any symbol diff;
    with symbols="lazy" each cell's "symbols" is a function that works it out when called (the
    PR comment shows only the cells that fit GitHub's limit: see symbols_of)."""
    threshold = threshold or Threshold()
    old_results, old_tables = _narrow(old, patterns)
    new_results, new_tables = _narrow(new, patterns)
    diff = diff_results(old_results, new_results)
    done: dict = {}
    for c in diff["cells"]:
        key = (c["crate"], c["target"], c["variant"])
        a, b = old_tables.get(key), new_tables.get(key)
        c["over_threshold"] = c["delta_bytes"] is not None and threshold.reached(c["delta_bytes"], c["old_bytes"])
        if a is None or b is None or not symbols:
            continue
        # Cells of one build share their artifacts: diff each pair of artifacts once.
        pair = (id(a), id(b))
        if pair in done:
            c["symbols_as"] = done[pair]
            continue
        done[pair] = c["variant"]
        if symbols == "lazy":
            c["symbols"] = functools.partial(diff_tables, a, b, threshold, whole=c["old_bytes"])
        else:
            c["symbols"] = diff_tables(a, b, threshold, whole=c["old_bytes"])
    diff["threshold"] = threshold.to_json()
    diff["verdicts"] = verdicts(diff["cells"])
    diff["files"] = files_diff(old.files, new.files)
    diff["fleets"] = fleets_diff(old.results, new.results)
    diff["revisions"] = {"old": old.git, "new": new.git}
    return diff


def files_diff(old, new):
    """The files measured beside the cells (a firmware image: `sizekit snapshot --file`), old against
    new by name: the new side's order, then the names only the old side has."""
    before = {f["name"]: f["bytes"] for f in old}
    after = {f["name"]: f["bytes"] for f in new}
    out = []
    for name in [*after, *(n for n in before if n not in after)]:
        a, b = before.get(name), after.get(name)
        delta = None
        if a is None or b is None:
            change = "added" if a is None else "removed"
        else:
            delta = b - a
            change = "grew" if delta > 0 else "shrank" if delta < 0 else "unchanged"
        out.append({"name": name, "old_bytes": a, "new_bytes": b, "delta_bytes": delta, "change": change})
    return out


def fleets_diff(old, new):
    """Each fleet's image bytes and duplicated bytes (results.json's "fleets"), old against new by
    name, as files_diff words them; a fleet not measured on a side (a member did not build) has
    None there."""
    def sizes(results, key):
        return [{"name": f["name"], "bytes": f[key]} for f in results.get("fleets") or [] if f[key] is not None]
    rows = files_diff(sizes(old, "total_bytes"), sizes(new, "total_bytes"))
    dup_old = {f["name"]: f["bytes"] for f in sizes(old, "duplicated_bytes")}
    dup_new = {f["name"]: f["bytes"] for f in sizes(new, "duplicated_bytes")}
    for row in rows:
        a, b = dup_old.get(row["name"]), dup_new.get(row["name"])
        row.update(old_duplicated=a, new_duplicated=b, delta_duplicated=None if a is None or b is None else b - a)
    return rows


def growth_over(diff, limit):
    """Cells of a comparison that grew past the limit (a Threshold): what `check --max-growth`
    exits 1 on. Decided here, with the results, not by the report that shows them."""
    return [c for c in diff["cells"] if limit.grew_past(c["delta_bytes"], c["old_bytes"])]


def symbols_of(cell):
    """The cell's symbol diff, worked out now if compare left it lazy; None without one."""
    sym = cell.get("symbols")
    if callable(sym):
        sym = cell["symbols"] = sym()
    return sym


def verdicts(cells):
    """One line per crate of the matrix: grew, shrank or unchanged over its cells, and a label:
    size/none (no cell changed), size/small (changes, none over the threshold), size/large."""
    out: dict = {}
    for c in cells:
        v = out.setdefault(c["crate"], {"crate": c["crate"], "delta": 0, "old": 0, "changed": 0, "over": 0,
                                        "cells": 0, "status_changes": 0})
        v["cells"] += 1
        if c["delta_bytes"]:
            v["delta"] += c["delta_bytes"]
            v["old"] += c["old_bytes"]
            v["changed"] += 1
        if c["change"] in ("changed status", "added", "removed"):
            v["status_changes"] += 1
        v["over"] += bool(c.get("over_threshold"))
    for v in out.values():
        v["change"] = "grew" if v["delta"] > 0 else "shrank" if v["delta"] < 0 else "unchanged"
        v["label"] = LABELS[2] if v["over"] or v["status_changes"] else LABELS[1] if v["changed"] else LABELS[0]
    return list(out.values())
