"""read_symbols and bloat's attribution on numpy columns give exactly what the per-symbol Python
code gave: same SymbolTable (every list in the same order, sections, unknown) and the same
`sizekit bloat` JSON, on real files (rustup's big Rust libraries, gcc-built programs) and on
made-up ones with overlaps, aliases, ties and symbols past their section. The reference is the
previous implementation, kept here only as that.

The largest snapshot within the limits (4 files of 500,000 symbols naming 395,000 names, the
string pool at its limit), and 4 files of distinct names that no snapshot can hold, are timed
as the hostile suites do (tests/bounded.py).
"""
import glob
import os
import random
import shutil
import struct
import subprocess
import sys

import pytest

from bounded import SUPPORTED_MB, SUPPORTED_SECONDS, assert_bounded, run_sizekit
from sizekit.elf import bloat
from sizekit.elf import demangle as dm
from sizekit.results.symbols import read_symbols
from test_hostile_elf import rust_name
from sizekit.utils import limits


# ---------------------------------------------------------------- the previous implementation

def ref_symbols(path):
    """(sections, [(name, value, size, shndx)]) parsed with struct, one symbol at a time."""
    with open(path, "rb") as f:
        head = f.read(64)
        elfclass, e = (64 if head[4] == 2 else 32), ("<" if head[5] == 1 else ">")
        hdr = struct.Struct(e + ("HHIQQQIHHHHHH" if elfclass == 64 else "HHIIIIIHHHHHH"))
        etype, _, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx = hdr.unpack_from(head, 16)
        fd = f.fileno()
        sections = bloat._section_table(path, fd, os.fstat(fd).st_size, elfclass, e, shoff, shentsize, shnum,
                                        shstrndx)
        filesize = os.fstat(fd).st_size
        symtab = next(s for s in sections if s["type"] == bloat.SHT_SYMTAB)
        strsec = sections[symtab["link"]]
        data = os.pread(fd, symtab["size"], symtab["offset"])
        strtab = os.pread(fd, strsec["size"], strsec["offset"])
    tls = [s["addr"] for s in sections if s["tls"]]
    tls_base = min(tls) if tls and etype != bloat.ET_REL else 0
    fmt = e + ("IBBHQQ" if elfclass == 64 else "IIIBBH")
    out = []
    limit = min(len(sections), bloat.SHN_LORESERVE)
    entries = struct.iter_unpack(fmt, data)
    if elfclass == 32:
        entries = ((n, i, o, x, v, s) for n, v, s, i, o, x in entries)
    for name_off, info, _, shndx, value, size in entries:
        if not size or not 0 < shndx < limit or (info & 0xF) in (bloat.STT_SECTION, bloat.STT_FILE):
            continue
        stop = strtab.find(b"\0", name_off)
        name = strtab[name_off:stop if stop >= 0 else len(strtab)].decode("utf-8", "replace")
        assert not (size > filesize and not sections[shndx]["nobits"])
        if info & 0xF == bloat.STT_TLS:
            value += tls_base
        out.append((name, value, size, shndx))
    by_index = {s["index"] for s in sections}
    syms = [s for s in out if s[2] > 0 and s[3] in by_index]
    used = {s[3] for s in syms}
    covered = [s for s in sections if s["index"] in used and s["alloc"] and not s["nobits"]]
    return covered, syms


def ref_owned(syms, covered, pretty, split_std=False):
    by_section = {}
    for s in syms:
        by_section.setdefault(s[3], []).append(s)
    for sec in covered:
        end = sec["addr"] + sec["size"]
        cursor = sec["addr"]
        for name, value, size, _ in sorted(by_section.get(sec["index"], ()), key=lambda s: (s[1], -s[2], s[0])):
            lo = value if value > cursor else cursor
            hi = min(value + size, end)
            if hi <= lo:
                continue
            cursor = hi
            p = pretty[name]
            crate = dm.group(dm.crate_of(p) if p is not None else dm.unmangled_crate(name), split_std)
            yield sec, name, crate, hi - lo


def ref_read_symbols(path, split_std=False):
    covered, syms = ref_symbols(path)
    pretty = dm.demangle_all({s[0] for s in syms})
    rows, owned = [], {}
    for sec, raw, crate, nbytes in ref_owned(syms, covered, pretty, split_std):
        rows.append((nbytes, raw, pretty[raw] or raw, crate, sec["name"]))
        owned[sec["name"]] = owned.get(sec["name"], 0) + nbytes
    unknown = {s["name"]: s["size"] - owned.get(s["name"], 0) for s in covered
               if s["size"] - owned.get(s["name"], 0)}
    rows.sort(key=lambda r: (-r[0], r[1]))
    return {"raw": [r[1] for r in rows], "name": [r[2] for r in rows], "crate": [r[3] for r in rows],
            "section": [r[4] for r in rows], "size": [r[0] for r in rows],
            "sections": {s["name"]: s["size"] for s in covered}, "unknown": unknown}


