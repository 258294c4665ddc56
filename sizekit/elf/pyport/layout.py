"""The file as UPX 4.2.4 sees it (csrc/layout.c), bit for bit: its PT_LOADs, where a shared
library's code starts, and why UPX would refuse to pack it (sk_upx_check)."""
import struct

from .codes import (SK_OK, SK_UPX_FIRST_LOAD, SK_UPX_LOOKUP, SK_UPX_MACHINE, SK_UPX_NEED_INIT,
                    SK_UPX_NO_EXEC, SK_UPX_NO_XCT, SK_UPX_NOT_ELF, SK_UPX_OK, SK_UPX_PACKED,
                    SK_UPX_PHDRS, SK_UPX_TEXTREL, SK_UPX_TOO_SMALL, SK_UPX_TYPE)
from .internal import (ELF_MAGIC, EST_ARCH_AARCH64, EST_ARCH_ARMV7, EST_ARCH_I386, EST_ARCH_X86_64,
                       in_file)
from .tables import EST_MAX_LOADS


class Layout:
    """est_layout: what est_layout_read found."""

    def __init__(self):
        self.c64 = self.arch = self.shlib = 0
        self.hdr_len = self.xct_off = self.arm_tail = 0
        self.loads = []  # (off, filesz, vaddr, align, flags)


def _va_off32(L, va, n):
    """est_va_off32: a dynamic entry's address as a file offset (0: none, or past the end)."""
    for off, fsz, vaddr, _, _ in L.loads:
        t = (va - vaddr) & 0xFFFFFFFF
        if t < fsz:
            o = (off + t) & 0xFFFFFFFF
            return o if o < n else 0
    return 0


def _jni_lookup_fails(d, L, dyn_va):
    """est_jni_lookup_fails: UPX's ELF32 lookup of JNI_OnLoad trips one of its checks."""
    n = len(d)
    name = b"JNI_OnLoad\0"
    hsh, gnu, sym, strtab = (_va_off32(L, va, n) for va in dyn_va)

    def u32(off):
        return struct.unpack_from("<I", d, off)[0] if in_file(off, 4, n) else None
    if not sym or not strtab:
        return False
    if hsh and in_file(hsh, 8, n):
        nbucket = u32(hsh)
        if nbucket:
            h = 0
            for c in name[:-1]:
                h = ((h << 4) + c) & 0xFFFFFFFF
                t = h & 0xF0000000
                h = (h & ~t) ^ (t >> 24)
            si, nvisit = u32(hsh + 8 + 4 * (h % nbucket)), 0
            while si:
                st_name = u32(sym + 16 * si)
                if st_name is None:
                    return False
                at = strtab + st_name
                if in_file(at, len(name), n) and d[at:at + len(name)] == name:
                    return False
                nvisit += 1
                if nbucket <= nvisit:
                    return True
                si = u32(hsh + 8 + 4 * nbucket + 4 * si)
            if si is None:
                return False
    if gnu and in_file(gnu, 16, n):
        n_bucket, _, n_bitmask, shift = struct.unpack_from("<IIII", d, gnu)
        bitmask = gnu + 16
        if shift > 31 or bitmask + 4 * n_bitmask + 4 * n_bucket >= n:
            return True
        if not n_bitmask or (n - bitmask) & 0xFFFFFFFF <= 4 * n_bitmask:
            return True
        if not n_bucket:
            return False
        h = 5381
        for c in name[:-1]:
            h = (h + c + (h << 5)) & 0xFFFFFFFF
        w = u32(bitmask + 4 * ((n_bitmask - 1) & (h >> 5)))
        if 1 & (w >> (h & 31)) & (w >> ((h >> shift) & 31)):
            return n_bucket <= u32(bitmask + 4 * n_bitmask + 4 * (h % n_bucket))
    return False


