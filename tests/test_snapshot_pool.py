"""SnapshotPool: a snapshot's symbols read into one string pool, held to the limits it is read back with.

What it admits is exactly what encode writes and decode accepts (the byte and string counts agree
to the byte), what it refuses adds nothing, and a name shared by artifacts is stored and
demangled once.
"""
import numpy as np
import pytest

from sizekit.elf import demangle as dm
from sizekit.results import snapshot as sn
from sizekit.results.snapshot_write import encode
from sizekit.results.pooling import SnapshotPool
from sizekit.elf.strtab import Names
from sizekit.results.symbols import RawSymbols
from sizekit.utils import limits
from sizekit.utils.errors import ResultsError, SizekitError

RESULTS = {"version": 1, "cells": []}


def raw(names, sizes=None, covered=(".text", ".rodata")):
    sizes = sizes or [100 - i for i in range(len(names))]
    return RawSymbols(raw=Names.of_strings(list(names)), section=np.arange(len(names)) % len(covered), size=np.asarray(sizes),
                      covered=list(covered), sections={c: 1000 for c in covered}, unknown={covered[0]: 7})


LEGACY = ["_ZN5alpha3foo17h0123456789abcdefE", "_ZN4beta3bar17hfedcba9876543210E", "memcpy",
          "_RNvCs1234_5gamma3baz", "_ZN3foo3barE"]


def written(pool, path="s.zst"):
    """The snapshot of the pool's tables, encoded and decoded again."""
    tables = pool.tables()
    snap = sn.Snapshot(results=RESULTS, tables=tables,
                       artifacts=[{"path": f"a{k}", "bytes": 1, "error": None} for k in range(len(tables))])
    return sn.decode(encode(snap, path), path)


def limit(monkeypatch, name, value):
    old = getattr(limits, name)
    monkeypatch.setattr(limits, name, limits.Limit(value, old.unit, old.applies, old.what))


def test_tables_match_the_demangler_and_survive_a_round_trip():
    pool = SnapshotPool()
    pool.add(raw(LEGACY))
    pool.add(raw(LEGACY[::-1] + ["extra"]))
    first, second = written(pool).tables
    described = dm.describe_each(LEGACY)
    assert list(first.raw) == LEGACY
    assert list(first.name) == [d[0] for d in described]
    assert list(first.crate) == [d[1] for d in described]
    assert list(first.section) == [".text", ".rodata"] * 2 + [".text"]
    assert list(first.size) == [100, 99, 98, 97, 96]
    assert first.unknown == {".text": 7} and first.sections == {".text": 1000, ".rodata": 1000}
    assert list(second.raw) == LEGACY[::-1] + ["extra"]
    assert list(second.name)[:5] == [d[0] for d in described][::-1]


def test_a_name_shared_by_artifacts_is_stored_and_demangled_once():
    pool = SnapshotPool()
    pool.add(raw(LEGACY))
    strings, demangled = len(pool.interner), pool.demangled
    pool.add(raw(LEGACY))
    assert len(pool.interner) == strings and pool.demangled == demangled == len(LEGACY)
    assert pool.symbols == 2 * len(LEGACY)


def test_a_string_first_seen_as_a_crate_is_still_described_as_a_raw_name():
    """`alpha` is a crate of the first artifact; as a raw name of the second it is its own symbol."""
    pool = SnapshotPool()
    pool.add(raw(LEGACY[:1]))
    pool.add(raw(["alpha"]))
    table = pool.tables()[1]
    assert list(table.raw) == ["alpha"] and list(table.name) == ["alpha"]
    assert list(table.crate) == [dm.describe_each(["alpha"])[0][1]]


def test_pool_bytes_are_what_encode_writes_and_the_limit_is_exact(monkeypatch):
    pool = SnapshotPool()
    pool.add(raw(LEGACY))
    strings = pool.interner.strings()
    assert pool.string_bytes == len("\0".join(strings).encode()) + 1
    # Exactly at the limit: admitted, written and read back.
    limit(monkeypatch, "SNAPSHOT_STRING_BYTES", pool.string_bytes + len("extra") + 1)
    limit(monkeypatch, "SNAPSHOT_STRINGS", len(strings) + 1)
    pool.add(raw(["extra"]))
    assert len(written(pool).tables) == 2
    # One byte or one string more: refused, and nothing of it is kept.
    before = (len(pool.interner), pool.string_bytes, pool.symbols, len(pool.parts))
    with pytest.raises(SizekitError, match=r"^1 new strings would take the snapshot past its limit of"):
        pool.add(raw(["x"]))
    limit(monkeypatch, "SNAPSHOT_STRINGS", 10 ** 6)
    with pytest.raises(SizekitError, match=r"^2 bytes of new strings would take the snapshot past its limit"):
        pool.add(raw(["x"]))
    assert (len(pool.interner), pool.string_bytes, pool.symbols, len(pool.parts)) == before
    assert len(written(pool).tables) == 2


def test_symbols_and_long_names_past_their_limits_are_refused(monkeypatch):
    pool = SnapshotPool()
    limit(monkeypatch, "SNAPSHOT_SYMBOLS", 6)
    pool.add(raw(LEGACY))
    with pytest.raises(SizekitError, match=r"^2 symbols would take the snapshot past its limit of 6 symbols"):
        pool.add(raw(["a", "b"]))
    long = "é" * (limits.SYMBOL_NAME_BYTES.value // 2 + 1)        # 2 bytes a character
    with pytest.raises(SizekitError, match=r"^a symbol name of 65,538 bytes, over the limit of 64 KiB"):
        pool.add(raw([long]))
    assert pool.symbols == len(LEGACY)


def test_demangling_is_bounded_by_the_strings_a_snapshot_holds(monkeypatch):
    limit(monkeypatch, "SNAPSHOT_STRINGS", 8)
    pool = SnapshotPool()
    with pytest.raises(SizekitError, match="new strings would take"):
        pool.add(raw(LEGACY))                       # demangled, then refused: 5 names + forms + crates
    assert pool.demangled == 5
    with pytest.raises(SizekitError, match=r"^not demangled: its 5 new names would take the snapshot past"):
        pool.add(raw([n + "1" for n in LEGACY]))
    assert pool.demangled == 5 and len(pool.interner) == 0


def test_encode_refuses_what_the_reader_would(monkeypatch):
    pool = SnapshotPool()
    pool.add(raw(LEGACY))
    limit(monkeypatch, "SNAPSHOT_PAYLOAD", 200)
    snap = sn.Snapshot(results=RESULTS, tables=pool.tables(), artifacts=[{"path": "a", "bytes": 1, "error": None}])
    with pytest.raises(ResultsError, match=r"^out/s\.zst: not written: it would hold [\d,]+ bytes decompressed, "
                                           r"over the limit of 200 that sizekit reads"):
        encode(snap, "out/s.zst")
