"""The fleets' tables (results.json's fleets; docs/FLEET.md): each image against its budget,
its members as separate files, and each alternative built for real against them."""
from ..utils.units import count, human, pct_change, pct_text, percent, share_text
from .tables import Cell, Table, columns


def fleets_table(fleets):
    """results.json's fleets: members, image bytes (against the budget), duplicated bytes and the
    bound on what sharing them could save; a fleet not measured shows why."""
    table = Table("fleets", columns(("fleet", "name"), "members", ("image", "bytes"), ("human", "size"),
                                    ("budget", "size"), ("duplicated", "bytes"), ("could save at most", "bytes"),
                                    ("share", "share")))
    for f in fleets:
        total, budget = f["total_bytes"], f.get("budget")
        if total is None:
            table.add([Cell(f["name"]), Cell(str(len(f["cells"])), len(f["cells"])),
                       Cell(f"not measured: {f.get('reason')}"), Cell(""), Cell(human(budget) if budget else "-"),
                       Cell("-"), Cell("-"), Cell("-")])
            continue
        over = budget is not None and total > budget
        saving = f.get("saving_bound")
        table.add([Cell(f["name"]), Cell(str(len(f["cells"])), len(f["cells"])), Cell(count(total), total),
                   Cell(human(total), total),
                   Cell("-" if budget is None else f"{human(budget)}{' (OVER)' if over else ''}", budget),
                   Cell(count(f.get("duplicated_bytes")), f.get("duplicated_bytes")), Cell(count(saving), saving),
                   Cell(share_text(percent(saving, total)), percent(saving, total))])
    return table


def fleet_members_table(results):
    """Each fleet's members as separate files: final bytes, and the bytes of theirs another member
    carries too; None when no fleet was measured."""
    cells = {f"{c['crate']}/{c['target']}/{c['variant']}": c for c in results["cells"]}
    rows = [(f, m) for f in results.get("fleets") or [] for m in f.get("members") or []]
    if not rows:
        return None
    table = Table("fleet-members", columns(("fleet", "name"), ("member", "name"), ("final", "bytes"),
                                           ("human", "size"), ("duplicated", "bytes")))
    for f, m in rows:
        size = (cells.get(m["cell"]) or {}).get("final_bytes")
        table.add([Cell(f["name"]), Cell("", code=m["cell"]), Cell(count(size), size), Cell(human(size), size),
                   Cell(count(m["duplicated_bytes"]), m["duplicated_bytes"])])
    return table


def alternatives_table(fleets):
    """Each fleet's alternatives (built for real) against its members as separate files, or None
    when no fleet has one."""
    rows = [(f, a) for f in fleets for a in f.get("alternatives") or []]
    if not rows:
        return None
    table = Table("alternatives", columns(("fleet", "name"), ("alternative", "name"), "cells", ("image", "bytes"),
                                          ("human", "size"), ("vs separate files", "bytes"), "smoke checks"))
    for f, a in rows:
        total, base = a["total_bytes"], f["total_bytes"]
        if total is None:
            table.add([Cell(f["name"]), Cell(a["name"]), Cell(str(len(a["cells"]))),
                       Cell(f"not built: {a.get('reason')}"), Cell(""), Cell("-"), Cell("-")])
            continue
        delta = None if base is None else total - base
        table.add([Cell(f["name"]), Cell(a["name"]), Cell(str(len(a["cells"]))), Cell(count(total), total),
                   Cell(human(total), total),
                   Cell("-" if delta is None else f"{delta:+,} ({pct_text(pct_change(total, base))})", delta),
                   Cell(a.get("smoke") or "-")])
    return table
