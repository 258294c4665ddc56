"""The cell level of `sizekit diff OLD NEW`: two results.json files compared cell by cell
(sizekit.results.compare adds the symbols, verdicts and thresholds on top).

Cells are matched by (crate, target, variant). A cell on one side only is "added" or
"removed", never dropped. For every cell whose size or status changed, the details name
the ELF sections (of the build stage and of the final stage) and the crates that moved
most. sizekit.report.cell_tables turns the comparison into the comment's markdown tables.
"""
from ..utils.units import pct_change
from .cells import ok_bytes, stage

TOP = 3

# Order of the summary line; "changed status" covers ok -> failed and the like.
KINDS = ("grew", "shrank", "unchanged", "changed status", "added", "removed")


def _key(cell):
    return (cell["crate"], cell["target"], cell["variant"])


def top_moves(old, new, n=TOP):
    """The n entries of two {name: bytes} maps that moved most, largest |delta| first."""
    old, new = old or {}, new or {}
    moves = []
    for name in set(old) | set(new):
        a, b = old.get(name), new.get(name)
        delta = (b or 0) - (a or 0)
        if delta:
            moves.append({"name": name, "old": a, "new": b, "delta": delta})
    moves.sort(key=lambda m: (-abs(m["delta"]), m["name"]))
    return moves[:n]


def _kind(old, new):
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if old["status"] != new["status"]:
        return "changed status"
    a, b = ok_bytes(old), ok_bytes(new)
    if a is None or b is None or a == b:
        return "unchanged"
    return "grew" if b > a else "shrank"


def _details(old, new):
    """Sections and crates that moved most; only for cells built on both sides."""
    if old is None or new is None or ok_bytes(old) is None or ok_bytes(new) is None:
        return {}
    out = {}
    stages = [("build", stage(old, "build"), stage(new, "build"))]
    fo, fn = stage(old, "final"), stage(new, "final")
    # The final stage is worth its own list only when post steps ran after the build.
    if fo is not stages[0][1] or fn is not stages[0][2]:
        stages.append(("final", fo, fn))
    sections = {}
    for name, a, b in stages:
        if a and b and (a.get("sections") or b.get("sections")):
            moves = top_moves(a.get("sections"), b.get("sections"))
            if moves:
                sections[name] = {"old_step": a.get("step"), "new_step": b.get("step"), "moves": moves}
    if sections:
        out["sections"] = sections
    if "crates" in old or "crates" in new:
        moves = top_moves(old.get("crates"), new.get("crates"))
        if moves:
            out["crates"] = moves
    return out


def diff_results(old, new):
    """A JSON-ready comparison of two loaded results.json dicts."""
    old_cells = {_key(c): c for c in old["cells"]}
    new_cells = {_key(c): c for c in new["cells"]}
    keys = list(new_cells) + [k for k in old_cells if k not in new_cells]
    cells = []
    counts = dict.fromkeys(KINDS, 0)
    total = 0
    for key in keys:
        o, n = old_cells.get(key), new_cells.get(key)
        kind = _kind(o, n)
        counts[kind] += 1
        a, b = ok_bytes(o), ok_bytes(n)
        delta = b - a if a is not None and b is not None else None
        total += delta or 0
        rec = {"crate": key[0], "target": key[1], "variant": key[2], "change": kind,
               "old_status": o["status"] if o else None, "new_status": n["status"] if n else None,
               "old_bytes": a, "new_bytes": b, "delta_bytes": delta,
               "delta_pct": pct_change(b, a) if delta is not None else None}
        reason = (n or {}).get("reason") if (n or {}).get("status", "ok") != "ok" else None
        if reason:
            rec["reason"] = reason
        rec.update(_details(o, n))
        cells.append(rec)
    return {"version": 1, "summary": {**{k.replace(" ", "_"): v for k, v in counts.items()},
                                      "total_delta_bytes": total},
            "cells": cells}
