"""Subcommands over results.json files: `sizekit diff`, `sizekit check` and `sizekit merge`."""
import argparse
import json
import os
import sys

from ..report.budget import check_report
from ..results.budget import exit_status, load_rows
from ..results.results_file import ContentsError, results_text
from ..results.threshold import parse_threshold
from ..utils.errors import ResultsError, UsageError

# Snapshots (zstandard) and symbol diffs (numpy) load only for the commands that read them.

CHECK_RULE = """\
budgets come from each crate's `budget:` in the matrix: `budget: 1MiB`, or
{max: SIZE, targets: {TRIPLE: SIZE}, variants: {NAME: SIZE}}.
  - variants: NAME applies to that variant's row on every target;
  - max and targets: TRIPLE apply to the crate's final row per target, i.e. the last
    variant in matrix order that built (status ok); earlier rows such as dev are not checked;
  - the most specific wins: variant, then target, then max.
The matrix is --matrix, else the nearest matrix.yaml at or above the results file's folder
whose output: is that folder (never a name read from results.json, which may come from a
fork's CI job). With --matrix and no results file, the matrix's output/results.json.
exit status: 0 all within budget, 1 any over (or not built, with --strict), 2 bad input."""


def _load_pair(old_path, new_path, symbols=True):
    from ..results.inputs import load_input
    try:
        return load_input(old_path, symbols), load_input(new_path, symbols)
    except ContentsError as exc:
        # The same words as a cell the comparison itself cannot read, below; exc names the file.
        raise ResultsError(f"{old_path} or {new_path}: unexpected cell contents ({exc})") from None


def cmd_diff(args):
    from ..report.comment import comment_markdown
    from ..results.compare import compare
    from ..results.cell_diff import diff_results
    threshold = parse_threshold(args.threshold)
    old, new = _load_pair(args.old, args.new)
    symbols = any(s.tables for s in (old, new))
    # JSON of two results.json files with no new option keeps the form scripts already parse;
    # markdown is always the PR comment (verdicts, the cells that moved, details folded).
    classic = args.format == "json" and not symbols and args.threshold is None and not args.cells \
        and not any(s.files for s in (old, new))
    try:
        # markdown shows the symbols of the cells that fit the comment: work out only those
        lazy = "lazy" if args.format == "markdown" else True
        diff = diff_results(old.results, new.results) if classic else compare(old, new, threshold, args.cells, lazy)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ResultsError(f"{args.old} or {args.new}: unexpected cell contents ({exc!r})") from None
    del old, new   # the symbol tables are done with: their memory is free for the text below
    if args.format == "json":
        # With symbols the JSON runs to megabytes: compact, for jq and scripts, unless classic.
        # One write: json.dump writes piece by piece, slow for the megabytes of a symbol diff.
        sys.stdout.write(json.dumps({**diff, "old": args.old, "new": args.new}, indent=1 if classic else None) + "\n")
    else:
        sys.stdout.write(comment_markdown(diff))
    return 0


def check(results_file=None, matrix_file=None, strict=False, out=sys.stdout):
    """Run `sizekit check`; returns the exit status (0 within budget, 1 over). Bad input raises."""
    matrix, results_file, rows = load_rows(results_file, matrix_file)
    shown = os.path.relpath(matrix.path)
    if not rows:
        print(f"sizekit: no budgets in {shown}; add `budget: 1MiB` to a crate to check its size", file=out)
        return 0
    out.write(check_report(rows, shown, os.path.relpath(results_file), strict))
    return exit_status(rows, strict)


def cmd_check(args):
    if args.file or args.budget:
        return check_files(args)
    if args.max_growth is not None or args.base is not None:
        if args.max_growth is None or args.base is None:
            raise UsageError("--max-growth and --base go together: sizekit check --max-growth 2% --base OLD [NEW]")
        return check_growth(args.base, args.results or "out/results.json", parse_threshold(
            args.max_growth, "--max-growth"), args.cells)
    return check(args.results, args.matrix, strict=args.strict)


def check_files(args):
    """`check --file PATH --budget SIZE`: an image or folder against a budget, with the same table,
    lines and exit codes as the cells' budgets."""
    from ..results.budget import file_rows
    from ..utils.units import parse_size
    if not args.file or not args.budget:
        raise UsageError("--file and --budget go together: sizekit check --file rootfs.img --budget 8MiB")
    try:
        budget = parse_size(args.budget)
    except (ValueError, TypeError):
        raise UsageError(f"--budget {args.budget}: not a size; write 8MiB, 7.5MB or 8388608") from None
    rows = file_rows(args.file, budget, args.name)
    sys.stdout.write(check_report(rows, "--budget " + args.budget, ", ".join(args.file)))
    return exit_status(rows)


