"""Symbol tables as numpy columns over a shared string pool: what a loaded snapshot's artifacts are.

A snapshot's columns stay the u32 arrays of the decompressed file (np.frombuffer, no copy) and
its pool stays bytes plus the offset of each string's end: a string is decoded only when it is
shown, hashed or turned into a loose name. sizekit.results.symdiff works on these columns
without a Python step per symbol. A ColumnTable also reads like a SymbolTable (list-like
columns of strings and ints), so the reports and the encoder take either.
"""
import itertools
from collections import defaultdict

import numpy as np

from ..elf.strtab import Names

NAME_IS_RAW = 0xFFFFFFFF       # in the name column: the name is the raw name (as on disk)


def u32_sizes(sizes):
    """Symbol sizes as the u32 column a snapshot stores (a larger one, which no ELF within the
    limits has, is clipped): what a snapshot's pool keeps and its writer writes."""
    sizes = np.asarray(sizes)
    if sizes.dtype == np.uint32:
        return sizes
    return np.minimum(sizes, 0xFFFFFFFF).astype(np.uint32)


class Interner:
    """Strings numbered 0, 1, 2, ... in order of first use, each step in C (a defaultdict whose
    factory counts, driven by map): the one place sizekit gives strings pool indices."""

    __slots__ = ("index",)

    def __init__(self):
        self.index = defaultdict(itertools.count().__next__)

    def __len__(self):
        return len(self.index)

    def __contains__(self, s):
        return s in self.index

    def ids(self, strings):
        """The index of each string (a sized iterable), numbering the new ones, as a u32 array."""
        return np.fromiter(map(self.index.__getitem__, strings), np.uint32, len(strings))

    def new(self, strings):
        """The distinct strings of an iterable that have no index yet, in order of first use."""
        return list(itertools.filterfalse(self.index.__contains__, dict.fromkeys(strings)))

    def strings(self):
        """Every string, by index."""
        return list(self.index)


class Pool:
    """Strings shared by the tables of one snapshot, by index: bytes decoded one at a time, or a list."""

    __slots__ = ("data", "ends", "strings", "raw_ids", "crate_ids", "section_ids", "loose", "into", "scratch")

    def __init__(self, data=b"", ends=None, strings=None):
        self.data, self.strings = data, strings
        # Only the end of each string is kept (its NUL); it starts one byte after the one before ends.
        self.ends = np.asarray(ends) if ends is not None else np.zeros(0, np.int64)   # unused with strings
        self.raw_ids = None   # the strings some symbol has as its raw name, when known (a loaded snapshot's)
        self.crate_ids = self.section_ids = None   # the strings crate and section columns name (see codes)
        self.scratch = {}     # sizekit.results.symdiff's work arrays over this pool, reused across diffs
        self.loose = {}       # sizekit.results.symdiff's cache: pass -> hash of each string's loose name
        self.into = None      # sizekit.results.symdiff's cache: (other pool, this pool's ids in it)

    @classmethod
    def of_strings(cls, strings):
        return cls(strings=list(strings))

    def __len__(self):
        return len(self.strings) if self.strings is not None else len(self.ends)

    def _span_arrays(self, ids):
        """(starts, ends) of the strings at ids, as int64 arrays."""
        ids = np.asarray(ids, dtype=np.int64)
        ends = self.ends[ids].astype(np.int64)
        return np.where(ids > 0, self.ends[ids - 1].astype(np.int64) + 1, 0), ends

    def _spans(self, ids):
        """(starts, ends) of the strings at ids, as lists (to slice the pool's bytes with)."""
        starts, ends = self._span_arrays(ids)
        return starts.tolist(), ends.tolist()

    def __getitem__(self, i):
        if self.strings is not None:
            return self.strings[i]
        start = self.ends[i - 1] + 1 if i > 0 else 0
        return self.data[start:self.ends[i]].decode("utf-8")

    def texts(self, ids):
        """The strings at ids (any iterable of ints), as a list."""
        if self.strings is not None:
            return list(map(self.strings.__getitem__, ids))
        data = self.data
        return [data[s:e].decode("utf-8") for s, e in zip(*self._spans(ids))]

    def encoded(self, ids):
        """The UTF-8 bytes of the strings at ids, as a list (slices of the pool, nothing decoded)."""
        if self.strings is not None:
            return [s.encode("utf-8", "surrogatepass") for s in self.texts(ids)]
        data = self.data
        return [data[s:e] for s, e in zip(*self._spans(ids))]

    def codes(self, column):
        """(the distinct strings of column, column as small codes into them): crates and sections are
        few, so a u8 or u16 code per symbol stands for the u32 index, and per-crate sums are a bincount."""
        used = np.zeros(len(self), bool)
        used[column] = True
        distinct = np.flatnonzero(used)
        del used
        dtype = np.uint8 if len(distinct) <= 1 << 8 else np.uint16 if len(distinct) <= 1 << 16 else np.uint32
        lut = np.zeros(len(self), dtype)
        lut[distinct] = np.arange(len(distinct), dtype=dtype)
        return distinct, lut[column]

    def raw_names(self):
        """(indices of the strings that are some symbol's raw name, the hash of their UTF-8 bytes).
        Every string counts when the pool does not know (a list's). Not kept: at the limits the
        hashes of two pools are ~50 MB, and a diff needs them once per pair of pools."""
        ids = self.raw_ids if self.raw_ids is not None else np.arange(len(self), dtype=np.int32)
        return ids, self.hashes(ids)

    def hashes(self, ids):
        """The 64-bit hash (sizekit.elf.strtab's, seeded per process) of the UTF-8 bytes of the
        strings at ids, as int64, worked out in the native module from the pool's bytes."""
        if self.strings is not None and self.data == b"" and self.strings:
            # A list's pool (a snapshot just taken): its bytes, made once.
            names = Names.of_strings(self.strings)
            self.data, self.ends = names.table, np.append(names.offsets[1:] - 1, len(names.table) - 1)
        return Names(self.data, self._span_arrays(ids)[0]).hashes()[0].view(np.int64)

    def lengths(self, ids):
        """The UTF-8 byte length of the strings at ids."""
        if self.strings is not None:
            return np.fromiter(map(len, self.encoded(ids)), np.int64, len(ids))
        starts, ends = self._span_arrays(ids)
        return ends - starts


