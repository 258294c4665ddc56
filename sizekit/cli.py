"""The `sizekit` command line (also `python -m sizekit`)."""
import argparse
import os
import sys

from .errors import SizekitError, UsageError


def cmd_run(args):
    """Build the matrix through doit, as `doit` in a folder with sizekit's dodo.py would."""
    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain

    from .tasks import matrix_tasks
    from doit import loader
    loader.initial_workdir = os.getcwd()
    from .tasks import doit_command
    doit_args = list(args.doit_args)
    if doit_args and doit_args[0] == "--":
        doit_args = doit_args[1:]
    namespace = matrix_tasks(args.matrix, command=doit_command(doit_args))
    return DoitMain(ModuleTaskLoader(namespace)).run(doit_args)


def cmd_report(args):
    from .report import write_reports
    from .results import load_results
    results = load_results(args.results)
    output = args.output or os.path.dirname(os.path.abspath(args.results))
    from .html import write_html
    for path in write_reports(output, results) + [write_html(output, results)]:
        print(os.path.relpath(path))
    return 0


def cmd_doctor(args):
    from .doctor import doctor
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
COMMAND_MODULES = ("cli_tools", "cli_bloat", "cli_results")


def _extra_commands():
    import importlib
    for name in COMMAND_MODULES:
        yield from importlib.import_module(f".{name}", __package__).REGISTER


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
