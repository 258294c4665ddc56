"""Small filesystem helpers: atomic writes, safe path joins, file locks."""
import contextlib
import fcntl
import json
import os
import shutil
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data, mode=0o666):
    """Write via a temp file in the same folder, fsync, then rename: never half-written.
    mode (less the umask) is set before the rename, so the file never exists without it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        os.fchmod(fd, mode & ~_umask())  # mkstemp makes 0600; reports are for reading
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text, mode=0o666):
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def write_text_if_changed(path, text, mode=0o666):
    """Atomically write text unless the file already holds exactly that; True if written.

    Leaving an identical file untouched keeps its mtime, so downstream doit
    tasks that depend on it stay up to date, and two writers of the same text
    never replace each other's file.
    """
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    atomic_write_text(path, text, mode)
    return True


def write_json_if_changed(path, obj):
    """write_text_if_changed with obj as sorted, indented JSON."""
    return write_text_if_changed(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_json(path, default=None):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def copy_file(src, dst):
    """Copy src to dst atomically, keeping the mode bits."""
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    os.close(fd)
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def safe_join(base, *parts):
    """Join parts under base, refusing anything that would escape it."""
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\0" in part or part.startswith("-"):
            raise ValueError(f"unsafe path component {part!r}")
    path = os.path.join(base, *parts)
    real_base = os.path.realpath(base)
    if not os.path.realpath(path).startswith(real_base.rstrip("/") + "/"):
        raise ValueError(f"path {path!r} escapes {base!r}")
    return path


@contextlib.contextmanager
def file_lock(path):
    """Hold an exclusive flock on path for the duration of the block."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
