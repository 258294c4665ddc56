"""Write a run's results.json and reports: check the output folder, render everything, then move it in.

`sizekit report`, `sizekit merge` and every driver's last step write through here. The order
is what keeps earlier output safe when an input is bad or the disk fills:
1. the output location is checked (reports/ a real folder inside the output, not a symlink or
   a file; no target a folder), before anything is read or rendered;
2. every file is rendered in memory, so a bad input fails before anything is written;
3. the files are written into a temporary folder beside them (the same file system) and
   fsynced, then each is renamed into place. A rename replaces a symlink, never follows it.
A failure before step 3's renames leaves the earlier output exactly as it was.
"""
import contextlib
import os
import shutil
import stat
import tempfile

from ..plan.layout import Layout
from ..utils.names import crate_name_problem
from ..utils.errors import ResultsError, UsageError
from ..utils.fsutil import umask
from .markdown import render_reports
from .page import render_html
from .tables import Shared

RESULTS_NAME = "results.json"


def _kind(path):
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write here: {exc.strerror or exc}") from None


def check_output(output, names, results_json=False):
    """Refuse an output folder sizekit cannot write the reports `names` (and results.json) into."""
    mode = _kind(output)
    if mode is not None and not stat.S_ISDIR(os.stat(output).st_mode):
        raise UsageError(f"{output}: is a file; the output is a folder that gets results.json and reports/, "
                         f"so pass a folder")
    layout = Layout(output)
    reports = layout.reports_dir
    mode = _kind(reports)
    if mode is not None:
        if stat.S_ISLNK(mode):
            raise UsageError(f"{reports}: is a symlink (to {os.readlink(reports)}); sizekit writes reports only into "
                             f"a real folder inside the output folder, so remove the link")
        if not stat.S_ISDIR(mode):
            raise UsageError(f"{reports}: is a file, where sizekit keeps its reports folder; move it away")
    targets = [os.path.join(reports, n) for n in names] + ([layout.results_json] if results_json else [])
    for path in targets:
        mode = _kind(path)
        if mode is not None and stat.S_ISDIR(mode):
            raise UsageError(f"{path}: is a folder, where sizekit writes a file; move it away")
    state = layout.state_dir
    mode = _kind(state)
    if mode is not None and not stat.S_ISDIR(mode):
        raise UsageError(f"{state}: is a file, where sizekit keeps its state folder; move it away")


def report_names(results):
    """The file names under reports/ that the reports of these results take."""
    crates = list(dict.fromkeys(c["crate"] for c in results["cells"]))
    for crate in crates:
        problem = crate_name_problem(crate)
        if problem:
            # Results handed over in memory skip the reader's check: never write outside reports/.
            raise ResultsError(f"results.json: {problem}")
    return [os.path.basename(p) for p in Layout("out").report_files(crates, bool(results.get("fleets")))]


def publish(output, results, snapshot=None, base=None, results_json=None, html=True):
    """Check output, render the reports (with html, the page too; results_json is the text of
    results.json, or None) and move them into output. Returns the paths written."""
    names = report_names(results)
    check_output(output, names, results_json is not None)
    shared = Shared(results)
    files = render_reports(results, shared)
    if html:
        files.append(("index.html", render_html(results, snapshot=snapshot, base=base, shared=shared)))
    layout = Layout(output)
    # report_names checked every crate name, so a plain join stays inside reports/.
    placed = [(os.path.join(layout.reports_dir, name), text) for name, text in files]
    if results_json is not None:
        placed.append((layout.results_json, results_json))
    return move_in(output, placed)


def write_reports(matrix_or_output, results):
    """Write the markdown and CSV reports (no page); returns their paths."""
    return publish(getattr(matrix_or_output, "output", matrix_or_output), results, html=False)


def write_html(output_dir, results, snapshot=None, base=None):
    """Write `<output_dir>/reports/index.html` alone and return its path. With a snapshot the
    page gains treemaps; with a base snapshot too, diff treemaps."""
    output = getattr(output_dir, "output", output_dir)
    check_output(output, ["index.html"])
    page = render_html(results, snapshot=snapshot, base=base)
    return move_in(output, [(Layout(output).report("index.html"), page)])[0]


def move_in(output, files):
    """Write [(final path, text)] into a temporary folder in output, then rename each into place.

    A file that already holds its text is left alone (its mtime too, so make and SCons see no
    change). Only results.json is fsynced: it is what the next run and CI read, while a report
    cut short by a crash is rewritten by the next `sizekit report`; a rename stays atomic
    either way, and one fsync per report made a 350-crate report several times slower."""
    os.makedirs(os.path.join(output, "reports"), exist_ok=True)
    stage = tempfile.mkdtemp(prefix=".sizekit-write-", dir=output)
    try:
        staged = []
        for n, (final, text) in enumerate(files):
            data = text.encode("utf-8")
            if _holds(final, data):
                continue
            tmp = os.path.join(stage, str(n))
            with open(tmp, "wb") as f:
                f.write(data)
                if os.path.basename(final) == RESULTS_NAME:
                    f.flush()
                    os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~umask())
            staged.append((tmp, final))
        for tmp, final in staged:
            os.replace(tmp, final)
        return [final for final, _ in files]
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(stage)


def _holds(path, data):
    """True when the regular file at path holds exactly data (a symlink is replaced, never read)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with open(path, "rb") as f:
            return f.read() == data
    except OSError:
        return False
