"""`sizekit check --max-growth LIMIT --base OLD`: the cells that grew, against the limit."""
from ..results.compare import growth_over
from ..utils.units import count, pct_change, pct_text, signed_bytes
from .tables import Cell, Table, columns
from .terminal import table_text


def growth_report(diff, limit, base_shown, current_shown):
    over = growth_over(diff, limit)
    grew = [c for c in diff["cells"] if (c["delta_bytes"] or 0) > 0]
    over_ids = {id(c) for c in over}      # `c in over` compares dicts: quadratic over many cells
    table = Table("growth", columns(("crate", "name"), "target", ("variant", "name"), ("base", "bytes"),
                                    ("now", "bytes"), ("growth", "bytes"), ("%", "pct"), "status"))
    for c in grew:
        pct = pct_change(c["new_bytes"], c["old_bytes"])
        table.add([Cell(c["crate"]), Cell(c["target"]), Cell(c["variant"]), Cell(count(c["old_bytes"]), c["old_bytes"]),
                   Cell(count(c["new_bytes"]), c["new_bytes"]), Cell(signed_bytes(c["delta_bytes"]), c["delta_bytes"]),
                   Cell(pct_text(pct), pct), Cell("OVER" if id(c) in over_ids else "OK")])
    lines = [table_text(table)] if grew else []
    checked = sum(1 for c in diff["cells"] if c["delta_bytes"] is not None)
    lost = [c for c in diff["cells"] if c["change"] == "changed status" and c["new_status"] != "ok"]
    lines += [f"- {c['crate']}/{c['target']}/{c['variant']}: was {c['old_status']}, now {c['new_status']}; "
              "not checked" for c in lost]
    lines.append(f"{len(over)} of {checked} cells grew by more than {limit.text()} "
                 f"({current_shown} against {base_shown})")
    return "\n".join(lines) + "\n"
