"""Small filesystem helpers: atomic writes, safe path joins, file locks."""
import contextlib
import fcntl
import json
import os
import shutil
import stat
import tempfile


def umask():
    """The process's umask (read without changing it for long)."""
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
        os.fchmod(fd, mode & ~umask())  # mkstemp makes 0600; reports are for reading
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


def _reachable(output, path):
    """True when path lies under output and no folder between them is a symlink or not a folder."""
    base = os.path.abspath(output)
    rel = os.path.relpath(os.path.abspath(path), base)
    if rel == os.curdir or rel.startswith(os.pardir + os.sep) or rel == os.pardir:
        return False
    current = base
    for part in rel.split(os.sep)[:-1]:
        current = os.path.join(current, part)
        try:
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                return False
        except OSError:
            return False
    return True


def remove_inside(output, paths):
    """Remove the files at paths (what sizekit recorded writing), each only when it lies inside
    output with no symlink on the way; a path that is itself a symlink loses the link, never
    its target. Folders are never removed whole: only those left empty, up to output.
    Returns the paths passed over."""
    skipped, folders = [], set()
    for path in paths:
        if not path or not _reachable(output, path):
            skipped.append(path)
            continue
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(mode):
            folders.add(os.path.abspath(path))
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        folders.add(os.path.dirname(os.path.abspath(path)))
    base = os.path.abspath(output)
    for folder in sorted(folders, key=len, reverse=True):
        while folder != base and folder.startswith(base + os.sep):
            try:
                os.rmdir(folder)
            except OSError:
                break
            folder = os.path.dirname(folder)
    return skipped


def cleanable(output, paths):
    """The paths a clean may remove: those reachable from output without a symlink on the way
    (see remove_inside). A folder among them is sizekit's own; removing it whole unlinks the
    symlinks inside it and never follows them."""
    return [p for p in paths if _reachable(output, p) and os.path.lexists(p)]


def tree_bytes(path):
    """The bytes of a file, or of every regular file under a folder (each file once however many
    links it has; symlinks are not followed): what an image or a root file system folder holds."""
    st = os.lstat(path)
    if not os.path.isdir(path):
        return st.st_size
    seen, total = set(), 0
    for folder, _, files in os.walk(path):
        for name in files:
            fst = os.lstat(os.path.join(folder, name))     # one stat: a symlink is not S_ISREG
            if stat.S_ISREG(fst.st_mode) and (fst.st_dev, fst.st_ino) not in seen:
                seen.add((fst.st_dev, fst.st_ino))
                total += fst.st_size
    return total
