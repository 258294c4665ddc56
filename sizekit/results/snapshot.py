"""The snapshot file: one standard zstd frame holding a results.json and every symbol of each artifact.

Inside the frame (all integers little-endian):

    b"SKSNAP\\0\\1"                      magic and format version 1
    u32 H, then H bytes of JSON          the header: results, artifacts, git, counts
    S bytes                              the string pool: UTF-8 strings, each ended by a NUL
    5 x N x u32                          symbol columns: raw name, name, crate, section (string
                                         indices, name = NAME_IS_RAW when equal to raw), size

The header's "artifacts" list gives each unstripped artifact its slice [start, start + count)
of the columns, its covered sections and the bytes no symbol covers; "cell_artifacts" maps
each cell of "results" (same order) to an artifact index or null. Cells that share one build
share one artifact, so a matrix's symbols are stored once per build.

Writing is sizekit.results.snapshot_write. Loading trusts nothing: every size and count is
held to its limit in sizekit.utils.limits before anything is allocated for it, the frame is decompressed piece by piece (never more than
a piece's size, nor past the frame's declared size), strings must be UTF-8 without surrogates,
every index is checked against its column, and the results part goes through the same field
checks as a results.json. Any problem is one ResultsError line naming the file (exit 2).
Columns stay the u32 arrays of the decompressed bytes and pool strings are decoded when used
(sizekit.results.columns): a table's columns are views.
"""
import json
import struct
from dataclasses import dataclass, field

import numpy as np
import zstandard

from typing import Optional

from ..utils import limits
from ..utils.errors import ResultsError
from ..utils.safeio import FileProblem, open_regular
from . import results_file as rformat
from .columns import NAME_IS_RAW, ColumnTable, Pool

MAGIC = b"SKSNAP\0\1"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
FORMAT = "sizekit-snapshot"
VERSION = 1
FRAME_HEADER_MAX = 18          # ZSTD_FRAMEHEADERSIZE_MAX: what frame_content_size needs
CHUNK = 1 << 20                # decompressed per read: memory follows what really decompresses
LEVEL = 3                      # 4x faster to write than 9 (2M symbols: 0.07 s, not 0.27), ~16% larger


@dataclass
class Snapshot:
    """A snapshot: results.json's dict, one symbol table per artifact, and where it came from."""

    results: dict
    tables: list = field(default_factory=list)        # per artifact: a ColumnTable (taken or loaded), or a SymbolTable
    artifacts: list = field(default_factory=list)     # header entry per artifact (path, bytes, error)
    cell_artifacts: list = field(default_factory=list)
    skipped: list = field(default_factory=list)       # artifacts that could not be read, with why
    files: list = field(default_factory=list)         # {"name", "bytes"} of files that are not cells (an image)
    git: Optional[dict] = None
    created: Optional[str] = None
    source: Optional[str] = None
    path: Optional[str] = None

    def table_of(self, index):
        """The symbol table of results["cells"][index], or None."""
        a = self.cell_artifacts[index] if index < len(self.cell_artifacts) else None
        return None if a is None else self.tables[a]


# ---------------------------------------------------------------- reading


def is_snapshot_bytes(data):
    return data[:4] == ZSTD_MAGIC


def _bad(path, why):
    return ResultsError(f"{path}: not a sizekit snapshot ({why})")


def _over(path, value, what, limit):
    """The one line for a count or size over its limit in sizekit.utils.limits."""
    return _bad(path, f"{value:,} {what}, over the limit of {limits.value_text(limit)}")


