"""`sizekit check`'s output: the budget table, notes on rows not checked as asked, a summary line."""
from ..results.budget import NOT_CHECKED, OVER
from ..utils.units import pct_text, percent, size_text
from .tables import Cell, Table, columns
from .terminal import table_text


def _headroom(row):
    """Budget minus size, recomputed from the two byte counts, with its share of the budget."""
    if row["bytes"] is None:
        return Cell("-")
    room = row["budget"] - row["bytes"]
    text = f"{room:+,}" if not row["budget"] else f"{room:+,} ({pct_text(percent(room, row['budget']))})"
    return Cell(text, room)


def budget_table(rows):
    table = Table("budget", columns(("crate", "name"), "target", ("variant", "name"), ("size", "size"),
                                    "budget", ("headroom", "bytes"), "status"))
    for r in rows:
        table.add([Cell(r["crate"]), Cell(r["target"]), Cell(r["variant"]), Cell(size_text(r["bytes"]), r["bytes"]),
                   Cell(f"{size_text(r['budget'])} {r['source']}", r["budget"]), _headroom(r), Cell(r["status"])])
    return table


def check_report(rows, matrix_shown, results_shown, strict=False):
    """The whole text `sizekit check` prints for a matrix with budgets."""
    lines = [table_text(budget_table(rows))]
    notes = [f"- {r['crate']}/{r['target']}/{r['variant']}: {r['note']}" for r in rows if r["note"]]
    if notes:
        lines += [""] + notes
    over = sum(r["status"] == OVER for r in rows)
    unchecked = sum(r["status"] == NOT_CHECKED for r in rows)
    summary = f"{len(rows) - over - unchecked} within budget, {over} over"
    if unchecked:
        summary += f", {unchecked} not checked" + (" (--strict: counts as a failure)" if strict else "")
    lines += ["", f"{summary} ({matrix_shown} against {results_shown})"]
    return "\n".join(lines) + "\n"
