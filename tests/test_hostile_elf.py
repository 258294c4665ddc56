"""`sizekit sections`, `bloat` and `estimate` on hostile files: one line, exit 2, bounded.

Every input is made at test time (no binary blobs in git): a small ELF64 writer below makes
files with N sections or N symbols, and single fields are then patched to lie.
"""
import json
import os
import struct

import pytest

from bounded import assert_bounded, assert_refused, run_sizekit
from sizekit.utils import limits

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SYM = struct.Struct("<IBBHQQ")
TEXT, SYMTAB, STRTAB = 1, 2, 3   # section indexes elf64 gives them
STT_FUNC = 2


def rust_name(i, width=20):
    """A unique legacy-mangled Rust name, so the demangler does real work on each; the item
    name is padded to width characters."""
    item = f"function_number_{i}".ljust(width, "x")
    return f"_ZN5krate{len(item)}{item}17h{i:016x}E"


def elf64(nsyms=3, fillers=0, text_size=None, name=rust_name):
    """A minimal x86-64 ELF64 with .text, .symtab (nsyms one-byte FUNC symbols in .text), .strtab,
    .shstrtab and `fillers` empty sections after them; returns (bytearray, section header offset)."""
    text_size = nsyms if text_size is None else text_size
    if name is None:  # every symbol the same: quick to make, for files refused from their headers
        strtab = bytearray(b"\0f\0")
        symtab = bytes(SYM.size) + SYM.pack(1, (1 << 4) | STT_FUNC, 0, TEXT, 0x1000, 1) * nsyms
    else:
        strtab = bytearray(b"\0")
        syms = [bytes(SYM.size)]
        for i in range(nsyms):
            syms.append(SYM.pack(len(strtab), (1 << 4) | STT_FUNC, 0, TEXT, 0x1000 + i % max(text_size, 1), 1))
            strtab += name(i).encode() + b"\0"
        symtab = b"".join(syms)
    shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0"
    body = bytearray(EHDR.size)
    offsets = []
    for blob in (bytes(text_size), symtab, bytes(strtab), shstrtab):
        body += bytes(-len(body) % 8)
        offsets.append(len(body))
        body += blob
    body += bytes(-len(body) % 8)
    shoff = len(body)
    total = 5 + fillers
    body += SHDR.pack(0, 0, 0, 0, 0, total if total >= 0xFF00 else 0, 0, 0, 0, 0)
    body += SHDR.pack(1, 1, 0x6, 0x1000, offsets[0], text_size, 0, 0, 16, 0)
    body += SHDR.pack(7, 2, 0, 0, offsets[1], len(symtab), STRTAB, 1, 8, SYM.size)
    body += SHDR.pack(15, 3, 0, 0, offsets[2], len(strtab), 0, 0, 1, 0)
    body += SHDR.pack(23, 3, 0, 0, offsets[3], len(shstrtab), 0, 0, 1, 0)
    body += bytes(SHDR.size * fillers)
    ident = b"\x7fELF\x02\x01\x01".ljust(16, b"\0")
    body[:EHDR.size] = EHDR.pack(ident, 2, 62, 1, 0x1000, 0, shoff, 0, EHDR.size, 0, 0, SHDR.size,
                                 total if total < 0xFF00 else 0, 4)
    return body, shoff


def set_field(data, shoff, index, field, value):
    """Overwrite one field (offset or size) of section `index`'s header."""
    struct.pack_into("<Q", data, shoff + index * SHDR.size + {"offset": 24, "size": 32}[field], value)


