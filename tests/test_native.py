"""sizekit.native on both backends: known answers, C == Python, ELF edge cases, errors."""
import os
import struct
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import skip_no_package
from sizekit.elf import engine
from sizekit.elf import pyport
from sizekit.elf.backends import CBackend
from sizekit.utils.errors import ElfError, UsageError

# The C module is part of the product: if it did not build, these tests fail (no skip).
from sizekit.elf import _native as _cmod  # noqa: E402

C = CBackend(_cmod)
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(params=["c", "python"])
def backend(request):
    engine.set_backend(request.param)
    assert engine.BACKEND == request.param
    yield request.param
    engine.set_backend("c")


# ---------------------------------------------------------------------------------------
# ELF builders

def build_elf(cls=64, endian="<", machine=62, sections=(), shstrndx=None, shoff=None,
              shnum=None, shentsize=None, etype=2):
    """A minimal ELF: header, section bytes, .shstrtab, section header table.

    `sections` holds (name, sh_type, sh_flags, data); for NOBITS, data is the size (int).
    """
    ehsize, shsize = (64, 64) if cls == 64 else (52, 40)
    names = b"\0"
    entries = [(0, 0, 0, 0, 0, 0)]  # name, type, flags, addr, offset, size
    body = bytearray(b"\0" * ehsize)
    all_secs = list(sections) + [(".shstrtab", 3, 0, None)]
    name_offs = []
    for name, _, _, _ in all_secs:
        name_offs.append(len(names))
        names += name.encode() + b"\0"
    for (name, typ, flags, data), noff in zip(all_secs, name_offs):
        if data is None:
            data = names
        if isinstance(data, int):
            entries.append((noff, typ, flags, 0x1000, len(body), data))
            continue
        while len(body) % 8:
            body.append(0)
        entries.append((noff, typ, flags, 0x1000 + len(body) if flags & 2 else 0, len(body),
                        len(data)))
        body += data
    while len(body) % 8:
        body.append(0)
    table_off = len(body)
    for noff, typ, flags, addr, off, size in entries:
        if cls == 64:
            body += struct.pack(endian + "IIQQQQIIQQ", noff, typ, flags, addr, off, size,
                                0, 0, 1, 0)
        else:
            body += struct.pack(endian + "IIIIIIIIII", noff, typ, flags, addr, off, size,
                                0, 0, 1, 0)
    ident = b"\x7fELF" + bytes([1 if cls == 32 else 2, 1 if endian == "<" else 2, 1])
    ident = ident.ljust(16, b"\0")
    n = len(entries) if shnum is None else shnum
    idx = len(entries) - 1 if shstrndx is None else shstrndx
    so = table_off if shoff is None else shoff
    es = shsize if shentsize is None else shentsize
    if cls == 64:
        hdr = ident + struct.pack(endian + "HHIQQQIHHHHHH", etype, machine, 1, 0, 0, so, 0,
                                  ehsize, 0, 0, es, n, idx)
    else:
        hdr = ident + struct.pack(endian + "HHIIIIIHHHHHH", etype, machine, 1, 0, 0, so, 0,
                                  ehsize, 0, 0, es, n, idx)
    body[:ehsize] = hdr
    return bytes(body)


SAMPLE_SECTIONS = [(".text", 1, 6, bytes(range(200)) * 3), (".data", 1, 3, b"hello\0" * 9),
                   (".bss", 8, 3, 4096), (".comment", 1, 0, b"GCC: test\0")]


