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

Loading trusts nothing: the compressed size, the claimed and the real decompressed size are
capped, every index is checked against its column, and the results part goes through the same
field checks as a results.json. Any problem is one ResultsError line naming the file (exit 2).
"""
import json
import os
import struct
import sys
from array import array
from dataclasses import dataclass, field

import zstandard

from ..utils.errors import ResultsError
from ..utils.fsutil import atomic_write_bytes
from ..utils.safeio import FileProblem, read_bytes
from . import format as rformat
from .symbols import SymbolTable

MAGIC = b"SKSNAP\0\1"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
FORMAT = "sizekit-snapshot"
VERSION = 1
NAME_IS_RAW = 0xFFFFFFFF
MAX_COMPRESSED = 256 << 20     # a real snapshot is a few MB
MAX_PAYLOAD = 512 << 20        # decompressed
CHUNK = 4 << 20
BIG_ENDIAN = sys.byteorder != "little"   # the columns are little-endian on disk
U32 = "I" if array("I").itemsize == 4 else "L"
MAX_HEADER = 128 << 20
LEVEL = 9                      # ~3x faster to write than 19, within a few % of its size


@dataclass
class Snapshot:
    """A loaded snapshot: results.json's dict, one SymbolTable per artifact, and where it came from."""

    results: dict
    tables: list = field(default_factory=list)        # SymbolTable per artifact
    artifacts: list = field(default_factory=list)     # header entry per artifact (path, bytes, error)
    cell_artifacts: list = field(default_factory=list)
    skipped: list = field(default_factory=list)       # artifacts that could not be read, with why
    git: dict = None
    created: str = None
    source: str = None
    path: str = None

    def table_of(self, index):
        """The SymbolTable of results["cells"][index], or None."""
        a = self.cell_artifacts[index] if index < len(self.cell_artifacts) else None
        return None if a is None else self.tables[a]


# ---------------------------------------------------------------- writing

def encode(snap):
    """The snapshot as the bytes of one zstd frame."""
    pool, index = [], {}

    def sid(s):
        i = index.get(s)
        if i is None:
            i = index[s] = len(pool)
            pool.append(s)
        return i

    cols = [array(U32) for _ in range(5)]
    artifacts = []
    for table, meta in zip(snap.tables, snap.artifacts):
        start = len(cols[4])
        for raw, name, crate, section, size in zip(table.raw, table.name, table.crate, table.section, table.size):
            r = sid(raw)
            cols[0].append(r)
            cols[1].append(NAME_IS_RAW if name == raw else sid(name))
            cols[2].append(sid(crate))
            cols[3].append(sid(section))
            cols[4].append(min(size, 0xFFFFFFFF))
        artifacts.append({**meta, "start": start, "count": len(table), "sections": table.sections,
                          "unknown": table.unknown, "demangler": table.demangler})
    strings = "\0".join(pool).encode("utf-8", "surrogatepass") + (b"\0" if pool else b"")
    header = {"format": FORMAT, "version": VERSION, "created": snap.created, "source": snap.source,
              "git": snap.git, "results": snap.results, "artifacts": artifacts,
              "cell_artifacts": snap.cell_artifacts, "skipped": snap.skipped,
              "strings": len(pool), "string_bytes": len(strings), "symbols": len(cols[4])}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    parts = [MAGIC, struct.pack("<I", len(head)), head, strings]
    for col in cols:
        if BIG_ENDIAN:
            col.byteswap()
        parts.append(col.tobytes())
    payload = b"".join(parts)
    return zstandard.ZstdCompressor(level=LEVEL, write_content_size=True, threads=0).compress(payload)


def write_snapshot(path, snap):
    data = encode(snap)
    atomic_write_bytes(path, data)
    return len(data)


# ---------------------------------------------------------------- reading

def is_snapshot_bytes(data):
    return data[:4] == ZSTD_MAGIC


def _bad(path, why):
    return ResultsError(f"{path}: not a sizekit snapshot ({why})")


