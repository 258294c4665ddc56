"""sk_hash64 (csrc/hash.c), bit for bit: four lanes of 16 bytes a step, each one
64x64->128 multiply folded to 64 bits, then a finaliser."""
import struct

from .internal import M64
from .tables import HFIN1, HFIN2, HGOLD, HK


def _rotl(v, r):
    return ((v << r) | (v >> (64 - r))) & M64


def _mum(a, b):
    r = a * b
    return (r & M64) ^ (r >> 64)


def hash64(data, seed=0):
    """sk_hash64."""
    mv = memoryview(data).cast("B")
    n = len(mv)
    seed &= M64
    lanes = [seed ^ _rotl(HK[2 * k], 17) for k in range(4)]
    nblocks = n // 64
    if nblocks:
        words = struct.unpack_from("<%dQ" % (nblocks * 8), mv, 0)
        l0, l1, l2, l3 = lanes
        k0, k1, k2, k3, k4, k5, k6, k7 = HK
        for i in range(0, nblocks * 8, 8):
            t = (l0 + words[i]) & M64
            r = (t ^ k0) * (words[i + 1] ^ k1)
            l0 = (((r & M64) ^ (r >> 64)) + t) & M64
            t = (l1 + words[i + 2]) & M64
            r = (t ^ k2) * (words[i + 3] ^ k3)
            l1 = (((r & M64) ^ (r >> 64)) + t) & M64
            t = (l2 + words[i + 4]) & M64
            r = (t ^ k4) * (words[i + 5] ^ k5)
            l2 = (((r & M64) ^ (r >> 64)) + t) & M64
            t = (l3 + words[i + 6]) & M64
            r = (t ^ k6) * (words[i + 7] ^ k7)
            l3 = (((r & M64) ^ (r >> 64)) + t) & M64
        lanes = [l0, l1, l2, l3]
    pos = nblocks * 64
    rest = n - pos
    k = 0
    while rest > 0:
        chunk = bytes(mv[pos:pos + 16]).ljust(16, b"\0")
        a, b = struct.unpack("<QQ", chunk)
        t = (lanes[k] + a) & M64
        lanes[k] = (_mum(t ^ HK[2 * k], b ^ HK[2 * k + 1]) + t) & M64
        k += 1
        pos += 16
        rest -= 16
    h = seed ^ ((n * HGOLD) & M64)
    for k in range(4):
        h = (_mum(h ^ lanes[k], HK[(k + 4) & 7] ^ HGOLD) + lanes[k]) & M64
    h ^= h >> 32
    h = (h * HFIN1) & M64
    h ^= h >> 29
    h = (h * HFIN2) & M64
    h ^= h >> 32
    return h

