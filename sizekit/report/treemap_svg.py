"""Treemaps for the HTML report: crate, then symbol, as inline SVG, zoomable without a script.

Each treemap is an overview (crates as boxes with their largest symbols inside) whose crate boxes
link to a zoomed view of that crate's symbols; CSS `:target` shows the zoomed view, so the page
stays offline and script-free. A diff treemap sizes each box by the larger of its two sizes and
colours it by what happened: red grew (or added), green shrank (or removed), grey unchanged.

Layout: the squarified treemap (Bruls, Huizing, van Wijk): children in size order, each row
closed when adding one more box would make the row's worst aspect ratio worse.
"""
import html
import zlib

from ..utils.units import count, human, signed_bytes

W, H = 1000, 520
TOP_CRATES = 20
OVERVIEW_SYMBOLS = 5
ZOOM_CRATES = 12
ZOOM_SYMBOLS = 40
HEADER = 15
GREW, SHRANK, SAME = ("#d1493f", "#f3b2ab"), ("#2f9e55", "#a9dcb9"), "#c8ccd1"

CSS = """
.tm { margin:10px 0 22px; }
.tm svg { width:100%; max-width:1000px; height:auto; display:block; border:1px solid var(--line,#d0d7de);
          font:11px system-ui,"DejaVu Sans",sans-serif; }
.tm svg text { pointer-events:none; fill:#111; font-size:11px; }
.tm svg text.s { font-size:10px; }
.tm svg rect { stroke:#fff; stroke-width:.6; }
.tm svg a rect.crate:hover { stroke:#000; stroke-width:2; }
.tm-zoom { display:none; }
.tm-zoom:target { display:block; }
.tm:has(.tm-zoom:target) .tm-overview { display:none; }
.tm .tm-bar { font-size:12.5px; color:var(--muted,#656d76); margin:4px 0; }
.tm-key i { display:inline-block; width:10px; height:10px; margin:0 4px 0 10px; vertical-align:-1px; }
"""


def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


def squarify(values, x, y, w, h):
    """Rectangles (x, y, w, h) for values (sorted largest first) filling the box, in order."""
    total = float(sum(values))
    if total <= 0 or w <= 0 or h <= 0:
        return [(x, y, 0.0, 0.0) for _ in values]
    scale = w * h / total
    areas = [v * scale for v in values]
    out, i = [], 0
    while i < len(areas):
        side = min(w, h)
        row = [areas[i]]
        j = i + 1
        while j < len(areas) and _worst(row + [areas[j]], side) <= _worst(row, side):
            row.append(areas[j])
            j += 1
        s = sum(row)
        thick = s / side if side else 0
        pos = 0.0
        for a in row:
            length = a / thick if thick else 0
            out.append((x + pos, y, length, thick) if w < h else (x, y + pos, thick, length))
            pos += length
        if w < h:
            y, h = y + thick, h - thick
        else:
            x, w = x + thick, w - thick
        i = j
    return out


def _worst(row, side):
    s = sum(row)
    if not s or not side:
        return float("inf")
    lo, hi = min(row), max(row)
    return max(side * side * hi / (s * s), s * s / (side * side * lo)) if lo else float("inf")


def crate_color(name):
    """A stable soft colour per crate name."""
    hue = zlib.crc32(name.encode("utf-8", "replace")) % 360
    return f"hsl({hue},45%,72%)"


def change_color(old, new):
    """Red grew, green shrank, grey unchanged; the strong shade for added, removed or a change of 25% or more."""
    strong = not old or not new or abs(new - old) * 4 >= old
    if new > old:
        return GREW[0] if strong else GREW[1]
    if new < old:
        return SHRANK[0] if strong else SHRANK[1]
    return SAME


def _label(x, y, w, h, text, size=11):
    chars = int((w - 6) / (size * 0.6))
    if chars < 3 or h < size + 3:
        return ""
    if len(text) > chars:
        text = text[:chars - 1] + "…"
    cls = "" if size == 11 else ' class="s"'
    return f'<text{cls} x="{x + 3:.1f}" y="{y + size:.1f}">{esc(text)}</text>'


def _rect(x, y, w, h, fill, title, cls=""):
    c = f' class="{cls}"' if cls else ""
    return (f'<rect{c} x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}">'
            f'<title>{esc(title)}</title></rect>')


