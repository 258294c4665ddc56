"""Every symbol of an unstripped ELF, with the bytes it owns: what a snapshot keeps per artifact.

The bytes follow sizekit.elf.bloat's rules exactly (same covered sections, overlaps go to the
first symbol in address order, crates by demangle.crate_of), so a table's per-crate sums equal
the `crates` of the cell in results.json. Unlike bloat's `functions`, each symbol keeps its raw
(mangled) name beside the demangled one, because the diff matches on the raw name first.
Bytes no symbol covers (alignment padding, anonymous constants) are kept per section as
`unknown`: the diff shows them as one overhead row.
"""
import os
from dataclasses import dataclass, field

from ..elf import bloat
from ..elf import demangle as dm


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
        out = {}
        for c, n in zip(self.crate, self.size):
            out[c] = out.get(c, 0) + n
        return out

    @property
    def overhead(self):
        return sum(self.unknown.values())


def read_symbols(path, split_std=False):
    """The SymbolTable of the ELF at path. Raises ElfError (exit 2) for a file that is not one,
    is not a regular file, or is over the ELF limits of sizekit.utils.limits (see bloat.read_elf)."""
    elf = bloat.read_elf(os.fspath(path))
    syms = bloat.sized_symbols(elf)
    covered = bloat.default_sections(elf, syms)
    pretty = dm.demangle_all({s[0] for s in syms})
    rows = []
    owned = {}
    for sec, raw, crate, nbytes in bloat.owned_bytes(syms, covered, pretty, split_std):
        rows.append((nbytes, raw, pretty[raw] or raw, crate, sec["name"]))
        owned[sec["name"]] = owned.get(sec["name"], 0) + nbytes
    unknown = {s["name"]: s["size"] - owned.get(s["name"], 0) for s in covered
               if s["size"] - owned.get(s["name"], 0)}
    rows.sort(key=lambda r: (-r[0], r[1]))
    table = SymbolTable(sections={s["name"]: s["size"] for s in covered}, unknown=unknown,
                        demangler=dm.backend_name())
    for size, raw, name, crate, section in rows:
        table.size.append(size)
        table.raw.append(raw)
        table.name.append(name)
        table.crate.append(crate)
        table.section.append(section)
    return table
