"""`sizekit diff` as a pull-request comment that fits: verdicts, the cells over the threshold, then
every table folded in <details>, cut to GitHub's comment limit with a note saying what was left out.

The comparison comes from sizekit.results.compare. Figures are recomputed from the bytes.
"""
import re

from ..utils.units import count, pct_change, pct_text, signed_bytes
from .cell_tables import cells_table, moves_table, summary_line
from .comment_limit import GITHUB_LIMIT, fit_blocks
from .markdown import table_markdown
from ..results.compare import symbols_of
from .tables import Cell, Table, columns

KIND_ORDER = ("added", "removed", "grown", "shrunk")
NAME_CHARS = 160
_CONTROL = re.compile(r"[\x00-\x1f\x7f`]")


def short(name, limit=NAME_CHARS):
    """A symbol name safe in a markdown code span, cut to limit characters."""
    name = _CONTROL.sub("'", name)
    return name if len(name) <= limit else name[:limit - 1] + "…"


def _delta_text(delta, old):
    pct = pct_change(old + delta, old) if old else None
    return signed_bytes(delta) + (f" ({pct_text(pct)})" if pct is not None else "")


def verdict_lines(verdicts, threshold_set=True):
    lines = []
    for v in verdicts:
        if v["change"] == "unchanged":
            what = "unchanged" + (f" in total ({v['changed']} cells moved)" if v["changed"] else "")
        else:
            what = f"{v['change']} {_delta_text(v['delta'], v['old'])} over {v['changed']} of {v['cells']} cells"
        extra = f"; {v['over']} over the threshold" if v["over"] and threshold_set else ""
        extra += f"; {v['status_changes']} changed status, added or removed" if v["status_changes"] else ""
        lines.append(f"- **{short(v['crate'], 80)}**: {what}{extra} · `{v['label']}`")
    return lines


def _over_table(diff, limit):
    """(the table of the cells over the threshold or that changed status, whether any did), or (None, False)."""
    over = [c for c in diff["cells"] if c.get("over_threshold") or c["change"] in ("changed status", "added",
                                                                                  "removed")]
    status = any(c["change"] in ("changed status", "added", "removed") for c in over)
    return (cells_markdown(over, limit), status) if over else (None, False)


def cells_markdown(cells, limit):
    """table_markdown(cells_table(cells)), cut after the first row that ends past limit characters:
    the comment can show no more (fit_blocks cuts it at a line), so the rest is never rendered.
    Rows are rendered in growing batches, each row on its own line whatever the others hold."""
    n = 256
    while True:
        text = table_markdown(cells_table({"cells": cells[:n]}))
        if n >= len(cells) or len(text) > limit:
            return text
        n *= 4


def crates_table(sym):
    table = Table("crates", columns(("crate", "name"), ("before", "bytes"), ("after", "bytes"), ("delta", "bytes"),
                                    "symbols"))
    for e in sym["crates"]:
        n = {k: len(e[k]) + e["folded"].get(k, {}).get("count", 0) for k in KIND_ORDER}
        what = ", ".join(f"{v} {k}" for k, v in n.items() if v) or "-"
        table.add([Cell("", code=short(e["crate"], 80)), Cell(count(e["old"]), e["old"]),
                   Cell(count(e["new"]), e["new"]), Cell(signed_bytes(e["delta"]), e["delta"]), Cell(what)])
    o = sym["overhead"]
    if o["delta"]:
        table.add([Cell("overhead (padding, alignment, anonymous data)"), Cell(count(o["old"]), o["old"]),
                   Cell(count(o["new"]), o["new"]), Cell(signed_bytes(o["delta"]), o["delta"]), Cell("-")])
    return table


def symbols_table(entry):
    table = Table("symbols", columns("change", ("symbol", "name"), "section", ("before", "bytes"),
                                     ("after", "bytes"), ("delta", "bytes")))
    for kind in KIND_ORDER:
        for r in entry[kind]:
            how = f" ({r['match']})" if r.get("match") else ""
            table.add([Cell(kind + how),
                       Cell("", code=short(r["name"])), Cell(r["section"]), Cell(count(r["old"]), r["old"]),
                       Cell(count(r["new"]), r["new"]), Cell(signed_bytes(r["delta"]), r["delta"])])
        folded = entry["folded"].get(kind)
        if folded:
            table.add([Cell(kind), Cell(f"{folded['count']} more under the threshold"), Cell(""), Cell(""),
                       Cell(""), Cell(signed_bytes(folded["delta"]), folded["delta"])], "rest")
    return table


def files_table(files):
    """The files measured beside the cells (a firmware image), before and after."""
    table = Table("files", columns(("file", "name"), ("before", "bytes"), ("after", "bytes"), ("delta", "bytes"),
                                   "change"))
    for f in files:
        old, new, delta = f["old_bytes"], f["new_bytes"], f["delta_bytes"]
        table.add([Cell("", code=short(f["name"], 80)), Cell(count(old) if old is not None else "-", old),
                   Cell(count(new) if new is not None else "-", new),
                   Cell(_delta_text(delta, old) if delta is not None else "-", delta), Cell(f["change"])])
    return table


