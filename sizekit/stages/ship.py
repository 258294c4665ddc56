"""Shipping a cell: its final artifact copied to the one place a firmware build depends on.

The copy (Layout.shipped) is rewritten only when its bytes change, so a rebuild that gives the
same bytes leaves the image and every rule after it alone, under make's timestamps as under
SCons's content signatures. A cell with no artifact (failed, unavailable) is one line saying
why, and the previous copy is removed, so no image ships a stale binary."""
import contextlib
import filecmp
import os

from ..plan.records import StageRecord
from ..utils.fsutil import copy_file


def artifact_name(cell):
    """The file name of the cell's final artifact (as cargo names it on the cell's target)."""
    crate = cell.crate
    if crate.kind in ("bin", "example"):
        return crate.artifact + (".exe" if "windows" in cell.target else "")
    lib = crate.artifact.replace("-", "_")   # cargo's library file names use underscores
    return f"lib{lib}.so" if crate.kind == "cdylib" else f"lib{lib}.a"


def ship(layout, cell):
    """Copy the cell's final artifact to layout.shipped; returns (the copy's path, None) or (None, why)."""
    dest = layout.shipped(cell, artifact_name(cell))
    record = StageRecord.read_or_none(layout.stage_record(cell.last.key))
    if record is None or not record.ok:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(dest)
        why = record.reason if record is not None else "it has not been built"
        return None, f"{cell.name} has no artifact to ship: {why}"
    src = layout.absolute(record.path)
    if not (os.path.isfile(dest) and filecmp.cmp(src, dest, shallow=False)):
        copy_file(src, dest)
    return dest, None
