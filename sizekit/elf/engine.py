"""Content hash, ELF section table and UPX size estimate, over the C module or its Python port.

``SIZEKIT_BACKEND=c`` (default) uses the cffi module ``sizekit.elf._native``;
``SIZEKIT_BACKEND=python`` uses ``sizekit.elf.pyport`` (sizekit.elf.backends chooses).
``BACKEND`` names the one in use.
"""
import mmap
import os
import struct
from dataclasses import dataclass, field
from typing import List, Optional

from . import backends
from .pyport import codes
from .pyport.tables import EST_BAND
from ..utils import limits
from ..utils.errors import ElfError, UsageError
from ..utils.safeio import FileProblem, open_regular

LEVELS = {"best": codes.SK_LEVEL_BEST, "lzma": codes.SK_LEVEL_LZMA}

SECTION_TYPES = {
    0: "NULL", 1: "PROGBITS", 2: "SYMTAB", 3: "STRTAB", 4: "RELA", 5: "HASH", 6: "DYNAMIC",
    7: "NOTE", 8: "NOBITS", 9: "REL", 10: "SHLIB", 11: "DYNSYM", 14: "INIT_ARRAY",
    15: "FINI_ARRAY", 16: "PREINIT_ARRAY", 17: "GROUP", 18: "SYMTAB_SHNDX", 19: "RELR",
    0x6FFFFFF5: "GNU_ATTRIBUTES", 0x6FFFFFF6: "GNU_HASH", 0x6FFFFFF7: "GNU_LIBLIST",
    0x6FFFFFFD: "GNU_verdef", 0x6FFFFFFE: "GNU_verneed", 0x6FFFFFFF: "GNU_versym",
    0x70000001: "X86_64_UNWIND", 0x70000003: "ARM_ATTRIBUTES",
}
SHF_ALLOC = 0x2


class NativeFileError(UsageError):
    """A file to hash or estimate cannot be read (missing, a directory, unreadable)."""

    def __init__(self, path, reason):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


# sk_upx_check's reasons, worded like UPX's own messages where it has one
UPX_REASONS = {
    codes.SK_UPX_NOT_ELF: "not an ELF file (UPX: UnknownExecutableFormatException)",
    codes.SK_UPX_MACHINE: "not an x86-64, i386, little-endian ARM or AArch64 ELF "
                         "(UPX: UnknownExecutableFormatException)",
    codes.SK_UPX_TYPE: "neither a program nor a shared library (UPX: "
                      "UnknownExecutableFormatException)",
    codes.SK_UPX_TOO_SMALL: "file too small (UPX: NotCompressibleException / file is too small, "
                           "under 4096 bytes)",
    codes.SK_UPX_PACKED: "already packed (UPX: AlreadyPackedException)",
    codes.SK_UPX_PHDRS: "program headers not right after the ELF header or past the end of "
                       "the file (UPX: CantPackException)",
    codes.SK_UPX_FIRST_LOAD: "first PT_LOAD does not start at offset 0 (UPX: first "
                            "PT_LOAD.p_offset != 0)",
    codes.SK_UPX_NO_EXEC: "no executable PT_LOAD (UPX: No PT_LOAD has (p_flags & PF_X))",
    codes.SK_UPX_NEED_INIT: "shared library without DT_INIT (UPX: need DT_INIT; try "
                           "\"void _init(void){}\")",
    codes.SK_UPX_TEXTREL: "shared library with text relocations (UPX: DT_TEXTREL found; "
                         "re-compile with -fPIC)",
    codes.SK_UPX_NO_XCT: "shared library whose code starts inside its headers "
                        "(UPX: CantPackException)",
    codes.SK_UPX_LOOKUP: "UPX's lookup of JNI_OnLoad in the dynamic symbols fails its hash table "
                        "checks (UPX: CantPackException: bad DT_GNU_HASH)",
}


@dataclass
class Section:
    index: int
    name: str
    type: int
    type_name: str
    flags: int
    addr: int
    offset: int
    size: int
    hash: int
    alloc: bool


@dataclass
class ElfInfo:
    elfclass: int
    endian: str
    machine: int
    sections: List[Section] = field(default_factory=list)

    def get_section(self, name) -> Optional[Section]:
        """The first section called `name`, or None."""
        for s in self.sections:
            if s.name == name:
                return s
        return None


_impl, BACKEND = backends.pick()


def model_fingerprint() -> str:
    """A digest of the UPX-size model in use: the C module's file (or the Python port's
    sources) and this module's refusal rules. Any change to either re-measures every cell."""
    import hashlib  # lazy: most commands never ask
    files = backends.model_files(_impl) + (__file__,)
    if files not in _FINGERPRINTS:
        digest = hashlib.sha256()
        for path in files:
            with open(path, "rb") as f:
                digest.update(f.read())
        _FINGERPRINTS[files] = f"{BACKEND}:{digest.hexdigest()[:16]}"
    return _FINGERPRINTS[files]