def _payload(path, data):
    try:
        size = zstandard.frame_content_size(data)
    except zstandard.ZstdError as exc:
        raise _bad(path, f"bad zstd frame: {exc}") from None
    if size > MAX_PAYLOAD:
        raise _bad(path, f"its frame claims {size:,} bytes, over the limit of {MAX_PAYLOAD:,}")
    # In chunks, so memory follows what really decompresses, not what a frame claims.
    chunks, total = [], 0
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=False)
        while total <= MAX_PAYLOAD:
            chunk = reader.read(CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        out = b"".join(chunks)
    except zstandard.ZstdError as exc:
        raise _bad(path, f"corrupt zstd data: {exc}") from None
    except MemoryError:
        raise _bad(path, "too large to load in this much memory") from None
    if len(out) > MAX_PAYLOAD:
        raise _bad(path, f"decompresses to more than {MAX_PAYLOAD:,} bytes")
    if size >= 0 and len(out) != size:
        raise _bad(path, f"truncated: {len(out):,} of {size:,} bytes")
    return out


def decode(data, path):
    """A Snapshot from a file's bytes. Raises ResultsError naming path."""
    if not is_snapshot_bytes(data):
        raise _bad(path, "no zstd frame")
    payload = _payload(path, data)
    if payload[:len(MAGIC)] != MAGIC:
        raise _bad(path, "a zstd file, but not a sizekit snapshot of version 1")
    pos = len(MAGIC)
    if len(payload) < pos + 4:
        raise _bad(path, "truncated header")
    (hlen,) = struct.unpack_from("<I", payload, pos)
    pos += 4
    if hlen > MAX_HEADER or pos + hlen > len(payload):
        raise _bad(path, "truncated header")
    try:
        header = json.loads(payload[pos:pos + hlen].decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise _bad(path, f"header is not JSON: {' '.join(str(exc).split())[:80]}") from None
    pos += hlen
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise _bad(path, "unknown header or version")
    try:
        return _from_header(header, payload, pos, path)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, UnicodeDecodeError) as exc:
        raise _bad(path, f"malformed contents: {exc!r}"[:200]) from None


def _from_header(header, payload, pos, path):
    nstr, sbytes, nsym = int(header["strings"]), int(header["string_bytes"]), int(header["symbols"])
    if min(nstr, sbytes, nsym) < 0 or pos + sbytes + 20 * nsym != len(payload):
        raise _bad(path, "the sizes in its header do not match its contents")
    pool = payload[pos:pos + sbytes].decode("utf-8", "surrogatepass").split("\0") if sbytes else [""]
    if len(pool) != nstr + 1 or pool[-1] != "":
        raise _bad(path, "the string pool does not match its count")
    pos += sbytes
    cols = []
    for _ in range(5):
        col = array(U32)
        col.frombytes(payload[pos:pos + 4 * nsym])
        if BIG_ENDIAN:
            col.byteswap()
        cols.append(col)
        pos += 4 * nsym
    if nsym:
        names = [v for v in cols[1] if v != NAME_IS_RAW]
        if max(max(cols[0]), max(names, default=0), max(cols[2]), max(cols[3])) >= nstr:
            raise _bad(path, "a symbol names a string past the pool")
    results = header["results"]
    _check_results(results, path)
    snap = Snapshot(results=results, git=header.get("git") if isinstance(header.get("git"), dict) else None,
                    created=str(header.get("created") or ""), source=str(header.get("source") or ""), path=path)
    for meta in header["artifacts"]:
        start, count = int(meta["start"]), int(meta["count"])
        if start < 0 or count < 0 or start + count > nsym:
            raise _bad(path, "an artifact's symbols run past the table")
        raw = [pool[i] for i in cols[0][start:start + count]]
        table = SymbolTable(raw=raw, name=[r if n == NAME_IS_RAW else pool[n]
                                           for r, n in zip(raw, cols[1][start:start + count])],
                            crate=[pool[i] for i in cols[2][start:start + count]],
                            section=[pool[i] for i in cols[3][start:start + count]],
                            size=list(cols[4][start:start + count]),
                            sections=_sizes(meta.get("sections"), path), unknown=_sizes(meta.get("unknown"), path),
                            demangler=str(meta.get("demangler") or ""))
        snap.tables.append(table)
        snap.artifacts.append({k: meta.get(k) for k in ("path", "bytes", "error")})
    cells = header["cell_artifacts"]
    if not isinstance(cells, list) or len(cells) != len(results["cells"]) or any(
            a is not None and (not isinstance(a, int) or isinstance(a, bool) or not 0 <= a < len(snap.tables))
            for a in cells):
        raise _bad(path, "cell_artifacts does not match the cells")
    snap.cell_artifacts = cells
    return snap


def _sizes(obj, path):
    if obj is None:
        return {}
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                                            and v >= 0 for k, v in obj.items()):
        raise _bad(path, "an artifact's section sizes are not byte counts")
    return obj


def _check_results(results, path):
    """The results.json field checks of sizekit.results.format, on the embedded results."""
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


def load_snapshot(path):
    """Read and check the snapshot at path. Raises ResultsError (exit 2) naming the file."""
    try:
        # read_bytes reads into a buffer of the limit: ask for no more than the file holds.
        size = os.stat(path).st_size if os.path.isfile(path) else 0
        data = read_bytes(path, MAX_COMPRESSED if size > MAX_COMPRESSED else max(size, 1 << 16), "a snapshot")
    except FileProblem as exc:
        raise ResultsError(exc.message(path, directory="is a directory; pass a snapshot file")) from None
    return decode(data, path)
