"""The `sizekit` command line (also `python -m sizekit`)."""
import argparse
import os
import sys

from ..utils.errors import SizekitError, UsageError
from ..drivers.doit.run import run_doit
from ..report.markdown import write_reports
from ..report.page import write_html
from ..results.format import load_results
from . import bloat, results, tools
from .doctor import doctor


def cmd_run(args):
    """Build the matrix through doit, as `doit` in a folder with sizekit's dodo.py would."""
    return run_doit(args.matrix, list(args.doit_args))


def cmd_report(args):
    results = load_results(args.results)
    output = args.output or os.path.dirname(os.path.abspath(args.results))
    for path in write_reports(output, results) + [write_html(output, results)]:
        print(os.path.relpath(path))
    return 0


def cmd_doctor(args):
    return doctor(args.matrix, out=sys.stdout)


def build_parser():
    p = argparse.ArgumentParser(prog="sizekit", description="Build, shrink, measure and report Rust binary sizes.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    r = sub.add_parser("run", help="build the matrix with doit (extra arguments go to doit)")
    r.add_argument("matrix", nargs="?", default="matrix.yaml")
    r.add_argument("doit_args", nargs=argparse.REMAINDER, help="doit arguments, e.g. -n 2, list, clean")
    r.set_defaults(func=cmd_run)

    r = sub.add_parser("report", help="regenerate the reports from results.json")
    r.add_argument("results", nargs="?", default="out/results.json")
    r.add_argument("--output", help="folder that gets reports/ (default: the results file's folder)")
    r.set_defaults(func=cmd_report)

    r = sub.add_parser("doctor", help="list toolchains, targets and tools, and what is missing")
    r.add_argument("matrix", nargs="?", default="matrix.yaml")
    r.set_defaults(func=cmd_doctor)

    for extra in _extra_commands():
        extra(sub)
    return p


# Modules that add subcommands: each has REGISTER, a list of functions taking the
# argparse subparsers object.
COMMAND_MODULES = (tools, bloat, results)


def _extra_commands():
    for module in COMMAND_MODULES:
        yield from module.REGISTER


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
