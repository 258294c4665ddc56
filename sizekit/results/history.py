"""`sizekit history`: final bytes per row (crate/target/variant) over a series of snapshots, and the
biggest movers at each step. Snapshots are ordered by their git commit date, else their date."""
import glob
import os

from ..utils.errors import UsageError
from .capture import snapshot_path
from .compare import cell_name
from .inputs import load_input
from .symdiff import diff_tables

TOP_MOVERS = 5


def expand(paths):
    """Files as given; a folder gives every snapshot (*.zst, *.sksnap*) and results.json in it."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(set(glob.glob(os.path.join(p, "*.zst")) + glob.glob(os.path.join(p, "*.sksnap*"))))
            if not found and os.path.isfile(snapshot_path(p)):
                found = [snapshot_path(p)]
            if not found:
                raise UsageError(f"{p}: no snapshots (*.zst) in this folder")
            out += found
        else:
            out.append(p)
    if not out:
        raise UsageError("history needs at least one snapshot")
    return out


def _when(snap):
    return ((snap.git or {}).get("date") or snap.created or "")


def load_series(paths):
    snaps = [load_input(p) for p in expand(paths)]
    return sorted(snaps, key=_when)       # stable: files given in order keep it on equal dates


def revision_label(snap):
    rev = (snap.git or {}).get("revision")
    return rev[:10] if rev else os.path.basename(snap.path or "?")


def history(snaps):
    """{"revisions": [...], "rows": [{"name", "values": [bytes or None per revision]}], "steps": [...]}"""
    rows: dict = {}
    for k, snap in enumerate(snaps):
        for cell in snap.results["cells"]:
            row = rows.setdefault(cell_name(cell), [None] * len(snaps))
            if cell.get("status") == "ok":
                row[k] = cell.get("final_bytes")
    revisions = [{"label": revision_label(s), "date": _when(s), "subject": (s.git or {}).get("subject") or "",
                  "path": s.path} for s in snaps]
    steps = [movers(snaps[k - 1], snaps[k], rows, k) for k in range(1, len(snaps))]
    return {"revisions": revisions, "rows": [{"name": n, "values": v} for n, v in rows.items()], "steps": steps}


def movers(old, new, rows, k):
    """The rows that moved most from revision k-1 to k, each with the crates that moved most."""
    moved = [(name, v[k] - v[k - 1]) for name, v in rows.items()
             if v[k] is not None and v[k - 1] is not None and v[k] != v[k - 1]]
    moved.sort(key=lambda m: (-abs(m[1]), m[0]))
    tables_old = {cell_name(c): old.table_of(i) for i, c in enumerate(old.results["cells"])}
    tables_new = {cell_name(c): new.table_of(i) for i, c in enumerate(new.results["cells"])}
    out = []
    for name, delta in moved[:TOP_MOVERS]:
        entry = {"row": name, "delta": delta, "crates": []}
        a, b = tables_old.get(name), tables_new.get(name)
        if a is not None and b is not None:
            entry["crates"] = [{"crate": e["crate"], "delta": e["delta"]}
                               for e in diff_tables(a, b)["crates"] if e["delta"]][:3]
        out.append(entry)
    return {"revision": k, "moved": len(moved), "movers": out}