class _Stream:
    """The frame's payload, decompressed piece by piece: never more than a piece asks for, and the
    pieces together never more than the frame declares or SNAPSHOT_PAYLOAD allows."""

    def __init__(self, path, data, source=None):
        """data: the file's bytes, or its first bytes when source (a file object of it, at its
        start) is given: then the compressed bytes are read as decompression needs them, and
        are never all in memory at once."""
        self.path, self.total = path, 0
        try:
            self.declared = zstandard.frame_content_size(data)
        except zstandard.ZstdError as exc:
            raise _bad(path, f"bad zstd frame: {exc}") from None
        if self.declared > limits.SNAPSHOT_PAYLOAD.value:
            raise _bad(path, f"its frame claims {self.declared:,} bytes, over the limit of "
                             f"{limits.value_text(limits.SNAPSHOT_PAYLOAD)} decompressed")
        self.reader = zstandard.ZstdDecompressor().stream_reader(data if source is None else source,
                                                                 read_across_frames=False)

    def fits(self, n):
        """Whether n more bytes fit in what the frame declares (always, when it declares nothing)."""
        return self.declared < 0 or self.total + n <= self.declared

    def read(self, n, what):
        """Exactly n bytes, or ResultsError saying what ended early."""
        if self.total + n > limits.SNAPSHOT_PAYLOAD.value:
            raise _bad(self.path, f"decompresses to more than {limits.value_text(limits.SNAPSHOT_PAYLOAD)}, "
                                  "the limit")
        if self.declared >= 0:
            # The frame declares its size and the header's counts add up to it (see decode): one
            # read into one bytes object, no copy. A frame that holds less is caught just below.
            buf = self._chunk(n)
            if len(buf) < n:
                raise _bad(self.path, f"truncated: its {what} ends after {len(buf):,} of {n:,} bytes")
            self.total += n
            return buf
        # A growing bytearray, not chunks joined: the piece is in memory once, and only as far as it
        # really decompresses, whatever a hostile header claims.
        buf = bytearray()
        while len(buf) < n:
            chunk = self._chunk(min(CHUNK, n - len(buf)))
            if not chunk:
                raise _bad(self.path, f"truncated: its {what} ends after {len(buf):,} of {n:,} bytes")
            buf += chunk
        self.total += n
        return buf

    def end(self):
        """Nothing may follow the columns, and the frame must hold what it declared."""
        if self._chunk(1):
            raise _bad(self.path, "the sizes in its header do not match its contents (more data follows)")
        if self.declared >= 0 and self.total != self.declared:
            raise _bad(self.path, f"truncated: {self.total:,} of {self.declared:,} bytes")

    def _chunk(self, n):
        try:
            return self.reader.read(n)
        except zstandard.ZstdError as exc:
            raise _bad(self.path, f"corrupt zstd data: {exc}") from None


def decode(data, path):
    """A Snapshot from a file's bytes. Raises ResultsError naming path."""
    return _decode(_open(data, path), path)


def _open(data, path, source=None):
    if not is_snapshot_bytes(data):
        raise _bad(path, "no zstd frame")
    return _Stream(path, data, source)


def _decode(stream, path, symbols=True):
    """decode() from its _Stream, which lets go of the file's bytes once all are read; with
    symbols=False, only the header's results (the rest of the frame is not decompressed)."""
    if not stream.fits(len(MAGIC) + 4):
        raise _bad(path, "a zstd file, but not a sizekit snapshot of version 1")
    try:
        head = stream.read(len(MAGIC) + 4, "start")
    except ResultsError:
        raise _bad(path, "a zstd file, but not a sizekit snapshot of version 1") from None
    if head[:len(MAGIC)] != MAGIC:
        raise _bad(path, "a zstd file, but not a sizekit snapshot of version 1")
    (hlen,) = struct.unpack_from("<I", head, len(MAGIC))
    if not stream.fits(hlen):
        raise _bad(path, "truncated header")
    if hlen > limits.SNAPSHOT_HEADER.value:
        raise _over(path, hlen, "bytes of header", limits.SNAPSHOT_HEADER)
    header = _header(stream.read(hlen, "header"), path)
    nstr, sbytes, nsym = _counts(header, path)
    if not stream.fits(sbytes + 20 * nsym) or (stream.declared >= 0 and
                                               stream.total + sbytes + 20 * nsym != stream.declared):
        raise _bad(path, "the sizes in its header do not match its contents")
    pool = _pool(stream.read(sbytes, "string pool"), nstr, path)
    cols = []
    for k in range(5):
        col = _column(stream.read(4 * nsym, "symbol columns"))
        _check_column(pool, col, k, path)
        if symbols and k in (2, 3):
            # Crates and sections as u8/u16 codes, made as each is read: the u32 column is freed.
            ids, col = pool.codes(col)
            if k == 2:
                pool.crate_ids = ids
            else:
                pool.section_ids = ids
        cols.append(col if symbols or k == 4 else None)
    stream.end()
    stream.reader = None
    if not symbols:
        # Only the cells are wanted (check --max-growth): the whole file is still checked, but no
        # symbol table is built, and the pool and columns are let go at once.
        del pool, cols
        return _results_only(header, path)
    try:
        return _snapshot(header, pool, cols, path)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        # A safety net: every field above is checked, but a hostile file must never be a traceback.
        raise _bad(path, f"malformed contents: {exc!r}"[:200]) from None