def ref_attribute(path, split_std=False):
    covered, syms = ref_symbols(path)
    pretty = dm.demangle_all({s[0] for s in syms})
    totals_of = {sec["name"]: {} for sec in covered}
    functions = []
    for sec, name, crate, nbytes in ref_owned(syms, covered, pretty, split_std):
        totals = totals_of[sec["name"]]
        totals[crate] = totals.get(crate, 0) + nbytes
        functions.append((pretty[name] or name, crate, nbytes, sec["name"]))
    per_section = {}
    for sec in covered:
        totals = totals_of[sec["name"]]
        unknown = sec["size"] - sum(totals.values())
        if unknown:
            totals[dm.UNKNOWN] = totals.get(dm.UNKNOWN, 0) + unknown
        per_section[sec["name"]] = bloat._sorted(totals)
    crates = {}
    for totals in per_section.values():
        for c, b in totals.items():
            crates[c] = crates.get(c, 0) + b
    functions.sort(key=lambda f: (-f[2], f[0]))
    return bloat.Attribution(path=path, crates=bloat._sorted(crates), sections=per_section, functions=functions,
                             total=sum(s["size"] for s in covered), split_std=split_std,
                             demangler=dm.backend_name(), section_sizes={s["name"]: s["size"] for s in covered})


def as_dict(table):
    return {"raw": table.raw, "name": table.name, "crate": table.crate, "section": table.section,
            "size": table.size, "sections": table.sections, "unknown": table.unknown}


def assert_same(path, split_std=False, cache=None):
    new, old = as_dict(read_symbols(path, split_std, cache=cache)), ref_read_symbols(path, split_std)
    for key in old:
        assert new[key] == old[key], (path, key)
    a, b = bloat.attribute(path, split_std), ref_attribute(path, split_std)
    assert a.to_json(functions=len(b.functions)) == b.to_json(functions=len(b.functions)), path
    assert a.functions == b.functions


# ---------------------------------------------------------------- real files

def rust_libraries():
    home = os.path.expanduser("~/.rustup/toolchains")
    found = sorted(glob.glob(f"{home}/*/lib/librustc_driver-*.so") +
                   glob.glob(f"{home}/*/lib/rustlib/*/lib/libstd-*.so"))
    return found[:4]


@pytest.mark.parametrize("path", rust_libraries() or [pytest.param(None, marks=pytest.mark.skip("no rustup"))])
@pytest.mark.parametrize("split_std", [False, True])
def test_rust_libraries_unchanged(path, split_std):
    assert_same(path, split_std)


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """gcc-built programs: -O0 and -O2, PIE and static (TLS, IFUNCs, aliases from libc)."""
    if shutil.which("gcc") is None:
        pytest.skip("no gcc")
    tmp = tmp_path_factory.mktemp("gcc")
    src = tmp / "p.c"
    src.write_text("#include <stdio.h>\n__thread int t[64];\nstatic int s(int x) { return x * 7; }\n"
                   "int f(int x) __attribute__((noinline));\nint f(int x) { return s(x) + t[x & 63]; }\n"
                   "int g(int x) __attribute__((alias(\"f\")));\n"
                   "int main(int c, char **v) { printf(\"%d\\n\", g(c)); return 0; }\n")
    out = []
    for flags in (["-O0"], ["-O2"], ["-O2", "-static"], ["-O1", "-m32"]):
        exe = tmp / ("p" + "".join(flags).replace("-", "_"))
        if subprocess.run(["gcc", *flags, "-o", str(exe), str(src)], capture_output=True).returncode == 0:
            out.append(str(exe))
    return out


def test_gcc_programs_unchanged(programs):
    assert programs
    for path in programs:
        assert_same(path)
        assert_same(path, split_std=True)


def test_a_shared_cache_changes_nothing():
    libs = rust_libraries()
    if not libs:
        pytest.skip("no rustup")
    cache = {}
    for path in libs[:2] + libs[:1]:
        assert_same(path, cache=cache)
    # split_std is part of the key: the same cache serves both.
    assert_same(libs[0], split_std=True, cache=cache)


# ---------------------------------------------------------------- made-up overlaps and ties

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")


