"""Subcommands over results.json files: `sizekit diff`, `sizekit check` and `sizekit merge`."""
import argparse
import json
import os
import sys

from ..report.budget import check_report
from ..report.diff import diff_markdown
from ..results.budget import exit_status, load_rows
from ..results.diff import diff_results
from ..report.markdown import write_reports
from ..report.page import write_html
from ..results.format import ContentsError, load_results, write_results
from ..results.merge import merge
from ..utils.errors import ResultsError

CHECK_RULE = """\
budgets come from each crate's `budget:` in the matrix: `budget: 1MiB`, or
{max: SIZE, targets: {TRIPLE: SIZE}, variants: {NAME: SIZE}}.
  - variants: NAME applies to that variant's row on every target;
  - max and targets: TRIPLE apply to the crate's final row per target, i.e. the last
    variant in matrix order that built (status ok); earlier rows such as dev are not checked;
  - the most specific wins: variant, then target, then max.
The matrix is --matrix, else the one named in results.json, looked up from the results
file's folder upwards. With --matrix and no results file, the matrix's output/results.json.
exit status: 0 all within budget, 1 any over (or not built, with --strict), 2 bad input."""


def cmd_diff(args):
    try:
        old, new = load_results(args.old), load_results(args.new)
    except ContentsError as exc:
        # The same words as a cell the comparison itself cannot read, below; exc names the file.
        raise ResultsError(f"{args.old} or {args.new}: unexpected cell contents ({exc})") from None
    try:
        diff = diff_results(old, new)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ResultsError(f"{args.old} or {args.new}: unexpected cell contents ({exc!r})") from None
    if args.format == "json":
        json.dump({**diff, "old": args.old, "new": args.new}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(diff_markdown(diff))
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
    return check(args.results, args.matrix, strict=args.strict)


def register_diff(sub):
    p = sub.add_parser("diff", help="compare two results.json files (markdown for a PR comment, or JSON)",
                       description="Compare two results.json files cell by cell (crate, target, variant): "
                                   "final sizes before and after, and the sections and crates that moved "
                                   "most. Always exits 0 unless an input is bad (2).")
    p.add_argument("old", help="results.json before the change")
    p.add_argument("new", help="results.json after the change")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.set_defaults(func=cmd_diff)


def register_check(sub):
    p = sub.add_parser("check", help="check final sizes against the matrix's budgets (exit 1 when over)",
                       description="Check the sizes in results.json against the budgets in the matrix.",
                       epilog=CHECK_RULE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="?", help="results.json (default: out/results.json, or the --matrix output's)")
    p.add_argument("--matrix", help="matrix file with the budgets (default: the one named in results.json)")
    p.add_argument("--strict", action="store_true", help="a budgeted row that did not build fails the check")
    p.set_defaults(func=cmd_check)


def cmd_merge(args):
    merged = merge(args.results, args.output, partial=args.partial)
    write_results(os.path.join(args.output, "results.json"), merged)
    written = write_reports(args.output, merged) + [write_html(args.output, merged)]
    missing = sum(1 for c in merged["cells"] if c["status"] == "missing")
    print(f"sizekit: merged {len(merged['merged_from'])} shard(s), {len(merged['cells'])} cells"
          + (f" ({missing} missing)" if missing else "") + f" into {os.path.relpath(args.output)}/results.json",
          file=sys.stderr)
    for path in written:
        print(os.path.relpath(path))
    return 0


def register_merge(sub):
    p = sub.add_parser("merge", help="merge the results.json of every shard into one results.json and reports",
                       description="Merge shards' results.json files (from `sizekit run --shard K/N`) into "
                                   "OUTPUT/results.json and OUTPUT/reports/, as one machine would have written "
                                   "them. Refuses (exit 2) shards of different matrices or sizekit versions, a "
                                   "shard given twice, overlapping shards and missing cells.")
    p.add_argument("results", nargs="+", help="each shard's results.json")
    p.add_argument("--output", "-o", required=True, help="folder for the merged results.json and reports/")
    p.add_argument("--partial", action="store_true", help="accept missing cells; they show as `missing`")
    p.set_defaults(func=cmd_merge)


REGISTER = [register_diff, register_check, register_merge]
