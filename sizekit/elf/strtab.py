"""Names as offsets into one string table: what an ELF's symbol names are until one is shown.

A row's name is the UTF-8 bytes from its offset to the next NUL (or the table's end). Taking a
snapshot reads a million names; as Python strings they cost more than everything else it does
(decoding, sorting, looking each up). A Names keeps the table's bytes and the offsets, hashes
and orders them in the native module (csrc/names.c, through sizekit.elf.engine's backend), and
decodes only the rows asked for.
"""
import os

import numpy as np

from . import engine

# Names are keyed by a 64-bit hash seeded afresh in each process, so no file can aim two names at
# one key; by chance, two of a snapshot's 2M names share one about once in 10^7 runs.
SEED = int.from_bytes(os.urandom(8), "little")
_M64 = (1 << 64) - 1


# The native module's name functions (csrc/names.c) over either backend, as numpy arrays: the C one
# writes into the arrays, the Python port (SIZEKIT_BACKEND=python) takes and gives lists.

def name_hashes(data, offsets, seed):
    """(hashes, lengths) of the names at offsets (a uint64 array) in the string table data, as
    uint64 arrays: a name runs from its offset to the next NUL (or the end), its hash is
    hash_bytes' with seed. An offset past the table is a ValueError (callers clip them)."""
    offsets = np.ascontiguousarray(offsets, np.uint64)
    if engine.BACKEND == "c":
        rc, hashes, lengths, bad = engine._impl.name_hashes(engine._as_buffer(data), offsets, seed & _M64)
    else:
        rc, hashes, lengths, bad = engine._impl.name_hashes(engine._as_buffer(data), offsets.tolist(), seed & _M64)
        hashes, lengths = np.asarray(hashes, np.uint64), np.asarray(lengths, np.uint64)
    if rc != 0:
        raise ValueError(f"name offset {int(offsets[bad])} is past the string table's {len(data)} bytes")
    return hashes, lengths


def name_order(data, offsets, sizes):
    """The rows of names at offsets in the string table data, by size (largest first), then name
    bytes (a name before any it is a prefix of), then row: an int64 array."""
    offsets = np.ascontiguousarray(offsets, np.uint64)
    sizes = np.ascontiguousarray(sizes, np.uint64)
    if engine.BACKEND == "c":
        rc, order, bad = engine._impl.name_order(engine._as_buffer(data), offsets, sizes)
    else:
        rc, order, bad = engine._impl.name_order(engine._as_buffer(data), offsets.tolist(), sizes.tolist())
    if rc != 0:
        raise ValueError(f"name offset {int(offsets[bad])} is past the string table's {len(data)} bytes")
    return np.asarray(order, np.int64)


def index_put(keys, vals, cap, used, k, v):
    """Put the pairs (k[i], v[i]) into the hash table keys/vals of cap slots with used filled
    (changed in place; see HashIndex); returns how many are filled now."""
    k, v = np.ascontiguousarray(k, np.uint64), np.ascontiguousarray(v, np.uint32)
    rc, used = engine._impl.index_put(keys, vals, cap, used, k, v) if engine.BACKEND == "c" else \
        engine._impl.index_put(keys, vals, cap, used, k.tolist(), v.tolist())
    if rc != 0:
        raise ValueError(f"hash table of {cap} slots, {used} filled: cannot put {len(k)} more (code {rc})")
    return used


def index_get(keys, vals, cap, k):
    """The value of each key of k in the hash table keys/vals, or -1: an int64 array."""
    k = np.ascontiguousarray(k, np.uint64)
    rc, out = engine._impl.index_get(keys, vals, cap, k) if engine.BACKEND == "c" else \
        engine._impl.index_get(keys, vals, cap, k.tolist())
    if rc != 0:
        raise ValueError(f"not a hash table of {cap} slots (code {rc})")
    return np.asarray(out, np.int64)


class Names:
    """A sequence of names over a string table of valid UTF-8 (see from_strtab)."""

    __slots__ = ("table", "offsets")

    def __init__(self, table, offsets):
        self.table = table                                   # bytes
        self.offsets = np.asarray(offsets, np.uint64)       # each row's name starts here

    @classmethod
    def from_strtab(cls, strtab, offsets):
        """The names at offsets of an ELF string table. An offset past the table is the empty name.
        A table that is not ASCII is rebuilt with each name decoded as UTF-8 (U+FFFD for bad
        bytes), so that equal names are equal bytes."""
        offsets = np.minimum(np.asarray(offsets, np.uint64), np.uint64(len(strtab)))
        names = cls(strtab, offsets)
        return names if strtab.isascii() else cls.of_strings(names.texts("replace"), surrogates=False)

    @classmethod
    def of_strings(cls, strings, surrogates=True):
        """The names of a list of strings (a string with a NUL ends there)."""
        encoded = [s.encode("utf-8", "surrogatepass" if surrogates else "strict") for s in strings]
        starts = np.zeros(len(encoded), np.uint64)
        if encoded:
            np.cumsum([len(e) + 1 for e in encoded[:-1]], out=starts[1:])
        return cls(b"\0".join(encoded) + b"\0", starts)

    def __len__(self):
        return len(self.offsets)

    def _stops(self, offsets):
        nuls = np.flatnonzero(np.frombuffer(self.table, np.uint8) == 0)
        at = np.searchsorted(nuls, offsets)
        return np.append(nuls, len(self.table))[at]

    def __getitem__(self, i):
        start = int(self.offsets[i])
        stop = self.table.find(b"\0", start)
        return self.table[start:stop if stop >= 0 else len(self.table)].decode("utf-8", "surrogatepass")

    def __iter__(self):
        return iter(self.texts())

    def texts(self, errors="surrogatepass"):
        """Every name, as a list of str."""
        table = self.table
        return [table[a:b].decode("utf-8", errors)
                for a, b in zip(self.offsets.tolist(), self._stops(self.offsets).tolist())]

    def take(self, index):
        """The names at index (an integer array), in its order."""
        return Names(self.table, self.offsets[index])

    def hashes(self, seed=SEED):
        """(hash, byte length) of each name, as uint64 arrays (name_hashes)."""
        return name_hashes(self.table, self.offsets, seed)

    def order(self, sizes):
        """The rows by size (largest first), then name, then row (name_order)."""
        return name_order(self.table, self.offsets, sizes)


class HashIndex:
    """A table from 64-bit hashes to u32 numbers, open addressing in the native module: a million
    lookups take milliseconds, where a dict of Python ints takes half a second."""

    __slots__ = ("keys", "vals", "used")

    def __init__(self, cap=1 << 10):
        self.keys, self.vals, self.used = np.zeros(cap, np.uint64), np.zeros(cap, np.uint32), 0

    def __len__(self):
        return self.used

    def put(self, keys, values):
        """Add (or replace) each key's value."""
        while (self.used + len(keys)) > len(self.keys) // 4 * 3:
            self._grow()
        self.used = index_put(self.keys, self.vals, len(self.keys), self.used, keys, values)

    def get(self, keys):
        """Each key's value, or -1 (an int64 array)."""
        return index_get(self.keys, self.vals, len(self.keys), keys)

    def _grow(self):
        live = np.flatnonzero(self.vals)
        keys, values = self.keys[live], self.vals[live] - 1
        cap = 2 * len(self.keys)
        self.keys, self.vals, self.used = np.zeros(cap, np.uint64), np.zeros(cap, np.uint32), 0
        self.used = index_put(self.keys, self.vals, cap, 0, keys, values)