def fleets_table(fleets):
    """Each fleet's image bytes and the bytes its members duplicate, before and after."""
    table = Table("fleets", columns(("fleet", "name"), ("before", "bytes"), ("after", "bytes"), ("delta", "bytes"),
                                    ("duplicated before", "bytes"), ("duplicated after", "bytes"),
                                    ("duplicated delta", "bytes"), "change"))
    for f in fleets:
        cells = []
        for old, new, delta in ((f["old_bytes"], f["new_bytes"], f["delta_bytes"]),
                                (f["old_duplicated"], f["new_duplicated"], f["delta_duplicated"])):
            cells += [Cell(count(old) if old is not None else "-", old), Cell(count(new) if new is not None else "-", new),
                      Cell(_delta_text(delta, old) if delta is not None else "-", delta)]
        table.add([Cell("", code=short(f["name"], 80)), *cells, Cell(f["change"])])
    return table


def _title(c):
    return f"{c['crate']} · {c['target']} · {c['variant']}"


def cell_block(c):
    """One cell's details: its size change, sections, crates and symbols, folded in <details>."""
    if c["old_bytes"] is not None and c["new_bytes"] is not None:
        head = f"{c['old_bytes']:,} → {c['new_bytes']:,} bytes, {_delta_text(c['new_bytes'] - c['old_bytes'], c['old_bytes'])}"
    else:
        head = f"{c['old_status']} → {c['new_status']}" + (f": {c['reason']}" if c.get("reason") else "")
    lines = ["<details>", f"<summary><b>{_esc(_title(c))}</b>: {_esc(head)}</summary>", ""]
    for stage, info in (c.get("sections") or {}).items():
        lines += [f"Sections that moved most ({'build stage' if stage == 'build' else 'final stage'}):", "",
                  table_markdown(moves_table(info["moves"])), ""]
    sym = symbols_of(c)
    if sym:
        lines += [f"Crates and symbols of the unstripped artifact ({sym['added']} "
                  f"symbol{'' if sym['added'] == 1 else 's'} added, {sym['removed']} removed):", "",
                  table_markdown(crates_table(sym)), ""]
        for e in sym["crates"]:
            head = f"`{short(e['crate'], 80)}` {e['change']} {signed_bytes(e['delta'])}"
            if any(e[k] for k in KIND_ORDER):
                lines += [head + ":", "", table_markdown(symbols_table(e)), ""]
            elif e["folded"]:
                lines += [head + ": " + ", ".join(f"{f['count']} {k} ({signed_bytes(f['delta'])})"
                                                  for k, f in e["folded"].items()) + ", all under the threshold.", ""]
    elif c.get("symbols_as"):
        lines += [f"Crates and symbols: the same build as `{_esc(c['symbols_as'])}`; see its details.", ""]
    elif c.get("crates"):
        lines += ["Crates that moved most:", "", table_markdown(moves_table(c["crates"])), ""]
    if len(lines) == 3:
        return f"**{_esc(_title(c))}**: {_esc(head)}"
    lines.append("</details>")
    return "\n".join(lines)


def _esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Blocks:
    """The comment's blocks, rendered only as fit_blocks reaches them (it stops at the first that does
    not fit), so a diff of thousands of cells renders a handful. len() counts them all, for the note."""

    def __init__(self, first, cells):
        self.first, self.cells = first, cells

    def __len__(self):
        return len(self.first) + len(self.cells)

    def __iter__(self):
        for make in self.first:
            yield make()
        for c in self.cells:
            yield cell_block(c)


def comment_markdown(diff, title="Binary size diff", limit=None):
    """The whole comment, always shorter than GitHub's limit (65,536 characters)."""
    limit = limit or GITHUB_LIMIT
    total = sum(c["new_bytes"] - c["old_bytes"] for c in diff["cells"]
                if c["old_bytes"] is not None and c["new_bytes"] is not None)
    t = diff.get("threshold") or {}
    shown = f"{t['pct']:g}%" if t.get("pct") is not None else signed_bytes(t.get("bytes") or 0).lstrip("+")
    head = [f"## {title}", "", summary_line({**diff["summary"], "total_delta_bytes": total}), ""]
    revs = diff.get("revisions") or {}
    if revs.get("old") or revs.get("new"):
        head += ["Revisions " + " → ".join(f"`{str((r or {}).get('revision') or '?')[:10]}`"
                                           for r in (revs.get("old"), revs.get("new"))), ""]
    zero = shown == "0 B"

    def over_block():
        over, status = _over_table(diff, limit)
        heading = "### Cells that changed" if zero else f"### Cells over the threshold ({shown})" + (
            ", or that changed status" if status else "")
        return (f"{heading}\n\n" + over if over else
                "No cell changed size." if zero else f"No cell changed by {shown} or more.")

    def all_block():
        return (f"<details>\n<summary>All {len(diff['cells'])} cells</summary>\n\n"
                + cells_markdown(diff["cells"], limit) + "\n\n</details>")

    # The cells over the threshold or that changed status first, then the others that moved; by
    # their fields, not `c not in detail`, a list scan per cell (minutes at 20,000 cells).
    detail = [c for c in diff["cells"] if c.get("over_threshold") or c["change"] == "changed status"]
    detail += [c for c in diff["cells"] if not c.get("over_threshold") and c["change"] in ("grew", "shrank")]
    first = [lambda: "\n".join(head + verdict_lines(diff.get("verdicts") or [], not zero))]
    if diff.get("files"):
        first.append(lambda: "### Files\n\n" + table_markdown(files_table(diff["files"])))
    if diff.get("fleets"):
        first.append(lambda: "### Fleets\n\n" + table_markdown(fleets_table(diff["fleets"])))
    first += [over_block, all_block]
    return fit_blocks(_Blocks(first, detail), limit)
