"""Size budgets from matrix.yaml, checked against results.json: `sizekit check`.

A crate's budget is `budget: 1MiB` or `budget: {max: 1MiB, targets: {triple: size},
variants: {name: size}}`. Which cells it applies to:

- `variants: {name: size}` applies to that variant's row, on every target of the crate.
- `max` and `targets: {triple: size}` apply to the crate's *final row* on each target: the
  last variant in matrix order whose cell is ok for that crate and target. The rows above
  it (dev, unstripped release, ...) are steps of the recipe, not what ships, so they get
  no budget unless named under `variants:`. When the last row failed or is unavailable,
  the last row that built is checked, and a note says so.
- The most specific budget wins: variant, then target, then max.

A budgeted cell that did not build is listed as NOT CHECKED; it only fails the check
with `--strict`. Exit status: 0 all within budget, 1 any over, 2 bad input. This module
finds the rows; sizekit.report.budget prints them and sizekit.cli.results runs the command.
"""
import os

from ..utils.errors import ResultsError, SizekitError, UsageError
from ..config.load import load_matrix
from ..config.matrix import suggest
from ..plan.layout import Layout
from ..utils.fsutil import tree_bytes
from .cells import ok_bytes
from .fleet_members import image_bytes, member_cells
from .results_file import load_results

OK, OVER, NOT_CHECKED = "OK", "OVER", "NOT CHECKED"


DEFAULT_MATRIX = "matrix.yaml"


def find_matrix(results_file):
    """The matrix whose output folder holds results_file: the nearest `matrix.yaml` at or above
    that folder whose `output:` is that folder.

    results.json may come from another machine, so nothing in it names the matrix: a field
    could point anywhere, and a matrix error would show that file's text. A matrix.yaml above
    that fails to load, or whose output is another folder, is passed over without reading it
    out; --matrix names any other file.
    """
    folder = os.path.dirname(os.path.abspath(results_file))
    d, broken = folder, None
    while True:
        path = os.path.join(d, DEFAULT_MATRIX)
        if os.path.isfile(path):
            try:
                matrix = load_matrix(path)
            except SizekitError:
                matrix, broken = None, broken or path
            if matrix is not None and os.path.realpath(matrix.output) == os.path.realpath(folder):
                return matrix
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    if broken:
        # Its errors would quote a file the user did not name: send them to --matrix, which shows them.
        shown = os.path.relpath(broken)
        raise UsageError(f"{results_file}: {shown} above it is not a valid matrix; run `sizekit check "
                         f"--matrix {shown}` to see why")
    raise UsageError(f"{results_file}: no {DEFAULT_MATRIX} in {folder} or the folders above has it as its "
                     f"output folder; pass --matrix PATH")


def _check_names(matrix, crate, targets):
    """A budget naming an unknown variant or target would silently check nothing: refuse it."""
    problems = []
    names = [v.name for v in matrix.variants]
    where = f"{os.path.relpath(matrix.path)}: crates.{crate.name}.budget"
    for v in crate.budget["variants"]:
        if v not in names:
            problems.append(f"{where}.variants.{v}: no variant named {v!r}{suggest(v, names)}; "
                            f"use one of: {', '.join(names)}")
    for t in crate.budget["targets"]:
        if t not in targets:
            problems.append(f"{where}.targets.{t}: {crate.name} is not built for {t!r}{suggest(t, targets, 0.9)}; "
                            f"its targets: {', '.join(targets)}")
    if problems:
        raise UsageError("\n".join(problems))


def _excluded(variant, crate, target):
    only = variant.only or {}
    return ("crates" in only and crate not in only["crates"]) or ("targets" in only and target not in only["targets"])


def _row(crate, target, cell, variant, budget, source, note=None):
    size = ok_bytes(cell)
    if size is None:
        status = NOT_CHECKED
        note = note or (f"{cell['status']}: {cell.get('reason')}" if cell else "not in results.json; build it again")
    else:
        status = OK if size <= budget else OVER
    return {"crate": crate, "target": target, "variant": variant, "bytes": size, "budget": budget,
            "source": source, "headroom": budget - size if size is not None else None,
            "status": status, "note": note}


