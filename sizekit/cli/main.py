"""The `sizekit` command line (also `python -m sizekit`)."""
import argparse
import os
import sys

from ..utils.errors import SizekitError, UsageError
from ..plan.shard import parse_shard
from ..report.publish import check_output, publish, report_names
from ..results.format import load_results
from . import bloat, plan, results, snapshots, tools
from .doctor import doctor
from .snapshots import report_snapshots


def cmd_run(args):
    """Build the matrix through doit, as `doit` in a folder with sizekit's dodo.py would."""
    # doit and the stages load only for the commands that build (~0.2 s of start-up).
    from ..drivers.doit.run import run_doit
    from ..drivers.doit.tasks import load_plan
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
    results = load_results(args.results)
    output = args.output or os.path.dirname(os.path.abspath(args.results))
    check_output(output, report_names(results))
    snap, base = report_snapshots(args.results, results, args.base)
    for path in publish(output, results, snapshot=snap, base=base):
        print(os.path.relpath(path))
    return 0


def cmd_doctor(args):
    return doctor(args.matrix, out=sys.stdout)


def build_parser():
    p = argparse.ArgumentParser(prog="sizekit", description="Build, shrink, measure and report Rust binary sizes.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    r = sub.add_parser("run", help="build the matrix with doit (extra arguments go to doit)")
    r.add_argument("--shard", metavar="K/N", help="build only shard K of N (1-based), for one CI machine of N")
    r.add_argument("--list", action="store_true", help="print the cells and builds this run (or shard) owns; build nothing")
    r.add_argument("matrix", nargs="?", default="matrix.yaml")
    r.add_argument("doit_args", nargs=argparse.REMAINDER, help="doit arguments, e.g. -n 2, list, clean")
    r.set_defaults(func=cmd_run)

    r = sub.add_parser("report", help="regenerate the reports from results.json")
    r.add_argument("results", nargs="?", default="out/results.json")
    r.add_argument("--output", help="folder that gets reports/ (default: the results file's folder)")
    r.add_argument("--base", metavar="OLD", help="a snapshot (or results.json) to compare with: adds diff treemaps")
    r.set_defaults(func=cmd_report)

    r = sub.add_parser("doctor", help="list toolchains, targets and tools, and what is missing")
    r.add_argument("matrix", nargs="?", default="matrix.yaml")
    r.set_defaults(func=cmd_doctor)

    for extra in _extra_commands():
        extra(sub)
    return p


# Modules that add subcommands: each has REGISTER, a list of functions taking the
# argparse subparsers object.
COMMAND_MODULES = (tools, bloat, results, snapshots, plan)


def _extra_commands():
    for module in COMMAND_MODULES:
        yield from module.REGISTER


INTERNAL_ERROR = 70   # EX_SOFTWARE: a bug, not bad input (2) or a failed check (1)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except SizekitError as exc:
        print(f"sizekit: {exc}" if not isinstance(exc, UsageError) or "\n" not in str(exc) else str(exc),
              file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sizekit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 -- the last guard: one line, never a traceback
        if os.environ.get("SIZEKIT_DEBUG"):
            raise
        where = exc.__traceback__
        while where.tb_next:
            where = where.tb_next
        frame = where.tb_frame.f_code
        print(f"sizekit: internal error: {type(exc).__name__}: {str(exc)[:200]} (in {frame.co_name}, "
              f"{os.path.basename(frame.co_filename)}:{where.tb_lineno}); please report it, and rerun with "
              f"SIZEKIT_DEBUG=1 for the traceback", file=sys.stderr)
        return INTERNAL_ERROR