def est_layout_read(d):
    """est_layout_read: (why UPX would refuse the file or SK_UPX_OK, its Layout)."""
    n = len(d)
    L = Layout()
    if n < 64 or d[:4] != ELF_MAGIC:
        return SK_UPX_NOT_ELF, L
    if d[4] not in (1, 2) or d[5] != 1:
        return SK_UPX_MACHINE, L
    c64 = L.c64 = d[4] == 2
    etype, machine = struct.unpack_from("<HH", d, 16)
    arch = {(True, 62): EST_ARCH_X86_64, (True, 183): EST_ARCH_AARCH64,
            (False, 40): EST_ARCH_ARMV7, (False, 3): EST_ARCH_I386}.get((c64, machine))
    if arch is None:
        return SK_UPX_MACHINE, L
    L.arch = arch
    if etype not in (2, 3):
        return SK_UPX_TYPE, L
    if n < 4096:
        return SK_UPX_TOO_SMALL, L
    if d.find(b"UPX!", n - 256) >= 0:
        return SK_UPX_PACKED, L
    if c64:
        phoff, = struct.unpack_from("<Q", d, 32)
        phent, phnum = struct.unpack_from("<HH", d, 54)
    else:
        phoff, = struct.unpack_from("<I", d, 28)
        phent, phnum = struct.unpack_from("<HH", d, 42)
    if phoff != (64 if c64 else 52) or phent != (56 if c64 else 32) or phnum == 0 or \
            not in_file(phoff, phnum * phent, n):
        return SK_UPX_PHDRS, L
    L.hdr_len = phoff + phnum * phent
    has_init = textrel = has_exec = 0
    dyn_off = dyn_size = flags1 = init_va = 0
    dyn_va = {}  # DT_HASH, DT_GNU_HASH, DT_SYMTAB, DT_STRTAB: each tag's first entry
    for k in range(phnum):
        b = phoff + k * phent
        if c64:
            typ, fl, off, va = struct.unpack_from("<IIQQ", d, b)
            fsz, = struct.unpack_from("<Q", d, b + 32)
            al, = struct.unpack_from("<Q", d, b + 48)
        else:
            typ, off, va = struct.unpack_from("<III", d, b)
            fsz, = struct.unpack_from("<I", d, b + 16)
            fl, al = struct.unpack_from("<II", d, b + 24)
        if typ == 2:
            dyn_off, dyn_size = off, fsz
        if typ != 1:
            continue
        if not in_file(off, fsz, n):
            return SK_UPX_PHDRS, L
        if not L.loads and off != 0:
            return SK_UPX_FIRST_LOAD, L
        if len(L.loads) == EST_MAX_LOADS:
            return SK_UPX_PHDRS, L
        if fl & 1:
            has_exec = 1
        L.loads.append((off, fsz, va, al, fl))
    if not has_exec:
        return SK_UPX_NO_EXEC, L
    if dyn_size > 0 and in_file(dyn_off, 0, n):
        ent = 16 if c64 else 8
        end = n if dyn_size > n - dyn_off else dyn_off + dyn_size
        p = dyn_off
        while p + ent <= end:
            tag, val = struct.unpack_from("<QQ" if c64 else "<II", d, p)
            if tag == 0:
                break
            if tag in (12, 25, 32):
                has_init = 1
            if tag == 12:
                init_va = val
            if tag == 22:
                textrel = 1
            if tag == 0x6FFFFFFB:
                flags1 = val
            if tag in (4, 0x6FFFFEF5, 6, 5) and tag not in dyn_va:
                dyn_va[tag] = val
            p += ent
        if not c64 and _jni_lookup_fails(d, L, [dyn_va.get(t, 0) for t in (4, 0x6FFFFEF5, 6, 5)]):
            return SK_UPX_LOOKUP, L
    L.shlib = etype == 3 and not flags1 & 0x08000000
    if not L.shlib:
        return SK_UPX_OK, L
    if not has_init:
        return SK_UPX_NEED_INIT, L
    if textrel:
        return SK_UPX_TEXTREL, L
    if c64:
        shoff, = struct.unpack_from("<Q", d, 40)
        shent, shnum = struct.unpack_from("<HH", d, 58)
    else:
        shoff, = struct.unpack_from("<I", d, 32)
        shent, shnum = struct.unpack_from("<HH", d, 46)
    min_exec = None
    if shoff != 0 and shent >= (64 if c64 else 40) and shnum > 0 and \
            in_file(shoff, shnum * shent, n):
        attr = 0
        for k in range(1, shnum):
            b = shoff + k * shent
            if c64:
                fl, addr = struct.unpack_from("<QQ", d, b + 8)
            else:
                fl, addr = struct.unpack_from("<II", d, b + 8)
            if fl & 4 and (min_exec is None or addr < min_exec):
                min_exec = addr
            if not c64 and struct.unpack_from("<I", d, b + 4)[0] == 0x70000003:
                attr, = struct.unpack_from("<I", d, b + 20)
        if L.arch == EST_ARCH_ARMV7 and attr < n:
            L.arm_tail = shnum * 40 + ((attr + 3) & ~3) + 28 + 3 * 40
    if min_exec is None:
        min_exec = init_va
    for off, fsz, va, _, _ in L.loads:
        if min_exec >= va and min_exec - va < fsz:
            L.xct_off = off + (min_exec - va)
            break
    if L.xct_off == 0 or L.xct_off < L.hdr_len:
        return SK_UPX_NO_XCT, L
    return SK_UPX_OK, L


def upx_check(data):
    """sk_upx_check: (rc, reason)."""
    return SK_OK, est_layout_read(bytes(data))[0]
