"""The `sizekit` command line (also `python -m sizekit`).

Commands load on use, as pip's do: `sizekit --help` lists them from the table below without
importing any, and `sizekit CMD` imports only CMD's module, so neither pays for doit, SCons,
the native module, numpy or zstandard unless CMD needs them.
"""
import argparse
import importlib
import os
import sys

from ..utils.errors import SizekitError, UsageError

# name: (module under sizekit.cli, its function that adds the subparser, the line in --help)
COMMANDS = {
    "run": ("matrix", "register_run", "build the matrix with doit (extra arguments go to doit)"),
    "report": ("matrix", "register_report", "regenerate the reports from results.json"),
    "doctor": ("matrix", "register_doctor", "list toolchains, targets and tools, and what is missing"),
    "plan": ("plan", "register_plan", "print the plan: cells, builds, nodes and output paths (--json)"),
    "ship": ("ship", "register_ship", "build the named cells' artifacts and copy each where a firmware build reads it"),
    "sections": ("tools", "_register_sections", "list an ELF's sections with hashes, or compare two ELFs"),
    "estimate": ("tools", "_register_estimate", "estimate the UPX-packed size of a file without running UPX"),
    "bloat": ("bloat", "_register_bloat", "attribute an unstripped ELF's bytes to crates or functions"),
    "diff": ("results", "register_diff", "compare two results.json files or snapshots"),
    "check": ("results", "register_check", "check final sizes against the matrix's budgets (exit 1 when over)"),
    "merge": ("results", "register_merge", "merge the shards' results.json into one results.json and reports"),
    "snapshot": ("snapshots", "register_snapshot", "write one zstd file with every cell's sizes and symbols"),
    "history": ("snapshots", "register_history", "a trend page of final sizes over a series of snapshots"),
    "explore": ("explore", "register_explore", "search the settings for the smallest binary that still runs"),
    "fleet": ("fleet", "register_fleet", "a fleet's bytes and the bytes its members duplicate"),
}


def _command_in(argv):
    """The command named in argv (the first word that is not an option), or None."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(argv=None):
    """The parser; with argv naming a command, only that command's module is imported."""
    p = argparse.ArgumentParser(prog="sizekit", description="Build, shrink, measure and report Rust binary sizes.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    wanted = _command_in(argv) if argv is not None else None
    for name, (module, register, help_text) in COMMANDS.items():
        if argv is None or name == wanted:
            getattr(importlib.import_module(f"{__package__}.{module}"), register)(sub)
        else:
            sub.add_parser(name, help=help_text)   # listed in --help; parsed only when asked for
    return p


INTERNAL_ERROR = 70   # EX_SOFTWARE: a bug, not bad input (2) or a failed check (1)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
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
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        place = "" if where is None else (f" (in {where.tb_frame.f_code.co_name}, "
                                          f"{os.path.basename(where.tb_frame.f_code.co_filename)}:{where.tb_lineno})")
        print(f"sizekit: internal error: {type(exc).__name__}: {str(exc)[:200]}{place}; please report it, and "
              f"rerun with SIZEKIT_DEBUG=1 for the traceback", file=sys.stderr)
        return INTERNAL_ERROR
