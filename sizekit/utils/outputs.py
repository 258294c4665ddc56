"""Check where sizekit is about to write, before it reads or renders anything.

Every command that writes checks its output location first, so a wrong path is one line
(exit 2) naming it and the fix, never an IsADirectoryError after the work is done.
"""
import os
import stat

from .errors import UsageError


def check_output_file(path, what="output file"):
    """The file path a command will replace: not a folder, not a special file, in a folder that exists."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the {what} here: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{path}: is a folder; the {what} is a file, so pass a file name such as "
                             f"{os.path.join(path, 'out.html' if what.endswith('page') else 'out')}")
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            raise UsageError(f"{path}: is not a regular file; pass a file name for the {what}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        what_is = "does not exist" if not os.path.lexists(folder) else "is not a folder"
        raise UsageError(f"{path}: its folder {folder} {what_is}; create it first or pass another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{path}: cannot write in {folder} (permission denied)")
    return path