class Strings:
    """A string column read as a list: pool indices, turned into strings when asked."""

    __slots__ = ("ids", "pool")
    __hash__ = None  # type: ignore[assignment]  # list-like: unhashable, as a list is

    def __init__(self, ids, pool):
        self.ids, self.pool = ids, pool

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.pool.texts(self.ids[i])
        return self.pool[int(self.ids[i])]

    def __iter__(self):
        return iter(self.pool.texts(self.ids))

    def __eq__(self, other):
        return list(self) == list(other) if isinstance(other, (list, tuple, Strings)) else NotImplemented


class Sizes:
    """The size column read as a list of ints."""

    __slots__ = ("view",)
    __hash__ = None  # type: ignore[assignment]  # list-like: unhashable, as a list is

    def __init__(self, view):
        self.view = view

    def __len__(self):
        return len(self.view)

    def __getitem__(self, i):
        return self.view[i].tolist()

    def __iter__(self):
        return iter(self.view.tolist())

    def __eq__(self, other):
        return list(self) == list(other) if isinstance(other, (list, tuple, Sizes)) else NotImplemented


class ColumnTable:
    """One artifact's symbols as columns over a Pool, largest first (SymbolTable's interface): raw and
    name as u32 string indices, crate and section as codes into pool.crate_ids / pool.section_ids."""

    def __init__(self, pool, raw, name, crate, section, size, sections=None, unknown=None, demangler=""):
        self.pool = pool
        self.raw_ids, self.crate_codes, self.section_codes, self.sizes = raw, crate, section, size
        self._name = name          # NAME_IS_RAW where the name is the raw name
        self._resolved = self._crates = None
        self.sections, self.unknown, self.demangler = sections or {}, unknown or {}, demangler

    @property
    def name_ids(self):
        """The name column with NAME_IS_RAW replaced by the raw name's index."""
        if self._resolved is None:
            self._resolved = self.names_at(slice(None))
        return self._resolved

    def names_at(self, rows):
        """Name indices of the given rows only (no whole-column copy)."""
        n, r = self._name[rows], self.raw_ids[rows]
        return np.where(n == NAME_IS_RAW, r, n)

    @property
    def crate_ids(self):
        return self.pool.crate_ids[self.crate_codes]

    @property
    def section_ids(self):
        return self.pool.section_ids[self.section_codes]

    def __len__(self):
        return len(self.sizes)

    raw = property(lambda self: Strings(self.raw_ids, self.pool))
    name = property(lambda self: Strings(self.name_ids, self.pool))
    crate = property(lambda self: Strings(self.crate_ids, self.pool))
    section = property(lambda self: Strings(self.section_ids, self.pool))
    size = property(lambda self: Sizes(self.sizes))

    def crate_totals(self):
        """(the crate codes present, bytes of each), worked out once per table."""
        if self._crates is None:
            self._crates = key_sums(self.crate_codes, self.sizes, len(self.pool.crate_ids))
        return self._crates

    def crate_sums(self):
        """crate -> bytes, summed by crate index (a handful of strings decoded, not one per symbol)."""
        codes, sums = self.crate_totals()
        return dict(zip(self.pool.texts(self.pool.crate_ids[codes]), sums.tolist()))

    def crates(self):
        """crate -> bytes, like results.json's cell crates (without [Unknown])."""
        return self.crate_sums()

    @property
    def overhead(self):
        return sum(self.unknown.values())


def group_sums(keys, values):
    """(distinct keys, the int64 sum of values per key), sorted by key: exact, unlike bincount's floats."""
    if not len(keys):
        return np.asarray(keys)[:0], np.zeros(0, np.int64)
    order = np.argsort(keys, kind="stable")
    ks = np.asarray(keys)[order]
    starts = np.flatnonzero(np.concatenate(([True], ks[1:] != ks[:-1])))
    return ks[starts], np.add.reduceat(np.asarray(values, np.int64)[order], starts)


def key_sums(keys, values, size):
    """(the keys present, the int64 sum of values per key) for keys below size, by a bincount:
    its float sums are exact below 2^53, and group_sums sorts when they could be over."""
    values = np.asarray(values)
    if not len(keys) or int(values.sum(dtype=np.uint64)) >= 1 << 53:
        return group_sums(keys, values)
    present = np.flatnonzero(np.bincount(keys, minlength=size))
    sums = np.bincount(keys, weights=values, minlength=size)[present]
    return present, sums.astype(np.int64)


def as_columns(table):
    """table as a ColumnTable: itself, or a SymbolTable's lists put into a pool of their own."""
    if isinstance(table, ColumnTable):
        return table
    interner = Interner()
    raw, name, crate, section = (interner.ids(c) for c in (table.raw, table.name, table.crate, table.section))
    pool = Pool.of_strings(interner.strings())
    pool.crate_ids, crate = pool.codes(crate)
    pool.section_ids, section = pool.codes(section)
    return ColumnTable(pool, raw, name, crate, section, np.asarray(list(table.size), np.int64),
                       table.sections, table.unknown, table.demangler)