@pytest.fixture(scope="session")
def hello(tmp_path_factory):
    """A gcc-built executable (not stripped) and a 32-bit object file if gcc -m32 works."""
    d = tmp_path_factory.mktemp("gcc")
    src = d / "hello.c"
    # no #include: gcc -m32 works without 32-bit libc headers
    src.write_text('int puts(const char *);\nstatic const char msg[] = "hello";\n'
                   'int counter;\nint main(void) { puts(msg); return counter; }\n')
    exe = d / "hello"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(src)], check=True)
    obj32 = d / "hello32.o"
    r = subprocess.run(["gcc", "-m32", "-c", "-o", str(obj32), str(src)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"exe": str(exe), "obj32": str(obj32) if r.returncode == 0 else None}


def pyelftools_sections(path):
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        e = ELFFile(f)
        return [(s.name, s["sh_type"], s["sh_offset"], s["sh_size"]) for s in e.iter_sections()]


# ---------------------------------------------------------------------------------------
# hash

KNOWN = [(b"", "8407e1a669c807f6"), (b"a", "bd380baae0641787"), (b"abc", "9dad1b97e11ea92b"),
         (bytes(range(256)), "333acde1d7f7ee02"), (b"sizekit" * 1000, "b546ec075aec5567"),
         (bytes(64), "ded79f004ee9f549"), (bytes(65), "9e3d0df681935312")]


@pytest.mark.parametrize("data,want", KNOWN)
def test_hash_known_answers(backend, data, want):
    assert engine.hash_hex(engine.hash_bytes(data)) == want


def test_hash_seed_known_answer():
    assert pyport.hash64(b"abc", 1) == 0xB89A60372A8BAADB
    assert _cmod.lib.sk_hash64(b"abc", 3, 1) == 0xB89A60372A8BAADB


def test_hash_accepts_buffers(backend):
    data = bytes(range(100)) * 7
    h = engine.hash_bytes(data)
    assert engine.hash_bytes(bytearray(data)) == h
    assert engine.hash_bytes(memoryview(data)) == h
    assert engine.hash_bytes(memoryview(data * 2)[:len(data)]) == h
    assert 0 <= h < 2**64
    with pytest.raises(TypeError):
        engine.hash_bytes("text")


def test_hash_hex_is_16_digits():
    assert engine.hash_hex(0) == "0000000000000000"
    assert engine.hash_hex(2**64 - 1) == "ffffffffffffffff"
    assert engine.hash_hex(0xABC) == "0000000000000abc"


def test_hash_sensitive_to_order_and_length(backend):
    a, b = os.urandom(64), os.urandom(64)
    assert engine.hash_bytes(a + b) != engine.hash_bytes(b + a)
    assert engine.hash_bytes(b"ab") != engine.hash_bytes(b"ab\0")
    assert engine.hash_bytes(bytes(16)) != engine.hash_bytes(bytes(17))


def test_hash_file(backend, tmp_path):
    p = tmp_path / "f.bin"
    data = os.urandom(100_003)
    p.write_bytes(data)
    assert engine.hash_file(p) == engine.hash_bytes(data)
    e = tmp_path / "empty"
    e.write_bytes(b"")
    assert engine.hash_file(e) == engine.hash_bytes(b"")
    with pytest.raises(UsageError) as ei:
        engine.hash_file(tmp_path)
    assert str(ei.value) == f"{tmp_path}: is a directory"
    with pytest.raises(UsageError) as ei:
        engine.hash_file(tmp_path / "missing")
    assert str(ei.value) == f"{tmp_path / 'missing'}: no such file"


@FAST
@given(st.binary(max_size=600), st.integers(0, 2**64 - 1))
def test_hash_c_equals_python(data, seed):
    assert _cmod.lib.sk_hash64(data, len(data), seed) == pyport.hash64(data, seed)


def test_hash_c_equals_python_every_tail_length():
    base = os.urandom(300)
    for n in range(len(base)):
        assert C.hash64(base[:n]) == pyport.hash64(base[:n])


def test_hash_c_equals_python_real_file():
    with open("/bin/ls", "rb") as f:
        data = f.read()
    assert C.hash64(data) == pyport.hash64(data)


# ---------------------------------------------------------------------------------------
# sections: real files

@pytest.mark.parametrize("which", ["/bin/ls", "exe", "obj32"])
def test_sections_match_pyelftools(backend, hello, which):
    path = hello.get(which, which)
    if path is None:
        skip_no_package("gcc-multilib", "gcc -m32 -c failed; apt-get install gcc-multilib")
    info = engine.read_sections(path)
    want = pyelftools_sections(path)
    assert [(s.name, s.offset, s.size) for s in info.sections] == [
        (n, o, z) for n, _, o, z in want]
    for s, (_, typ, _, _) in zip(info.sections, want):
        if s.type < 0x70000000:
            assert "SHT_" + s.type_name == typ
    with open(path, "rb") as f:
        data = f.read()
    for s in info.sections:
        if s.type not in (0, 8) and s.size:
            assert s.hash == engine.hash_bytes(data[s.offset:s.offset + s.size])
        else:
            assert s.hash == engine.hash_bytes(b"")
    assert info.endian == "little"
    if which == "obj32":
        assert (info.elfclass, info.machine) == (32, 3)
    else:
        assert (info.elfclass, info.machine) == (64, 62)


def test_section_fields(backend, hello):
    info = engine.read_sections(hello["exe"])
    text = info.get_section(".text")
    assert text is not None and text.type_name == "PROGBITS" and text.alloc
    assert text.flags & 0x4  # SHF_EXECINSTR
    bss = info.get_section(".bss")
    assert bss.type_name == "NOBITS" and bss.hash == engine.hash_bytes(b"")
    assert info.get_section(".nope") is None
    assert info.sections[0].index == 0 and info.sections[0].name == ""
    assert [s.index for s in info.sections] == list(range(len(info.sections)))


@pytest.mark.parametrize("cls", [32, 64])
@pytest.mark.parametrize("endian", ["<", ">"])
def test_crafted_elf_all_classes_and_byte_orders(backend, tmp_path, cls, endian):
    data = build_elf(cls, endian, machine=20, sections=SAMPLE_SECTIONS)
    p = tmp_path / "crafted"
    p.write_bytes(data)
    info = engine.read_sections(p)
    assert info.elfclass == cls and info.machine == 20
    assert info.endian == ("little" if endian == "<" else "big")
    names = [s.name for s in info.sections]
    assert names == ["", ".text", ".data", ".bss", ".comment", ".shstrtab"]
    assert [(s.name, s.offset, s.size) for s in info.sections] == \
        [(n, o, s) for n, _, o, s in pyelftools_sections(str(p))]
    text = info.get_section(".text")
    assert text.hash == engine.hash_bytes(SAMPLE_SECTIONS[0][3])
    assert info.get_section(".bss").size == 4096
    assert info.get_section(".bss").type_name == "NOBITS"


def test_no_section_table_is_an_empty_list(backend):
    data = build_elf(64, "<", sections=SAMPLE_SECTIONS, shoff=0)
    info = engine.parse_sections(data)
    assert info.sections == [] and info.elfclass == 64


def test_extended_section_numbering(backend):
    """e_shnum = 0 and e_shstrndx = SHN_XINDEX: the real values sit in section 0."""
    data = bytearray(build_elf(64, "<", sections=SAMPLE_SECTIONS, shnum=0, shstrndx=0xFFFF))
    shoff, = struct.unpack_from("<Q", data, 40)
    struct.pack_into("<Q", data, shoff + 32, 6)   # section 0 sh_size = count
    struct.pack_into("<I", data, shoff + 40, 5)   # section 0 sh_link = name table index
    info = engine.parse_sections(bytes(data))
    assert [s.name for s in info.sections][-1] == ".shstrtab"
    assert len(info.sections) == 6


# ---------------------------------------------------------------------------------------
# sections: bad input, each with its message

def _reason(data, path="bad.elf"):
    with pytest.raises(ElfError) as ei:
        engine.parse_sections(data, path)
    assert ei.value.path == path
    assert str(ei.value) == f"{path}: {ei.value.reason}"
    return ei.value.reason


def test_bad_inputs(backend):
    good = build_elf(64, "<", sections=SAMPLE_SECTIONS)
    shoff, = struct.unpack_from("<Q", good, 40)
    assert _reason(b"") == "empty file"
    assert _reason(good[:12]) == "truncated ELF header (12 bytes)"
    assert _reason(good[:40]) == "truncated ELF header (40 bytes)"
    assert _reason(b"\x7fEL") == "truncated ELF header (3 bytes)"
    assert _reason(b"MZ\x90\x00" + bytes(100)) == "not an ELF file (bad magic)"
    assert _reason(b"#!/bin/sh\n") == "not an ELF file (bad magic)"
    assert _reason(good[:4] + b"\x03" + good[5:]) == "bad ELF class (EI_CLASS is not 1 or 2)"
    assert _reason(good[:5] + b"\x00" + good[6:]) == \
        "bad ELF data encoding (EI_DATA is not 1 or 2)"
    # section header table past the end of the file
    assert _reason(good[:shoff + 10]) == "section header table past end of file"
    assert _reason(build_elf(64, "<", sections=SAMPLE_SECTIONS, shoff=2**64 - 8)) == \
        "section header table past end of file"
    assert _reason(build_elf(64, "<", sections=SAMPLE_SECTIONS, shnum=65535)) == \
        "section header table past end of file"
    assert _reason(build_elf(64, "<", sections=SAMPLE_SECTIONS, shentsize=10)) == \
        "section header entry size 10 too small"
    assert _reason(build_elf(32, ">", sections=SAMPLE_SECTIONS, shstrndx=99)) == \
        "section name table index 99 out of range"


def test_huge_extended_count(backend):
    data = bytearray(build_elf(64, "<", sections=SAMPLE_SECTIONS, shnum=0))
    shoff, = struct.unpack_from("<Q", data, 40)
    struct.pack_into("<Q", data, shoff + 32, 2**63)
    assert _reason(bytes(data)) == "too many sections (4294967295)"
    struct.pack_into("<Q", data, shoff + 32, 70000)
    assert _reason(bytes(data)) == "section header table past end of file"


def test_lying_section_headers(backend):
    data = bytearray(build_elf(64, "<", sections=SAMPLE_SECTIONS))
    shoff, = struct.unpack_from("<Q", data, 40)
    ent = shoff + 2 * 64  # .data
    bad = bytearray(data)
    struct.pack_into("<Q", bad, ent + 24, len(data) + 1)  # sh_offset past EOF
    assert _reason(bytes(bad)) == "section 2 data past end of file"
    bad = bytearray(data)
    struct.pack_into("<Q", bad, ent + 32, 2**64 - 1)  # offset + size overflows
    assert _reason(bytes(bad)) == "section 2 data past end of file"
    bad = bytearray(data)
    struct.pack_into("<I", bad, ent, 10_000)  # sh_name outside the name table
    assert _reason(bytes(bad)) == \
        "section 2 name is not a NUL-terminated string in the name table"
    # name table whose last string has no NUL
    strtab = shoff + 5 * 64
    off, size = struct.unpack_from("<QQ", data, strtab + 24)
    bad = bytearray(data)
    struct.pack_into("<Q", bad, strtab + 32, size - 1)
    assert _reason(bytes(bad)) == \
        "section 5 name is not a NUL-terminated string in the name table"
    # the name table itself past EOF
    bad = bytearray(data)
    struct.pack_into("<Q", bad, strtab + 24, 2**40)
    assert _reason(bytes(bad)) == "section 5 data past end of file"
    # a NOBITS section may point anywhere
    bss = shoff + 3 * 64
    ok = bytearray(data)
    struct.pack_into("<QQ", ok, bss + 24, 2**60, 2**60)
    assert engine.parse_sections(bytes(ok)).get_section(".bss").size == 2**60


def test_read_sections_path_errors(backend, tmp_path):
    with pytest.raises(ElfError) as ei:
        engine.read_sections(tmp_path)
    assert ei.value.reason == "is a directory" and ei.value.path == str(tmp_path)
    with pytest.raises(ElfError) as ei:
        engine.read_sections(tmp_path / "nope")
    assert ei.value.reason == "no such file"
    e = tmp_path / "empty"
    e.write_bytes(b"")
    with pytest.raises(ElfError) as ei:
        engine.read_sections(e)
    assert str(ei.value) == f"{e}: empty file"
    t = tmp_path / "text"
    t.write_text("hello\n")
    with pytest.raises(ElfError) as ei:
        engine.read_sections(t)
    assert str(ei.value) == f"{t}: not an ELF file (bad magic)"


# ---------------------------------------------------------------------------------------
# sections: C == Python on random, mutated and truncated input

def _both_sections(data):
    rc_c, cnt_c, secs_c, _ = C.elf_sections(data)
    rc_p, cnt_p, secs_p, _ = pyport.elf_sections(data)
    assert (rc_c, cnt_c) == (rc_p, cnt_p)
    if rc_c == 0:
        assert secs_c == secs_p
        for s in secs_c:
            if s["type"] not in (0, 8) and s["size"]:
                assert s["offset"] + s["size"] <= len(data)
            assert s["name_off"] + s["name_len"] <= len(data)
    return rc_c


def test_sections_c_equals_python_real(hello):
    for p in ["/bin/ls", hello["exe"]] + ([hello["obj32"]] if hello["obj32"] else []):
        with open(p, "rb") as f:
            assert _both_sections(f.read()) == 0


@FAST
@given(st.binary(max_size=400))
def test_sections_c_equals_python_random(data):
    _both_sections(data)
    _both_sections(b"\x7fELF" + data)
    _both_sections(b"\x7fELF\x02\x01\x01" + data)


def _mutation_targets(data, cls):
    """Offsets worth mutating: the ELF header and the section header table."""
    if cls == 64:
        shoff, = struct.unpack_from("<Q", data, 40)
        shnum, = struct.unpack_from("<H", data, 60)
        ent = 64
    else:
        shoff, = struct.unpack_from("<I", data, 32)
        shnum, = struct.unpack_from("<H", data, 48)
        ent = 40
    return list(range(64)) + list(range(shoff, min(len(data), shoff + shnum * ent)))


@pytest.fixture(scope="session")
def mutation_bases(hello):
    bases = [build_elf(64, "<", sections=SAMPLE_SECTIONS),
             build_elf(32, ">", sections=SAMPLE_SECTIONS)]
    with open(hello["exe"], "rb") as f:
        bases.append(f.read())
    return [(b, _mutation_targets(b, 64 if b[4] == 2 else 32)) for b in bases]


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_sections_c_equals_python_mutated(mutation_bases, data):
    base, targets = data.draw(st.sampled_from(mutation_bases))
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 6))):
        off = data.draw(st.sampled_from(targets))
        buf[off] = data.draw(st.sampled_from([0, 1, 2, 0x7F, 0x80, 0xFF,
                                              data.draw(st.integers(0, 255))]))
    _both_sections(bytes(buf))


