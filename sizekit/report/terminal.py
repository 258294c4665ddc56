"""Table models as aligned plain text for the terminal (`sizekit check`, `sizekit bloat`)."""


def table_text(table, rule=True):
    """Columns two spaces apart, figures right-aligned, words left; `rule` underlines the header."""
    lines = [[c.title for c in table.columns]] + [[cell.plain() for cell in row.cells] for row in table.rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(table.columns))]

    def fmt(line):
        return "  ".join(x.rjust(w) if col.numeric else x.ljust(w)
                         for x, w, col in zip(line, widths, table.columns)).rstrip()

    out = [fmt(line) for line in lines]
    if rule:
        out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)
