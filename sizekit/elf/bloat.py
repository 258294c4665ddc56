"""Per-crate attribution of an unstripped ELF's bytes, from its symbol table (like cargo-bloat).

Unlike cargo-bloat, which counts only .text, every covered section is split exactly: for each
one, the crate totals add up to the section's size. The rules:
- Covered sections: by default every allocated, file-backed section (not NOBITS, so no .bss)
  that holds at least one sized symbol, typically .text, .rodata, .data.rel.ro, .data and
  .tdata. `sections=[...]` names others (.bss included).
- Symbols: every sized symbol defined in a covered section (FUNC, OBJECT, TLS, IFUNC, NOTYPE).
  Where symbols overlap (aliases, folded identical code), each byte goes to the first symbol
  in address order (ties: larger, then name), so no byte is counted twice.
  A symbol that runs past the end of its section is clipped to it; one larger than the whole
  file is refused, as is a section whose bytes lie past the end of the file.
- Crates: see demangle.crate_of. Bytes no symbol covers (alignment padding, anonymous
  constants and string literals in .rodata) are "[Unknown]"; non-Rust symbols (libc,
  jemalloc, C and assembly from -sys crates) are "[C/C++]".
"""
import operator
import os
import struct
from dataclasses import dataclass, field

import numpy as np

from . import demangle as dm
from . import engine
from .strtab import Names
from ..utils import limits
from ..utils.errors import ElfError

SHF_ALLOC = 0x2
SHN_LORESERVE, SHN_XINDEX = 0xFF00, 0xFFFF
SHT_SYMTAB, SHT_NOBITS = 2, 8
SHF_TLS = 0x400
STT_SECTION, STT_FILE, STT_TLS = 3, 4, 6
ET_REL = 1


class NoSymbolsError(ElfError):
    """The ELF has no .symtab (it was stripped), so nothing can be attributed."""

    def __init__(self, path):
        super().__init__(path, "no symbol table (the file is stripped); attribute the unstripped build artifact")


@dataclass
class Attribution:
    """Where an ELF's bytes go. crates and each sections[...] are sorted by size, largest first."""

    path: str
    crates: dict
    sections: dict
    functions: list          # (demangled name, crate, bytes, section), largest first
    total: int
    split_std: bool = False
    demangler: str = ""
    section_sizes: dict = field(default_factory=dict)

    def to_json(self, functions=None):
        """A JSON-ready dict; functions=N adds the N largest symbols."""
        out = {"file": self.path, "total": self.total, "split_std": self.split_std,
               "demangler": self.demangler, "crates": dict(self.crates),
               "sections": {s: {"size": self.section_sizes[s], "crates": dict(c)}
                            for s, c in self.sections.items()}}
        if functions is not None:
            out["functions"] = [{"name": n, "crate": c, "size": b, "section": s}
                                for n, c, b, s in self.functions[:functions]]
        return out


class Symbols:
    """Symbols as parallel columns, in .symtab order: names (a strtab.Names), and numpy arrays
    value (uint64; object, holding Python ints, if a TLS symbol's value passed 2^64), size
    (uint64) and shndx (int64)."""

    __slots__ = ("names", "value", "size", "shndx")

    def __init__(self, names, value, size, shndx):
        self.names, self.value, self.size, self.shndx = names, value, size, shndx

    def __len__(self):
        return len(self.names)

    def __iter__(self):
        """(name, value, size, section index) tuples, as Python ints."""
        return zip(self.names, self.value.tolist(), self.size.tolist(), self.shndx.tolist())

    def take(self, index):
        """The symbols at index (an integer array), in its order."""
        return Symbols(self.names.take(index), self.value[index], self.size[index], self.shndx[index])


def sized_symbols(elf):
    """The symbols with a size, in a section the file has (a Symbols)."""
    syms = elf["symbols"]
    by_index = np.array(sorted(s["index"] for s in elf["sections"]), dtype=np.int64)
    keep = (syms.size > 0) & np.isin(syms.shndx, by_index)
    return syms if keep.all() else syms.take(np.flatnonzero(keep))