def test_sections_c_equals_python_truncated(hello):
    with open(hello["exe"], "rb") as f:
        exe = f.read()
    crafted = build_elf(64, "<", sections=SAMPLE_SECTIONS)
    for base in (exe, crafted):
        for n in range(min(len(base), 4096) + 1):
            rc = _both_sections(base[:n])
            assert rc != 0 or n == len(base)


def test_truncations_raise(backend, hello):
    with open(hello["exe"], "rb") as f:
        exe = f.read()
    for n in (0, 1, 4, 15, 16, 63):
        with pytest.raises(ElfError):
            engine.parse_sections(exe[:n])
    for n in range(64, 4097, 97):
        assert _reason(exe[:n]) == "section header table past end of file"


# ---------------------------------------------------------------------------------------
# estimate

def test_estimate_levels_and_errors(backend, hello):
    with open(hello["exe"], "rb") as f:
        data = f.read()
    best = engine.estimate_packed(data, "best")
    lzma = engine.estimate_packed(data, "lzma")
    assert 0 < best < len(data) + 10_000 and 0 < lzma < len(data) + 10_000
    assert engine.estimate_file(hello["exe"]) == best
    assert engine.estimate_file(hello["exe"], "lzma") == lzma
    assert engine.estimate_packed(b"") == 0
    with pytest.raises(UsageError) as ei:
        engine.estimate_packed(data, "ultra")
    assert str(ei.value) == "unknown UPX level 'ultra'; expected one of best, lzma"
    with pytest.raises(UsageError):
        engine.estimate_file(os.path.dirname(hello["exe"]))


