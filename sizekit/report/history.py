"""The trend page of `sizekit history`: one offline HTML page (inline CSS and SVG, no script).

A row per matrix cell: a sparkline of its final bytes over the revisions, its first and last size
and the change; then a row per revision with the biggest movers since the one before.
"""
from ..utils.fsutil import atomic_write_text
from ..utils.outputs import check_output_file
from ..utils.units import count, human, pct_change, pct_text, signed_bytes
from .page import CSS as PAGE_CSS
from .page import esc
from .treemap_svg import GREW, SAME, SHRANK

SPARK_W, SPARK_H = 240, 36

CSS = """
svg.spark { width:240px; height:36px; display:block; }
td.spark { padding:2px 10px; }
ul.movers { margin:0; padding-left:18px; }
ul.movers li { white-space:nowrap; }
"""


def sparkline(values):
    """An inline SVG line of values (None leaves a gap), coloured by first-to-last change."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1
    n = len(values)

    def xy(i, v):
        x = 4 + (SPARK_W - 8) * (i / (n - 1) if n > 1 else 0.5)
        y = SPARK_H - 4 - (SPARK_H - 8) * ((v - lo) / span if hi > lo else 0.5)
        return f"{x:.1f},{y:.1f}"

    color = GREW[0] if known[-1] > known[0] else SHRANK[0] if known[-1] < known[0] else SAME
    seg: list
    segments, seg = [], []
    for i, v in enumerate(values):
        if v is None:
            if seg:
                segments.append(seg)
            seg = []
        else:
            seg.append(xy(i, v))
    if seg:
        segments.append(seg)
    lines = "".join(f'<polyline points="{" ".join(s)}" fill="none" stroke="{color}" stroke-width="2.5"/>'
                    for s in segments if len(s) > 1)
    dots = "".join(f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.6" fill="{color}"/>'
                   for s in segments for p in s)
    return (f'<svg class="spark" viewBox="0 0 {SPARK_W} {SPARK_H}" role="img">'
            f"<title>{esc(' → '.join(human(v) if v is not None else '-' for v in values))}</title>{lines}{dots}</svg>")


def _rows_table(hist):
    body = []
    for row in hist["rows"]:
        values = row["values"]
        known = [v for v in values if v is not None]
        first, last = (known[0], known[-1]) if known else (None, None)
        delta = known[-1] - known[0] if known else None
        cls = "num " + ("up" if (delta or 0) > 0 else "down" if (delta or 0) < 0 else "")
        body.append(f'<tr><td class="variant">{esc(row["name"])}</td><td class="spark">{sparkline(values)}</td>'
                    f'<td class="num">{esc(count(first))}</td><td class="num">{esc(count(last))}</td>'
                    f'<td class="{cls}">{esc(signed_bytes(delta))}</td>'
                    f'<td class="{cls}">{esc(pct_text(pct_change(last, first)))}</td></tr>')
    return ('<table class="grid history"><thead><tr><th>row (crate/target/variant)</th><th>final bytes over '
            'revisions</th><th class="num">first</th><th class="num">last</th><th class="num">change</th>'
            f'<th class="num">%</th></tr></thead><tbody>{"".join(body)}</tbody></table>')


def _movers(step):
    if not step["movers"]:
        return '<span class="muted">no row changed size</span>'
    items = []
    for m in step["movers"]:
        crates = ", ".join(f"{esc(c['crate'])} {esc(signed_bytes(c['delta']))}" for c in m["crates"])
        items.append(f"<li><code>{esc(m['row'])}</code> {esc(signed_bytes(m['delta']))}"
                     + (f' <span class="muted">({crates})</span>' if crates else "") + "</li>")
    more = step["moved"] - len(step["movers"])
    if more > 0:
        items.append(f'<li class="muted">and {more} more rows</li>')
    return f'<ul class="movers">{"".join(items)}</ul>'


def _revisions_table(hist):
    body = []
    for k, rev in enumerate(hist["revisions"]):
        step = hist["steps"][k - 1] if k else None
        body.append(f'<tr><td class="variant">{esc(rev["label"])}</td><td>{esc(rev["date"])}</td>'
                    f'<td class="text">{esc(rev["subject"])}</td>'
                    f'<td>{_movers(step) if step else "<span class=muted>first revision</span>"}</td></tr>')
    return ('<table class="grid revisions"><thead><tr><th>revision</th><th>date</th><th>subject</th>'
            f'<th>biggest movers since the revision before</th></tr></thead><tbody>{"".join(body)}</tbody></table>')


def render_history(hist):
    revs = hist["revisions"]
    span = f"{esc(revs[0]['label'])} → {esc(revs[-1]['label'])}" if revs else ""
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>sizekit size history</title>", f"<style>{PAGE_CSS}{CSS}</style></head><body>",
        '<header class="top"><h1>Binary size history</h1>',
        f"<p>{len(revs)} revisions, {span} &middot; final bytes of every row of the matrix.</p></header>",
        "<main>", "<h2>Rows</h2>", _rows_table(hist), "<h2>Revisions</h2>", _revisions_table(hist),
        "<footer>Written by sizekit history from snapshots. Self-contained: no scripts, fonts or images are "
        "fetched.</footer>", "</main></body></html>"]) + "\n"


def write_history(path, hist):
    """Write the page; a wrong path (a folder, a missing folder) is one UsageError line."""
    check_output_file(path, what="history page")
    atomic_write_text(path, render_history(hist))
    return path