def default_sections(elf, syms):
    """The sections a breakdown covers by default: loaded, with file bytes, holding a symbol."""
    used = set(np.unique(syms.shndx).tolist())
    return [s for s in elf["sections"] if s["index"] in used and s["alloc"] and not s["nobits"]]


_U64 = (1 << 64) - 1


def owned(syms, covered):
    """Each symbol's bytes in the covered sections, every byte counted once: where symbols overlap
    (aliases, padding symbols) the first in address order owns them. Returns integer arrays
    (symbol index, covered section's position, bytes): only symbols that own bytes, by covered
    section then address order (ties: larger, then name, then .symtab order).

    Vectorised: within a section, in address order, a symbol owns [max(start, cursor), end) where
    both are clipped to the section and cursor is the running maximum of the earlier ends."""
    if syms.value.dtype == object or any(sec["addr"] + sec["size"] > _U64 for sec in covered):
        return _owned_exact(syms, covered)  # only hostile files: values past 2^64
    index, where, nbytes = [], [], []
    value, size, shndx = syms.value, syms.size, syms.shndx
    for pos, sec in enumerate(covered):
        members = np.flatnonzero(shndx == sec["index"])
        if not len(members):
            continue
        v, z = value[members], size[members]
        addr, length = np.uint64(sec["addr"]), np.uint64(sec["size"])
        end = sec["addr"] + sec["size"]
        # Drop what lies wholly outside the section: it owns nothing and moves no cursor.
        inside = (v < np.uint64(end)) & ((v >= addr) | (z > addr - v))
        members, v, z = members[inside], v[inside], z[inside]
        if not len(members):
            continue
        with np.errstate(over="ignore"):
            rel = np.where(v >= addr, v - addr, np.uint64(0))
            room = length - rel
            stop = np.where(v >= addr, rel + np.minimum(z, room), np.minimum(z - (addr - v), length))
        order = _address_order(syms.names, members, v, z)
        rel, stop = rel[order], stop[order]
        cursor = np.empty_like(stop)
        cursor[0] = 0
        if len(stop) > 1:
            np.maximum.accumulate(stop[:-1], out=cursor[1:])
        lo = np.maximum(rel, cursor)
        got = stop > lo
        members = members[order][got]
        index.append(members)
        where.append(np.full(len(members), pos, dtype=np.int64))
        nbytes.append((stop - lo)[got])
    if not index:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint64)
    return np.concatenate(index), np.concatenate(where), np.concatenate(nbytes)


def _address_order(names, members, v, z):
    """The positions of members in address order: by value, the larger first, then by name;
    equal keys keep .symtab order."""
    order = np.lexsort((~z, v))  # stable: ties keep .symtab order
    vs, zs = v[order], z[order]
    tied = (vs[1:] == vs[:-1]) & (zs[1:] == zs[:-1])
    if tied.any():
        # Runs of equal (value, size): order each by name (a stable sort), in Python.
        starts = np.flatnonzero(np.diff(np.concatenate(([False], tied, [False])).astype(np.int8)) == 1).tolist()
        stops = np.flatnonzero(np.diff(np.concatenate(([False], tied, [False])).astype(np.int8)) == -1).tolist()
        order = order.tolist()
        for a, b in zip(starts, stops):
            run = order[a:b + 1]
            run.sort(key=lambda i: names[members[i]])
            order[a:b + 1] = run
        order = np.array(order, dtype=np.int64)
    return order


def _owned_exact(syms, covered):
    """owned() one symbol at a time with Python integers, for values that do not fit 64 bits."""
    by_section: dict = {}
    for i, s in enumerate(syms):
        by_section.setdefault(s[3], []).append((s[0], s[1], s[2], i))
    index, where, nbytes = [], [], []
    for pos, sec in enumerate(covered):
        end = sec["addr"] + sec["size"]
        cursor = sec["addr"]
        for name, value, size, i in sorted(by_section.get(sec["index"], ()), key=address_order):
            lo = value if value > cursor else cursor
            hi = value + size
            if hi > end:
                hi = end
            if hi <= lo:
                continue
            cursor = hi
            index.append(i)
            where.append(pos)
            nbytes.append(hi - lo)
    return (np.array(index, dtype=np.int64), np.array(where, dtype=np.int64),
            np.array(nbytes, dtype=np.uint64))