def test_estimate_tracks_compressibility(backend):
    rnd = os.urandom(60_000)
    zeros = bytes(60_000)
    text = (b"the quick brown fox jumps over the lazy dog %d\n" * 1500)[:60_000]
    for level in ("best", "lzma"):
        r, z, t = (engine.estimate_packed(x, level) for x in (rnd, zeros, text))
        assert z < t < r
        assert r > 0.9 * 60_000  # incompressible data barely shrinks


KNOWN_ESTIMATES = {"best": 18_950, "lzma": 15_350}


@pytest.mark.parametrize("level", ["best", "lzma"])
def test_estimate_known_answer(backend, level):
    data = bytes((i * i * 7 + (i >> 6)) & 0xFF for i in range(40_000)) + bytes(range(256)) * 40
    assert engine.estimate_packed(data, level) == KNOWN_ESTIMATES[level]


@FAST
@given(st.binary(max_size=3000), st.sampled_from([1, 2]))
def test_estimate_c_equals_python_random(data, level):
    assert C.estimate_packed(data, level) == pyport.estimate_packed(data, level)


@FAST
@given(st.lists(st.sampled_from([b"\x00", b"ab", b"abcd", b"\xe8\x00\x00\x00\x00", b"xyz" * 9]),
                max_size=400), st.sampled_from([1, 2]))