_FINGERPRINTS: dict = {}   # the model files -> their fingerprint, once per process


def set_backend(name):
    """Switch backends at run time (tests); returns the name now in use."""
    global _impl, BACKEND
    old = os.environ.get("SIZEKIT_BACKEND")
    os.environ["SIZEKIT_BACKEND"] = name
    try:
        _impl, BACKEND = backends.pick()
    finally:
        if old is None:
            del os.environ["SIZEKIT_BACKEND"]
        else:
            os.environ["SIZEKIT_BACKEND"] = old
    return BACKEND


# ---------------------------------------------------------------------------------------
# files

def open_elf(path, limit=limits.ELF_BYTES):
    """A read-only descriptor of the regular file at path; the caller closes it. Raises ElfError.

    A FIFO, device, socket or folder is refused from its type before it is opened (reading a
    FIFO blocks forever, /dev/zero never ends), and with limit a file over limit.value bytes."""
    try:
        return open_regular(path, None if limit is None else limit.value, "an ELF file")
    except FileProblem as exc:
        raise ElfError(path, "no such file" if exc.kind == "missing" else exc.reason) from None


def over_limit(path, count, limit, field):
    """The ElfError for a count (from a header) over one of sizekit.utils.limits' ELF rows."""
    return ElfError(path, f"{count:,} {field}, over the limit of {limits.value_text(limit)} for an ELF file; "
                          f"check that this is the right file")


class _Mapped:
    """A read-only view of a regular file: mmap for non-empty files, b'' for empty ones.

    limit (a limits.Limit, or None for any size) refuses a larger file before it is mapped."""

    def __init__(self, path, limit=None):
        self.path = os.fspath(path)
        self.limit = limit
        self._m = None

    def __enter__(self):
        fd = open_elf(self.path, self.limit)
        try:
            if os.fstat(fd).st_size == 0:
                return b""
            self._m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except OSError as e:
            raise ElfError(self.path, f"cannot read: {e.strerror or e}") from None
        finally:
            os.close(fd)  # the map holds its own reference to the file
        return self._m

    def __exit__(self, *exc):
        # cffi's from_buffer keeps no reference after the call returns, so closing is safe;
        # a BufferError here would mean a caller kept a memoryview into the map.
        if self._m is not None:
            self._m.close()


def _as_buffer(data):
    """A flat byte buffer both backends accept, without copying when possible."""
    if isinstance(data, (bytes, bytearray, mmap.mmap)):
        return data
    if isinstance(data, str):
        raise TypeError("expected bytes-like data, not str")
    mv = memoryview(data)
    if not mv.c_contiguous:
        return mv.tobytes()
    return mv if (mv.ndim == 1 and mv.format == "B") else mv.cast("B")


# ---------------------------------------------------------------------------------------
# public API

def hash_bytes(data) -> int:
    """Unsigned 64-bit content hash of a bytes-like object."""
    return _impl.hash64(_as_buffer(data), 0)


def hash_file(path) -> int:
    """Content hash of a file's bytes (mapped, not read into memory)."""
    with _Mapped(path) as buf:
        return _impl.hash64(buf, 0)


def hash_hex(value: int) -> str:
    """16 lowercase hex digits."""
    return format(value & 0xFFFFFFFFFFFFFFFF, "016x")


# Why the parser refused a file, by its return code; {size}, {count} and the header fields fill in.
_ELF_REASONS = {
    codes.SK_ERR_EMPTY: "empty file",
    codes.SK_ERR_BADMAGIC: "not an ELF file (bad magic)",
    codes.SK_ERR_TRUNCATED: "truncated ELF header ({size} bytes)",
    codes.SK_ERR_BADCLASS: "bad ELF class (EI_CLASS is not 1 or 2)",
    codes.SK_ERR_BADDATA: "bad ELF data encoding (EI_DATA is not 1 or 2)",
    codes.SK_ERR_SHENTSIZE: "section header entry size {shentsize} too small",
    codes.SK_ERR_SHTABLE: "section header table past end of file",
    codes.SK_ERR_TOOMANY: "too many sections ({shnum})",
    codes.SK_ERR_SHSTRNDX: "section name table index {shstrndx} out of range",
    codes.SK_ERR_NAME: "section {count} name is not a NUL-terminated string in the name table",
    codes.SK_ERR_RANGE: "section {count} data past end of file",
    codes.SK_ERR_NOMEM: "out of memory",
}


def _elf_reason(rc, count, info, size):
    text = _ELF_REASONS.get(rc)
    return text.format(size=size, count=count, **info) if text else f"native error {rc}"


