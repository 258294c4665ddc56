"""explore.html: size against speed (or build time), every measured point, the front marked, each
point's settings on hover. One file with inline SVG and no scripts, readable offline."""
import html

from ..utils.units import human
from . import space

W, H, PAD = 760, 420, 60


def _scale(values, lo_px, hi_px):
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return lambda v: lo_px + (v - lo) / span * (hi_px - lo_px)


def page(points, front, title, y_label, y_of, baseline):
    ok = [p for p in points if p["ok"]]
    front_keys = {p["point_key"] for p in front}
    parts = [f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>",
             "<style>body{font:14px sans-serif;margin:2em}circle.front{fill:#c0392b}"
             "circle.other{fill:#95a5a6}text{font:12px sans-serif}</style>",
             f"<h1>{html.escape(title)}</h1>"]
    if not ok:
        parts.append("<p>No point has built and passed its smoke check yet.</p>")
        return "\n".join(parts) + "\n"
    sx = _scale([p["bytes"] for p in ok], PAD, W - 20)
    sy = _scale([y_of(p) for p in ok], H - PAD, 20)
    svg = [f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">',
           f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="#333"/>',
           f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{H - PAD}" stroke="#333"/>',
           f'<text x="{W // 2}" y="{H - 15}" text-anchor="middle">final size (bytes), smaller is left</text>',
           f'<text x="15" y="{H // 2}" transform="rotate(-90 15 {H // 2})" text-anchor="middle">'
           f'{html.escape(y_label)}</text>']
    for v in sorted({min(p["bytes"] for p in ok), max(p["bytes"] for p in ok)}):
        svg.append(f'<text x="{sx(v):.1f}" y="{H - PAD + 18}" text-anchor="middle">{human(v)}</text>')
    for v in sorted({min(y_of(p) for p in ok), max(y_of(p) for p in ok)}):
        svg.append(f'<text x="{PAD - 6}" y="{sy(v):.1f}" text-anchor="end">{v:.4g}</text>')
    for p in sorted(ok, key=lambda p: p["point_key"] in front_keys):
        cls = "front" if p["point_key"] in front_keys else "other"
        vs = f", {(p['bytes'] - baseline) / baseline * 100:+.1f}% vs release" if baseline else ""
        tip = (f"trial {p['number']}: {p['bytes']:,} bytes{vs}; build {p['build_seconds']:.1f} s; "
               f"{y_label} {y_of(p):.4g}; {space.words(p['point'])}")
        svg.append(f'<circle class="{cls}" cx="{sx(p["bytes"]):.1f}" cy="{sy(y_of(p)):.1f}" r="{6 if cls == "front" else 4}">'
                   f"<title>{html.escape(tip)}</title></circle>")
    svg.append("</svg>")
    parts.append("\n".join(svg))
    parts.append(f"<p>{len(ok)} points measured; {len(front)} on the front (red). Hover a point for its settings.</p>")
    return "\n".join(parts) + "\n"
