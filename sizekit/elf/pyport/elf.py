"""The ELF header and section table (csrc/elf.c), bit for bit: sk_elf_info_read and
sk_elf_sections, from untrusted bytes."""
import struct

from .codes import (SK_ERR_BADCLASS, SK_ERR_BADDATA, SK_ERR_BADMAGIC, SK_ERR_EMPTY, SK_ERR_NAME,
                    SK_ERR_RANGE, SK_ERR_SHENTSIZE, SK_ERR_SHSTRNDX, SK_ERR_SHTABLE, SK_ERR_TOOMANY,
                    SK_ERR_TRUNCATED, SK_MAX_SECTIONS, SK_OK)
from .hash import hash64
from .internal import ELF_MAGIC, in_file


def _info_dict():
    return {"elfclass": 0, "endian": 0, "machine": 0, "type": 0, "shoff": 0, "shnum": 0,
            "shentsize": 0, "shstrndx": 0}


def _read_shdr(d, big, info, idx):
    b = info["shoff"] + idx * info["shentsize"]
    bo = ">" if big else "<"
    if info["elfclass"] == 64:
        (name, typ, flags, addr, offset, size, link, inf, align,
         entsize) = struct.unpack_from(bo + "IIQQQQIIQQ", d, b)
    else:
        (name, typ, flags, addr, offset, size, link, inf, align,
         entsize) = struct.unpack_from(bo + "IIIIIIIIII", d, b)
    return name, {"index": idx, "type": typ, "flags": flags, "addr": addr, "offset": offset,
                  "size": size, "link": link, "info": inf, "addralign": align,
                  "entsize": entsize, "name_off": 0, "name_len": 0, "hash": 0}


def elf_info_read(data):
    """sk_elf_info_read: returns (rc, info dict), fields filled up to the failure."""
    d = memoryview(data).cast("B")
    n = len(d)
    info = _info_dict()
    if n == 0:
        return SK_ERR_EMPTY, info
    if bytes(d[:4]) != ELF_MAGIC[:min(4, n)]:
        return SK_ERR_BADMAGIC, info
    if n < 16:
        return SK_ERR_TRUNCATED, info
    if d[4] not in (1, 2):
        return SK_ERR_BADCLASS, info
    info["elfclass"] = 32 if d[4] == 1 else 64
    if d[5] not in (1, 2):
        return SK_ERR_BADDATA, info
    info["endian"] = d[5]
    ehsize = 64 if info["elfclass"] == 64 else 52
    shdrsize = 64 if info["elfclass"] == 64 else 40
    if n < ehsize:
        return SK_ERR_TRUNCATED, info
    bo = ">" if d[5] == 2 else "<"
    info["type"], info["machine"] = struct.unpack_from(bo + "HH", d, 16)
    if info["elfclass"] == 64:
        shoff, = struct.unpack_from(bo + "Q", d, 40)
        entsize, shnum, shstrndx = struct.unpack_from(bo + "HHH", d, 58)
    else:
        shoff, = struct.unpack_from(bo + "I", d, 32)
        entsize, shnum, shstrndx = struct.unpack_from(bo + "HHH", d, 46)
    info["shoff"] = shoff
    info["shentsize"] = entsize
    if shoff == 0:
        return SK_OK, info
    if entsize < shdrsize:
        return SK_ERR_SHENTSIZE, info
    if not in_file(shoff, entsize, n):
        return SK_ERR_SHTABLE, info
    if shnum == 0 or shstrndx == 0xFFFF:
        _, s0 = _read_shdr(d, d[5] == 2, info, 0)
        if shnum == 0:
            shnum = s0["size"]
        if shstrndx == 0xFFFF:
            shstrndx = s0["link"]
    if shnum > SK_MAX_SECTIONS:
        info["shnum"] = min(shnum, 0xFFFFFFFF)
        return SK_ERR_TOOMANY, info
    info["shnum"] = shnum
    info["shstrndx"] = shstrndx
    if not in_file(shoff, shnum * entsize, n):
        return SK_ERR_SHTABLE, info
    if shstrndx != 0 and shstrndx >= shnum:
        return SK_ERR_SHSTRNDX, info
    return SK_OK, info


def _has_file_bytes(s):
    return s["type"] not in (0, 8) and s["size"] > 0


def elf_sections(data):
    """sk_elf_sections: returns (rc, count, sections, info)."""
    d = memoryview(data).cast("B")
    n = len(d)
    rc, info = elf_info_read(d)
    if rc != SK_OK:
        return rc, 0, [], info
    big = info["endian"] == 2
    str_off = str_size = 0
    if info["shstrndx"] != 0:
        _, st = _read_shdr(d, big, info, info["shstrndx"])
        if _has_file_bytes(st):
            if not in_file(st["offset"], st["size"], n):
                return SK_ERR_RANGE, info["shstrndx"], [], info
            str_off, str_size = st["offset"], st["size"]
    empty = hash64(b"")
    out: list = []
    for i in range(info["shnum"]):
        nm, s = _read_shdr(d, big, info, i)
        if info["shstrndx"] != 0 and not (nm == 0 and str_size == 0):
            if nm >= str_size:
                return SK_ERR_NAME, i, out, info
            start = str_off + nm
            end = bytes(d[start:str_off + str_size]).find(b"\0")
            if end < 0:
                return SK_ERR_NAME, i, out, info
            s["name_off"] = start
            s["name_len"] = end
        if _has_file_bytes(s):
            if not in_file(s["offset"], s["size"], n):
                return SK_ERR_RANGE, i, out, info
            s["hash"] = hash64(d[s["offset"]:s["offset"] + s["size"]])
        else:
            s["hash"] = empty
        out.append(s)
    return SK_OK, info["shnum"], out, info