def _header(raw, path):
    """The header's JSON, its values counted before json builds them (as a results.json's are)."""
    if rformat.json_values(raw) > limits.RESULTS_VALUES.value:
        raise _bad(path, f"its header holds more than {limits.RESULTS_VALUES.value:,} JSON values, the limit "
                         "for the results.json inside")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(path, f"its header is not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}") from None
    del raw
    try:
        header = json.loads(text)
    except RecursionError:
        raise _bad(path, "header is not JSON: lists and objects nest too deeply") from None
    except ValueError as exc:
        raise _bad(path, f"header is not JSON: {' '.join(str(exc).split())[:80]}") from None
    # json decodes a "\ud800" escape to a lone surrogate, which no report can print or write.
    if rformat.SURROGATE.search(text):
        try:
            json.dumps(header, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _bad(path, "a string of its header holds a lone UTF-16 surrogate (\\ud800 to \\udfff)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise _bad(path, "unknown header or version")
    return header


def _count(header, key, limit, what, path):
    value = header.get(key)
    if not _is_int(value):
        raise _bad(path, f"its header's {key} is not a whole number")
    if value > limit.value:
        raise _over(path, value, what, limit)
    return value


def _counts(header, path):
    """(strings, string bytes, symbols) from the header, each within its limit."""
    return (_count(header, "strings", limits.SNAPSHOT_STRINGS, "strings", path),
            _count(header, "string_bytes", limits.SNAPSHOT_STRING_BYTES, "bytes of strings", path),
            _count(header, "symbols", limits.SNAPSHOT_SYMBOLS, "symbols", path))


def _pool(raw, nstr, path):
    """The pool, checked: valid UTF-8 (no surrogates), nstr strings, each within SYMBOL_NAME_BYTES.
    Kept as bytes and the offset of each string's end; strings are decoded when used."""
    # UTF-8 never has a zero byte inside a character: every NUL ends a string.
    ends = _nuls(raw)
    _check_utf8(raw, ends, path)
    if (raw and raw[-1] != 0) or len(ends) != nstr:
        raise _bad(path, "the string pool does not match its count")
    longest = int(max(ends[0], np.diff(ends).max(initial=1) - 1)) if nstr else 0
    if longest > limits.SYMBOL_NAME_BYTES.value:
        raise _over(path, longest, "bytes in one string of the pool", limits.SYMBOL_NAME_BYTES)
    return Pool(bytes(raw), ends.astype(np.uint32 if len(raw) < 1 << 32 else np.int64))      # bytes: slices of bytes hash and decode faster than a bytearray's


def _nuls(raw):
    """Offsets of raw's zero bytes, found a piece at a time (no pool-sized temporary)."""
    view = np.frombuffer(raw, np.uint8)
    return np.concatenate([np.flatnonzero(view[at:at + CHUNK] == 0) + at for at in range(0, len(view), CHUNK)]
                          or [np.zeros(0, np.int64)]).astype(np.int64)


def _check_utf8(raw, ends, path):
    """Strict UTF-8 (which refuses encoded surrogates too, that no report could print or write),
    decoded a piece at a time: pieces end at a NUL, which no character spans."""
    at = np.searchsorted(ends, np.arange(CHUNK, len(raw), CHUNK))
    cuts = ends[at[at < len(ends)]] + 1
    view = memoryview(raw)
    start = 0
    for end in [*np.unique(cuts).tolist(), len(raw)]:
        try:
            str(view[start:end], "utf-8")
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            raise _bad(path, f"string pool is not UTF-8: byte 0x{raw[offset]:02x} at offset {offset}") from None
        start = end


def _column(raw):
    """A u32 column over the decompressed bytes, little-endian as on disk (no copy)."""
    return np.frombuffer(raw, dtype="<u4")


def _is_int(value, top=1 << 63):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < top


def _text(value, where, path, chars=limits.TEXT_CHARS):
    """A string of at most chars characters, or None."""
    if value is not None and not isinstance(value, str):
        raise _bad(path, f"its header's {where} is not a string")
    if value is not None and len(value) > chars.value:
        raise _over(path, len(value), f"characters in its header's {where}", chars)
    return value


def _git(git, path):
    """The revision, date and subject a history orders and labels by; other keys are dropped."""
    if git is None:
        return None
    if not isinstance(git, dict):
        raise _bad(path, "its header's git is not an object")
    out = {k: _text(git.get(k), f"git.{k}", path) for k in ("revision", "date", "subject") if k in git}
    if "dirty" in git:
        if git["dirty"] is not None and not isinstance(git["dirty"], bool):
            raise _bad(path, "its header's git.dirty is not true, false or null")
        out["dirty"] = git["dirty"]
    return out


def _check_column(pool, col, k, path):
    """Every string index of column k (raw, name, crate, section; 4 is sizes) names a string of the pool."""
    if k < 4 and len(col):
        top = int(col[col != NAME_IS_RAW].max(initial=0)) if k == 1 else int(col.max())
        if top >= len(pool):
            raise _bad(path, "a symbol names a string past the pool")


def _results_only(header, path):
    """The Snapshot of a checked header's results, git revision and dates, with no symbols."""
    results = header.get("results")
    _check_results(results, path)
    return Snapshot(results=results, git=_git(header.get("git"), path),
                    created=_text(header.get("created"), "created", path) or "",
                    source=_text(header.get("source"), "source", path) or "", path=path,
                    cell_artifacts=[None] * len(results["cells"]), files=_files(header.get("files"), path))


def _files(files, path):
    """The files measured beside the cells (`sizekit snapshot --file NAME=PATH`): named byte counts,
    each name once. A snapshot written before they existed has none."""
    if files is None:
        return []
    if not isinstance(files, list):
        raise _bad(path, "its header's files is not a list")
    if len(files) > limits.SNAPSHOT_FILES.value:
        raise _over(path, len(files), "files", limits.SNAPSHOT_FILES)
    out, seen = [], set()
    for k, entry in enumerate(files):
        if not isinstance(entry, dict) or set(entry) != {"name", "bytes"}:
            raise _bad(path, f"its header's files[{k}] is not an object of name and bytes")
        name = _text(entry["name"], f"files[{k}].name", path, limits.NAME_CHARS)
        if not name or name in seen:
            raise _bad(path, f"its header's files[{k}].name is {'empty' if not name else 'given twice'}")
        if not _is_int(entry["bytes"], limits.SIZE_MAX.value + 1):
            raise _bad(path, f"its header's files[{k}].bytes is not a byte count")
        seen.add(name)
        out.append({"name": name, "bytes": entry["bytes"]})
    return out


def _snapshot(header, pool, cols, path):
    """The Snapshot of a checked header, its pool and its five columns."""
    nsym = len(cols[4])
    snap = _results_only(header, path)
    artifacts = header.get("artifacts")
    if not isinstance(artifacts, list):
        raise _bad(path, "its header's artifacts is not a list")
    if len(artifacts) > limits.SNAPSHOT_ARTIFACTS.value:
        raise _over(path, len(artifacts), "artifacts", limits.SNAPSHOT_ARTIFACTS)
    used = np.zeros(len(pool), bool)
    used[cols[0]] = True
    pool.raw_ids = np.flatnonzero(used).astype(np.int32)
    del used
    end = 0
    for k, meta in enumerate(artifacts):
        start, count = _slice(meta, k, end, path)
        end = start + count
        raw, name, crate, section, size = (c[start:end] for c in cols)
        snap.tables.append(ColumnTable(pool, raw, name, crate, section, size,
                                       sections=_sizes(meta.get("sections"), k, path),
                                       unknown=_sizes(meta.get("unknown"), k, path),
                                       demangler=_text(meta.get("demangler"), f"artifacts[{k}].demangler", path,
                                                       limits.NAME_CHARS) or ""))
        snap.artifacts.append(_meta(meta, k, path))
    if end != nsym:
        raise _bad(path, f"its artifacts cover {end:,} of its {nsym:,} symbols")
    cells = header.get("cell_artifacts")
    if not isinstance(cells, list) or len(cells) != len(snap.results["cells"]) or any(
            a is not None and (not _is_int(a) or a >= len(snap.tables)) for a in cells):
        raise _bad(path, "cell_artifacts does not match the cells")
    snap.cell_artifacts = cells
    return snap


def _slice(meta, k, end, path):
    """(start, count) of artifact k, which must begin where artifact k - 1 ended (as encode writes
    them): overlapping slices would let a small file stand for many copies of its symbols."""
    if not isinstance(meta, dict):
        raise _bad(path, f"its header's artifacts[{k}] is not an object")
    start, count = meta.get("start"), meta.get("count")
    if not _is_int(start) or not _is_int(count):
        raise _bad(path, f"its header's artifacts[{k}].start and .count are not whole numbers")
    start, count = int(start or 0), int(count or 0)   # checked just above: whole numbers
    if count > limits.ARTIFACT_SYMBOLS.value:
        raise _over(path, count, f"symbols in artifacts[{k}]", limits.ARTIFACT_SYMBOLS)
    if start != end:
        raise _bad(path, f"artifacts[{k}] starts at symbol {start:,}, not where the one before ends ({end:,})")
    return start, count


def _meta(meta, k, path):
    """The path, bytes and error of artifact k, as the reports show them."""
    nbytes = meta.get("bytes")
    if nbytes is not None and not _is_int(nbytes, limits.SIZE_MAX.value + 1):
        raise _bad(path, f"its header's artifacts[{k}].bytes is not a byte count")
    return {"path": _text(meta.get("path"), f"artifacts[{k}].path", path), "bytes": nbytes,
            "error": _text(meta.get("error"), f"artifacts[{k}].error", path)}


def _sizes(obj, k, path):
    if obj is None:
        return {}
    if not isinstance(obj, dict) or not all(
            isinstance(name, str) and len(name) <= limits.NAME_CHARS.value and _is_int(v, limits.SIZE_MAX.value + 1)
            for name, v in obj.items()):
        raise _bad(path, f"artifacts[{k}]'s section sizes are not byte counts of named sections")
    return obj


def _check_results(results, path):
    """The results.json field checks of sizekit.results.results_file, on the embedded results."""
    if not isinstance(results, dict) or results.get("version") != rformat.VERSION \
            or not isinstance(results.get("cells"), list):
        raise _bad(path, "it holds no results.json of version 1")
    for i, cell in enumerate(results["cells"]):
        if not isinstance(cell, dict) or not all(k in cell for k in ("crate", "target", "variant", "status")):
            raise _bad(path, f"cells[{i}] lacks crate/target/variant/status")
    # The same rules results.json gets.
    try:
        rformat.check_results(results, path)
    except rformat.ContentsError as exc:
        # The file's own fault, so not the "OLD or NEW" wording a results.json's contents get.
        raise ResultsError(str(exc).replace("not a results.json as", "not a snapshot as")) from None
    results.setdefault("baseline", None)


def load_snapshot(path, symbols=True):
    """Read and check the snapshot at path (with symbols=False its cells only, no symbol tables).
    Raises ResultsError (exit 2) naming the file."""
    try:
        fd = open_regular(path, limits.SNAPSHOT_BYTES.value, "a snapshot")
    except FileProblem as exc:
        raise ResultsError(exc.message(path, directory="is a directory; pass a snapshot file")) from None
    # Read as decompression asks (a frame header's worth first): the compressed file is never
    # all in memory beside what it decompresses to.
    with open(fd, "rb", buffering=0) as source:
        try:
            start = source.read(FRAME_HEADER_MAX)
            source.seek(0)
        except OSError as exc:
            raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}") from None
        if len(start) < 4 or not is_snapshot_bytes(start):
            raise _bad(path, "no zstd frame")
        stream = _open(start, path, source)
        return _load(stream, path, symbols)


def _load(stream, path, symbols):
    try:
        return _decode(stream, path, symbols)
    except MemoryError:
        raise _bad(path, "too large to load in this much memory") from None
