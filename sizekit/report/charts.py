"""The HTML report's charts: a bar per row of a crate and target, as inline SVG."""
import html
import math

from ..utils.units import human, pct_text
from .tables import baseline_of, change_pct, groups, ok

esc = html.escape

BASELINE_COLOR = "#d9822b"
ROW_COLOR = "#4c78a8"


def _binary_ticks(limit, most=7):
    """Tick positions at round binary sizes (..., 256K, 512K, 1M, 2M, 5M, 10M, ...) up to limit."""
    steps = [m * u for u in (1, 1024) for m in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)]
    steps += [m * u for u in (1024 ** 2, 1024 ** 3) for m in (1, 2, 5, 10, 20, 50, 100, 200, 500)]
    step = next((s for s in steps if limit / s <= most), None)
    if step is None:
        # Past the table (a foreign results.json's sizes): a power of two, so at most `most` ticks.
        step = 1 << max(0, math.ceil(math.log2(limit / most)))
    return [i * step for i in range(int(limit // step) + 1)]


def _bar_label(cell, base, baseline):
    """The text at a bar's end: its human size and its change (recomputed from the bytes)."""
    if cell["variant"] == baseline:
        return f"{human(cell['final_bytes'])}  (baseline)"
    pct = pct_text(change_pct(cell, base))
    return human(cell["final_bytes"]) if pct == "-" else f"{human(cell['final_bytes'])}  ({pct})"


# Layout of a chart, in SVG user units (pixels at 100%).
WIDTH, ROW, LEFT, RIGHT, TOP, AXIS = 820, 26, 150, 130, 8, 34
FONT = 'font-family="DejaVu Sans, sans-serif" font-size="12"'


def size_chart(cells, baseline):
    """A horizontal bar per row: its final size, the baseline row highlighted, each bar annotated
    with its human size and % change. Rows without a size are named with their status.

    Written as SVG text directly: linear in the rows, and no plotting library to load, so a
    report of thousands of rows takes milliseconds per chart."""
    rows = list(cells)
    base = baseline_of(rows, baseline)
    sizes = [c["final_bytes"] if ok(c) else 0 for c in rows]
    top = max(sizes) or 1
    plot = WIDTH - LEFT - RIGHT
    scale = plot / (top * 1.05)
    height = TOP + ROW * len(rows) + AXIS
    bottom = TOP + ROW * len(rows)
    out = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" '
           f'aria-label="final sizes" {FONT}>']
    for tick in _binary_ticks(top * 1.05):
        x = LEFT + tick * scale
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{bottom}" stroke="#e3e3e3" stroke-width="0.6"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#444">'
                   f'{esc(human(tick) if tick else "0")}</text>')
    for y, (c, n) in enumerate(zip(rows, sizes)):
        mid = TOP + ROW * y + ROW / 2
        color = BASELINE_COLOR if c["variant"] == baseline else ROW_COLOR
        out.append(f'<text x="{LEFT - 6}" y="{mid + 4:.1f}" text-anchor="end" fill="#222">{esc(c["variant"])}</text>')
        width = n * scale
        if width:
            out.append(f'<rect x="{LEFT}" y="{mid - ROW * 0.34:.1f}" width="{width:.1f}" height="{ROW * 0.68:.1f}" '
                       f'fill="{color}"/>')
        label, fill = (_bar_label(c, base, baseline), "#222") if ok(c) else (str(c.get("status", "?")), "#b03a2e")
        out.append(f'<text x="{LEFT + width + 5:.1f}" y="{mid + 4:.1f}" fill="{fill}" style="white-space:pre">'
                   f'{esc(label)}</text>')
    out.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + plot}" y2="{bottom}" stroke="#444"/>')
    out.append(f'<text x="{LEFT + plot / 2:.1f}" y="{height - 2}" text-anchor="middle" fill="#444">final size</text>')
    out.append("</svg>")
    return "\n".join(out)


def make_charts(results):
    """{(crate, target): inline SVG} for every crate and target with at least one sized row."""
    return {(crate, target): size_chart(cells, results.get("baseline"))
            for crate, targets in groups(results) for target, cells in targets if any(ok(c) for c in cells)}