def check_growth(base, current, limit, patterns=None, out=sys.stdout):
    """`check --max-growth`: exit 1 when a cell grew past the limit against the base."""
    from ..report.growth import growth_report
    from ..results.compare import compare, growth_over
    old, new = _load_pair(base, current, symbols=False)   # growth is of cells: no symbols read
    diff = compare(old, new, patterns=patterns, symbols=False)
    out.write(growth_report(diff, limit, base, current))
    return 1 if growth_over(diff, limit) else 0


def register_diff(sub):
    p = sub.add_parser("diff", description="Compare two results.json files or snapshots cell by cell (crate, target, "
                                           "variant): final sizes before and after, the sections and crates that moved "
                                           "most, and with snapshots every symbol added, removed, grown or shrunk, per "
                                           "crate. The markdown fits in a GitHub comment. Always exits 0 unless an input "
                                           "is bad (2).")
    p.add_argument("old", help="results.json or snapshot before the change (told apart by content)")
    p.add_argument("new", help="results.json or snapshot after the change")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.add_argument("--threshold", metavar="BYTES|PCT",
                   help="changes smaller than this (4KiB, 500, 1.5%%) are folded; cells at or over it are listed "
                        "first and label their crate size/large")
    p.add_argument("--cells", action="append", metavar="GLOB",
                   help="only cells matching GLOB: crate/target/variant (e.g. 'app/*/release*'), or a crate, "
                        "target or variant name; repeat for more")
    p.set_defaults(func=cmd_diff)


def register_check(sub):
    p = sub.add_parser("check", description="Check the sizes in results.json against the budgets in the matrix.",
                                epilog=CHECK_RULE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="?", help="results.json (default: out/results.json, or the --matrix output's)")
    p.add_argument("--matrix", help="matrix file with the budgets (default: the matrix.yaml above the results whose output is its folder)")
    p.add_argument("--strict", action="store_true", help="a budgeted row that did not build fails the check")
    p.add_argument("--max-growth", metavar="BYTES|PCT",
                   help="instead of the matrix's budgets: fail (exit 1) when a cell grew by more than this "
                        "(4KiB, 1.5%%) against --base; RESULTS may then be a snapshot too")
    p.add_argument("--base", metavar="SNAPSHOT", help="the snapshot (or results.json) of the base branch")
    p.add_argument("--cells", action="append", metavar="GLOB", help="with --max-growth: only cells matching GLOB")
    p.add_argument("--file", action="append", metavar="PATH",
                   help="instead of cells: check this file or folder (an image, a root file system) against --budget; "
                        "repeat for more")
    p.add_argument("--budget", metavar="SIZE", help="with --file: the most bytes it may hold (8MiB, 7.5MB, 8388608)")
    p.add_argument("--name", help="with --file: the name its row shows (default: the file's name)")
    p.set_defaults(func=cmd_check)


def cmd_merge(args):
    from ..report.publish import check_output, publish, report_names
    from ..results.merge import merge
    merged = merge(args.results, args.output, partial=args.partial)
    check_output(args.output, report_names(merged), results_json=True)
    os.makedirs(args.output, exist_ok=True)
    written = publish(args.output, merged, results_json=results_text(merged))
    missing = sum(1 for c in merged["cells"] if c["status"] == "missing")
    print(f"sizekit: merged {len(merged['merged_from'])} shard(s), {len(merged['cells'])} cells"
          + (f" ({missing} missing)" if missing else "") + f" into {os.path.relpath(args.output)}/results.json",
          file=sys.stderr)
    for path in written:
        print(os.path.relpath(path))
    return 0


def register_merge(sub):
    p = sub.add_parser("merge", description="Merge shards' results.json files (from `sizekit run --shard K/N`) into "
                                            "OUTPUT/results.json and OUTPUT/reports/, as one machine would have written "
                                            "them. Refuses (exit 2) shards of different matrices or sizekit versions, a "
                                            "shard given twice, overlapping shards and missing cells.")
    p.add_argument("results", nargs="+", help="each shard's results.json")
    p.add_argument("--output", "-o", required=True, help="folder for the merged results.json and reports/")
    p.add_argument("--partial", action="store_true", help="accept missing cells; they show as `missing`")
    p.set_defaults(func=cmd_merge)


REGISTER = [register_diff, register_check, register_merge]
