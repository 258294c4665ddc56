"""`sizekit fleet MATRIX NAME`: a fleet's bytes, the bytes its members duplicate, and the bound on
what sharing them could save (sizekit.results.fleet; docs/FLEET.md)."""
import json
import os
import sys

from ..config.load import load_matrix
from ..report.tables import Cell, Table, columns
from ..report.terminal import table_text
from ..results.fleet import measure_fleet
from ..results.results_file import load_results
from ..utils.errors import UsageError
from ..utils.units import count, human, percent, share_text


def cmd_fleet(args):
    if args.n < 1:
        raise UsageError(f"-n must be at least 1, not {args.n}")
    matrix = load_matrix(args.matrix)
    fleet = matrix.fleets.get(args.name)
    if fleet is None:
        known = ", ".join(matrix.fleets) or "none: add a fleets: block (docs/FLEET.md)"
        raise UsageError(f"{args.matrix}: no fleet named {args.name!r}; its fleets: {known}")
    results_path = args.results or os.path.join(matrix.output, "results.json")
    figures = measure_fleet(load_results(results_path), results_path, fleet)
    if args.json:
        json.dump(figures.to_json(symbols=args.n), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    print(fleet_text(figures, args.n))
    return 0


def fleet_text(figures, n):
    total = figures.total_bytes
    budget = ""
    if figures.budget is not None:
        used = percent(total, figures.budget)
        budget = f"; budget {human(figures.budget)}, {share_text(used)} used" + (" (OVER)" if total > figures.budget else "")
    lines = [f"fleet {figures.name}: {len(figures.members)} members, {total:,} bytes ({human(total)}){budget}"]
    members = Table("members", columns(("Final bytes", "bytes"), ("Code and data", "bytes"), ("Duplicated", "bytes"),
                                       "Member"))
    for m in figures.members:
        libs = "".join(f" (+ {lib['name']}, {lib['bytes']:,} bytes, shipped once)" for lib in m["shared_libraries"])
        members.add([Cell(count(m["final_bytes"]), m["final_bytes"]), Cell(count(m["code_bytes"]), m["code_bytes"]),
                     Cell(count(m["duplicated_bytes"]), m["duplicated_bytes"]), Cell(m["cell"] + libs)])
    lines.append(table_text(members, rule=False))
    by_name, by_bytes = figures.by_match("name"), figures.by_match("bytes")
    lines.append(f"duplicated: {figures.duplicated_bytes:,} bytes in {len(figures.groups):,} groups of copies "
                 f"({by_name['duplicated']:,} matched by name, {by_bytes['duplicated']:,} by identical bytes)")
    lines.append(f"sharing could save at most {figures.saving_bound:,} bytes "
                 f"({share_text(percent(figures.saving_bound, total))} of the fleet's bytes): "
                 f"{figures.code_saving:,} of duplicated code and data (one copy of each group stays) and "
                 f"{figures.overhead_saving:,} outside every symbol (headers, unwind tables, string "
                 f"literals, ...) of every member but the largest)")
    crates = Table("crates", columns(("Could save", "bytes"), ("Duplicated", "bytes"), "Crate"))
    rows = list(figures.crates.items())
    for crate, v in rows[:n]:
        crates.add([Cell(count(v["saving"]), v["saving"]), Cell(count(v["duplicated"]), v["duplicated"]), Cell(crate)])
    if rows[n:]:
        crates.add([Cell(count(sum(v["saving"] for _, v in rows[n:]))), Cell(""),
                    Cell(f"And {len(rows) - n} more crates. Use -n N to show more.")], "rest")
    lines.append(table_text(crates, rule=False))
    syms = Table("symbols", columns(("Could save", "bytes"), ("Copies", "bytes"), "Match", "Crate", "Symbol"))
    for g in figures.groups[:n]:
        syms.add([Cell(count(g.saving), g.saving), Cell(str(len(g.copies)), len(g.copies)), Cell(g.match),
                  Cell(g.crate), Cell(g.name if g.names == 1 else f"{g.name} (+{g.names - 1} other names)")])
    lines.append(table_text(syms, rule=False))
    for a in figures.alternatives:
        if a["total_bytes"] is None:
            lines.append(f"alternative {a['name']}: not built: {a['reason']}")
        else:
            delta = a["total_bytes"] - total
            lines.append(f"alternative {a['name']} ({len(a['cells'])} cells): {a['total_bytes']:,} bytes, "
                         f"{delta:+,} against the separate files; smoke checks {a['smoke']}")
    return "\n".join(lines)


def register_fleet(sub):
    p = sub.add_parser("fleet", description="A fleet's bytes (the matrix's fleets: block), the bytes its members "
                                            "ship twice, per crate and per symbol, and an upper bound on what sharing "
                                            "them could save. Reads the matrix's results.json and each member's "
                                            "unstripped build file.")
    p.add_argument("matrix", metavar="MATRIX")
    p.add_argument("name", metavar="NAME", help="the fleet's name in the matrix")
    p.add_argument("--results", metavar="PATH", help="results.json to read (default: the matrix's output folder's)")
    p.add_argument("--json", action="store_true", help="JSON: members, totals, crates and the N largest groups")
    p.add_argument("-n", type=int, default=10, metavar="N", help="crates and symbols to show (default 10)")
    p.set_defaults(func=cmd_fleet)
