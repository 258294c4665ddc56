"""Compare two results.json files cell by cell: `sizekit diff OLD NEW`.

Cells are matched by (crate, target, variant). A cell on one side only is "added" or
"removed", never dropped. For every cell whose size or status changed, the details name
the ELF sections (of the build stage and of the final stage) and the crates that moved
most. The markdown is meant to be pasted as a pull-request comment.
"""
from ..utils.units import human, pct_change

TOP = 3

# Order of the summary line; "changed status" covers ok -> failed and the like.
KINDS = ("grew", "shrank", "unchanged", "changed status", "added", "removed")


def _key(cell):
    return (cell["crate"], cell["target"], cell["variant"])


def _ok_bytes(cell):
    if cell is None or cell.get("status") != "ok":
        return None
    return cell.get("final_bytes")


def _stage(cell, which):
    stages = (cell or {}).get("stages") or []
    if not stages:
        return None
    if which == "final":
        return stages[-1]
    return next((s for s in stages if s.get("step") == "build"), None)


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
    a, b = _ok_bytes(old), _ok_bytes(new)
    if a is None or b is None or a == b:
        return "unchanged"
    return "grew" if b > a else "shrank"


def _details(old, new):
    """Sections and crates that moved most; only for cells built on both sides."""
    if old is None or new is None or _ok_bytes(old) is None or _ok_bytes(new) is None:
        return {}
    out = {}
    stages = [("build", _stage(old, "build"), _stage(new, "build"))]
    fo, fn = _stage(old, "final"), _stage(new, "final")
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
        a, b = _ok_bytes(o), _ok_bytes(n)
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


# --- markdown ---

def signed(n):
    """+1,234 B style, with the human size for anything over a KiB."""
    if n is None:
        return "-"
    if n == 0:
        return "0 B"
    text = f"{n:+,} B"
    if abs(n) >= 1024:
        text += f" ({'+' if n > 0 else '-'}{human(abs(n))})"
    return text


def _pct(p):
    if p is None:
        return "-"
    return f"{p:+.1f}%" if p else "0%"


def _size(status, nbytes):
    if status is None:
        return "-"
    if status != "ok":
        return status
    return f"{nbytes:,}" if nbytes is not None else "-"


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(x).replace("|", "\\|") for x in row) + " |" for row in rows]
    return out


def summary_line(summary):
    """E.g. "3 cells grew, 1 shrank, 2 unchanged; total -12,595 B (-12K)"."""
    parts = []
    for kind in KINDS:
        n = summary[kind.replace(" ", "_")]
        if n or kind in ("grew", "shrank"):
            parts.append(f"{n} {kind}")
    first, _, rest = parts[0].partition(" ")
    parts[0] = f"{first} {'cell' if first == '1' else 'cells'} {rest}"
    return ", ".join(parts) + f"; total {signed(summary['total_delta_bytes'])}"


def _change_text(c):
    if c["change"] == "changed status":
        return f"{c['old_status']} → {c['new_status']}"
    return c["change"]


def _moves_table(moves):
    return _table(["name", "before", "after", "delta"],
                  [[f"`{m['name']}`", "-" if m["old"] is None else f"{m['old']:,}",
                    "-" if m["new"] is None else f"{m['new']:,}", signed(m["delta"])] for m in moves])


def diff_markdown(diff, title="Binary size diff"):
    """The PR comment: heading, summary line, one table of every cell, then details."""
    lines = [f"## {title}", "", summary_line(diff["summary"]), ""]
    lines += _table(["crate", "target", "variant", "before", "after", "delta", "%", "change"],
                    [[c["crate"], c["target"], c["variant"], _size(c["old_status"], c["old_bytes"]),
                      _size(c["new_status"], c["new_bytes"]), signed(c["delta_bytes"]), _pct(c["delta_pct"]),
                      _change_text(c)] for c in diff["cells"]])
    details = [c for c in diff["cells"] if c["change"] in ("grew", "shrank", "changed status")]
    for c in details:
        lines += ["", f"### {c['crate']} · {c['target']} · {c['variant']}", ""]
        if c["delta_bytes"] is not None:
            lines.append(f"{c['old_bytes']:,} → {c['new_bytes']:,} bytes: {signed(c['delta_bytes'])} "
                         f"({_pct(c['delta_pct'])})")
        else:
            lines.append(f"{_change_text(c)}" + (f": {c['reason']}" if c.get("reason") else ""))
        for stage, info in (c.get("sections") or {}).items():
            where = "build stage"
            if stage == "final":
                step = info["new_step"] if info["new_step"] == info["old_step"] \
                    else f"{info['old_step']}` → `{info['new_step']}"
                where = f"final stage, after `{step}`"
            lines += ["", f"Sections that moved most ({where}):", ""]
            lines += _moves_table(info["moves"])
        if c.get("crates"):
            lines += ["", "Crates that moved most:", ""]
            lines += _moves_table(c["crates"])
    return "\n".join(lines) + "\n"
