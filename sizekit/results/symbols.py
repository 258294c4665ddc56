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
    """The SymbolTable of the ELF at path. Raises ElfError (exit 2) for a file that is not one."""
    # bloat's reader is the one ELF parser of sizekit; it is private there, so it is used as is.
    elf = bloat.read_elf(os.fspath(path))
    by_index = {s["index"]: s for s in elf["sections"]}
    syms = [s for s in elf["symbols"] if s[2] > 0 and s[3] in by_index]
    used = {s[3] for s in syms}
    covered = [s for s in elf["sections"] if s["index"] in used and s["alloc"] and not s["nobits"]]
    pretty = dm.demangle_all({s[0] for s in syms})
    by_section = {}
    for s in syms:
        by_section.setdefault(s[3], []).append(s)
    crate_of = {}
    rows = []
    unknown = {}
    for sec in covered:
        end = sec["addr"] + sec["size"]
        cursor = sec["addr"]
        owned = 0
        for raw, value, size, _ in sorted(by_section.get(sec["index"], ()), key=bloat.address_order):
            lo = max(value, cursor)
            hi = min(value + size, end)
            if hi <= lo:
                continue
            cursor = hi
            crate = crate_of.get(raw)
            if crate is None:
                p = pretty[raw]
                crate = dm.group(dm.crate_of(p) if p is not None else dm.unmangled_crate(raw), split_std)
                crate_of[raw] = crate
            rows.append((hi - lo, raw, pretty[raw] or raw, crate, sec["name"]))
            owned += hi - lo
        if sec["size"] - owned:
            unknown[sec["name"]] = sec["size"] - owned
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
