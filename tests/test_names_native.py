"""The native module's symbol-name functions (csrc/names.c) against their Python port, and the
pieces built on them: strtab.Names (an ELF's names as bytes until shown) and strtab.HashIndex."""
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizekit.elf import engine, pyport
from sizekit.elf.backends import CBackend
from sizekit.elf.strtab import HashIndex, Names, name_hashes
from sizekit.elf import _native as _cmod  # no skip: the C module is part of the product

C = CBackend(_cmod)
FAST = settings(max_examples=200, deadline=None)


@st.composite
def tables(draw):
    """A string table of a few byte values (so names repeat and prefix each other) and offsets
    anywhere in it, its end included; sizes that often tie."""
    data = draw(st.binary(max_size=80).map(lambda b: bytes(x % 4 for x in b)))
    n = draw(st.integers(0, 40))
    offs = draw(st.lists(st.integers(0, len(data)), min_size=n, max_size=n))
    sizes = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return data, offs, sizes


@FAST
@given(tables(), st.integers(0, 2**64 - 1))
def test_hashes_c_equal_python(table, seed):
    data, offs, _ = table
    rc, hashes, lens, _ = C.name_hashes(data, np.asarray(offs, np.uint64), seed)
    assert (rc, hashes.tolist(), lens.tolist()) == pyport.name_hashes(data, offs, seed)[:3]
    for off, h, n in zip(offs, hashes.tolist(), lens.tolist()):
        name = data[off:].split(b"\0")[0]
        assert n == len(name) and h == pyport.hash64(name, seed)


@FAST
@given(tables())
def test_order_c_equals_python_and_sorts_by_size_then_bytes(table):
    data, offs, sizes = table
    rc, order, _ = C.name_order(data, np.asarray(offs, np.uint64), np.asarray(sizes, np.uint64))
    assert (rc, order.tolist()) == pyport.name_order(data, offs, sizes)[:2]
    names = [data[o:].split(b"\0")[0] for o in offs]
    assert order.tolist() == sorted(range(len(offs)), key=lambda i: (-sizes[i], names[i], i))


@pytest.mark.parametrize("impl", ["c", "python"])
def test_an_offset_past_the_table_is_refused_with_its_row(impl):
    data, offs = b"ab\0c", [0, 4, 5, 1]
    if impl == "c":
        got = C.name_hashes(data, np.asarray(offs, np.uint64), 0)
        order = C.name_order(data, np.asarray(offs, np.uint64), np.zeros(4, np.uint64))
    else:
        got = pyport.name_hashes(data, offs, 0)
        order = pyport.name_order(data, offs, [0] * 4)
    assert (got[0], got[3]) == (-12, 2) and (order[0], order[2]) == (-12, 2)
    with pytest.raises(ValueError, match="name offset 5 is past the string table's 4 bytes"):
        name_hashes(data, offs, 0)


@FAST
@given(st.lists(st.integers(0, 2**64 - 1), max_size=60, unique=True), st.integers(1, 7))
def test_index_c_equals_python(keys, log_cap):
    cap = 1 << log_cap
    ours = [np.zeros(cap, np.uint64), np.zeros(cap, np.uint32)]
    port = [[0] * cap, [0] * cap]
    k, v = np.asarray(keys, np.uint64), np.arange(len(keys), dtype=np.uint32)
    rc, used = C.index_put(*ours, cap, 0, k, v)
    assert (rc, used) == pyport.index_put(*port, cap, 0, keys, v.tolist())
    assert ours[0].tolist() == port[0] and ours[1].tolist() == port[1]   # the same slots
    if rc == 0:
        got = C.index_get(*ours, cap, np.asarray(keys + [5], np.uint64))[1].tolist()
        assert got == pyport.index_get(*port, cap, keys + [5])[1]
        assert got[:len(keys)] == list(range(len(keys)))
    else:
        assert rc == -14 and len(keys) > cap // 4 * 3 and not ours[1].any()   # nothing put


def test_index_refuses_a_table_that_is_not_one():
    keys, vals = np.zeros(6, np.uint64), np.zeros(6, np.uint32)
    assert C.index_put(keys, vals, 6, 0, np.zeros(1, np.uint64), np.zeros(1, np.uint32))[0] == -1   # not 2^k
    assert C.index_put(keys, vals, 4, 9, np.zeros(0, np.uint64), np.zeros(0, np.uint32))[0] == -1   # used > cap
    assert C.index_put(keys, vals, 4, 0, np.zeros(1, np.uint64), np.full(1, 0xFFFFFFFF, np.uint32))[0] == -1
    assert pyport.index_put([0] * 4, [0] * 4, 4, 0, [1], [0xFFFFFFFF])[0] == -1


def test_hash_index_grows_and_keeps_every_pair():
    rnd = random.Random(3)
    index, want = HashIndex(cap=4), {}
    for _ in range(20):
        keys = np.asarray([rnd.getrandbits(64) for _ in range(rnd.randrange(200))], np.uint64)
        values = np.asarray([rnd.randrange(1 << 32 - 1) for _ in keys], np.uint32)
        index.put(keys, values)
        want.update(zip(keys.tolist(), values.tolist()))
    got = index.get(np.asarray(list(want), np.uint64)).tolist()
    assert got == list(want.values()) and len(index) == len(want) and len(index.keys) >= len(want) * 4 // 3
    assert index.get(np.asarray([12345], np.uint64)).tolist() == [-1]


def test_names_decode_only_what_is_asked_and_match_the_strings():
    strtab = b"\0alpha\0beta\0alphabet\0gamma"           # the last name has no NUL
    names = Names.from_strtab(strtab, [1, 7, 12, 12, 21, 1000, 3])
    assert names.texts() == ["alpha", "beta", "alphabet", "alphabet", "gamma", "", "pha"]
    assert names[4] == "gamma" and list(names) == names.texts()
    assert names.take(np.array([2, 0])).texts() == ["alphabet", "alpha"]
    h, n = names.hashes()
    assert h[2] == h[3] and h[0] != h[2] and n.tolist() == [5, 4, 8, 8, 5, 0, 3]
    order = names.order(np.array([1, 1, 1, 1, 1, 1, 2], np.uint64))
    assert [names.texts()[i] for i in order] == ["pha", "", "alpha", "alphabet", "alphabet", "beta", "gamma"]


def test_names_of_a_table_that_is_not_ascii_are_its_utf8_with_replacement():
    strtab = "\0caf\u00e9\0".encode() + b"bad\xff\0"
    names = Names.from_strtab(strtab, [1, 7, 7])
    assert names.texts() == ["caf\u00e9", "bad\ufffd", "bad\ufffd"]
    h, _ = names.hashes()
    assert h[1] == h[2] and h[1] == Names.of_strings(["bad\ufffd"]).hashes()[0][0]


def test_python_backend_gives_the_same_names_numbers():
    names = Names.of_strings(["_ZN4core3fmt5write17h0123456789abcdefE", "main", "", "main"])
    sizes = np.array([8, 8, 1, 9], np.uint64)
    c = (names.hashes(7)[0].tolist(), names.order(sizes).tolist())
    engine.set_backend("python")
    try:
        assert (names.hashes(7)[0].tolist(), names.order(sizes).tolist()) == c
    finally:
        engine.set_backend("c")
