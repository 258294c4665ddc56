"""Every symbol of an unstripped ELF, with the bytes it owns: what a snapshot keeps per artifact.

The bytes follow sizekit.elf.bloat's rules exactly (same covered sections, overlaps go to the
first symbol in address order, crates by demangle.crate_of), so a table's per-crate sums equal
the `crates` of the cell in results.json. Unlike bloat's `functions`, each symbol keeps its raw
(mangled) name beside the demangled one, because the diff matches on the raw name first.
Bytes no symbol covers (alignment padding, anonymous constants) are kept per section as
`unknown`: the diff shows them as one overhead row.

read_raw is where a snapshot starts (sizekit.results.pooling demangles into one pool for all
artifacts); read_symbols is one file's table on its own, demangled.
"""
import os
from dataclasses import dataclass, field

import numpy as np

from ..elf import bloat
from ..elf import demangle as dm
from ..elf.strtab import Names


@dataclass
class SymbolTable:
    """One artifact's symbols as parallel lists, largest first; sizes in bytes."""

    raw: list = field(default_factory=list)        # the name in .symtab
    name: list = field(default_factory=list)       # demangled (short form), or the raw name
    crate: list = field(default_factory=list)
    section: list = field(default_factory=list)
    size: list = field(default_factory=list)
    sections: dict = field(default_factory=dict)   # covered section -> its size
    unknown: dict = field(default_factory=dict)    # covered section -> bytes no symbol covers
    demangler: str = ""

    def __len__(self):
        return len(self.size)

    def crates(self):
        """crate -> bytes, like results.json's cell crates (without [Unknown])."""
        out: dict = {}
        for c, n in zip(self.crate, self.size):
            out[c] = out.get(c, 0) + n
        return out

    @property
    def overhead(self):
        return sum(self.unknown.values())


@dataclass
class RawSymbols:
    """One artifact's symbols before demangling, largest first: what read_symbols and a snapshot's
    pool (sizekit.results.pooling) both start from."""

    raw: Names           # the name in .symtab of each row (bytes in the string table until asked)
    section: np.ndarray  # each row's index into covered
    size: np.ndarray     # each row's bytes
    covered: list        # the covered section names, in file order
    sections: dict       # covered section -> its size
    unknown: dict        # covered section -> bytes no symbol covers

    def __len__(self):
        return len(self.raw)


def read_raw(path):
    """The RawSymbols of the ELF at path. Raises ElfError (exit 2) for a file that is not one, is
    not a regular file, or is over the ELF limits of sizekit.utils.limits (see bloat.read_elf)."""
    elf = bloat.read_elf(os.fspath(path))
    syms = bloat.sized_symbols(elf)
    del elf["symbols"]
    covered = bloat.default_sections(elf, syms)
    index, where, nbytes = bloat.owned(syms, covered)
    raw = syms.names.take(index)
    del syms, index
    unknown = {}
    for pos, s in enumerate(covered):
        got = int(nbytes[where == pos].sum())  # at most the section's size: no overflow
        if s["size"] - got:
            unknown[s["name"]] = s["size"] - got
    # Largest first, then by raw name; equal keys keep owned()'s order (a stable sort).
    order = raw.order(nbytes)
    return RawSymbols(raw=raw.take(order), section=where[order], size=nbytes[order],
                      covered=[s["name"] for s in covered], sections={s["name"]: s["size"] for s in covered},
                      unknown=unknown)


def read_symbols(path, split_std=False, cache=None):
    """The SymbolTable of the ELF at path (errors as read_raw's). cache: a dict shared by several
    files, so each distinct name is demangled once (see demangle.describe_each)."""
    got = read_raw(path)
    table = SymbolTable(raw=got.raw.texts(), sections=got.sections, unknown=got.unknown, demangler=dm.backend_name())
    described = dm.describe_each(table.raw, split_std, cache)
    table.name = [p[0] for p in described]
    table.crate = [p[1] for p in described]
    del described
    table.section = bloat.pick(got.covered, got.section)
    table.size = got.size.tolist()
    return table
