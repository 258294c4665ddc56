"""`sizekit ship MATRIX CELL...`: build what the cells need and copy each final artifact to the place a
firmware build depends on (make/sizekit.mk's sizekit_artifact, docs/FIRMWARE.md).

Only the cells' build and post steps run (no measure, smoke or report), through the same doit
engine and state as `sizekit run`, so what is up to date is not built again. Each copy is rewritten
only when its bytes change (sizekit.stages.ship), and a make depfile beside the state names the
sources cargo read for it, so make rebuilds the file when one of them changes.
"""
import json
import os
import sys

from ..utils.errors import UsageError


def pick_cells(plan, names):
    """The plan's cells named crate/target/variant, in the order given; UsageError names an unknown one."""
    by_name = {c.name: c for c in plan.cells}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        shown = ", ".join(list(by_name)[:6]) + (", ..." if len(by_name) > 6 else "")
        raise UsageError(f"{unknown[0]}: no such cell in {os.path.relpath(plan.matrix.path)} "
                         f"(cells are crate/target/variant: {shown})")
    return [by_name[n] for n in names]


def cell_tasks(cell):
    """The doit tasks that make the cell's final artifact: its build and its post steps."""
    return [f"build:{cell.build.name}", *(f"post:{s.name}" for s in cell.steps)]


def depfile(plan, cell):
    """Where the cell's make depfile is (beside the rest of sizekit's state)."""
    return plan.layout.state("make", f"{cell.crate.name}__{cell.target}__{cell.variant.name}.d")


def cell_stamp(plan, cell):
    """The file whose time says when the cell's definition last changed (write_cell_stamps)."""
    return plan.layout.state("make", f"{cell.crate.name}__{cell.target}__{cell.variant.name}.cell")


def write_cell_stamps(plan):
    """Each cell's definition (the signatures of its build and post nodes) in its stamp file, rewritten
    only when it changes: the shipped copy depends on the stamp, not on the whole matrix, so a matrix
    edit to another row leaves make's view of this cell as it was."""
    from ..drivers.nodes import plan_nodes
    nodes = {n.id: n for n in plan_nodes(plan)}
    for cell in plan.cells:
        text = json.dumps([nodes[t].shown_signature() for t in cell_tasks(cell)], sort_keys=True, default=str) + "\n"
        path = cell_stamp(plan, cell)
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        except OSError:
            pass
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


def write_depfile(plan, cell, shipped):
    """make's view of what the copy depends on: the cell's stamp and every source cargo read (gcc -MP style:
    each source also as an empty rule, so a deleted one does not stop make).

    The copy changes only with its bytes, so an edit that leaves them as they were (a comment) keeps
    it older than that source: make then runs `sizekit ship` again on each call (a no-op of about a
    second: nothing is built) and `make -q` says "not up to date" until the bytes change. An image
    that depends on the copy is remade only when they do."""
    from ..plan.records import BuildMeta
    meta = BuildMeta.read_or_none(plan.layout.build_meta(cell.build.key))
    # Named as the rules `sizekit plan --make` writes name them (relative to where make runs), so make
    # sees one target; sources by their real path (sizekit builds through an overlay of symlinks).
    deps = list(dict.fromkeys(os.path.relpath(os.path.realpath(p))
                              for p in [cell_stamp(plan, cell), *sorted((meta.deps or {}) if meta else {})]))
    path = depfile(plan, cell)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    esc = lambda p: p.replace(" ", "\\ ")   # noqa: E731
    text = f"{esc(os.path.relpath(shipped))}: {' '.join(map(esc, deps))}\n" + "".join(f"{esc(d)}:\n" for d in deps)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def cmd_ship(args):
    from ..drivers.doit.run import run_doit
    from ..drivers.nodes import load_plan
    from ..stages.ship import ship
    plan = load_plan(args.matrix)
    cells = pick_cells(plan, args.cells)
    tasks = list(dict.fromkeys(t for c in cells for t in cell_tasks(c)))
    status = run_doit(args.matrix, [*args.doit_args, *tasks])
    if status not in (0, None):
        return status
    failed = False
    for cell in cells:
        path, problem = ship(plan.layout, cell)
        if problem:
            print(f"sizekit: {problem}", file=sys.stderr)
            failed = True
            continue
        write_depfile(plan, cell, path)
        print(os.path.relpath(path))
    return 1 if failed else 0


def make_rules(plan, matrix_arg):
    """The makefile make/sizekit.mk includes: per cell, the shipped path as a variable and its rule
    (`sizekit ship`), with the depfiles of the cells shipped so far (write_depfile). The copy depends
    on its cell's stamp, which this brings up to date (write_cell_stamps)."""
    from ..stages.ship import artifact_name
    write_cell_stamps(plan)
    lines = ["# Generated by `sizekit plan --make` from " + os.path.relpath(plan.matrix.path) + ": do not edit.", ""]
    for cell in plan.cells:
        shipped = os.path.relpath(plan.layout.shipped(cell, artifact_name(cell)))
        stamp = os.path.relpath(cell_stamp(plan, cell))
        ship_cmd = f"\t$(SIZEKIT) ship '{matrix_arg}' '{cell.name}' $(foreach a,$(SIZEKIT_DOIT_ARGS),--doit=$(a))"
        lines += [f"SIZEKIT_SHIP_{cell.crate.name}__{cell.target}__{cell.variant.name} := {shipped}",
                  f"{shipped}: {stamp}", ship_cmd, f"{stamp}:", ""]
    folder = os.path.relpath(plan.layout.state("make"))
    lines += ["# The depfiles of the cells shipped so far (a cell never shipped has none: nothing to remake).",
              f"-include $(wildcard {folder}/*.d)", ""]
    return "\n".join(lines)


def register_ship(sub):
    r = sub.add_parser("ship")
    r.add_argument("matrix", help="the matrix file")
    r.add_argument("cells", nargs="+", metavar="CELL", help="crate/target/variant, as `sizekit plan` lists them")
    r.add_argument("--doit", dest="doit_args", action="append", default=[], metavar="ARG",
                   help="an argument for doit, e.g. --doit=-n --doit=2")
    r.set_defaults(func=cmd_ship)