def owned_bytes(syms, covered, split_std=False, cache=None):
    """owned() as rows: yields (section, raw name, display name, crate, bytes) in its order;
    names are described (demangled, given a crate) once each, through cache (demangle.describe_each)."""
    index, where, nbytes = owned(syms, covered)
    raw = syms.names.take(index).texts()
    described = dm.describe_each(raw, split_std, cache)
    for r, (name, crate), pos, n in zip(raw, described, where.tolist(), nbytes.tolist()):
        yield covered[pos], r, name, crate, n


def pick(seq, index):
    """[seq[i] for i in index] (an integer array), in C."""
    index = index.tolist()
    if len(index) < 2:
        return [seq[i] for i in index]
    return list(operator.itemgetter(*index)(seq))


def attribute(path, split_std=False, sections=None):
    """Attribute every byte of the covered sections of the ELF at path to a crate."""
    path = os.fspath(path)
    elf = read_elf(path)
    syms = sized_symbols(elf)
    if sections is None:
        covered = default_sections(elf, syms)
    else:
        names = {s["name"]: s for s in elf["sections"]}
        missing = [n for n in sections if n not in names]
        if missing:
            raise ElfError(path, f"no section {', '.join(missing)} (it has: "
                                 f"{', '.join(n for n in names if n)})")
        covered = [names[n] for n in dict.fromkeys(sections)]

    backend = dm.backend_name()
    totals_of: dict = {sec["name"]: {} for sec in covered}
    functions = []
    for sec, _, name, crate, nbytes in owned_bytes(syms, covered, split_std):
        totals = totals_of[sec["name"]]
        totals[crate] = totals.get(crate, 0) + nbytes
        functions.append((name, crate, nbytes, sec["name"]))
    per_section = {}
    for sec in covered:
        totals = totals_of[sec["name"]]
        unknown = sec["size"] - sum(totals.values())
        if unknown:
            totals[dm.UNKNOWN] = totals.get(dm.UNKNOWN, 0) + unknown
        per_section[sec["name"]] = _sorted(totals)

    crates: dict = {}
    for totals in per_section.values():
        for c, b in totals.items():
            crates[c] = crates.get(c, 0) + b
    functions.sort(key=lambda f: (-f[2], f[0]))
    return Attribution(path=path, crates=_sorted(crates), sections=per_section, functions=functions,
                       total=sum(s["size"] for s in covered), split_std=split_std, demangler=backend,
                       section_sizes={s["name"]: s["size"] for s in covered})


def crates_summary(path, split_std=False):
    """crate -> bytes over the default sections: what a matrix cell records."""
    return dict(attribute(path, split_std=split_std).crates)


def address_order(sym):
    # Aliases at one address: the larger symbol first, then by name, so runs are reproducible.
    return sym[1], -sym[2], sym[0]


def _sorted(totals):
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def read_elf(path):
    """Section headers and the raw symbol table (a Symbols: name, value, size, shndx). Raises ElfError.

    Read with struct, numpy and os.pread, not pyelftools (~100x slower on a million sections), and only
    the headers, .symtab and its string table. Every count is checked against
    sizekit.utils.limits before the bytes it counts are read, and every section's bytes must lie
    inside the file."""
    fd = engine.open_elf(path, None)  # only the headers and symbol table are read: the other limits bound them
    try:
        return _read_elf(path, fd, os.fstat(fd).st_size)
    except OSError as e:
        raise ElfError(path, f"cannot read: {e.strerror or e}") from None
    finally:
        os.close(fd)


def _pread(fd, size, offset):
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise OSError(0, "the file shrank while it was read")
    return data


