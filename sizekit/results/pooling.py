"""A snapshot's symbols, read artifact by artifact into one string pool held to the limits it is read back with.

take_snapshot (sizekit.results.capture) adds each artifact's RawSymbols in turn. A raw name is
demangled the first time any artifact has it (the pool is the cache), and a string is stored
once however many artifacts name it. Columns are numbered at once and the artifact's Python
strings let go, so memory follows the pool, not the symbols read.

No more raw names are demangled for one snapshot than it can hold strings, so the work is
bounded when artifact after artifact is refused. An artifact whose symbols or new strings would take the snapshot past SNAPSHOT_SYMBOLS,
SNAPSHOT_STRINGS or SNAPSHOT_STRING_BYTES (sizekit.utils.limits), or that holds a name longer
than SYMBOL_NAME_BYTES, is refused with the reason and adds nothing: sizekit never writes a
snapshot that it would refuse to load.
"""
import itertools
import operator

import numpy as np

from ..elf import demangle as dm
from ..elf.strtab import HashIndex
from ..utils import limits
from ..utils.errors import SizekitError
from .columns import NAME_IS_RAW, ColumnTable, Interner, Pool, u32_sizes


class SnapshotPool:
    """The string pool and columns of the artifacts admitted so far; tables() gives their ColumnTables."""

    def __init__(self, split_std=False):
        self.split_std = split_std
        self.interner = Interner()
        self.string_bytes = 0                      # UTF-8 bytes of the pool, each string's NUL included
        self.symbols = 0
        self.demangled = 0                         # raw names demangled, for artifacts kept or refused
        # Per string index, for strings that are some symbol's raw name: its name (NAME_IS_RAW when
        # the same) and crate. Arrays, not a dict of tuples: a million entries take 9 MB.
        self.name_of = np.zeros(0, np.uint32)
        self.crate_of = np.zeros(0, np.uint32)
        self.is_raw = np.zeros(0, bool)
        # The raw names seen, by hash: rows are looked up by the hash of their bytes in the string
        # table (both in C), not as Python strings.
        self.raw_index = HashIndex()
        self.parts = []                            # per artifact: (raw ids, section ids, sizes, RawSymbols)
        self.demangler = dm.backend_name()

    def add(self, got):
        """Admit one artifact's RawSymbols, or raise SizekitError saying which limit it would pass."""
        n = len(got)
        self._fits(n, limits.ARTIFACT_SYMBOLS.value, f"{n:,} symbols", limits.ARTIFACT_SYMBOLS,
                   "symbols an artifact")
        self._fits(self.symbols + n, limits.SNAPSHOT_SYMBOLS.value, f"{n:,} symbols",
                   limits.SNAPSHOT_SYMBOLS, "symbols")
        hashes, _ = got.raw.hashes()
        found = self.raw_index.get(hashes)            # each row's string index, -1 for a raw name not seen
        unseen = np.flatnonzero(found < 0)
        # The distinct new names, in order of their first row: decoded, the only ones that are.
        firsts = unseen[np.sort(np.unique(hashes[unseen], return_index=True)[1])]
        fresh = got.raw.take(firsts).texts()
        # No snapshot holds more strings than SNAPSHOT_STRINGS, so no more raw names than that are
        # demangled for one, kept or not: what bounds the work when artifacts keep being refused.
        self._fits(self.demangled + len(fresh), limits.SNAPSHOT_STRINGS.value,
                   f"not demangled: its {len(fresh):,} new names", limits.SNAPSHOT_STRINGS,
                   "names demangled (the most strings it can hold)")
        self.demangled += len(fresh)
        described = dm.describe_each(fresh, self.split_std)
        names = [p[0] for p in described]
        crates = [p[1] for p in described]
        del described
        new = self.interner.new(itertools.chain(fresh, names, crates, got.covered))
        added = self._check_strings(new)
        del new
        # Admitted: number everything, then keep only the columns.
        fresh_ids = self.interner.ids(fresh)
        same = np.fromiter(map(operator.eq, names, fresh), bool, len(fresh))
        name_ids = np.where(same, NAME_IS_RAW, self.interner.ids(names)).astype(np.uint32)
        crate_ids = self.interner.ids(crates)
        del names, crates, same
        self._grow(len(self.interner))
        self.name_of[fresh_ids] = name_ids
        self.crate_of[fresh_ids] = crate_ids
        self.is_raw[fresh_ids] = True
        self.raw_index.put(hashes[firsts], fresh_ids)
        # Only rows whose name was not seen are looked up again: the rest have their index.
        found[unseen] = self.raw_index.get(hashes[unseen])
        raw_ids = found.astype(np.uint32)
        del found, unseen, hashes, firsts
        section_ids = self.interner.ids(got.covered)[got.section]
        self.string_bytes += added
        self.symbols += n
        self.parts.append((raw_ids, section_ids, u32_sizes(got.size), got.sections, got.unknown))

    @staticmethod
    def _fits(value, top, what, limit, unit):
        if value > top:
            raise SizekitError(f"{what} would take the snapshot past its limit of {limits.value_text(limit)} {unit}")

    def _check_strings(self, new):
        """The pool bytes the new strings add, once they are known to fit the snapshot's limits."""
        self._fits(len(self.interner) + len(new), limits.SNAPSHOT_STRINGS.value,
                   f"{len(new):,} new strings", limits.SNAPSHOT_STRINGS, "strings")
        try:
            added = len("\0".join(new).encode("utf-8")) + 1 if new else 0   # the joins' NULs and the last one
        except UnicodeEncodeError:
            raise SizekitError("a symbol name holds a lone UTF-16 surrogate, which no snapshot "
                               "can store") from None
        self._fits(self.string_bytes + added, limits.SNAPSHOT_STRING_BYTES.value,
                   f"{added:,} bytes of new strings", limits.SNAPSHOT_STRING_BYTES, "of strings")
        cap = limits.SYMBOL_NAME_BYTES.value
        # A character is at most 4 bytes: only a name of over cap / 4 characters can be too long.
        longest = 0
        if max(map(len, new), default=0) > cap // 4:
            longest = max(len(s.encode("utf-8")) for s in new if len(s) > cap // 4)
        if longest > cap:
            raise SizekitError(f"a symbol name of {longest:,} bytes, over the limit of "
                               f"{limits.value_text(limits.SYMBOL_NAME_BYTES)} a name")
        return added

    def _grow(self, size):
        if size > len(self.is_raw):
            more = max(size, 2 * len(self.is_raw)) - len(self.is_raw)
            self.name_of = np.concatenate((self.name_of, np.zeros(more, np.uint32)))
            self.crate_of = np.concatenate((self.crate_of, np.zeros(more, np.uint32)))
            self.is_raw = np.concatenate((self.is_raw, np.zeros(more, bool)))

    def tables(self):
        """The ColumnTable of each admitted artifact, in order, over one Pool (as a loaded snapshot's)."""
        pool = Pool.of_strings(self.interner.strings())
        pool.raw_ids = np.flatnonzero(self.is_raw[:len(pool)]).astype(np.int32)
        raws = [p[0] for p in self.parts]
        pool.crate_ids, crates = pool.codes(_joined([self.crate_of[r] for r in raws]))
        pool.section_ids, sections = pool.codes(_joined([p[1] for p in self.parts]))
        out, at = [], 0
        for raw, _, size, covered, unknown in self.parts:
            end = at + len(raw)
            out.append(ColumnTable(pool, raw, self.name_of[raw], crates[at:end], sections[at:end], size,
                                   covered, unknown, self.demangler))
            at = end
        return out


def _joined(columns):
    return np.concatenate(columns) if columns else np.zeros(0, np.uint32)
