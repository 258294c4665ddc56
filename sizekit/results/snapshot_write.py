"""Writing a snapshot (the format and its reader are sizekit.results.snapshot): the tables' pool and
columns into one zstd frame, held first to every limit the reader checks, so sizekit writes only
what it reads back."""
import io
import json
import operator
import struct

import numpy as np
import zstandard

from ..utils import limits
from ..utils.errors import ResultsError
from ..utils.fsutil import atomic_write_bytes
from .columns import NAME_IS_RAW, ColumnTable, Interner, u32_sizes
from .results_file import json_values
from .snapshot import FORMAT, LEVEL, MAGIC, VERSION


def encode(snap, path="the snapshot"):
    """The snapshot as the bytes of one zstd frame. Raises ResultsError naming path when the
    reader would refuse it (a limit of sizekit.utils.limits): sizekit writes only what it reads."""
    strings, columns = gather(snap.tables)
    artifacts = []
    start = 0
    for table, meta in zip(snap.tables, snap.artifacts):
        artifacts.append({**meta, "start": start, "count": len(table), "sections": table.sections,
                          "unknown": table.unknown, "demangler": table.demangler})
        start += len(table)
    try:
        pool = "\0".join(strings).encode("utf-8") + (b"\0" if strings else b"")
    except UnicodeEncodeError:
        raise ResultsError(f"{path}: not written: a symbol name holds a lone UTF-16 surrogate") from None
    header = {"format": FORMAT, "version": VERSION, "created": snap.created, "source": snap.source,
              "git": snap.git, "results": snap.results, "artifacts": artifacts,
              "cell_artifacts": snap.cell_artifacts, "skipped": snap.skipped, "files": snap.files,
              "strings": len(strings), "string_bytes": len(pool), "symbols": start}
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    _check_writable(path, head, len(strings), len(pool), start)
    # Compressed piece by piece into one frame that declares its size: the payload is never
    # joined in memory.
    pieces = [MAGIC, struct.pack("<I", len(head)), head, pool]
    out = io.BytesIO()
    compressor = zstandard.ZstdCompressor(level=LEVEL, write_content_size=True, threads=0)
    with compressor.stream_writer(out, size=sum(map(len, pieces)) + 20 * start, closefd=False) as writer:
        for piece in pieces:
            writer.write(piece)
        for part in columns():
            writer.write(np.ascontiguousarray(part, "<u4").tobytes())   # one table's part: small
    return out.getvalue()


def _check_writable(path, head, nstr, sbytes, nsym):
    """What the reader checks of a snapshot's sizes, before it is written."""
    for value, limit, what in ((len(head), limits.SNAPSHOT_HEADER, "bytes of header"),
                               (json_values(head), limits.RESULTS_VALUES, "JSON values in its header"),
                               (nstr, limits.SNAPSHOT_STRINGS, "strings"),
                               (sbytes, limits.SNAPSHOT_STRING_BYTES, "bytes of strings"),
                               (nsym, limits.SNAPSHOT_SYMBOLS, "symbols"),
                               (len(MAGIC) + 4 + len(head) + sbytes + 20 * nsym, limits.SNAPSHOT_PAYLOAD,
                                "bytes decompressed")):
        if value > limit.value:
            raise ResultsError(f"{path}: not written: it would hold {value:,} {what}, over the limit of "
                               f"{limits.value_text(limit)} that sizekit reads (the results or artifacts are "
                               "too large for one snapshot)")


def gather(tables):
    """(the pool's strings, a function yielding the columns raw, name, crate, section and size in
    turn, each table's part of a column as a u32 array) of the tables written together: the
    ColumnTables of one pool of strings (SnapshotPool's) as they are, any others numbered into a
    pool of their own. The parts are made as the writer streams them, so no column is whole."""
    pools = {id(t.pool) for t in tables if isinstance(t, ColumnTable)}
    if tables and len(pools) == 1 and all(isinstance(t, ColumnTable) for t in tables) \
            and tables[0].pool.strings is not None:
        columns = (lambda t: t.raw_ids, lambda t: t._name, lambda t: t.crate_ids, lambda t: t.section_ids,
                   lambda t: u32_sizes(t.sizes))
        return tables[0].pool.strings, lambda: (column(t) for column in columns for t in tables)
    interner = Interner()
    cols: list = [[] for _ in range(5)]
    for t in tables:
        raw, name = list(t.raw), list(t.name)
        same = np.fromiter(map(operator.eq, name, raw), bool, len(raw))
        cols[0].append(interner.ids(raw))
        cols[1].append(np.where(same, NAME_IS_RAW, interner.ids(name)).astype(np.uint32))
        cols[2].append(interner.ids(list(t.crate)))
        cols[3].append(interner.ids(list(t.section)))
        cols[4].append(u32_sizes(np.asarray(list(t.size), np.int64)))
    return interner.strings(), lambda: (part for col in cols for part in col)


def write_snapshot(path, snap):
    data = encode(snap, path)
    atomic_write_bytes(path, data)
    return len(data)
