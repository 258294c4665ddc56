"""The cell tables of `sizekit diff`'s markdown: the summary line, one row per cell, and the
sections and crates that moved most (sizekit.report.comment puts them into the PR comment).

diff_markdown lays them out as one plain page, without the comment's verdicts and folding. Deltas, percents and the total are recomputed from the before and after bytes, so a comparison
read back from JSON prints the same figures as a fresh one.
"""
from ..results.cell_diff import KINDS
from ..utils.units import count, pct_change, pct_text, signed_bytes
from .markdown import table_markdown
from .tables import Cell, Table, columns


def _delta(c):
    a, b = c.get("old_bytes"), c.get("new_bytes")
    return (b - a, pct_change(b, a)) if a is not None and b is not None else (None, None)


def summary_line(summary):
    """E.g. "3 cells grew, 1 shrank, 2 unchanged; total -12,595 B (-12K)"."""
    parts = []
    for kind in KINDS:
        n = summary[kind.replace(" ", "_")]
        if n or kind in ("grew", "shrank"):
            parts.append(f"{n} {kind}")
    first, _, rest = parts[0].partition(" ")
    parts[0] = f"{first} {'cell' if first == '1' else 'cells'} {rest}"
    return ", ".join(parts) + f"; total {signed_bytes(summary['total_delta_bytes'])}"


def _change_text(c):
    if c["change"] == "changed status":
        return f"{c['old_status']} → {c['new_status']}"
    return c["change"]


def _size(status, nbytes):
    if status is None:
        return Cell("-")
    if status != "ok":
        return Cell(status)
    return Cell(count(nbytes), nbytes)


def cells_table(diff):
    """Every cell of both sides: before, after, delta, % and what changed."""
    table = Table("diff", columns(("crate", "name"), "target", ("variant", "name"), ("before", "bytes"),
                                  ("after", "bytes"), ("delta", "bytes"), ("%", "pct"), "change"))
    for c in diff["cells"]:
        delta, pct = _delta(c)
        table.add([Cell(c["crate"]), Cell(c["target"]), Cell(c["variant"]), _size(c["old_status"], c["old_bytes"]),
                   _size(c["new_status"], c["new_bytes"]), Cell(signed_bytes(delta), delta), Cell(pct_text(pct), pct),
                   Cell(_change_text(c))])
    return table


def moves_table(moves):
    """The sections or crates that moved most: name, before, after, delta."""
    table = Table("moves", columns(("name", "name"), ("before", "bytes"), ("after", "bytes"), ("delta", "bytes")))
    for m in moves:
        delta = (m["new"] or 0) - (m["old"] or 0)
        table.add([Cell("", code=m["name"]), Cell(count(m["old"]), m["old"]), Cell(count(m["new"]), m["new"]),
                   Cell(signed_bytes(delta), delta)])
    return table


def _where(stage, info):
    if stage != "final":
        return "build stage"
    step = info["new_step"] if info["new_step"] == info["old_step"] else f"{info['old_step']}` → `{info['new_step']}"
    return f"final stage, after `{step}`"


def diff_markdown(diff, title="Binary size diff"):
    """The PR comment: heading, summary line, one table of every cell, then details."""
    total = sum(d for d, _ in map(_delta, diff["cells"]) if d is not None)
    lines = [f"## {title}", "", summary_line({**diff["summary"], "total_delta_bytes": total}), "",
             table_markdown(cells_table(diff))]
    for c in diff["cells"]:
        if c["change"] not in ("grew", "shrank", "changed status"):
            continue
        lines += ["", f"### {c['crate']} · {c['target']} · {c['variant']}", ""]
        delta, pct = _delta(c)
        if delta is not None:
            lines.append(f"{c['old_bytes']:,} → {c['new_bytes']:,} bytes: {signed_bytes(delta)} ({pct_text(pct)})")
        else:
            lines.append(f"{_change_text(c)}" + (f": {c['reason']}" if c.get("reason") else ""))
        for stage, info in (c.get("sections") or {}).items():
            lines += ["", f"Sections that moved most ({_where(stage, info)}):", "", table_markdown(moves_table(info["moves"]))]
        if c.get("crates"):
            lines += ["", "Crates that moved most:", "", table_markdown(moves_table(c["crates"]))]
    return "\n".join(lines) + "\n"
