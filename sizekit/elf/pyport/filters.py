"""UPX 4.2.4's branch filters (csrc/filters.c), bit for bit, in place over one piece:
0x49 for x86 and x86-64, 0x50 for ARM and 0x52 for AArch64."""
import re
import struct

_BRANCH_OPS = re.compile(rb"[\x80-\x8f\xe8\xe9]")
_U32 = struct.Struct("<I")
_BE32 = struct.Struct(">I")


def filter_x86(d):
    """filter_x86 on the bytearray d (one piece), in place."""
    size = len(d)
    orig = bytes(d)  # candidates at or past `nxt` are still unconverted here
    nxt = 0
    for m in _BRANCH_OPS.finditer(orig, 0, max(0, size - 4)):
        i = m.start()
        if i < nxt:
            continue
        b = d[i]
        if b < 0xE8 and not (i > 0 and d[i - 1] == 0x0F):
            continue
        t = (_U32.unpack_from(d, i + 1)[0] + (i + 1)) & 0xFFFFFFFF
        if t < size:
            _BE32.pack_into(d, i + 1, t)
            nxt = i + 5


def filter_arm(d, arm64):
    """filter_arm on the bytearray d (one piece), in place."""
    size = len(d)
    if size < 8:
        return
    n = (size - 1) // 4  # words with i + 4 < size
    words = list(struct.unpack_from("<%dI" % n, d, 0))
    mask = 0x03FFFFFF if arm64 else 0x00FFFFFF
    for k, w in enumerate(words):
        top = w >> 24
        if ((top & 0x7C) == 0x14) if arm64 else ((top & 0x0F) == 0x0B):
            words[k] = (w & ~mask & 0xFFFFFFFF) | ((w + k) & mask)
    struct.pack_into("<%dI" % n, d, 0, *words)
