"""The HTML report's charts: a bar per row of a crate and target, drawn by matplotlib as inline SVG."""
import io
import re

from ..utils.units import human, pct_text
from .tables import baseline_of, change_pct, groups, ok

BASELINE_COLOR = "#d9822b"
ROW_COLOR = "#4c78a8"


def _svg_string(fig, prefix):
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    # Several charts share one page: give every id a per-chart prefix so none collide.
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pattern = re.compile(r'(\bid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
                             + r')(?=["\)])')
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


def _bar_label(cell, base, baseline):
    """The text at a bar's end: its human size and its change (recomputed from the bytes)."""
    if cell["variant"] == baseline:
        return f"{human(cell['final_bytes'])}  (baseline)"
    pct = pct_text(change_pct(cell, base))
    return human(cell["final_bytes"]) if pct == "-" else f"{human(cell['final_bytes'])}  ({pct})"


def size_chart(cells, baseline, prefix="c"):
    """A horizontal bar per row: its final size, the baseline row highlighted, each bar annotated
    with its human size and % change. Rows without a size are named with their status."""
    # matplotlib takes about a second to import: only pages with charts pay for it.
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter

    rows = list(cells)
    base = baseline_of(rows, baseline)
    sizes = [c["final_bytes"] if ok(c) else 0 for c in rows]
    top = max(sizes) or 1
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9,
                                "font.family": ["DejaVu Sans", "sans-serif"]}):
        fig, ax = plt.subplots(figsize=(8.6, 0.36 * len(rows) + 0.75))
        try:
            ys = range(len(rows))
            colors = [BASELINE_COLOR if c["variant"] == baseline else ROW_COLOR for c in rows]
            ax.barh(list(ys), sizes, color=colors, height=0.68)
            for y, c, n in zip(ys, rows, sizes):
                if ok(c):
                    text, color = _bar_label(c, base, baseline), "#222"
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
    for crate, targets in groups(results):
        for target, cells in targets:
            if any(ok(c) for c in cells):
                n += 1
                charts[(crate, target)] = size_chart(cells, results.get("baseline"), prefix=f"c{n}-")
    return charts
