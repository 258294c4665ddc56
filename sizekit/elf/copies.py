"""Each symbol of an unstripped ELF with what it takes to find its copies in other files: its
demangled name, crate, owned bytes (bloat's rules: every byte of the covered sections counted
once) and a digest of those bytes.

A fleet (sizekit.results.fleet) matches symbols across files by name and size, and by identical
bytes where the names differ (another crate hash, a function folded under another name).
Symbols under MIN_CONTENT bytes get no digest: a 4-byte `ret; nop` matches everything.
"""
import hashlib
import os
from dataclasses import dataclass, field

from . import bloat, engine
from . import demangle as dm
from ..utils.errors import ElfError

MIN_CONTENT = 16


@dataclass
class CodeRows:
    """One file's symbols as parallel lists (owned bytes > 0), in bloat.owned's order."""
    path: str
    name: list = field(default_factory=list)
    crate: list = field(default_factory=list)
    section: list = field(default_factory=list)
    size: list = field(default_factory=list)
    digest: list = field(default_factory=list)   # bytes, or None (too small, or no file bytes)
    covered: int = 0                              # bytes of the covered sections

    def __len__(self):
        return len(self.size)


def code_rows(path, cache=None):
    """The CodeRows of the ELF at path. Raises ElfError (exit 2) as bloat.read_elf does, and for a
    stripped file (it has no names to give)."""
    path = os.fspath(path)
    elf = bloat.read_elf(path)
    syms = bloat.sized_symbols(elf)
    if not len(syms.size):
        raise bloat.NoSymbolsError(path)
    covered = bloat.default_sections(elf, syms)
    index, where, nbytes = bloat.owned(syms, covered)
    raw = syms.names.take(index).texts()
    described = dm.describe_each(raw, False, cache)
    values = syms.value[index].tolist()
    rows = CodeRows(path=path, covered=sum(s["size"] for s in covered))
    fd = engine.open_elf(path)   # the section bytes are read: the file's size limit applies
    try:
        data = {pos: _section_bytes(path, fd, sec) for pos, sec in enumerate(covered)}
    finally:
        os.close(fd)
    for (name, crate), pos, value, n in zip(described, where.tolist(), values, nbytes.tolist()):
        sec = covered[pos]
        rows.name.append(name)
        rows.crate.append(crate)
        rows.section.append(sec["name"])
        rows.size.append(n)
        start = max(value, sec["addr"]) - sec["addr"]
        piece = data[pos][start:start + n]
        rows.digest.append(hashlib.blake2b(piece, digest_size=12).digest()
                           if n >= MIN_CONTENT and len(piece) == n else None)
    return rows


def _section_bytes(path, fd, sec):
    """The section's file bytes (read_elf checked they lie inside the file)."""
    try:
        data = os.pread(fd, sec["size"], sec["offset"])
    except OSError as e:
        raise ElfError(path, f"cannot read section {sec['name']}: {e.strerror or e}") from None
    if len(data) != sec["size"]:
        raise ElfError(path, f"section {sec['name']} ends past the end of the file")
    return data