def test_estimate_c_equals_python_repetitive(parts, level):
    data = b"".join(parts)
    assert C.estimate_packed(data, level) == pyport.estimate_packed(data, level)


def build_exec_elf(code, cls=64, machine=62, flags=5, phoff=None, phentsize=None, phnum=1,
                   filesz=None):
    """An ELF header, one PT_LOAD (PF_R|PF_X by default) from offset 0 over headers and code."""
    ehsize, phsize = (64, 56) if cls == 64 else (52, 32)
    off = ehsize + phsize
    fs = off + len(code) if filesz is None else filesz
    ident = (b"\x7fELF" + bytes([2 if cls == 64 else 1, 1, 1])).ljust(16, b"\0")
    po = ehsize if phoff is None else phoff
    pe = phsize if phentsize is None else phentsize
    if cls == 64:
        hdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x1000, po, 0, 0, ehsize,
                                  pe, phnum, 64, 0, 0)
        ph = struct.pack("<IIQQQQQQ", 1, flags, 0, 0x1000, 0x1000, fs, fs, 0x1000)
    else:
        hdr = ident + struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, 0x1000, po, 0, 0, ehsize,
                                  pe, phnum, 40, 0, 0)
        ph = struct.pack("<IIIIIIII", 1, 0, 0x1000, 0x1000, fs, fs, flags, 0x1000)
    return hdr + ph + code


