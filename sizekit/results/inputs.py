"""What `sizekit diff`, `check --base`, `report --base` and `history` read: a results.json or a
snapshot, told apart by content (a snapshot is a zstd frame), never by the file name."""
import os
import stat

from . import snapshot as sn
from .results_file import load_results


def _head(path):
    """The first bytes of a regular file, or b"" (load_results then words what is wrong with it)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return b""
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return b""
    try:
        return os.read(fd, 4) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    except OSError:
        return b""
    finally:
        os.close(fd)


def load_input(path, symbols=True):
    """A Snapshot: loaded from a snapshot file (without its symbol tables when symbols=False),
    or a results.json wrapped without symbols."""
    if sn.is_snapshot_bytes(_head(path)):
        return sn.load_snapshot(path, symbols)
    results = load_results(path)
    return sn.Snapshot(results=results, cell_artifacts=[None] * len(results["cells"]), path=path)