def _read_elf(path, fd, filesize):
    head = os.pread(fd, 64, 0)
    if not head:
        raise ElfError(path, "empty file")
    if head[:4] != b"\x7fELF":
        raise ElfError(path, "not an ELF file (bad magic)")
    if len(head) < 16:
        raise ElfError(path, f"truncated ELF header ({len(head)} bytes)")
    if head[4] not in (1, 2) or head[5] not in (1, 2):
        raise ElfError(path, "bad ELF class or data encoding (EI_CLASS, EI_DATA are not 1 or 2)")
    elfclass, e = (64 if head[4] == 2 else 32), ("<" if head[5] == 1 else ">")
    hdr = struct.Struct(e + ("HHIQQQIHHHHHH" if elfclass == 64 else "HHIIIIIHHHHHH"))
    if len(head) < 16 + hdr.size:
        raise ElfError(path, f"truncated ELF header ({len(head)} bytes)")
    etype, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx = hdr.unpack_from(head, 16)
    sections = _section_table(path, fd, filesize, elfclass, e, shoff, shentsize, shnum, shstrndx)
    symtab = next((s for s in sections if s["type"] == SHT_SYMTAB), None)
    if symtab is None:
        raise NoSymbolsError(path)
    dtype, want = _symbol_format(elfclass, e == "<")
    count = symtab["size"] // want
    if symtab["entsize"] != want or symtab["size"] % want:
        raise ElfError(path, f"malformed symbol table (.symtab): {symtab['size']:,} bytes in entries of "
                             f"{symtab['entsize']} bytes, not {want}")
    if count - 1 > limits.ELF_SYMBOLS.value:  # entry 0 is the reserved null symbol
        raise engine.over_limit(path, count - 1, limits.ELF_SYMBOLS, "symbols in .symtab")
    if not 0 < symtab["link"] < len(sections):
        raise ElfError(path, f"the symbol table's string table index {symtab['link']} is out of range")
    strsec = sections[symtab["link"]]
    if strsec["size"] > limits.ELF_STRTAB_BYTES.value:
        raise engine.over_limit(path, strsec["size"], limits.ELF_STRTAB_BYTES,
                                f"bytes of symbol names ({strsec['name'] or 'its string table'})")
    data = _pread(fd, symtab["size"], symtab["offset"])
    strtab = b"" if strsec["nobits"] else _pread(fd, strsec["size"], strsec["offset"])
    tls = [s["addr"] for s in sections if s["tls"]]
    tls_base = min(tls) if tls and etype != ET_REL else 0
    return {"sections": sections, "symbols": _symbols(path, data, strtab, dtype, sections, tls_base, filesize)}


def _section_table(path, fd, filesize, elfclass, e, shoff, shentsize, shnum, shstrndx):
    """Every section header as a dict, names resolved; the count is checked before the table is read."""
    shdr = struct.Struct(e + ("IIQQQQIIQQ" if elfclass == 64 else "IIIIIIIIII"))
    if shoff == 0:
        return []
    if shentsize < shdr.size:
        raise ElfError(path, f"section header entry size {shentsize} too small (e_shentsize; {shdr.size} is needed)")
    if shoff > filesize or filesize - shoff < shentsize:
        raise _table_past_end(path, shoff, shnum or 1, shentsize, filesize)
    first = shdr.unpack(_pread(fd, shdr.size, shoff))
    if shnum == 0:  # SHN_XINDEX: the real count is section 0's sh_size, the name table's index its sh_link
        shnum = first[5]
    if shstrndx == SHN_XINDEX:
        shstrndx = first[6]
    if shnum > limits.ELF_SECTIONS.value:
        raise engine.over_limit(path, shnum, limits.ELF_SECTIONS, "sections")
    if shnum == 0:
        return []
    if shnum * shentsize > filesize - shoff:
        raise _table_past_end(path, shoff, shnum, shentsize, filesize)
    table = _pread(fd, shnum * shentsize, shoff)
    raw = [shdr.unpack_from(table, i * shentsize) for i in range(shnum)]
    if not 0 <= shstrndx < shnum:
        raise ElfError(path, f"section name table index {shstrndx} out of range")
    _check_inside(path, shstrndx, "", raw[shstrndx], filesize)
    names = _pread(fd, raw[shstrndx][5], raw[shstrndx][4]) if raw[shstrndx][1] != SHT_NOBITS else b""
    sections = [_section_info(i, _name(path, i, names, s[0]), s) for i, s in enumerate(raw)]
    for i, s in enumerate(raw):
        _check_inside(path, i, sections[i]["name"], s, filesize)
    return sections


