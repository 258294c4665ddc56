"""The HTML report: one self-contained page (inline CSS, inline SVG charts, no network assets).

`sizekit.report.publish.write_html(output_dir, results)` writes `<output_dir>/reports/index.html`.
`render_html(results, charts)` returns the page; `charts` maps (crate, target) to an inline
`<svg ...>` string or to an image file name relative to the page (see charts.make_charts).
Every table is a model from tables.py drawn by `table_html`, the same models the markdown
writes. Every piece of text that comes from the user's files (crate names, labels, reasons,
paths) goes through `html.escape`.
"""
import html
import re

from .charts import BASELINE_COLOR, ROW_COLOR, make_charts
from .tables import (attribution_failure, attribution_row, crates_table, groups, ok, overhead_table, seed_table, summary_table,
                     targets_table, upx_table)
from .treemap_section import treemaps_section

TOP_CRATES = 12


def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


def _anchor(*parts):
    return "s-" + re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(parts)).strip("-")


def _badge(status):
    return f'<span class="badge {esc(status)}">{esc(status)}</span>'


# ---------------------------------------------------------------- drawing a table model

def _content(cell, column):
    """(class, inner HTML) of one cell, styled by its column's kind and its raw figure."""
    kind, value = column.kind, cell.value
    text = esc(cell.text) + (f"{' ' if cell.text else ''}<code>{esc(cell.code)}</code>" if cell.code else "")
    if kind == "name":
        return "variant", text
    if kind == "label":
        return None, " + ".join(f'<span class="nw">{esc(p)}</span>' for p in cell.text.split(" + "))
    if kind == "runs":
        return "runs " + ("ok" if cell.text == "ok" else "muted" if cell.text == "-" else "bad"), text
    if kind == "anchor":
        return None, f'<a href="#{_anchor(*value)}">{text}</a>' if value else text
    if kind == "counts" and isinstance(value, dict):
        good = f'<span class="ok">{value.get("ok", 0)} ok</span>'
        return None, good + "".join(f", {_badge(s)}&nbsp;{n}" for s, n in value.items() if s != "ok")
    if not column.numeric:
        return "text", text
    if value is None and cell.text != "-":
        # Words in a column of figures (a failure, a reason): wrap them like text.
        return "text", text
    if kind == "pct" and value:
        return "num " + ("down" if value < 0 else "up"), text
    if kind == "error" and value is not None:
        return "num err " + ("good" if abs(value) <= 5 else "fair" if abs(value) <= 15 else "bad"), text
    return "num", text


def _failure_td(failure, colspan):
    log = f'<div class="log">log: <code>{esc(failure.log)}</code></div>' if failure.log else ""
    tail = f'<details><summary>log tail</summary><pre>{esc(failure.tail)}</pre></details>' if failure.tail else ""
    reason = esc(failure.reason or "no reason recorded")
    return (f'<td class="failure" colspan="{colspan}">{_badge(failure.status)} '
            f'<span class="reason">{reason}</span>{log}{tail}</td>')


def _tds(row, table):
    tds = []
    span = table.failure_span if row.failure is not None else None
    for i, (cell, column) in enumerate(zip(row.cells, table.columns)):
        if span and span[0] <= i < span[1]:
            if i == span[0]:
                tds.append(_failure_td(row.failure, span[1] - span[0]))
            continue
        cls, inner = _content(cell, column)
        tds.append(f'<td class="{cls}">{inner}</td>' if cls else f"<td>{inner}</td>")
    return "".join(tds)


ROW_CLASS = {"baseline": "baseline", "total": "total", "rest": "muted"}