def budget_rows(matrix, results):
    """One row per budgeted cell, in matrix order. Raises UsageError for budgets naming unknown rows."""
    # Rows of variants no longer in the matrix (stale results) have no place in its order.
    rank = {v.name: i for i, v in enumerate(matrix.variants)}
    by_key = {(c["crate"], c["target"], c["variant"]): c for c in results["cells"]}
    rows = []
    for crate in matrix.crates.values():
        budget: dict = crate.budget or {}
        if not budget:
            continue
        seen = list(dict.fromkeys(c["target"] for c in results["cells"] if c["crate"] == crate.name))
        targets = crate.targets or seen or [matrix.host]
        _check_names(matrix, crate, targets)
        for target in targets:
            cells = sorted((c for c in results["cells"] if c["crate"] == crate.name and c["target"] == target
                            and c["variant"] in rank), key=lambda c: rank[c["variant"]])
            ok = [c for c in cells if c["status"] == "ok"]
            final = ok[-1] if ok else None
            fallback = budget["targets"].get(target, budget["max"])
            source = "target" if target in budget["targets"] else "max"
            for variant in matrix.variants:
                cell = by_key.get((crate.name, target, variant.name))
                if variant.name in budget["variants"]:
                    if cell is None and _excluded(variant, crate.name, target):
                        continue
                    rows.append(_row(crate.name, target, cell, variant.name, budget["variants"][variant.name],
                                     "variant"))
                elif final is not None and cell is final and fallback is not None:
                    note = None
                    if cells[-1] is not final:
                        note = (f"last row {cells[-1]['variant']} is {cells[-1]['status']}; "
                                f"checked {cell['variant']} instead")
                    rows.append(_row(crate.name, target, cell, variant.name, fallback, source, note))
            if final is None and fallback is not None:
                rows.append(_row(crate.name, target, None, "-", fallback, source,
                                 "no row of this crate and target built" if cells else None))
    return rows + fleet_rows(matrix, results)


def fleet_rows(matrix, results):
    """One row per fleet with a budget: its members' final files together (`fleets.NAME.budget`)."""
    rows = []
    for fleet in matrix.fleets.values():
        if fleet.budget is None:
            continue
        try:
            cells = member_cells(results, "results.json", fleet)
        except ResultsError as exc:
            rows.append(_row(f"fleet {fleet.name}", "(fleet)", None, "-", fleet.budget, "fleet", str(exc)))
            continue
        total = {"status": "ok", "final_bytes": image_bytes(cells)}
        rows.append(_row(f"fleet {fleet.name}", "(fleet)", total, f"{len(cells)} cells", fleet.budget, "fleet"))
    return rows


def load_rows(results_file=None, matrix_file=None):
    """(matrix, results file, budget rows) for `sizekit check`. Bad input raises UsageError or ResultsError."""
    if matrix_file is not None:
        matrix = load_matrix(matrix_file)
        results_file = results_file or Layout.of(matrix).results_json
        results = load_results(results_file)
    else:
        results_file = results_file or os.path.join("out", "results.json")
        results = load_results(results_file)
        matrix = find_matrix(results_file)
    try:
        return matrix, results_file, budget_rows(matrix, results)
    except (KeyError, TypeError) as exc:
        raise ResultsError(f"{results_file}: unexpected cell contents ({exc!r})") from None


def file_rows(paths, budget, name=None):
    """One budget row per file or folder (not a cell: an image, a root file system), as check shows them."""
    rows = []
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"{path}: not found; build it first, or check the path")
        rows.append(_row(name or os.path.basename(os.path.normpath(path)), "(file)" if not os.path.isdir(path)
                         else "(folder)", {"status": "ok", "final_bytes": tree_bytes(path)}, path, budget, "--budget"))
    return rows


def exit_status(rows, strict=False):
    """0 when every budgeted row is within budget, 1 when one is over (or, with strict, did not build)."""
    over = any(r["status"] == OVER for r in rows)
    unchecked = any(r["status"] == NOT_CHECKED for r in rows)
    return 1 if over or (strict and unchecked) else 0