def _calls(n, seed=1):
    """x86-like code: calls/jumps/jccs to a few targets from many places, some filler."""
    import random
    rnd = random.Random(seed)
    out = bytearray()
    targets = [rnd.randrange(0, 4 * n) for _ in range(7)]
    while len(out) < 8 * n:
        op = rnd.choice([b"\xe8", b"\xe9", b"\x0f\x84", b"\x48\x89\xc7", b"\x0f"])
        out += op
        if op[-1] in (0xE8, 0xE9, 0x84):
            out += struct.pack("<i", rnd.choice(targets) - len(out) - 4)
    return bytes(out)


@pytest.mark.parametrize("cls,machine", [(64, 62), (32, 3)])
def test_estimate_branch_filter(backend, cls, machine, tmp_path):
    code = _calls(3000)
    elf = build_exec_elf(code, cls, machine)
    buf = bytearray(elf)
    for level in ("best", "lzma"):
        pieces = engine.estimate_pieces(buf, level)
        assert bytes(buf) == elf  # the filter works on a copy
        seg = [p for p in pieces if p["kind"] == "segment"]
        assert len(seg) == 1 and seg[0]["filter"] == 1 and seg[0]["size"] == len(code)
        # the same bytes unfiltered cost more: the calls turn into repeats
        assert seg[0]["stream"] < 0.9 * engine.estimate_stream(code, level)
        # without PF_X UPX refuses the file, and the estimate is one plain piece
        noexec = build_exec_elf(code, cls, machine, flags=4)
        (tmp_path / "noexec").write_bytes(noexec)
        (tmp_path / "noexec").chmod(0o755)
        assert engine.estimate_outcome(tmp_path / "noexec")[1].startswith("no executable PT_LOAD")
        assert [p["kind"] for p in engine.estimate_pieces(noexec, level)] == ["segment"]


