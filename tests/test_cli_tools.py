"""`sizekit sections` and `sizekit estimate` from the command line, on real and hostile files."""
import json
import os
import struct
import subprocess
import sys

import pytest

from test_native import SAMPLE_SECTIONS, build_elf


def sizekit(*args):
    return subprocess.run([sys.executable, "-m", "sizekit", *args], capture_output=True, text=True, timeout=60)


def test_sections_lists_names_offsets_sizes_hashes():
    proc = sizekit("sections", "/bin/true", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    text = [s for s in data["sections"] if s["name"] == ".text"][0]
    assert text["type"] == "PROGBITS" and text["size"] > 0 and len(text["hash"]) == 16
    human = sizekit("sections", "/bin/true").stdout
    assert ".text" in human and text["hash"] in human


def test_sections_diff_names_changed_sections(tmp_path):
    a = build_elf(64, "<", sections=SAMPLE_SECTIONS)
    changed = [(".text", 1, 6, bytes(range(200)) * 3 + b"more"), *SAMPLE_SECTIONS[1:]]
    b = build_elf(64, "<", sections=changed)
    (tmp_path / "a").write_bytes(a)
    (tmp_path / "b").write_bytes(b)
    proc = sizekit("sections", str(tmp_path / "a"), str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"1 of 5 sections differ between {tmp_path}/a and {tmp_path}/b"
    assert lines[2].split() == [".text", "600", "604", "+4"]
    data = json.loads(sizekit("sections", str(tmp_path / "a"), str(tmp_path / "b"), "--json").stdout)
    assert [s["name"] for s in data["sections"] if s["changed"]] == [".text"]


def test_estimate_text_and_json():
    proc = sizekit("estimate", "/bin/ls", "--json")
    data = json.loads(proc.stdout)
    assert data["bytes"] == os.path.getsize("/bin/ls")
    assert 0 < data["estimate_bytes"] < data["bytes"]
    lzma = json.loads(sizekit("estimate", "/bin/ls", "--upx", "lzma", "--json").stdout)
    assert lzma["estimate_bytes"] != data["estimate_bytes"]
    assert "upx --best estimate" in sizekit("estimate", "/bin/ls").stdout


def _lying(kind):
    data = bytearray(build_elf(64, "<", sections=SAMPLE_SECTIONS))
    shoff, = struct.unpack_from("<Q", data, 40)
    if kind == "offset":
        struct.pack_into("<Q", data, shoff + 2 * 64 + 24, len(data) + 1)
    elif kind == "shnum":
        struct.pack_into("<H", data, 60, 0xFFFF)
    elif kind == "shstrndx":
        struct.pack_into("<H", data, 62, 99)
    return bytes(data)


@pytest.mark.parametrize("name,content,message", [
    ("empty", b"", "empty file"),
    ("truncated", b"\x7fELF\x02\x01\x01" + b"\0" * 5, "truncated ELF header (12 bytes)"),
    ("text", b"#!/bin/sh\necho not an elf\n" * 4, "not an ELF file (bad magic)"),
    ("offset", _lying("offset"), "section 2 data past end of file"),
    ("shnum", _lying("shnum"), "section header table past end of file"),
    ("shstrndx", _lying("shstrndx"), "section name table index 99 out of range"),
])
def test_bad_files_exit_2_with_a_clear_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    proc = sizekit("sections", str(path))
    assert proc.returncode == 2
    assert proc.stderr == f"sizekit: {path}: {message}\n"


def test_directory_and_missing_file(tmp_path):
    proc = sizekit("sections", str(tmp_path))
    assert (proc.returncode, proc.stderr) == (2, f"sizekit: {tmp_path}: is a directory\n")
    proc = sizekit("estimate", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "nope: no such file" in proc.stderr
    proc = sizekit("sections", "a", "b", "c")
    assert (proc.returncode, proc.stderr) == (2, "sizekit: give one FILE, or two to compare\n")
