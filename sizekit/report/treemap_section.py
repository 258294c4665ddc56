"""The report page's treemap section: one treemap per artifact of a snapshot (cells of one build
share it), and with a base snapshot one diff treemap per cell whose symbols changed."""
from ..elf.demangle import UNKNOWN
from .treemap_svg import CSS, esc, legend_html, treemap_html

OVERHEAD = f"{UNKNOWN} padding, alignment"


def _key(cell):
    return (cell["crate"], cell["target"], cell["variant"])


def _groups(snapshot):
    """[(artifact index, [cells using it])] in cell order."""
    out: dict = {}
    for i, cell in enumerate(snapshot.results["cells"]):
        a = snapshot.cell_artifacts[i] if i < len(snapshot.cell_artifacts) else None
        if a is not None:
            out.setdefault(a, []).append(cell)
    return list(out.items())


def crate_items(table):
    crates: dict = {}
    for name, crate, size in zip(table.name, table.crate, table.size):
        c = crates.setdefault(crate, {"name": crate, "new": 0, "symbols": []})
        c["new"] += size
        c["symbols"].append({"name": name, "new": size})
    if table.overhead:
        crates[OVERHEAD] = {"name": OVERHEAD, "new": table.overhead, "symbols": []}
    return list(crates.values())


def diff_items(old, new):
    """Crates with old and new bytes; symbols paired as the diff pairs them."""
    from ..results.symdiff import match   # numpy: only pages with a base snapshot
    pairs, gone, born = match(old, new)
    crates: dict = {}

    def add(crate, name, a, b):
        c = crates.setdefault(crate, {"name": crate, "new": 0, "old": 0, "symbols": []})
        c["old"] += a
        c["new"] += b
        c["symbols"].append({"name": name, "old": a, "new": b})

    for i, j, _ in pairs:
        add(new.crate[j], new.name[j], old.size[i], new.size[j])
    for i in gone:
        add(old.crate[i], old.name[i], old.size[i], 0)
    for j in born:
        add(new.crate[j], new.name[j], 0, new.size[j])
    if old.overhead or new.overhead:
        crates[OVERHEAD] = {"name": OVERHEAD, "old": old.overhead, "new": new.overhead, "symbols": []}
    return list(crates.values())


def _names(cells):
    first = cells[0]
    variants = ", ".join(f"<code>{esc(c['variant'])}</code>" for c in cells)
    return f"<b>{esc(first['crate'])}</b> · {esc(first['target'])} · {variants}"


def treemaps_section(snapshot, base=None):
    """The HTML of the treemap section ("" when the snapshot has no symbols)."""
    if snapshot is None or not snapshot.tables:
        return ""
    parts = [f"<style>{CSS}</style>", '<section id="treemaps"><h2>Treemaps: where the bytes go</h2>']
    if base is not None and base.tables:
        parts += ['<h3 id="treemaps-diff">Against the base</h3>', legend_html(True)]
        old_of = {_key(c): base.table_of(i) for i, c in enumerate(base.results["cells"])}
        shown, n, same = set(), 0, []
        for a, cells in _groups(snapshot):
            new = snapshot.tables[a]
            for cell in cells:
                old = old_of.get(_key(cell))
                if old is None or (id(old), a) in shown:
                    continue
                shown.add((id(old), a))
                n += 1
                items = diff_items(old, new)
                if all(s["old"] == s["new"] for i in items for s in i["symbols"] + [i]):
                    same.append(cell)
                    continue
                delta = sum(i["new"] - i["old"] for i in items)
                parts.append(treemap_html(f"tmd{n}", items, f"{_names([cell])}: {delta:+,} bytes in the "
                                                             "unstripped artifact"))
        if same:
            parts.append(f'<p class="note">{len(same)} more cell(s) have the same symbols as the base: '
                         + ", ".join(f"<code>{esc(c['variant'])}</code>" for c in same) + ".</p>")
        elif not n:
            parts.append('<p class="note">No cell of the base has symbols to compare with.</p>')
    parts += ["<h3>This build</h3>", legend_html(False)]
    for n, (a, cells) in enumerate(_groups(snapshot), 1):
        table = snapshot.tables[a]
        total = sum(table.size) + table.overhead
        parts.append(treemap_html(f"tm{n}", crate_items(table),
                                  f"{_names(cells)}: {total:,} bytes in {len(table.sections)} sections"))
    parts.append("</section>")
    return "\n".join(parts)