def parse_sections(data, path="<bytes>") -> ElfInfo:
    """The section table of an ELF image held in memory. Raises ElfError."""
    buf = _as_buffer(data)
    rc, count, secs, info = _impl.elf_sections(buf)
    if rc != 0:
        raise ElfError(path, _elf_reason(rc, count, info, len(buf)))
    sections = []
    for s in secs:
        name = bytes(buf[s["name_off"]:s["name_off"] + s["name_len"]])
        sections.append(Section(
            index=s["index"], name=name.decode("utf-8", "replace"), type=s["type"],
            type_name=SECTION_TYPES.get(s["type"], f"0x{s['type']:x}"), flags=s["flags"],
            addr=s["addr"], offset=s["offset"], size=s["size"], hash=s["hash"],
            alloc=bool(s["flags"] & SHF_ALLOC)))
    return ElfInfo(elfclass=info["elfclass"], endian="big" if info["endian"] == 2 else "little",
                   machine=info["machine"], sections=sections)


def read_sections(path) -> ElfInfo:
    """The section table of an ELF file. Raises ElfError."""
    p = os.fspath(path)
    with _Mapped(p, limits.ELF_BYTES) as buf:
        # the count comes from the header, before a Section is made for each
        rc, info = _impl.elf_info_read(buf)
        if rc == 0 and info["shnum"] > limits.ELF_SECTIONS.value:
            raise over_limit(p, info["shnum"], limits.ELF_SECTIONS, "sections")
        info = parse_sections(buf, p)
        del buf
    return info


def _level(level):
    try:
        return LEVELS[level]
    except KeyError:
        raise UsageError(f"unknown UPX level {level!r}; expected one of "
                         f"{', '.join(sorted(LEVELS))}") from None


def estimate_packed(data, level="best") -> int:
    """Estimated size of `upx --best` ("best") or `upx --best --lzma` ("lzma") output."""
    lv = _level(level)
    buf = _as_buffer(data)
    rc, est, _, _ = _impl.estimate_packed(buf, lv)
    if rc == codes.SK_ERR_EMPTY:
        return 0
    if rc != 0:
        raise UsageError(f"packed-size estimate failed (native error {rc})")
    return est


def estimate_stream(data, level="best") -> int:
    """The uncalibrated model size (for calibration against real UPX runs)."""
    lv = _level(level)
    rc, _, stream, _ = _impl.estimate_packed(_as_buffer(data), lv)
    if rc not in (0, codes.SK_ERR_EMPTY):
        raise UsageError(f"packed-size estimate failed (native error {rc})")
    return stream


def estimate_file(path, level="best") -> int:
    """estimate_packed over a file's bytes."""
    lv = _level(level)
    with _Mapped(path) as buf:
        rc, est, _, _ = _impl.estimate_packed(buf, lv)
    if rc == codes.SK_ERR_EMPTY:
        return 0
    if rc != 0:
        raise NativeFileError(os.fspath(path), f"packed-size estimate failed (error {rc})")
    return est