def write(tmp_path, data, name="x.elf"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def exe64(body, loads=1):
    """An x86-64 program whose `loads` PT_LOADs each span all of body (after its headers),
    executable: the UPX estimate reads every byte of it, the code through its branch filter too."""
    body = bytearray(body)
    body[:64] = EHDR.pack(b"\x7fELF\x02\x01\x01".ljust(16, b"\0"), 2, 62, 1, 0x401000, 64, 0, 0, 64, 56,
                          loads, 64, 0, 0)
    for k in range(loads):
        struct.pack_into("<IIQQQQQQ", body, 64 + 56 * k, 1, 5, 0, 0x400000, 0x400000, len(body), len(body), 4096)
    body[-256:] = bytes(256)  # no "UPX!" at the end by chance
    return body


COMMANDS = ("sections", "bloat", "estimate")
SPECIAL = "not a regular file; save the contents to a file and pass that"
CHECK = "check that this is the right file"


def one_line(run, text):
    """Refused within bounds, stderr exactly `sizekit: text`."""
    assert_refused(run)
    assert run.stderr == f"sizekit: {text}\n"


# -- files that are not regular files: refused from their type, before any open that could block

@pytest.mark.parametrize("command", COMMANDS)
def test_fifo(tmp_path, command):
    os.mkfifo(tmp_path / "pipe")
    one_line(run_sizekit(command, "pipe", cwd=tmp_path), f"pipe: is a named pipe (FIFO), {SPECIAL}")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("command", COMMANDS)
def test_device(tmp_path, command, device):
    one_line(run_sizekit(command, device, cwd=tmp_path), f"{device}: is a character device, {SPECIAL}")


@pytest.mark.parametrize("command", COMMANDS)
def test_folder_missing_and_empty(tmp_path, command):
    os.mkdir(tmp_path / "d")
    one_line(run_sizekit(command, "d", cwd=tmp_path), "d: is a directory")
    one_line(run_sizekit(command, "nope", cwd=tmp_path), "nope: no such file")
    if command != "estimate":
        write(tmp_path, b"", "empty")
        one_line(run_sizekit(command, "empty", cwd=tmp_path), "empty: empty file")


def test_empty_and_truncated_programs_for_estimate(tmp_path):
    """UPX refuses these: exit 1 with its reason on stdout, as for any file it would not pack."""
    for name, data in (("empty", b""), ("cut", open("/bin/true", "rb").read()[:100])):
        path = write(tmp_path, data, name)
        os.chmod(path, 0o755)
        run = run_sizekit("estimate", name, cwd=tmp_path)
        assert run.status == 1 and run.stderr == "" and "UPX cannot pack this" in run.stdout, run
        assert_bounded(run)


@pytest.mark.parametrize("command", ["sections", "bloat"])
def test_truncated_elf(tmp_path, command):
    data, shoff = elf64(3)
    write(tmp_path, data[:100])
    detail = f" (e_shoff {shoff} + 5 x 64 bytes > 100 bytes); the file is truncated or its header lies"
    one_line(run_sizekit(command, "x.elf", cwd=tmp_path),
             "x.elf: section header table past end of file" + (detail if command == "bloat" else ""))


# -- counts in the headers: checked before what they count is read

@pytest.mark.parametrize("command", ["sections", "bloat"])
def test_sections_over_the_limit(tmp_path, command):
    n = limits.ELF_SECTIONS.value + 1
    write(tmp_path, elf64(fillers=n - 5)[0])
    one_line(run_sizekit(command, "x.elf", cwd=tmp_path),
             f"x.elf: {n:,} sections, over the limit of 65,536 for an ELF file; {CHECK}")


@pytest.mark.parametrize("command", ["sections", "bloat"])
def test_most_sections_within_the_limit(tmp_path, command):
    write(tmp_path, elf64(fillers=limits.ELF_SECTIONS.value - 5)[0])
    run = run_sizekit(command, "x.elf", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert_bounded(run)


def test_a_million_sections(tmp_path):
    write(tmp_path, elf64(fillers=1_000_000)[0])
    one_line(run_sizekit("bloat", "x.elf", cwd=tmp_path),
             f"x.elf: 1,000,005 sections, over the limit of 65,536 for an ELF file; {CHECK}")
    one_line(run_sizekit("sections", "x.elf", cwd=tmp_path),
             f"x.elf: 1,000,005 sections, over the limit of 65,536 for an ELF file; {CHECK}")


@pytest.mark.parametrize("n", [limits.ELF_SYMBOLS.value + 1, 2_000_000])
def test_symbols_over_the_limit(tmp_path, n):
    write(tmp_path, elf64(n, text_size=16, name=None)[0])
    one_line(run_sizekit("bloat", "x.elf", cwd=tmp_path),
             f"x.elf: {n:,} symbols in .symtab, over the limit of 500,000 for an ELF file; {CHECK}")


def test_most_symbols_with_the_longest_names_within_the_limits(tmp_path):
    """The worst bloat within the limits: every symbol a distinct Rust name, .strtab all but full."""
    n = limits.ELF_SYMBOLS.value
    width = (limits.ELF_STRTAB_BYTES.value // n) - len(rust_name(n, 0)) - 1
    data, _ = elf64(n, name=lambda i: rust_name(i, width))
    write(tmp_path, data)
    run = run_sizekit("bloat", "--functions", "x.elf", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert f"x.elf: {n:,} bytes in 1 sections" in run.stdout
    print(f"bloat of {n:,} symbols: {run.seconds:.1f} s, {run.megabytes:.0f} MB")
    assert_bounded(run)


def test_strtab_over_the_limit(tmp_path):
    limit = limits.ELF_STRTAB_BYTES.value
    data, shoff = elf64(3)
    data += bytes(limit + 1)
    set_field(data, shoff, STRTAB, "offset", len(data) - limit - 1)
    set_field(data, shoff, STRTAB, "size", limit + 1)
    write(tmp_path, data)
    one_line(run_sizekit("bloat", "x.elf", cwd=tmp_path), f"x.elf: {limit + 1:,} bytes of symbol names (.strtab), "
                                                          f"over the limit of 32 MiB for an ELF file; {CHECK}")


# -- sizes that lie: nothing past the end of the file is believed

LIES = [  # (section, field, value)
    (STRTAB, "size", 1 << 40),
    (TEXT, "size", 1 << 62),
    (TEXT, "offset", 1 << 20),
]


@pytest.mark.parametrize("index,field,value", LIES)
def test_section_past_the_end(tmp_path, index, field, value):
    data, shoff = elf64(3)
    set_field(data, shoff, index, field, value)
    write(tmp_path, data)
    name = {TEXT: ".text", STRTAB: ".strtab"}[index]
    off, size = struct.unpack_from("<QQ", data, shoff + index * SHDR.size + 24)
    one_line(run_sizekit("sections", "x.elf", cwd=tmp_path), f"x.elf: section {index} data past end of file")
    one_line(run_sizekit("bloat", "x.elf", cwd=tmp_path),
             f"x.elf: section {index} ({name}) data past end of file (offset {off:,} + size {size:,} > "
             f"{len(data):,} bytes); the file is truncated or its section headers lie")


def test_symbol_larger_than_the_file(tmp_path):
    data, shoff = elf64(3)
    symtab = struct.unpack_from("<Q", data, shoff + SYMTAB * SHDR.size + 24)[0]
    struct.pack_into("<Q", data, symtab + 2 * SYM.size + 16, 1 << 62)
    write(tmp_path, data)
    one_line(run_sizekit("bloat", "x.elf", cwd=tmp_path),
             f"x.elf: symbol '{rust_name(1)}' in section 1 (.text) claims 4,611,686,018,427,387,904 bytes, "
             f"more than the file's {len(data):,}; its symbol table lies")


def test_symbol_past_its_section_is_clipped(tmp_path):
    data, shoff = elf64(3)
    symtab = struct.unpack_from("<Q", data, shoff + SYMTAB * SHDR.size + 24)[0]
    struct.pack_into("<Q", data, symtab + 3 * SYM.size + 16, 100)  # the last of 3 bytes claims 100
    write(tmp_path, data)
    run = run_sizekit("bloat", "--json", "x.elf", cwd=tmp_path)
    assert run.status == 0 and '"total": 3' in run.stdout and '"krate": 3' in run.stdout, run


# -- estimate: the model reads every byte, so the file size bounds its time

def test_sparse_gigabyte_tail(tmp_path):
    path = write(tmp_path, open("/bin/true", "rb").read())
    os.truncate(path, 1 << 30)
    os.chmod(path, 0o755)
    one_line(run_sizekit("sections", "x.elf", cwd=tmp_path),
             f"x.elf: is larger than 256 MiB, the limit for an ELF file; {CHECK}")
    one_line(run_sizekit("estimate", "x.elf", cwd=tmp_path),
             "x.elf: 1,073,741,824 bytes, over the limit of 8 MiB for `sizekit estimate` (the model reads every "
             "byte, up to 0.7 s a MiB); pass --max-bytes 1024MiB to estimate it anyway")


def test_max_bytes_raises_the_estimate_limit_for_a_trusted_file(tmp_path):
    path = write(tmp_path, open("/bin/true", "rb").read())
    os.chmod(path, 0o755)
    small = os.path.getsize(path) - 1
    run = run_sizekit("estimate", "x.elf", "--max-bytes", str(small), cwd=tmp_path)
    assert run.status == 2 and "pass --max-bytes 1MiB to estimate it anyway" in run.stderr, run
    run = run_sizekit("estimate", "x.elf", "--max-bytes", "1MiB", "--json", cwd=tmp_path)
    assert run.status in (0, 1) and json.loads(run.stdout)["bytes"] == small + 1, run
    one_line(run_sizekit("estimate", "x.elf", "--max-bytes", "lots", cwd=tmp_path),
             "--max-bytes: expected a size such as 1MiB or 800KB, got 'lots'")


@pytest.mark.parametrize("level", ["best", "lzma"])
def test_largest_estimate_within_the_limit(tmp_path, level):
    """Random code as large as the limit allows: the slowest input for the model (two parses)."""
    path = write(tmp_path, exe64(os.urandom(limits.ESTIMATE_BYTES.value - 4096)))
    os.chmod(path, 0o755)
    run = run_sizekit("estimate", "--upx", level, "x.elf", cwd=tmp_path)
    assert run.status == 1 and "not compressible enough" in run.stdout, run
    print(f"estimate --upx {level} of {limits.ESTIMATE_BYTES.value:,} bytes: {run.seconds:.1f} s, "
          f"{run.megabytes:.0f} MB")
    assert_bounded(run)


def test_overlapping_segments(tmp_path):
    """64 PT_LOADs over the same bytes would make the estimate read the file 64 times."""
    path = write(tmp_path, exe64(os.urandom(1 << 20), loads=64))
    os.chmod(path, 0o755)
    one_line(run_sizekit("estimate", "x.elf", cwd=tmp_path),
             f"x.elf: PT_LOAD segments overlap: the UPX estimate would read 67,108,864 bytes of a 1,048,576-byte "
             f"file; {CHECK}")
