"""Read a text file a user handed sizekit (a matrix, a results.json) without trusting it.

Only regular files are opened, and never in a way that can block: a FIFO, a device such as
/dev/zero or a socket is refused from its stat, and the open itself is non-blocking in case
the path changes in between. At most limit + 1 bytes are read. The bytes must be UTF-8 text
with no NUL byte. Every refusal is a FileProblem whose reason reads well after "FILE: ".
"""
import os
import stat

KINDS = ((stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISCHR, "character device"),
         (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


class FileProblem(Exception):
    """Why a file cannot be read. kind is missing, directory, special, too-big, unreadable or text."""

    def __init__(self, kind, reason, line=None):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.line = line

    def message(self, shown, **reasons):
        """One line "FILE[:LINE]: reason"; reasons overrides the reason of some kinds (missing=...)."""
        where = f"{shown}:{self.line}" if self.line else shown
        return f"{where}: {reasons.get(self.kind.replace('-', '_'), self.reason)}"


def size_limit_text(limit):
    """1048576 -> "1 MiB", 65536 -> "64 KiB"."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit:,} bytes"


def _check_mode(mode):
    if stat.S_ISDIR(mode):
        raise FileProblem("directory", "is a directory")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in KINDS if test(mode)), "special file")
        raise FileProblem("special", f"is a {kind}, not a regular file; save the contents to a file and pass that")


def _too_big(limit, what):
    return FileProblem("too-big", f"is larger than {size_limit_text(limit)}, the limit for {what}; "
                                  f"check that this is the right file")


def read_bytes(path, limit, what):
    """The bytes of a regular file of at most limit bytes. Raises FileProblem."""
    try:
        _check_mode(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileProblem("missing", "not found") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise FileProblem("unreadable", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        st = os.fstat(fd)
        _check_mode(st.st_mode)
        if st.st_size > limit:
            raise _too_big(limit, what)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, limit + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise FileProblem("unreadable", f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if total > limit:
        raise _too_big(limit, what)
    return b"".join(chunks)


def decode_text(data):
    """UTF-8 text with universal newlines, as open(..., encoding="utf-8") reads it. Raises FileProblem."""
    nul = data.find(b"\0")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if 0 <= nul < exc.start:
            raise _binary(data, nul) from None
        raise FileProblem("text", f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8; "
                                  f"save the file as UTF-8 text", data.count(b"\n", 0, exc.start) + 1) from None
    if nul >= 0:
        raise _binary(data, nul)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _binary(data, offset):
    return FileProblem("text", f"NUL byte at offset {offset}: this is a binary file, not text; pass the right file",
                       data.count(b"\n", 0, offset) + 1)


def read_text(path, limit, what):
    """read_bytes, then decode_text. what names the file for the size message ("a matrix file")."""
    return decode_text(read_bytes(path, limit, what))


def open_regular(path, limit=None, what="a file"):
    """A read-only descriptor of a regular file, opened without blocking; the caller closes it.

    A FIFO, device, socket or folder is refused from its stat before the open (and again from
    fstat after it, in case the path changed between). With limit, a larger file is refused
    too. Raises FileProblem."""
    try:
        _check_mode(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileProblem("missing", "not found") from None
    except (OSError, ValueError) as exc:
        raise FileProblem("unreadable", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        st = os.fstat(fd)
        _check_mode(st.st_mode)
        if limit is not None and st.st_size > limit:
            raise _too_big(limit, what)
    except BaseException:
        os.close(fd)
        raise
    return fd