@pytest.mark.parametrize("level", [1, 2])
def test_estimate_filter_c_equals_python_edges(level):
    code = _calls(300, seed=3)
    cases = [build_exec_elf(code), build_exec_elf(code, 32, 3),
             build_exec_elf(code, filesz=1 << 40),          # segment runs past the file
             build_exec_elf(code, phoff=1 << 62),            # table past the file
             build_exec_elf(code, phentsize=8),              # entry too small
             build_exec_elf(code, phnum=65535),              # table runs off the end
             build_exec_elf(b"\xe8\x00\x00\x00"), build_exec_elf(b"\x0f\x85" * 40)]
    for elf in cases:
        for n in (len(elf), len(elf) - 3, 70):
            assert C.estimate_packed(elf[:n], level) == pyport.estimate_packed(elf[:n], level)


@FAST
@given(st.lists(st.sampled_from([b"\xe8", b"\xe9", b"\x0f", b"\x84", b"\x00", b"\xff",
                                 b"\x10\x00\x00\x00", b"\xf0\xff\xff\xff"]), max_size=600),
       st.sampled_from([(64, 62), (32, 3)]), st.sampled_from([1, 2]))
def test_estimate_filter_c_equals_python_random(parts, arch, level):
    elf = build_exec_elf(b"".join(parts), *arch)
    assert C.estimate_packed(elf, level) == pyport.estimate_packed(elf, level)


@pytest.mark.parametrize("level", [1, 2])
def test_estimate_c_equals_python_real(hello, level):
    for p in (hello["exe"], "/bin/ls"):
        with open(p, "rb") as f:
            data = f.read()
        assert C.estimate_packed(data, level) == pyport.estimate_packed(data, level)


# ---------------------------------------------------------------------------------------
# diff

def test_diff_sections(backend):
    a = engine.parse_sections(build_elf(64, "<", sections=SAMPLE_SECTIONS))
    changed = [(".text", 1, 6, bytes(range(200)) * 3),
               (".data", 1, 3, b"HELLO\0" * 9),       # same size, new bytes
               (".rodata", 1, 2, b"new" * 10)]        # new section
    b = engine.parse_sections(build_elf(64, "<", sections=changed))
    rows = engine.diff_sections(a, b)
    assert rows == [(".text", 600, 600, False), (".data", 54, 54, True),
                    (".bss", 4096, None, True), (".comment", 10, None, True),
                    (".shstrtab", 37, 31, True), (".rodata", None, 30, True)]


def test_backend_env_validation():
    old = os.environ.get("SIZEKIT_BACKEND")
    try:
        with pytest.raises(UsageError):
            engine.set_backend("fortran")
    finally:
        engine.set_backend("c")
        if old is not None:
            os.environ["SIZEKIT_BACKEND"] = old


def test_model_fingerprint_names_the_backend_and_its_files(tmp_path, monkeypatch):
    c = engine.model_fingerprint()
    assert c.startswith(engine.BACKEND + ":") and len(c.split(":")[1]) == 16
    # Any change to the refusal rules' file is a new model, so every cell re-measures.
    changed = tmp_path / "engine.py"
    with open(engine.__file__, "rb") as f:
        changed.write_bytes(f.read() + b"\n# one more line\n")
    with monkeypatch.context() as m:
        m.setattr(engine, "__file__", str(changed))
        assert engine.model_fingerprint() not in (c, None)
    engine.set_backend("python")
    try:
        p = engine.model_fingerprint()
    finally:
        engine.set_backend("c")
    assert p.startswith("python:") and p != c
