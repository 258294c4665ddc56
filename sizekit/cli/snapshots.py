"""`sizekit snapshot` (one zstd file of a matrix's sizes and symbols) and `sizekit history` (a trend page)."""
import os
import sys

from ..results.capture import snapshot_path, snapshot_of, take_snapshot
from ..report.history import write_history
from ..results.history import history, load_series
from ..results.inputs import load_input
from ..results.snapshot import load_snapshot
from ..results.snapshot_write import write_snapshot
from ..utils.outputs import check_output_file
from ..utils.units import human


def cmd_snapshot(args):
    check_output_file(args.output, "snapshot")
    snap = snapshot_of(args.source, args.files)
    nbytes = write_snapshot(args.output, snap)
    symbols = sum(len(t) for t in snap.tables)
    files = "".join(f", {f['name']} {human(f['bytes'])}" for f in snap.files)
    print(f"sizekit: {args.output}: {len(snap.results['cells'])} cells, "
          f"{len(snap.tables)} artifacts, {symbols:,} symbols{files}, {human(nbytes)}", file=sys.stderr)
    for meta in snap.skipped:
        print(f"sizekit: note: no symbols for {meta['path']}: {meta['error']}", file=sys.stderr)
    return 0


def report_snapshots(results_path, results, base_path):
    """`sizekit report`: the snapshot for the treemaps (the one beside results.json when it has the
    same results, else one taken now from the artifacts) and the --base one, or (None, None)."""
    saved = snapshot_path(os.path.dirname(os.path.abspath(results_path)))
    snap = None
    if os.path.isfile(saved):
        snap = load_snapshot(saved)
        if snap.results != results:
            snap = None
    if snap is None:
        snap = take_snapshot(results, results_path, git=False)
    base = load_input(base_path) if base_path else None
    return snap, base


def register_snapshot(sub):
    p = sub.add_parser("snapshot", description="Write a snapshot: one standard zstd frame holding results.json (every "
                                               "cell's sizes and sections), every symbol of each cell's unstripped artifact "
                                               "(demangled name, crate, section, bytes) and the git revision and date. "
                                               "`sizekit diff`, `check --base`, `report --base` and `history` read it.")
    p.add_argument("source", metavar="OUT_DIR_OR_RESULTS_JSON", help="the matrix's output folder or its results.json")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="snapshot file to write")
    p.add_argument("--file", dest="files", action="append", default=[], metavar="NAME=PATH",
                   help="also record the bytes of this file or folder (a firmware image, a root file system; "
                        "a folder counts each regular file once), so `sizekit diff` shows it growing or shrinking")
    p.set_defaults(func=cmd_snapshot)


def cmd_history(args):
    check_output_file(args.output, "history page")   # before the snapshots are read
    hist = history(load_series(args.snapshots))
    print(os.path.relpath(write_history(args.output, hist)))
    return 0


def register_history(sub):
    p = sub.add_parser("history", description="Write an offline HTML page of every row's final bytes over the revisions of "
                                              "the snapshots (ordered by git commit date, else snapshot date), with the rows "
                                              "and crates that moved most at each step.")
    p.add_argument("snapshots", nargs="+", metavar="SNAPSHOT", help="snapshot files, or folders of them (*.zst)")
    p.add_argument("-o", "--output", default="history.html", help="the page to write (default: history.html)")
    p.set_defaults(func=cmd_history)


REGISTER = [register_snapshot, register_history]
