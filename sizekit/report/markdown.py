"""Markdown and CSV reports from results.json: a table per crate and target (the seeds' format)."""
import csv
import io

from .fleet_tables import alternatives_table, fleet_members_table, fleets_table
from .tables import (all_crates_tables, attribution_failure, baseline_of, cache_line, changes, crates_table,
                     groups, overhead_table, runs, seed_table, targets_table)


def _md_cell(cell):
    text = cell.text + (" " if cell.text and cell.code else "") + (f"`{cell.code}`" if cell.code else "")
    return text.replace("|", "\\|")


def table_markdown(table):
    """A table model as a GitHub markdown table."""
    out = ["| " + " | ".join(c.title for c in table.columns) + " |",
           "|" + "|".join(" --- " for _ in table.columns) + "|"]
    out += ["| " + " | ".join(_md_cell(c) for c in row.cells) + " |" for row in table.rows]
    return "\n".join(out)


def failure_notes(table):
    """The list under a seed table saying why each row without a size has none."""
    notes = []
    for row in table.rows:
        f = row.failure
        if f is not None:
            notes.append(f"- `{row.cells[0].text}` {f.status}: {f.reason}" + (f" (log: `{f.log}`)" if f.log else ""))
    return notes


def crate_markdown(results, crate, targets=None, shared=None):
    """The markdown report of one crate: one size table per target. targets is the crate's
    entry of groups(results), when the caller has it (so many crates cost one grouping)."""
    if targets is None:
        targets = next((t for name, t in groups(results) if name == crate), [])
    targets = dict(targets)
    cells = [c for cs in targets.values() for c in cs]
    parts = [f"# {crate}", "",
             f"Sizes of the final artifact of each row; % change is against `{results['baseline']}`."]
    for target, tcells in targets.items():
        table = shared.seed(tcells) if shared else seed_table(results, tcells)
        parts += ["", f"## {target}", "", table_markdown(table)]
        notes = failure_notes(table)
        if notes:
            parts += [""] + notes
    for target, tcells in targets.items():
        base = baseline_of(tcells, results["baseline"])
        failure = attribution_failure(results, tcells)
        if base and base.get("crates"):
            parts += ["", f"## Biggest crates: {target}, `{base['variant']}`", "",
                      table_markdown(crates_table(base["crates"]))]
        elif failure:
            parts += ["", f"## Biggest crates: {target}", "", failure[0].upper() + failure[1:] + "."]
    if len(targets) > 1:
        parts += ["", "## Targets compared", "", table_markdown(targets_table(cells, list(targets)))]
    line = cache_line(cells)
    if line:
        parts += ["", line]
    refs = [r for r in results.get("references", []) if r["crate"] == crate]
    if refs:
        parts += ["", "## Size overhead against the reference", "",
                  table_markdown(overhead_table(results, cells, refs))]
    return "\n".join(parts) + "\n"


def crates_markdown(results):
    """The seed's all-plugins table: every crate's baseline size and stripped size, per target."""
    parts = ["# All crates", "", f"Row `{results['baseline']}` of each crate, as built and stripped."]
    for target, table in all_crates_tables(results):
        parts += ["", f"## {target}", "", table_markdown(table)]
    if results.get("fleets"):
        parts += ["", "## Fleets", "", "The cells each image ships together (`fleets:` in the matrix): their final "
                  "files' bytes, the bytes two members or more carry the same, and the most sharing could save "
                  "(`sizekit fleet MATRIX NAME` lists them per crate and symbol; docs/FLEET.md).", "",
                  table_markdown(fleets_table(results["fleets"]))]
        members = fleet_members_table(results)
        if members is not None:
            parts += ["", "The members as separate files, and the bytes of each that another member carries too:",
                      "", table_markdown(members)]
        alternatives = alternatives_table(results["fleets"])
        if alternatives is not None:
            parts += ["", "Alternatives, each built and smoke-checked (the image bytes count a shared "
                      "library such as prefer-dynamic's std once):", "", table_markdown(alternatives)]
    return "\n".join(parts) + "\n"


CSV_FIELDS = ["crate", "target", "variant", "label", "status", "final_bytes", "change_pct",
              "upx_estimate_bytes", "runs", "reason", "upx_refusal", "upx_estimate_other_bytes"]


def sizes_csv(results):
    """One line per cell; change_pct is recomputed from the bytes, like every report's."""
    pct = changes(results)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for c in results["cells"]:
        w.writerow({**{k: c.get(k) for k in CSV_FIELDS}, "runs": runs(c),
                    "change_pct": pct[(c["crate"], c["target"], c["variant"])]})
    return buf.getvalue()


def render_reports(results, shared=None):
    """[(file name under reports/, text)]: <crate>.md for every crate, sizes.csv, and crates.md
    when there are several crates. shared (tables.Shared) lends tables the page builds too."""
    grouped = shared.grouped if shared else groups(results)
    reports = [(f"{crate}.md", crate_markdown(results, crate, targets, shared)) for crate, targets in grouped]
    reports.append(("sizes.csv", sizes_csv(results)))
    if len(grouped) > 1 or results.get("fleets"):
        reports.append(("crates.md", crates_markdown(results)))
    return reports
