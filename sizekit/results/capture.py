"""Take a snapshot of a matrix's output: `sizekit snapshot OUT_DIR_OR_RESULTS_JSON -o FILE`.

The results come from results.json; the symbols from each cell's unstripped artifact (its
build stage), read once per artifact. Paths in results.json are relative to the matrix's
folder, an ancestor of the output folder (`out/build/...` with the default `output: out`).
results.json may come from another machine, so a path it names is opened only when it lies
inside the output folder (the results file's folder) once symlinks are resolved; any other
is skipped with the reason, and special files are refused by type before they are opened.
"""
import datetime
import os
import subprocess

from ..plan.layout import Layout
from ..utils import limits
from ..utils.errors import SizekitError, UsageError
from ..utils.fsutil import tree_bytes
from ..utils.names import is_plain_name
from .cells import build_path
from .results_file import load_results
from .snapshot import Snapshot
from .pooling import SnapshotPool
from .symbols import read_raw

MAX_ARTIFACTS = limits.SNAPSHOT_ARTIFACTS.value
MAX_SYMBOLS = limits.SNAPSHOT_SYMBOLS.value


def snapshot_path(output_dir):
    """Where the report task writes the snapshot of an output folder."""
    return Layout(output_dir).snapshot


def results_file(path):
    """OUT_DIR or results.json -> the results.json path."""
    return os.path.join(path, "results.json") if os.path.isdir(path) else path


class ArtifactPaths:
    """Where the stage paths of results.json (relative to the matrix folder) are, inside output.

    The matrix folder is an ancestor of output (or output itself): a path that starts with
    output's own path from some ancestor is taken from there. It is opened only if, with every
    symlink resolved, it lies inside output."""

    def __init__(self, output):
        self.output = os.path.abspath(output)
        self.real = os.path.realpath(self.output).rstrip(os.sep) + os.sep
        self.roots, d = [], self.output
        while os.path.dirname(d) != d:
            d = os.path.dirname(d)
            self.roots.append((d, os.path.relpath(self.output, d) + os.sep))

    def find(self, rel):
        """The full path of rel inside output, or None."""
        if not isinstance(rel, str) or not rel or "\0" in rel or os.path.isabs(rel):
            return None
        root = next((r for r, prefix in self.roots if rel.startswith(prefix)), self.output)
        full = os.path.join(root, rel)
        return full if os.path.lexists(full) and os.path.realpath(full).startswith(self.real) else None


def git_info(folder):
    """{"revision", "date", "subject"} of the git checkout holding folder, or None."""
    try:
        proc = subprocess.run(["git", "-C", folder, "log", "-1", "--format=%H%n%cI%n%s"], capture_output=True,
                              text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) < 2:
        return None
    info: dict = {"revision": lines[0], "date": lines[1], "subject": lines[2] if len(lines) > 2 else ""}
    try:
        dirty = subprocess.run(["git", "-C", folder, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        info["dirty"] = bool(dirty.stdout.strip()) if dirty.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        info["dirty"] = None
    return info


def take_snapshot(results, results_path, root=None, git=True):
    """A Snapshot of loaded results whose artifacts live inside the results file's folder; root
    (the matrix's folder when a driver knows it, else the output's parent) gives the git revision."""
    output = os.path.dirname(os.path.abspath(results_path))
    root = root or os.path.dirname(output)
    snap = Snapshot(results=results, created=datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds"), source=os.path.relpath(results_path, root), git=git_info(root) if git else None)
    seen: dict = {}   # artifact path -> its index in the snapshot, or None when skipped
    paths, pool = ArtifactPaths(output), SnapshotPool()
    read = 0   # symbols read, kept or not: what bounds the work, whatever the folder holds
    for cell in results["cells"]:
        rel = build_path(cell)
        if rel is None:
            snap.cell_artifacts.append(None)
            continue
        if rel not in seen:
            full = paths.find(rel)
            try:
                if full is None:
                    raise SizekitError(f"not a file inside {os.path.relpath(output)}, the results' folder")
                if len(pool.parts) >= MAX_ARTIFACTS or read >= MAX_SYMBOLS:
                    raise SizekitError(f"not read: the snapshot has read its limit of "
                                       f"{limits.value_text(limits.SNAPSHOT_ARTIFACTS)} artifacts or "
                                       f"{limits.value_text(limits.SNAPSHOT_SYMBOLS)} symbols")
                got = read_raw(full)
                read += len(got)
                meta = {"path": rel, "bytes": os.path.getsize(full), "error": None}
                pool.add(got)
                del got
                seen[rel] = len(snap.artifacts)
                snap.artifacts.append(meta)
            except (SizekitError, OSError) as exc:
                seen[rel] = None
                # The note names the artifact: the reason need not say it again.
                why = str(exc)
                why = why[len(full) + 2:] if full and why.startswith(full + ": ") else why
                snap.skipped.append({"path": rel, "bytes": None, "error": why})
        snap.cell_artifacts.append(seen[rel])
    snap.tables = pool.tables()
    return snap


def measure_files(specs):
    """[{"name", "bytes"}] of `--file NAME=PATH` specs (a file or folder that is not a cell: a
    firmware image, a root file system), measured as `sizekit check --file` measures them. The
    paths come from the command line, not from results.json. Raises UsageError naming a bad one."""
    out: list = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--file {spec}: expected NAME=PATH, e.g. --file firmware=out/firmware.squashfs")
        if not is_plain_name(name) or len(name) > limits.NAME_CHARS.value:
            raise UsageError(f"--file {spec}: the name {name!r} may only use letters, digits, '.', '_', '+' and '-'")
        if any(f["name"] == name for f in out):
            raise UsageError(f"--file {spec}: the name {name!r} is given twice")
        if not os.path.lexists(path):
            raise UsageError(f"--file {spec}: {path}: not found; build it first, or check the path")
        out.append({"name": name, "bytes": tree_bytes(path)})
    if len(out) > limits.SNAPSHOT_FILES.value:
        raise UsageError(f"--file: {len(out):,} files, over the limit of {limits.value_text(limits.SNAPSHOT_FILES)}")
    return out


def snapshot_of(path, files=()):
    """Load OUT_DIR's or a results.json's results and snapshot them, with the files measured
    beside them (measure_files: checked before anything is read)."""
    measured = measure_files(files)
    rpath = results_file(path)
    snap = take_snapshot(load_results(rpath), rpath)
    snap.files = measured
    return snap
