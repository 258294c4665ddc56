"""The commands over a matrix itself: `sizekit run`, `sizekit report` and `sizekit doctor`."""
import argparse
import os
import sys

from ..utils.errors import UsageError


def cmd_run(args):
    """Build the matrix through doit, as `doit` in a folder with sizekit's dodo.py would."""
    from ..drivers.doit.run import run_doit
    from ..drivers.doit.tasks import load_plan
    from ..plan.shard import parse_shard
    doit_args, shard, listing = _run_options(list(args.doit_args), args.shard, args.list)
    shard = parse_shard(shard) if shard else None
    if listing:
        return list_cells(load_plan(args.matrix, shard, cache=False))
    return run_doit(args.matrix, doit_args, shard)


def _run_options(rest, shard, listing):
    """--shard and --list may also come after the matrix, among doit's arguments."""
    out = []
    it = iter(rest)
    for arg in it:
        if arg == "--shard":
            shard = next(it, None)
            if shard is None:
                raise UsageError("--shard needs a value: K/N, e.g. 1/2")
        elif arg.startswith("--shard="):
            shard = arg.split("=", 1)[1]
        elif arg == "--list":
            listing = True
        else:
            out.append(arg)
    return out, shard, listing


def list_cells(plan):
    """`sizekit run --list`: the cells (and builds) this run, or this shard, owns."""
    part = f"shard {plan.shard[0]}/{plan.shard[1]}" if plan.shard else "whole matrix"
    print(f"{part}: {len(plan.cells)} cells, {len(plan.builds)} cargo builds")
    for build in plan.builds:
        cells = [c for c in plan.cells if c.build is build]
        print(f"build {build.key}: " + ", ".join(c.name for c in cells))
    return 0


def cmd_report(args):
    from ..report.publish import check_output, publish, report_names
    from ..results.results_file import load_results
    from .snapshots import report_snapshots
    results = load_results(args.results)
    output = args.output or os.path.dirname(os.path.abspath(args.results))
    check_output(output, report_names(results))
    snap, base = report_snapshots(args.results, results, args.base)
    for path in publish(output, results, snapshot=snap, base=base):
        print(os.path.relpath(path))
    return 0


def cmd_doctor(args):
    from .doctor import doctor
    return doctor(args.matrix, out=sys.stdout)


def register_run(sub):
    r = sub.add_parser("run")
    r.add_argument("--shard", metavar="K/N", help="build only shard K of N (1-based), for one CI machine of N")
    r.add_argument("--list", action="store_true", help="print the cells and builds this run (or shard) owns; build nothing")
    r.add_argument("matrix", nargs="?", default="matrix.yaml")
    r.add_argument("doit_args", nargs=argparse.REMAINDER, help="doit arguments, e.g. -n 2, list, clean")
    r.set_defaults(func=cmd_run)


def register_report(sub):
    r = sub.add_parser("report")
    r.add_argument("results", nargs="?", default="out/results.json")
    r.add_argument("--output", help="folder that gets reports/ (default: the results file's folder)")
    r.add_argument("--base", metavar="OLD", help="a snapshot (or results.json) to compare with: adds diff treemaps")
    r.set_defaults(func=cmd_report)


def register_doctor(sub):
    r = sub.add_parser("doctor")
    r.add_argument("matrix", nargs="?", default="matrix.yaml")
    r.set_defaults(func=cmd_doctor)


REGISTER = [register_run, register_report, register_doctor]