def tricky_elf(seed):
    """An ELF64 with .text (0x1000, 0x400 bytes) and .data (0x2000, 0x100 bytes): symbols that
    overlap, alias (same address and size, names tie or not), start before or run past their
    section, lie wholly outside it, and repeat exactly."""
    rnd = random.Random(seed)
    names = ["_ZN5alpha3foo17h0123456789abcdefE", "_ZN4beta3bar17hfedcba9876543210E", "memcpy", "__rust_alloc",
             "_RNvCs1234_5gamma3baz", "_ZN3foo3barE", "_ZN5alpha3foo17h0123456789abcdefE.llvm.42",
             "_ZN65_$LT$alloc..string..String$u20$as$u20$core..fmt..Display$GT$3fmt17h0000000000000001E", "x"]
    strtab = bytearray(b"\0")
    offs = []
    for n in names:
        offs.append(len(strtab))
        strtab += n.encode() + b"\0"
    syms = [bytes(SYM.size)]
    for _ in range(300):
        sec = rnd.choice((1, 2))
        base, size = (0x1000, 0x400) if sec == 1 else (0x2000, 0x100)
        value = base + rnd.randrange(-0x40, size + 0x40)
        length = rnd.choice((1, 2, 4, 8, 16, 16, 64, 0x200, 0x1000))
        syms.append(SYM.pack(rnd.choice(offs), (1 << 4) | rnd.choice((1, 2)), 0, sec, value, length))
    syms += syms[1:20]  # exact repeats
    symtab = b"".join(syms)
    shstrtab = b"\0.text\0.data\0.symtab\0.strtab\0.shstrtab\0"
    body = bytearray(EHDR.size)
    offsets = []
    for blob in (bytes(0x400), bytes(0x100), symtab, bytes(strtab), shstrtab):
        body += bytes(-len(body) % 8)
        offsets.append(len(body))
        body += blob
    body += bytes(-len(body) % 8)
    shoff = len(body)
    body += SHDR.pack(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    body += SHDR.pack(1, 1, 0x6, 0x1000, offsets[0], 0x400, 0, 0, 16, 0)
    body += SHDR.pack(7, 1, 0x3, 0x2000, offsets[1], 0x100, 0, 0, 8, 0)
    body += SHDR.pack(13, 2, 0, 0, offsets[2], len(symtab), 4, 1, 8, SYM.size)
    body += SHDR.pack(21, 3, 0, 0, offsets[3], len(strtab), 0, 0, 1, 0)
    body += SHDR.pack(29, 3, 0, 0, offsets[4], len(shstrtab), 0, 0, 1, 0)
    body[:EHDR.size] = EHDR.pack(b"\x7fELF\x02\x01\x01".ljust(16, b"\0"), 3, 62, 1, 0, 0, shoff, 0, EHDR.size,
                                 0, 0, SHDR.size, 6, 5)
    return bytes(body)


@pytest.mark.parametrize("seed", range(20))
def test_overlaps_ties_and_clipping_unchanged(tmp_path, seed):
    path = tmp_path / "t.elf"
    path.write_bytes(tricky_elf(seed))
    assert_same(str(path))


# ---------------------------------------------------------------- the largest snapshot within the limits

MAKE = """
import os, sys
sys.path.insert(0, {tests!r})
from test_hostile_elf import elf64, rust_name
from test_hostile_results import cell, results, save
out, n, files, shared = {out!r}, {n}, {files}, {shared}
cells = []
for k in range(files):
    os.makedirs(f"{{out}}/build/c{{k}}", exist_ok=True)
    name = (lambda i: rust_name(i % shared)) if shared else (lambda i: rust_name(i + k * n))
    data, _ = elf64(n, name=name)
    with open(f"{{out}}/build/c{{k}}/app", "wb") as f:
        f.write(data)
    cells.append(cell(f"c{{k}}", path=f"out/build/c{{k}}/app"))
save(os.path.join(out, "results.json"), results(cells))
"""


def made(tmp_path, shared):
    """limits.SNAPSHOT_SYMBOLS symbols in files of limits.ELF_SYMBOLS each: with shared, every file
    names its symbols from the same `shared` names (as builds of one crate do); else every name differs."""
    n = limits.ELF_SYMBOLS.value
    files = limits.SNAPSHOT_SYMBOLS.value // n
    subprocess.run([sys.executable, "-c", MAKE.format(tests=os.path.dirname(__file__), out=str(tmp_path / "out"),
                                                      n=n, files=files, shared=shared)], check=True)
    return n, files


def pool_size(shared):
    """(strings, UTF-8 bytes with NULs) of a pool holding the first `shared` names and their demangled forms."""
    raw = [rust_name(i) for i in range(shared)]
    names = [r[len("_ZN5krate") + 2:-len("17h0123456789abcdefE")] for r in raw]
    return 2 * shared, sum(len(r) + len(m) + len("krate::") + 2 for r, m in zip(raw, names))


# As many distinct names as the string pool's byte limit allows, with a little room for the crate
# and section names: the pool at its limit, every file at the ELF limit, every symbol the snapshot may hold.
SHARED = 395_000


@pytest.mark.slow
def test_largest_snapshot_within_the_limits(tmp_path):
    strings, nbytes = pool_size(SHARED)
    assert strings <= limits.SNAPSHOT_STRINGS.value
    assert 0.95 * limits.SNAPSHOT_STRING_BYTES.value < nbytes <= limits.SNAPSHOT_STRING_BYTES.value - 64
    n, files = made(tmp_path, SHARED)
    run = run_sizekit("snapshot", "out", "-o", "s.zst", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert f"{files} artifacts, {files * n:,} symbols" in run.stderr, run.stderr
    print(f"snapshot of {files} x {n:,} symbols, {SHARED:,} names: {run.seconds:.2f} s CPU, {run.megabytes:.0f} MB")
    assert_bounded(run)
    # What sizekit writes, it reads back.
    back = run_sizekit("diff", "s.zst", "s.zst", cwd=tmp_path)
    assert back.status == 0, back.stderr
    assert_bounded(back)


SUPPORTED = """
import os, sys
sys.path.insert(0, {tests!r})
from test_hostile_elf import elf64, rust_name
from test_hostile_results import many, results, save
out = {out!r}
for k in range({files}):
    os.makedirs(f"{{out}}/build/a{{k}}", exist_ok=True)
    data, _ = elf64({n}, name=lambda i: rust_name((i * 7 + k * 1250) % 100_000))
    with open(f"{{out}}/build/a{{k}}/app", "wb") as f:
        f.write(data)
cells = many(350, 10)
for i, c in enumerate(cells):
    c["stages"][0]["path"] = f"out/build/a{{i % {files}}}/app"
save(os.path.join(out, "results.json"), results(cells))
"""


@pytest.mark.slow
def test_supported_size_snapshot(tmp_path):
    """Taking a snapshot from ELF files at the supported size: 7,000 cells and 40 builds of 50,000
    symbols (2M symbols) whose names are drawn from 100,000, as builds of related crates share
    them. Unlike reading a snapshot, taking one reads every ELF symbol table and demangles every
    new name; names are hashed, looked up and ordered from the string tables' bytes in the native
    module (sizekit.elf.strtab), so it is held to the same bound as every other command."""
    files, n = 40, 50_000
    subprocess.run([sys.executable, "-c", SUPPORTED.format(tests=os.path.dirname(__file__), out=str(tmp_path / "out"),
                                                           files=files, n=n)], check=True)
    run = run_sizekit("snapshot", "out", "-o", "s.zst", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert f"7000 cells, {files} artifacts, {files * n:,} symbols" in run.stderr, run.stderr
    print(f"snapshot, supported size: {run.seconds:.2f} s CPU, {run.megabytes:.0f} MB")
    assert_bounded(run, SUPPORTED_SECONDS, SUPPORTED_MB)


@pytest.mark.slow
def test_artifacts_past_the_pool_limits_are_skipped_in_bounded_time(tmp_path):
    """Every name distinct: one file's names and demangled names are more strings than a snapshot
    holds. Each file is skipped with its reason, no more names are demangled than a snapshot holds,
    and the snapshot written (no symbols) loads."""
    n, files = made(tmp_path, 0)
    run = run_sizekit("snapshot", "out", "-o", "s.zst", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert f"{files} cells, 0 artifacts, 0 symbols" in run.stderr, run.stderr
    assert run.stderr.count("new strings would take the snapshot past its limit of 1,000,000 strings") == 2
    assert run.stderr.count("not demangled: its 500,000 new names") == files - 2
    assert "out/build/c0/app: out/build" not in run.stderr   # the path is said once
    print(f"snapshot refusing {files} x {n:,} distinct symbols: {run.seconds:.2f} s CPU, {run.megabytes:.0f} MB")
    assert_bounded(run)
    back = run_sizekit("diff", "s.zst", "s.zst", cwd=tmp_path)
    assert back.status == 0, back.stderr