def _title(name, item):
    old, new = item.get("old"), item["new"]
    if old is None:
        return f"{_cut(name)}\n{count(new)} bytes ({human(new)})"
    return f"{_cut(name)}\n{count(old)} → {count(new)} bytes ({signed_bytes(new - old)})"


def _cut(name, limit=160):
    return name if len(name) <= limit else name[:limit - 1] + "…"


def _weight(item):
    return max(item["new"], item.get("old") or 0)


def _fill(item, crate):
    return crate_color(crate) if item.get("old") is None else change_color(item["old"], item["new"])


def _boxes(items, x, y, w, h, cap):
    """The largest cap items (and one "other" box for the rest) laid out in the box."""
    items = sorted(items, key=lambda it: -_weight(it))
    shown, rest = items[:cap], items[cap:]
    if rest:
        other = {"name": f"{len(rest)} more", "new": sum(i["new"] for i in rest), "other": True}
        if any(i.get("old") is not None for i in rest):
            other["old"] = sum(i.get("old") or 0 for i in rest)
        shown = shown + [other]
    shown = [it for it in shown if _weight(it) > 0]
    return list(zip(shown, squarify([_weight(it) for it in shown], x, y, w, h)))


def treemap_html(tid, crates, caption):
    """One zoomable treemap. crates: [{"name", "new", "old"?, "symbols": [{"name", "new", "old"?}]}]."""
    parts = [f'<div class="tm" id="{tid}"><p class="tm-bar">{caption}</p><div class="tm-overview">',
             f'<svg viewBox="0 0 {W} {H}" role="img" class="treemap">']
    zooms = []
    for k, (crate, (x, y, w, h)) in enumerate(_boxes(crates, 0, 0, W, H, TOP_CRATES)):
        fill = _fill(crate, crate["name"]) if crate.get("old") is not None else crate_color(crate["name"])
        box = _rect(x, y, w, h, fill, _title(crate["name"], crate), "crate")
        zoomable = not crate.get("other") and k < ZOOM_CRATES and crate.get("symbols")
        inner = []
        if not crate.get("other") and w > 30 and h > HEADER + 12:
            for sym, (sx, sy, sw, sh) in _boxes(crate.get("symbols") or [], x + 2, y + HEADER, w - 4,
                                                h - HEADER - 2, OVERVIEW_SYMBOLS):
                inner.append(_rect(sx, sy, sw, sh, "rgba(255,255,255,.35)" if crate.get("old") is None
                                   else _fill(sym, crate["name"]), _title(sym["name"], sym)))
        label = _label(x, y, w, h, f"{crate['name']} {human(crate['new'])}")
        group = box + "".join(inner) + label
        parts.append(f'<a href="#{tid}-z{k}">{group}</a>' if zoomable else group)
        if zoomable:
            zooms.append(_zoom(tid, k, crate))
    parts.append("</svg></div>")
    parts += zooms
    parts.append("</div>")
    return "".join(parts)


def _zoom(tid, k, crate):
    out = [f'<div class="tm-zoom" id="{tid}-z{k}"><p class="tm-bar"><a href="#{tid}">← all crates</a> · '
           f'<b>{esc(crate["name"])}</b>: {esc(_title(crate["name"], crate).split(chr(10))[1])}</p>',
           f'<svg viewBox="0 0 {W} {H}" role="img" class="treemap">']
    for sym, (x, y, w, h) in _boxes(crate["symbols"], 0, 0, W, H, ZOOM_SYMBOLS):
        fill = _fill(sym, crate["name"]) if crate.get("old") is not None else crate_color(crate["name"])
        out.append(_rect(x, y, w, h, fill, _title(sym["name"], sym)))
        out.append(_label(x, y, w, h, sym["name"], 10))
    out.append("</svg></div>")
    return "".join(out)


def legend_html(diff):
    if not diff:
        return ('<p class="note tm-key">Box area is bytes in the unstripped artifact; click a crate to zoom '
                "into its symbols, and &larr; to come back.</p>")
    return ('<p class="note tm-key">Box area is the larger of the two sizes. '
            f'<i style="background:{GREW[0]}"></i>grew or added<i style="background:{SHRANK[0]}"></i>shrank or '
            f'removed<i style="background:{SAME}"></i>unchanged. Click a crate to zoom into its symbols.</p>')