def _table_past_end(path, shoff, shnum, shentsize, filesize):
    return ElfError(path, f"section header table past end of file (e_shoff {shoff:,} + {shnum:,} x {shentsize} "
                          f"bytes > {filesize:,} bytes); the file is truncated or its header lies")


def _check_inside(path, index, name, header, filesize):
    """Refuse a section whose bytes (offset + size) run past the end of the file; NOBITS has none."""
    _, typ, _, _, off, size, _, _, _, _ = header
    if typ != SHT_NOBITS and (off > filesize or size > filesize - off):
        shown = f"section {index} ({name})" if name else f"section {index}"
        raise ElfError(path, f"{shown} data past end of file (offset {off:,} + size {size:,} > {filesize:,} "
                             f"bytes); the file is truncated or its section headers lie")


def _name(path, index, names, offset):
    stop = names.find(b"\0", offset)
    if offset == 0 and not names:
        return ""
    if stop < 0:
        raise ElfError(path, f"section {index} name is not a NUL-terminated string in the name table")
    return names[offset:stop].decode("utf-8", "replace")


def _section_info(index, name, s):
    _, typ, flags, addr, offset, size, link, _, _, entsize = s
    return {"index": index, "name": name, "type": typ, "addr": addr, "offset": offset, "size": size,
            "link": link, "entsize": entsize, "alloc": bool(flags & SHF_ALLOC), "nobits": typ == SHT_NOBITS,
            "tls": bool(flags & SHF_TLS)}


def _symbol_format(elfclass, little):
    e = "<" if little else ">"
    if elfclass == 64:
        fields = [("name", "u4"), ("info", "u1"), ("other", "u1"), ("shndx", "u2"), ("value", "u8"), ("size", "u8")]
    else:
        fields = [("name", "u4"), ("value", "u4"), ("size", "u4"), ("info", "u1"), ("other", "u1"), ("shndx", "u2")]
    dtype = np.dtype([(n, e + t) for n, t in fields])
    return dtype, dtype.itemsize


def _symbols(path, data, strtab, dtype, sections, tls_base, filesize):
    """Parse the symtab bytes as numpy columns (pyelftools' iter_symbols is ~20x slower, struct ~5x).

    A TLS symbol's value is an offset into the TLS template in linked files, so tls_base (the
    template's address) is added to place it in .tdata like the others. A symbol larger than
    the whole file is refused (its table lies); one that runs past the end of its section is
    clipped to the section by owned_bytes, as a linker's padding symbols can run past it.
    """
    table = np.frombuffer(data, dtype)
    limit = min(len(sections), SHN_LORESERVE)
    kind = table["info"] & 0xF
    shndx = table["shndx"].astype(np.int64)
    size = table["size"].astype(np.uint64)
    keep = np.flatnonzero((size != 0) & (shndx > 0) & (shndx < limit) & (kind != STT_SECTION) & (kind != STT_FILE))
    shndx, size, kind = shndx[keep], size[keep], kind[keep]
    value = table["value"][keep].astype(np.uint64)
    offsets = table["name"][keep].astype(np.int64)
    del table
    names = _names(strtab, offsets)
    del offsets
    nobits = np.array([s["nobits"] for s in sections] or [False], dtype=bool)
    lies = np.flatnonzero((size > np.uint64(filesize)) & ~nobits[np.minimum(shndx, len(nobits) - 1)])
    if len(lies):
        i = int(lies[0])
        n = int(shndx[i])
        raise ElfError(path, f"symbol {names[i][:200]!r} in section {n} ({sections[n]['name']}) claims "
                             f"{int(size[i]):,} bytes, more than the file's {filesize:,}; its symbol table lies")
    tls = kind == STT_TLS
    if tls_base and tls.any():
        if int(value[tls].max()) + tls_base > _U64:  # only a hostile file: keep exact Python integers
            value = value.astype(object)
            value[tls] += tls_base
        else:
            value[tls] += np.uint64(tls_base)
    return Symbols(names, value, size, shndx)


def _names(strtab, offsets):
    """The NUL-terminated name at each offset of strtab (to its end if none; an offset past the
    table is the empty name), as a strtab.Names: decoded as UTF-8 with U+FFFD for bad bytes, and
    only when asked."""
    return Names.from_strtab(strtab, offsets)
