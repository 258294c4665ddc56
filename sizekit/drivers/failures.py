"""What every driver says when it cannot go on: a bad matrix or option before any work, and a
full (or read-only) disk under the output folder during it. One line each, never a traceback."""
import errno
import os
import sys

from ..utils.errors import MatrixError, SizekitError

DISK_ERRORS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
               errno.EROFS: "read-only file system"}


def is_disk_error(exc):
    return isinstance(exc, OSError) and exc.errno in DISK_ERRORS


def disk_message(exc, output):
    """The line for a disk error while writing under the output folder."""
    where = exc.filename2 or exc.filename
    where = f" writing {os.path.relpath(where)}" if where else ""
    return (f"sizekit: {DISK_ERRORS[exc.errno]}{where}; free space under {os.path.relpath(output)} "
            f"(or point output: elsewhere) and run again: finished cells are kept")


def or_exit(load, *args):
    """load(*args), or print why it failed and exit: 2 for a bad matrix or option, 1 for a full disk.

    A matrix error's lines each name the file already; other errors get the "sizekit:" prefix."""
    try:
        return load(*args)
    except MatrixError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    except SizekitError as exc:
        print(f"sizekit: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