def table_html(table):
    """A table model as an HTML table of class "grid <table name>"."""
    head = "".join(f'<th class="num">{esc(c.title)}</th>' if c.numeric else f"<th>{esc(c.title)}</th>"
                   for c in table.columns)
    body = []
    for row in table.rows:
        cls = ROW_CLASS.get(row.kind)
        body.append((f'<tr class="{cls}">' if cls else "<tr>") + _tds(row, table) + "</tr>")
    return (f'<table class="grid {esc(table.name)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


# ---------------------------------------------------------------- sections

def upx_html(cells):
    table = upx_table(cells)
    if table is None:
        return ""
    return table_html(table) + f'<p class="note">{esc(table.note)}</p>'


def attribution_html(results, cells):
    """The biggest-crates table of the baseline row, crate first, with a bar per crate."""
    row = attribution_row(results, cells)
    if row is None:
        failure = attribution_failure(results, cells)
        if failure:
            return f'<p class="note">{esc(failure[0].upper() + failure[1:])}.</p>'
        return ('<p class="note">No per-crate attribution in these results '
                "(it is measured on the unstripped artifact).</p>")
    table = crates_table(row["crates"], top=TOP_CRATES)
    share, nbytes, size, name = range(4)
    biggest = max([r.cells[share].value or 0 for r in table.rows if not r.kind] or [1.0]) or 1.0
    body = []
    for r in table.rows:
        meter = ""
        if not r.kind and r.cells[share].value is not None:
            width = max(0.5, 100.0 * r.cells[share].value / biggest)
            meter = f'<div class="meter"><span style="width:{width:.1f}%"></span></div>'
        label = "total" if r.kind == "total" else r.cells[name].text
        cls = ROW_CLASS.get(r.kind)
        body.append((f'<tr class="{cls}">' if cls else "<tr>")
                    + (f"<td>{esc(label)}</td>" if r.kind else f'<td class="variant">{esc(label)}</td>')
                    + "".join(f'<td class="num">{esc(r.cells[i].text)}</td>' for i in (nbytes, size, share))
                    + f"<td>{meter}</td></tr>")
    head = "".join(f'<th class="num">{esc(table.columns[i].title)}</th>' for i in (nbytes, size, share))
    which = "the baseline row" if row["variant"] == results.get("baseline") else "row"
    return (f'<p class="note">Biggest crates of {which} <code>{esc(row["variant"])}</code>, '
            f"{len(row['crates'])} crates ({esc(table.note)}).</p>"
            f'<table class="grid attribution"><thead><tr><th>{esc(table.columns[name].title)}</th>{head}<th></th>'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _chart_html(chart, crate, target):
    if not chart:
        return '<p class="note">No row of this target has a size to chart.</p>'
    if chart.lstrip().startswith("<svg"):
        return f'<figure class="chart">{chart}</figure>'
    return f'<figure class="chart"><img src="{esc(chart)}" alt="{esc(f"sizes of {crate} on {target}")}"></figure>'


def headline(results, summary):
    cells = results["cells"]
    crates = list(dict.fromkeys(c["crate"] for c in cells))
    targets = list(dict.fromkeys(c["target"] for c in cells))
    n_ok = sum(1 for c in cells if c.get("status") == "ok")
    n_bad = len(cells) - n_ok
    cards = [(str(len(crates)), "crates" if len(crates) != 1 else "crate"),
             (str(len(targets)), "targets" if len(targets) != 1 else "target"),
             (str(len(cells)), "cells"), (str(n_ok), "ok")]
    if n_bad:
        cards.append((str(n_bad), "failed or unavailable"))
    cuts = [r.cells[4].value for r in summary.rows if r.cells[4].value is not None]
    if cuts:
        cards.append((f"{max(0.0, -min(cuts)):.0f}%", "largest cut vs baseline"))
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="big">{esc(v)}</div><div class="small">{esc(k)}</div></div>'
        for v, k in cards) + "</div>"


CSS = """
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --soft:#f6f8fa; --accent:#4c78a8;
        --base:#d9822b; --bad:#b03a2e; --good:#1a7f37; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
       color:var(--fg); background:#fff; }
header.top { background:#24292f; color:#fff; padding:22px 40px 18px; }
header.top h1 { margin:0 0 4px; font-size:24px; font-weight:600; }
header.top p { margin:0; color:#c9d1d9; }
header.top code { background:rgba(255,255,255,.12); color:#fff; }
main { max-width:1180px; margin:0 auto; padding:8px 40px 48px; }
h2 { font-size:20px; margin:36px 0 8px; padding-bottom:6px; border-bottom:2px solid var(--line); }
h3 { font-size:16px; margin:28px 0 10px; color:#24292f; }
h3 .tgt { font-family:ui-monospace,"DejaVu Sans Mono",monospace; font-weight:600; }
h4 { font-size:13px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); margin:18px 0 6px; }
code { font-family:ui-monospace,"DejaVu Sans Mono",monospace; font-size:12.5px; background:var(--soft);
       padding:1px 4px; border-radius:4px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin:20px 0 8px; }
.card { border:1px solid var(--line); border-radius:8px; padding:10px 16px; min-width:120px; background:var(--soft); }
.card .big { font-size:22px; font-weight:600; }
.card .small { color:var(--muted); font-size:12px; }
table.grid { border-collapse:collapse; width:100%; margin:6px 0 10px; font-size:13px; }
table.grid th { text-align:left; background:var(--soft); border-bottom:1px solid var(--line); padding:6px 10px;
                font-weight:600; white-space:nowrap; }
table.grid td { border-bottom:1px solid #eaeef2; padding:5px 10px; vertical-align:top; }
table.grid th.num { text-align:right; }
table.seed th.num, table.summary th.num { width:1%; padding-left:22px; }
.nw { white-space:nowrap; }
table.grid tr.total td { border-top:1px solid var(--line); font-weight:600; }
table.grid td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
table.grid td.variant { font-family:ui-monospace,"DejaVu Sans Mono",monospace; font-size:12.5px; white-space:nowrap; }
table.grid tr.baseline td { background:#fdf3e7; }
table.grid tr.baseline td.variant { box-shadow: inset 3px 0 0 var(--base); }
td.down { color:var(--good); } td.up { color:var(--bad); }
td.failure { color:var(--fg); }
td.failure .reason { color:#57606a; }
td.failure .log { margin-top:2px; font-size:12px; color:var(--muted); }
td.runs.ok { color:var(--good); } td.runs.bad { color:var(--bad); font-weight:600; } .muted { color:var(--muted); }
.badge { display:inline-block; padding:0 7px; border-radius:10px; font-size:11.5px; font-weight:600;
         background:#eee; color:#444; }
.badge.failed { background:#ffebe9; color:var(--bad); } .badge.unavailable { background:#fff8c5; color:#7d4e00; }
span.ok { color:var(--good); }
td.err.good { color:var(--good); } td.err.fair { color:#9a6700; } td.err.bad { color:var(--bad); }
figure.chart { margin:8px 0 4px; }
svg.chart { width:100%; max-width:860px; height:auto; display:block; }
.legend { font-size:12px; color:var(--muted); margin:0 0 6px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin:0 4px 0 10px; vertical-align:-1px; }
.note { color:var(--muted); font-size:12.5px; margin:4px 0 8px; }
.meter { background:#eef1f4; height:10px; border-radius:3px; min-width:160px; }
.meter span { display:block; height:10px; background:var(--accent); border-radius:3px; }
nav.toc { font-size:13px; margin:8px 0 0; }
nav.toc a { margin-right:14px; }
a { color:#0969da; text-decoration:none; } a:hover { text-decoration:underline; }
details summary { cursor:pointer; color:var(--muted); font-size:12px; }
details pre { background:var(--soft); padding:8px; overflow:auto; max-height:240px; font-size:12px; }
footer { color:var(--muted); font-size:12px; margin-top:40px; border-top:1px solid var(--line); padding-top:10px; }
.cols { display:grid; grid-template-columns: 1fr 1fr; gap:24px; }
@media (max-width:900px) { .cols { grid-template-columns:1fr; } main { padding:8px 16px 40px; } }
"""


def crate_section(results, crate, targets, charts, shared=None):
    baseline = results.get("baseline")
    parts = [f'<section class="crate" id="{_anchor(crate)}"><h2>{esc(crate)}</h2>']
    for target, cells in targets:
        parts.append(f'<h3 id="{_anchor(crate, target)}"><span class="tgt">{esc(target)}</span></h3>')
        parts.append(table_html(shared.seed(cells) if shared else seed_table(results, cells)))
        if not any(ok(c) for c in cells):
            parts.append('<p class="note">No row of this target was built, so there is nothing to chart.</p>')
            continue
        parts.append("<h4>Final size of each row</h4>")
        parts.append(f'<p class="legend"><i style="background:{BASELINE_COLOR}"></i>baseline '
                     f'<code>{esc(baseline)}</code><i style="background:{ROW_COLOR}"></i>other rows; '
                     "labels give the size and the change against the baseline.</p>")
        parts.append(_chart_html(charts.get((crate, target)), crate, target))
        parts.append('<div class="cols">')
        parts.append("<div><h4>UPX: estimate against the real size</h4>"
                     + (upx_html(cells) or '<p class="note">No row of this target ends with UPX; the table '
                        "above gives the estimate for every row.</p>") + "</div>")
        parts.append(f"<div><h4>Where the bytes go (crates)</h4>{attribution_html(results, cells)}</div>")
        parts.append("</div>")
    cells_all = [c for _, cells in targets for c in cells]
    if len(targets) > 1:
        parts.append("<h3>Targets compared</h3>")
        parts.append(table_html(targets_table(cells_all, [t for t, _ in targets])))
    refs = [r for r in results.get("references") or [] if r.get("crate") == crate]
    if refs:
        parts.append("<h3>Size overhead against the reference</h3>")
        parts.append('<p class="note">The stripped baseline row against the stripped reference '
                     f"implementation ({esc(refs[0].get('name'))}).</p>")
        parts.append(table_html(overhead_table(results, cells_all, refs)))
    parts.append("</section>")
    return "\n".join(parts)


def render_html(results, charts=None, snapshot=None, base=None, shared=None):
    """The whole report page as a string. `charts` maps (crate, target) to an inline SVG string or
    an image path relative to the page; None draws them with `make_charts`. A snapshot adds the
    treemaps (report/treemap_section.py), and a base snapshot the diff treemaps. shared (tables.Shared)
    lends tables the markdown builds too."""
    if charts is None:
        charts = make_charts(results)
    crates = shared.grouped if shared else groups(results)
    summary = summary_table(results)
    matrix = results.get("matrix") or "matrix"
    toc = " ".join(f'<a href="#{_anchor(crate)}">{esc(crate)}</a>' for crate, _ in crates)
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>sizekit report: {esc(matrix)}</title>",
        f"<style>{CSS}</style></head><body>",
        '<header class="top"><h1>Binary size report</h1>',
        f"<p>Matrix <code>{esc(matrix)}</code> &middot; baseline row <code>{esc(results.get('baseline'))}</code> "
        "&middot; % change is each row's final size against the baseline of its crate and target.</p></header>",
        "<main>",
        headline(results, summary),
        "<h2>Summary</h2>",
        table_html(summary),
        f'<nav class="toc">Crates: {toc}</nav>' if len(crates) > 1 else "",
    ]
    body += [crate_section(results, crate, targets, charts, shared) for crate, targets in crates]
    body.append(treemaps_section(snapshot, base))
    body += ['<footer>Written by sizekit from results.json (format version '
             f'{esc(results.get("version"))}). Self-contained: no scripts, fonts or images are fetched.</footer>',
             "</main></body></html>"]
    return "\n".join(b for b in body if b) + "\n"
