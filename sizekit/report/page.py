"""The HTML report: one self-contained page (inline CSS, inline SVG charts, no network assets).

`write_html(output_dir, results)` writes `<output_dir>/reports/index.html`.
`render_html(results, charts)` returns the page; `charts` maps (crate, target) to an inline
`<svg ...>` string or to an image file name relative to the page (see `make_charts`).
Every piece of text that comes from the user's files (crate names, labels, reasons, paths) goes
through `html.escape`.
"""
import html
import os
import re

from ..utils.fsutil import atomic_write_text
from ..plan.layout import Layout
from .markdown import _pct, crates_table, overhead_table, runs, targets_table
from ..utils.units import human

BASELINE_COLOR = "#d9822b"
ROW_COLOR = "#4c78a8"
TOP_CRATES = 12


def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


# ---------------------------------------------------------------- grouping helpers

def _groups(results):
    """[(crate, [(target, [cells in table order])])] in results order."""
    out = {}
    for c in results["cells"]:
        out.setdefault(c["crate"], {}).setdefault(c["target"], []).append(c)
    return [(crate, list(by_target.items())) for crate, by_target in out.items()]


def _ok(cell):
    return cell.get("status") == "ok" and isinstance(cell.get("final_bytes"), (int, float))


def is_upx_row(cell):
    """Whether the row's last step is UPX (from its stages; from its label when stages are absent)."""
    stages = cell.get("stages") or []
    if stages:
        return stages[-1].get("step") == "upx"
    return bool(re.search(r"\bupx\b", str(cell.get("label") or "")))


def upx_error_pct(cell):
    """(estimate - real) / real, in percent, for a UPX row with an estimate; else None."""
    est = cell.get("upx_estimate_bytes")
    if not (_ok(cell) and is_upx_row(cell) and est and cell["final_bytes"]):
        return None
    return (est - cell["final_bytes"]) * 100.0 / cell["final_bytes"]


def _attribution_row(results, cells):
    """The row whose crate attribution is shown: the baseline, else the first row that has one."""
    base = next((c for c in cells if c["variant"] == results.get("baseline")), None)
    if base is not None and base.get("crates"):
        return base
    return next((c for c in cells if c.get("crates")), None)


# ---------------------------------------------------------------- charts

