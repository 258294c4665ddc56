"""What one results.json cell says, asked one way: the reports, diff, check, merge and the
snapshots all read a cell's outcome, bytes, stages and change through these functions."""
from typing import Optional

from ..utils.units import pct_change


def ok_bytes(cell) -> Optional[int]:
    """The final bytes of an ok cell, else None (a cell that failed, is unavailable or is missing)."""
    if not cell or cell.get("status") != "ok":
        return None
    size = cell.get("final_bytes")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def is_ok(cell) -> bool:
    return ok_bytes(cell) is not None


def stage(cell, which="build") -> Optional[dict]:
    """The cell's build stage ("build") or its last one ("final"), or None."""
    stages = (cell or {}).get("stages") or []
    if not stages:
        return None
    if which == "final":
        return stages[-1]
    return next((s for s in stages if s.get("step") == "build"), None)


def build_path(cell) -> Optional[str]:
    """The build stage's artifact (relative to the matrix folder) of an ok cell: its unstripped file."""
    if not cell or cell.get("status") != "ok":
        return None
    return (stage(cell, "build") or {}).get("path")


def change_pct(cell, base) -> Optional[float]:
    """% change of a cell against its baseline row, from their bytes: what results.json stores
    and every report shows."""
    return pct_change(ok_bytes(cell), ok_bytes(base))


def add_change_pct(cells, baseline) -> None:
    """Store each cell's change_pct against its crate and target's baseline row."""
    base = {(c["crate"], c["target"]): c for c in cells if c["variant"] == baseline}
    for c in cells:
        c["change_pct"] = change_pct(c, base.get((c["crate"], c["target"])))