def _ratio_refusal(size, estimate):
    # Packer::checkDefaultCompressionRatio: UPX throws NotCompressibleException unless the
    # output is 512 bytes smaller, and either 4096 bytes or 1/16 of the input smaller
    gain = size - estimate
    if estimate >= size or gain < 512 or (gain < 4096 and gain < size // 16):
        return (f"not compressible enough: estimated {estimate:,} of {size:,} bytes "
                f"(UPX: NotCompressibleException)")
    return None


EST_BAND_PCT = EST_BAND / 10  # the model's error band on compressed bytes, percent


def estimate_outcome(path, level="best", limit=None):
    """(estimate, None, other) for a file UPX would pack, where other is the size UPX gives
    instead if the compressed bytes land on the other side of a page edge within the
    model's error (a shared library; None when no edge is that near), or (None, reason,
    None). limit (limits.ESTIMATE_BYTES for a file from anywhere) refuses a larger file: the model
    reads every byte, at up to 0.7 s per MiB on a busy machine."""
    est, why, _, other = _verdict(path, level, with_pieces=False, limit=limit)
    return est, why, other


def estimate_breakdown(path, level="best", limit=None):
    """(estimate, None, pieces, other) as estimate_outcome and estimate_pieces from one run
    of the model, or (None, UPX's reason, None, None)."""
    return _verdict(path, level, with_pieces=True, limit=limit)


def _verdict(path, level, with_pieces, limit=None):
    lv = _level(level)
    p = os.fspath(path)
    other = 0
    with _Mapped(p, limit) as buf:
        if not os.access(p, os.X_OK):
            return None, "file not executable (UPX: file not executable; try 'chmod +x')", None, None
        if len(buf) == 0:
            return None, "empty file (UPX: file is too small)", None, None
        rc, reason = _impl.upx_check(buf)
        if rc == 0 and reason:
            return None, UPX_REASONS.get(reason, f"UPX check reason {reason}"), None, None
        _check_overlap(p, buf)
        if with_pieces:
            rc, pieces, est, other = _impl.estimate_pieces(buf, lv)
        else:
            (rc, est, _, other), pieces = _impl.estimate_packed(buf, lv), None
        size = len(buf)
    if rc != 0:
        raise NativeFileError(p, f"packed-size estimate failed (error {rc})")
    why = _ratio_refusal(size, est)
    if why:
        return None, why, None, None
    return est, None, _labelled(pieces) if with_pieces else None, other or None


def _loads(buf):
    """(offset, file size) of each PT_LOAD the estimate would read, or [] where it reads the
    file as one piece (not a little-endian ELF, headers past the end, over 64 PT_LOADs)."""
    if len(buf) < 64 or buf[:4] != b"\x7fELF" or buf[4] not in (1, 2) or buf[5] != 1:
        return []
    c64 = buf[4] == 2
    phoff, = struct.unpack_from("<Q" if c64 else "<I", buf, 32 if c64 else 28)
    phent, phnum = struct.unpack_from("<HH", buf, 54 if c64 else 42)
    if phoff != (64 if c64 else 52) or phent != (56 if c64 else 32) or phoff + phnum * phent > len(buf):
        return []
    loads: list = []
    for k in range(phnum):
        b = phoff + k * phent
        if struct.unpack_from("<I", buf, b)[0] != 1:
            continue
        off, fsz = struct.unpack_from("<Q16xQ" if c64 else "<I8xI", buf, b + (8 if c64 else 4))
        if off > len(buf) or fsz > len(buf) - off or len(loads) == 64:
            return []
        loads.append((off, fsz))
    return loads


def _check_overlap(path, buf):
    """Refuse PT_LOADs whose file bytes overlap: the estimate reads every segment and every gap
    after one, so 64 segments each spanning the file would cost 64 passes over it. Linkers lay
    segments out one after another, sharing at most a page."""
    loads = _loads(buf)
    read = 0
    for k, (off, size) in enumerate(loads):
        end = off + size
        read += size + min([o for j, (o, _) in enumerate(loads) if j != k and o >= end] + [len(buf)]) - end
    if read > len(buf) + 4096 * len(loads):
        raise ElfError(path, f"PT_LOAD segments overlap: the UPX estimate would read {read:,} bytes of a "
                             f"{len(buf):,}-byte file; check that this is the right file")


PIECE_KINDS = {codes.SK_PIECE_HEADERS: "headers", codes.SK_PIECE_PLAIN: "segment",
               codes.SK_PIECE_GAP: "gap", codes.SK_PIECE_COPY: "copied"}
PIECE_CONTENT = {codes.SK_CONTENT_CODE: "code", codes.SK_CONTENT_DATA: "data",
                 codes.SK_CONTENT_GAP: "gap", codes.SK_CONTENT_THUMB: "thumb"}


def estimate_pieces(data, level="best") -> list:
    """UPX's pieces of this file: dicts with offset, size, stream, packed, kind, filter and
    content (the ratio class it was priced with: code, thumb, data or gap)."""
    rc, pieces, _, _ = _impl.estimate_pieces(_as_buffer(data), _level(level))
    if rc == codes.SK_ERR_EMPTY:
        return []
    if rc != 0:
        raise UsageError(f"packed-size estimate failed (native error {rc})")
    return _labelled(pieces)


def _labelled(pieces):
    for p in pieces:
        p["kind"] = PIECE_KINDS.get(p["kind"], str(p["kind"]))
        p["content"] = PIECE_CONTENT.get(p["content"], str(p["content"]))
    return pieces


def diff_sections(a: ElfInfo, b: ElfInfo) -> list:
    """(name, size_a or None, size_b or None, changed) per named section, a's order first.

    `changed` compares content hashes, so a same-size section with new bytes is changed.
    Sections without a name (index 0) are left out; a repeated name pairs up in order.
    """
    def by_name(info):
        out: dict = {}
        for s in info.sections:
            if s.name:
                out.setdefault(s.name, []).append(s)
        return out

    ma, mb = by_name(a), by_name(b)
    rows = []
    seen = set()
    order = [s.name for s in a.sections if s.name] + [s.name for s in b.sections if s.name]
    for name in order:
        if name in seen:
            continue
        seen.add(name)
        la, lb = ma.get(name, []), mb.get(name, [])
        for i in range(max(len(la), len(lb))):
            sa = la[i] if i < len(la) else None
            sb = lb[i] if i < len(lb) else None
            changed = sa is None or sb is None or sa.hash != sb.hash or sa.size != sb.size
            rows.append((name, sa.size if sa else None, sb.size if sb else None, changed))
    return rows