def _svg_string(fig, prefix):
    import io
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # Several charts share one page: give every id a per-chart prefix so none collide.
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pattern = re.compile(r'(\bid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r')(?=["\)])')
        svg = pattern.sub(lambda m: m.group(1) + prefix + m.group(2), svg)
    # Scale with the page instead of a fixed pixel size.
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r'<svg\1', svg, count=1)
    return svg.replace("<svg", '<svg class="chart" role="img"', 1)


def _binary_ticks(limit, most=7):
    """Tick positions at round binary sizes (..., 256K, 512K, 1M, 2M, 5M, 10M, ...) up to limit."""
    steps = [m * u for u in (1, 1024) for m in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)]
    steps += [m * u for u in (1024 ** 2, 1024 ** 3) for m in (1, 2, 5, 10, 20, 50, 100, 200, 500)]
    step = next((s for s in steps if limit / s <= most), steps[-1])
    return [i * step for i in range(int(limit // step) + 1)]


def size_chart(cells, baseline, prefix="c"):
    """A horizontal bar per row: its final size, the baseline row highlighted, each bar annotated
    with its human size and % change. Rows without a size are named with their status."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter

    rows = list(cells)
    sizes = [c["final_bytes"] if _ok(c) else 0 for c in rows]
    top = max(sizes) or 1
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9,
                                "font.family": ["DejaVu Sans", "sans-serif"]}):
        fig, ax = plt.subplots(figsize=(8.6, 0.36 * len(rows) + 0.75))
        try:
            ys = range(len(rows))
            colors = [BASELINE_COLOR if c["variant"] == baseline else ROW_COLOR for c in rows]
            ax.barh(list(ys), sizes, color=colors, height=0.68)
            for y, c, n in zip(ys, rows, sizes):
                if _ok(c):
                    pct = "baseline" if c["variant"] == baseline else _pct(c.get("change_pct"))
                    text = human(n) if pct == "-" else f"{human(n)}  ({pct})"
                    color = "#222"
                else:
                    text, color = str(c.get("status", "?")), "#b03a2e"
                ax.text(n + top * 0.01, y, text, va="center", ha="left", fontsize=8.5, color=color)
            ax.set_yticks(list(ys))
            ax.set_yticklabels([c["variant"] for c in rows])
            ax.invert_yaxis()
            ax.set_xlim(0, top * 1.22)
            ax.xaxis.set_major_locator(FixedLocator(_binary_ticks(top * 1.15)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: human(v) if v else "0"))
            ax.set_xlabel("final size")
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.grid(axis="x", color="#e3e3e3", linewidth=0.6)
            ax.set_axisbelow(True)
            ax.margins(y=0.02)
            fig.tight_layout(pad=0.4)
            return _svg_string(fig, prefix)
        finally:
            plt.close(fig)


def make_charts(results):
    """{(crate, target): inline SVG} for every crate and target with at least one sized row."""
    charts = {}
    n = 0
    for crate, targets in _groups(results):
        for target, cells in targets:
            if any(_ok(c) for c in cells):
                n += 1
                charts[(crate, target)] = size_chart(cells, results.get("baseline"), prefix=f"c{n}-")
    return charts


# ---------------------------------------------------------------- HTML pieces

_NUM = re.compile(r"^[-+]?[\d,.]+[%x]?( \(|$)|^[-+]?\d[\d,.]*[BKMG]$")


def _td(text, cls=None, raw=False, colspan=None):
    attrs = (f' class="{cls}"' if cls else "") + (f' colspan="{colspan}"' if colspan else "")
    return f"<td{attrs}>{text if raw else esc(text)}</td>"


def _md_inline(text):
    """Escape a markdown table cell, turning `code` spans into <code>."""
    parts = text.split("`")
    return "".join(f"<code>{esc(p)}</code>" if i % 2 else esc(p) for i, p in enumerate(parts))


def md_table_rows(markdown):
    """(header, rows) of a markdown table as sizekit.report's `_table` writes it."""
    lines = [l for l in markdown.strip().splitlines() if l.startswith("|")]
    if len(lines) < 2:
        return [], []

    def cells(line):
        inner = line.strip()[1:-1]
        return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]

    return cells(lines[0]), [cells(line) for line in lines[2:]]


def md_table_to_html(markdown):
    """An HTML table from the markdown tables sizekit.report makes (so the logic is not repeated)."""
    header, rows = md_table_rows(markdown)
    if not header:
        return ""
    numeric = {i for i in range(1, len(header))
               if all(_NUM.search(r[i]) or r[i] == "-" for r in rows if i < len(r))}
    head = "".join(f'<th class="num">{_md_inline(h)}</th>' if i in numeric else f"<th>{_md_inline(h)}</th>"
                   for i, h in enumerate(header))
    body = []
    for row in rows:
        tds = [f'<td class="{"num" if i in numeric else "key" if i == 0 else "text"}">{_md_inline(c)}</td>'
               for i, c in enumerate(row)]
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _head(names, num=()):
    return "".join(f'<th class="num">{esc(h)}</th>' if i in num else f"<th>{esc(h)}</th>"
                   for i, h in enumerate(names))


def _status_badge(status):
    return f'<span class="badge {esc(status)}">{esc(status)}</span>'


def _runs_cell(cell):
    r = runs(cell)
    cls = "ok" if r == "ok" else ("muted" if r == "-" else "bad")
    return _td(r, cls=f"runs {cls}")


def _label_html(label):
    """The modifications text, each "+"-separated part kept on one line."""
    parts = str(label if label is not None else "-").split(" + ")
    return " + ".join(f'<span class="nw">{esc(p)}</span>' for p in parts)


def seed_table(results, cells):
    """build | modifications | size (bytes) | size (human) | % change | UPX (est.) | runs."""
    baseline = results.get("baseline")
    head = _head(["build", "modifications", "size (bytes)", "size (human)", "% change", "UPX (est.)", "runs"],
                 num=range(2, 6))
    rows = []
    for c in cells:
        cls = ' class="baseline"' if c["variant"] == baseline else ""
        tds = [_td(c["variant"], cls="variant"), _td(_label_html(c.get("label")), raw=True)]
        if _ok(c):
            est = c.get("upx_estimate_bytes")
            pct = _pct(c.get("change_pct"))
            pct_cls = "num " + ("down" if pct.startswith("-") else "up" if pct.startswith("+") else "")
            tds += [_td(f"{c['final_bytes']:,}", cls="num"), _td(human(c["final_bytes"]), cls="num"),
                    _td(pct, cls=pct_cls.strip()), _td(human(est) if est else "-", cls="num")]
        else:
            reason = esc(c.get("reason") or "no reason recorded")
            log = f'<div class="log">log: <code>{esc(c["log"])}</code></div>' if c.get("log") else ""
            tail = ""
            if c.get("tail"):
                tail = f'<details><summary>log tail</summary><pre>{esc(c["tail"])}</pre></details>'
            tds.append(_td(f'{_status_badge(c.get("status"))} <span class="reason">{reason}</span>{log}{tail}',
                           cls="failure", raw=True, colspan=4))
        tds.append(_runs_cell(c))
        rows.append(f"<tr{cls}>{''.join(tds)}</tr>")
    return f'<table class="grid seed"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def upx_table(cells):
    """Real UPX size against the estimate, for rows whose last step is UPX."""
    rows = []
    for c in cells:
        err = upx_error_pct(c)
        if err is None:
            continue
        cls = "good" if abs(err) <= 5 else ("fair" if abs(err) <= 15 else "bad")
        rows.append("<tr>" + _td(c["variant"], cls="variant") + _td(f"{c['final_bytes']:,} ({human(c['final_bytes'])})", cls="num")
                    + _td(f"{c['upx_estimate_bytes']:,} ({human(c['upx_estimate_bytes'])})", cls="num")
                    + _td(f"{err:+.1f}%", cls=f"num err {cls}") + "</tr>")
    if not rows:
        return ""
    head = _head(["build", "UPX (real)", "UPX (estimate)", "estimate error"], num=(1, 2, 3))
    return (f'<table class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            '<p class="note">The estimate predicts the packed size without running UPX; '
            "the error is (estimate &minus; real) / real.</p>")


def attribution_table(results, cells):
    """sizekit.report's biggest-crates table of the baseline row, with a bar per crate."""
    row = _attribution_row(results, cells)
    if row is None:
        return ('<p class="note">No per-crate attribution in these results '
                "(it is measured on the unstripped artifact).</p>")
    header, rows = md_table_rows(crates_table(row["crates"], top=TOP_CRATES))
    shares = [float(r[0].rstrip("%")) for r in rows[:-1] if r[0].rstrip("%").replace(".", "", 1).isdigit()]
    biggest = max(shares or [1.0]) or 1.0
    body = []
    total_note = ""
    for i, (share, nbytes, size, name) in enumerate(rows):
        last = i == len(rows) - 1
        summary = last or name.startswith("and ")
        meter = ""
        if not summary:
            width = max(0.5, 100.0 * float(share.rstrip("%")) / biggest)
            meter = f'<div class="meter"><span style="width:{width:.1f}%"></span></div>'
        cls = ' class="total"' if last else (' class="muted"' if summary else "")
        if last:
            m = re.match(r"total \((.*)\)$", name)
            total_note, name = (m.group(1) if m else name), "total"
        body.append(f"<tr{cls}>" + _td(name, cls=None if summary else "variant") + _td(nbytes, cls="num")
                    + _td(size, cls="num") + _td(share, cls="num") + _td(meter, raw=True) + "</tr>")
    head = _head([header[3], header[1], header[2], header[0], ""], num=(1, 2, 3))
    which = "the baseline row" if row["variant"] == results.get("baseline") else "row"
    return (f'<p class="note">Biggest crates of {which} <code>{esc(row["variant"])}</code>, '
            f"{len(row['crates'])} crates ({esc(total_note)}).</p>"
            f'<table class="grid attribution"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _chart_html(chart, crate, target):
    if not chart:
        return '<p class="note">No row of this target has a size to chart.</p>'
    if chart.lstrip().startswith("<svg"):
        return f'<figure class="chart">{chart}</figure>'
    return f'<figure class="chart"><img src="{esc(chart)}" alt="{esc(f"sizes of {crate} on {target}")}"></figure>'


def _anchor(*parts):
    return "s-" + re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(parts)).strip("-")


def _summary_rows(results):
    """Per crate and target: baseline, smallest row, reduction, row status counts."""
    baseline = results.get("baseline")
    rows = []
    for crate, targets in _groups(results):
        for target, cells in targets:
            base = next((c for c in cells if c["variant"] == baseline and _ok(c)), None)
            sized = [c for c in cells if _ok(c)]
            best = min(sized, key=lambda c: c["final_bytes"]) if sized else None
            bad = [c for c in cells if c.get("status") != "ok"]
            rows.append((crate, target, base, best, len(sized), bad))
    return rows


def summary_section(results):
    body = []
    for crate, target, base, best, n_ok, bad in _summary_rows(results):
        link = f'<a href="#{_anchor(crate, target)}">{esc(crate)}</a>'
        base_txt = f"{human(base['final_bytes'])}" if base else "-"
        if best and base:
            red = (best["final_bytes"] - base["final_bytes"]) * 100.0 / base["final_bytes"]
            red_txt = f"{red:+.1f}%"
        else:
            red_txt = "-"
        best_txt = (f'<code>{esc(best["variant"])}</code> {human(best["final_bytes"])}' if best else "-")
        status = f'<span class="ok">{n_ok} ok</span>'
        counts = {}
        for c in bad:
            counts[c.get("status")] = counts.get(c.get("status"), 0) + 1
        status += "".join(f", {_status_badge(s)}&nbsp;{n}" for s, n in counts.items())
        body.append("<tr>" + _td(link, raw=True) + _td(target, cls="target") + _td(base_txt, cls="num")
                    + _td(best_txt, cls="num", raw=True) + _td(red_txt, cls="num down" if red_txt.startswith("-") and red_txt != "-" else "num")
                    + _td(status, raw=True) + "</tr>")
    head = _head(["crate", "target", f"baseline ({results.get('baseline')})", "smallest", "vs baseline", "rows"],
                 num=(2, 3, 4))
    return f'<table class="grid summary"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _headline(results):
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
    best = [(b, base) for _, _, base, b, _, _ in _summary_rows(results) if b and base]
    if best:
        red = max((base["final_bytes"] - b["final_bytes"]) * 100.0 / base["final_bytes"] for b, base in best)
        cards.append((f"{red:.0f}%", "largest cut vs baseline"))
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
table.grid td.key { white-space:nowrap; font-family:ui-monospace,"DejaVu Sans Mono",monospace; font-size:12.5px; }
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


def crate_section(results, crate, targets, charts):
    baseline = results.get("baseline")
    parts = [f'<section class="crate" id="{_anchor(crate)}"><h2>{esc(crate)}</h2>']
    for target, cells in targets:
        parts.append(f'<h3 id="{_anchor(crate, target)}"><span class="tgt">{esc(target)}</span></h3>')
        parts.append(seed_table(results, cells))
        if not any(_ok(c) for c in cells):
            parts.append('<p class="note">No row of this target was built, so there is nothing to chart.</p>')
            continue
        parts.append("<h4>Final size of each row</h4>")
        parts.append(f'<p class="legend"><i style="background:{BASELINE_COLOR}"></i>baseline '
                     f'<code>{esc(baseline)}</code><i style="background:{ROW_COLOR}"></i>other rows; '
                     "labels give the size and the change against the baseline.</p>")
        parts.append(_chart_html(charts.get((crate, target)), crate, target))
        upx = upx_table(cells)
        attribution = attribution_table(results, cells)
        parts.append('<div class="cols">')
        parts.append("<div><h4>UPX: estimate against the real size</h4>"
                     + (upx or '<p class="note">No row of this target ends with UPX; the table above gives '
                        "the estimate for every row.</p>") + "</div>")
        parts.append(f"<div><h4>Where the bytes go (crates)</h4>{attribution}</div>")
        parts.append("</div>")
    cells_all = [c for _, cells in targets for c in cells]
    if len(targets) > 1:
        parts.append("<h3>Targets compared</h3>")
        parts.append(md_table_to_html(targets_table(cells_all, [t for t, _ in targets])))
    refs = [r for r in results.get("references") or [] if r.get("crate") == crate]
    if refs:
        parts.append("<h3>Size overhead against the reference</h3>")
        parts.append('<p class="note">The stripped baseline row against the stripped reference '
                     f"implementation ({esc(refs[0].get('name'))}).</p>")
        parts.append(md_table_to_html(overhead_table(results, cells_all, refs)))
    parts.append("</section>")
    return "\n".join(parts)


def render_html(results, charts=None):
    """The whole report page as a string. `charts` maps (crate, target) to an inline SVG string or
    an image path relative to the page; None draws them with `make_charts`."""
    if charts is None:
        charts = make_charts(results)
    groups = _groups(results)
    matrix = results.get("matrix") or "matrix"
    toc = " ".join(f'<a href="#{_anchor(crate)}">{esc(crate)}</a>' for crate, _ in groups)
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
        _headline(results),
        "<h2>Summary</h2>",
        summary_section(results),
        f'<nav class="toc">Crates: {toc}</nav>' if len(groups) > 1 else "",
    ]
    body += [crate_section(results, crate, targets, charts) for crate, targets in groups]
    body += ['<footer>Written by sizekit from results.json (format version '
             f'{esc(results.get("version"))}). Self-contained: no scripts, fonts or images are fetched.</footer>',
             "</main></body></html>"]
    return "\n".join(b for b in body if b) + "\n"


def html_path(output_dir):
    return Layout(output_dir).report("index.html")


def write_html(output_dir, results):
    """Write `<output_dir>/reports/index.html` (charts inline) and return its path."""
    output = getattr(output_dir, "output", output_dir)
    path = html_path(output)
    atomic_write_text(path, render_html(results, make_charts(results)))
    return path
