"""Pure-Python twins of csrc/sizekit_native.c, bit for bit (slow, but dependency-free).

Each function returns what the C function returns: an error code (0 or a negative
``SK_ERR_*``) plus its outputs. ``sizekit.native`` turns codes into exceptions for both
backends, so the two cannot drift in what they raise.
"""
import re
import struct

SK_OK = 0
SK_ERR_ARG = -1
SK_ERR_EMPTY = -2
SK_ERR_TRUNCATED = -3
SK_ERR_BADMAGIC = -4
SK_ERR_BADCLASS = -5
SK_ERR_BADDATA = -6
SK_ERR_SHTABLE = -7
SK_ERR_SHENTSIZE = -8
SK_ERR_TOOMANY = -9
SK_ERR_SHSTRNDX = -10
SK_ERR_NAME = -11
SK_ERR_RANGE = -12
SK_ERR_NOMEM = -13
SK_ERR_CAPACITY = -14

SK_LEVEL_BEST = 1
SK_LEVEL_LZMA = 2
SK_MAX_SECTIONS = 1048576

M64 = (1 << 64) - 1

# ---------------------------------------------------------------------------------------
# hash

_HK = (0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
       0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179)
_HGOLD = 0x9E3779B97F4A7C15
_HFIN1 = 0xD6E8FEB86659FD93
_HFIN2 = 0xCB24D0A5C88C35B3


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
    lanes = [seed ^ _rotl(_HK[2 * k], 17) for k in range(4)]
    nblocks = n // 64
    if nblocks:
        words = struct.unpack_from("<%dQ" % (nblocks * 8), mv, 0)
        l0, l1, l2, l3 = lanes
        k0, k1, k2, k3, k4, k5, k6, k7 = _HK
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
        lanes[k] = (_mum(t ^ _HK[2 * k], b ^ _HK[2 * k + 1]) + t) & M64
        k += 1
        pos += 16
        rest -= 16
    h = seed ^ ((n * _HGOLD) & M64)
    for k in range(4):
        h = (_mum(h ^ lanes[k], _HK[(k + 4) & 7] ^ _HGOLD) + lanes[k]) & M64
    h ^= h >> 32
    h = (h * _HFIN1) & M64
    h ^= h >> 29
    h = (h * _HFIN2) & M64
    h ^= h >> 32
    return h


# ---------------------------------------------------------------------------------------
# ELF

_MAGIC = b"\x7fELF"


def _in_file(off, n, length):
    return off <= length and n <= length - off


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
    if bytes(d[:4]) != _MAGIC[:min(4, n)]:
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
    if not _in_file(shoff, entsize, n):
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
    if not _in_file(shoff, shnum * entsize, n):
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
            if not _in_file(st["offset"], st["size"], n):
                return SK_ERR_RANGE, info["shstrndx"], [], info
            str_off, str_size = st["offset"], st["size"]
    empty = hash64(b"")
    out = []
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
            if not _in_file(s["offset"], s["size"], n):
                return SK_ERR_RANGE, i, out, info
            s["hash"] = hash64(d[s["offset"]:s["offset"] + s["size"]])
        else:
            s["hash"] = empty
        out.append(s)
    return SK_OK, info["shnum"], out, info


# ---------------------------------------------------------------------------------------
# packed-size estimate (see the long comment in csrc/sizekit_native.c)

EST_MINMATCH = 4
EST_REPMIN = 2
EST_MAXLEN = 273
EST_HASHBITS = 15
EST_WAYS = 8
EST_NICE = 64
EST_WINDOW = 1 << 22
EST_PRICE_BITS = 6

# calibration (A per mille, B bytes): see EST_CAL_* in csrc/sizekit_native.c
EST_CAL = {SK_LEVEL_BEST: (878, 3600), SK_LEVEL_LZMA: (872, 6600)}


def _ilog2_fp16(x):
    n = x.bit_length() - 1
    y = x >> (n - 31) if n >= 31 else x << (31 - n)
    r = n << 16
    for k in range(16):
        y = (y * y) >> 31
        if y >= 1 << 32:
            y >>= 1
            r |= 1 << (15 - k)
    return r


def _make_prices():
    price = [9 << EST_PRICE_BITS]
    for i in range(1, 512):
        l = (9 << 16) - _ilog2_fp16(i)
        price.append((l + (1 << (15 - EST_PRICE_BITS))) >> (16 - EST_PRICE_BITS))
    return price


_PRICES = None


def _floor_log2(v):
    return v.bit_length() - 1 if v > 0 else 0


def _gamma_bits(v):
    return 2 * _floor_log2(2 if v < 2 else v)


class _Lzma:
    """The adaptive model of est_stream's SK_LEVEL_LZMA branch."""

    def __init__(self):
        global _PRICES
        if _PRICES is None:
            _PRICES = _make_prices()
        self.price = _PRICES
        self.is_match = [[1024] * 4 for _ in range(2)]
        self.is_rep = [1024, 1024]
        self.is_rep_g = [[1024, 1024] for _ in range(3)]
        self.is_rep0_long = [1024, 1024]
        self.lit = [[1024] * 256 for _ in range(8)]
        self.len_choice = [[1024, 1024] for _ in range(2)]
        self.len_low = [[[1024] * 8 for _ in range(4)] for _ in range(2)]
        self.len_mid = [[[1024] * 8 for _ in range(4)] for _ in range(2)]
        self.len_high = [[1024] * 256 for _ in range(2)]
        self.slot = [[1024] * 64 for _ in range(4)]
        self.cost = 0

    def bit(self, probs, i, b):
        p = probs[i]
        if b:
            probs[i] = p - (p >> 5)
            return self.price[(2048 - p) >> 2]
        probs[i] = p + ((2048 - p) >> 5)
        return self.price[p >> 2]

    def tree(self, probs, nbits, sym):
        price = self.price
        c = 0
        idx = 1
        for i in range(nbits - 1, -1, -1):
            b = (sym >> i) & 1
            p = probs[idx]
            if b:
                probs[idx] = p - (p >> 5)
                c += price[(2048 - p) >> 2]
            else:
                probs[idx] = p + ((2048 - p) >> 5)
                c += price[p >> 2]
            idx = (idx << 1) | b
        return c

    def len_price(self, rep, length, pst):
        l = length - 2
        ch = self.len_choice[rep]
        if l < 8:
            return self.bit(ch, 0, 0) + self.tree(self.len_low[rep][pst], 3, l)
        c = self.bit(ch, 0, 1)
        if l < 16:
            return c + self.bit(ch, 1, 0) + self.tree(self.len_mid[rep][pst], 3, l - 8)
        return c + self.bit(ch, 1, 1) + self.tree(self.len_high[rep], 8, l - 16)


def _match_len(d, a, b, maxl):
    n = 0
    while n + 32 <= maxl and d[a + n:a + n + 32] == d[b + n:b + n + 32]:
        n += 32
    while n + 4 <= maxl and d[a + n:a + n + 4] == d[b + n:b + n + 4]:
        n += 4
    while n < maxl and d[a + n] == d[b + n]:
        n += 1
    return n


def _hashes(d):
    """est_hash4 at every position that has 4 bytes."""
    n = len(d)
    if n < 4:
        return []
    shift = 32 - EST_HASHBITS
    words = [0] * (n - 3)
    for k in range(4):
        cnt = (n - 3 - k + 3) // 4
        if cnt <= 0:
            continue
        vals = struct.unpack_from("<%dI" % cnt, d, k)
        words[k::4] = [((v * 2654435761) & 0xFFFFFFFF) >> shift for v in vals]
    return words


def _est_stream(d, level):
    n = len(d)
    hs = _hashes(d)
    bucket = [-1] * ((1 << EST_HASHBITS) * EST_WAYS)
    cnt = [0] * (1 << EST_HASHBITS)
    W1 = EST_WAYS - 1
    lz = _Lzma() if level == SK_LEVEL_LZMA else None
    cost = 0
    state = 0
    pos = 0
    reps = [0, 0, 0, 0]
    nreps = 4 if level == SK_LEVEL_LZMA else 1
    nbound = n - EST_MINMATCH  # pos <= nbound <=> pos + MINMATCH <= n
    PB = EST_PRICE_BITS
    while pos < n:
        maxl = n - pos if n - pos < EST_MAXLEN else EST_MAXLEN
        best = 0
        rl = 0
        boff = 0
        ri = 0
        for r in range(nreps):
            rd = reps[r]
            if rd != 0 and rd <= pos:
                l = _match_len(d, pos - rd, pos, maxl)
                if l > rl:
                    rl = l
                    ri = r
        if pos <= nbound:
            h = hs[pos]
            base = h * EST_WAYS
            k = cnt[h]
            for j in range(EST_WAYS):
                cand = bucket[base + ((k - 1 - j) & W1)]
                if cand < 0:
                    break
                off = pos - cand
                if off > EST_WINDOW:
                    break
                if d[cand + best] != d[pos + best]:
                    continue
                l = _match_len(d, cand, pos, maxl)
                if l > best:
                    best = l
                    boff = off
                    if l >= EST_NICE or l == maxl:
                        break
            bucket[base + (k & W1)] = pos
            cnt[h] = (k + 1) & 255
        if rl >= EST_REPMIN and rl + 1 >= best:
            length, off, rep = rl, reps[ri], 1 + ri
            del reps[ri]
            reps.insert(0, off)
        elif best >= EST_MINMATCH:
            length, off, rep = best, boff, 0
            reps = [boff] + reps[:3]
        elif lz is not None and reps[0] != 0 and reps[0] <= pos and \
                d[pos - reps[0]] == d[pos]:
            # short rep
            lz.cost += lz.bit(lz.is_match[state], pos & 3, 1)
            lz.cost += lz.bit(lz.is_rep, state, 1)
            lz.cost += lz.bit(lz.is_rep_g[0], state, 0)
            lz.cost += lz.bit(lz.is_rep0_long, state, 0)
            state = 1
            pos += 1
            continue
        else:
            # literal
            if lz is None:
                cost += 9 << PB
            else:
                ctx = d[pos - 1] >> 5 if pos > 0 else 0
                lz.cost += lz.bit(lz.is_match[state], pos & 3, 0)
                lz.cost += lz.tree(lz.lit[ctx], 8, d[pos])
            state = 0
            pos += 1
            continue
        # match
        if lz is None:
            bits = 1
            if rep:
                bits += 2 + _gamma_bits(length - 1 + 2)
            else:
                bits += _gamma_bits(((off - 1) >> 8) + 2) + 8
                bits += _gamma_bits(length - 2 + 2 + (1 if off > 0x500 else 0))
            cost += bits << PB
        else:
            pst = pos & 3
            lz.cost += lz.bit(lz.is_match[state], pst, 1)
            lz.cost += lz.bit(lz.is_rep, state, 1 if rep else 0)
            if rep:
                ri = rep - 1
                lz.cost += lz.bit(lz.is_rep_g[0], state, 1 if ri else 0)
                if ri == 0:
                    lz.cost += lz.bit(lz.is_rep0_long, state, 1)
                else:
                    lz.cost += lz.bit(lz.is_rep_g[1], state, 1 if ri != 1 else 0)
                    if ri != 1:
                        lz.cost += lz.bit(lz.is_rep_g[2], state, 1 if ri != 2 else 0)
            lz.cost += lz.len_price(1 if rep else 0, length, pst)
            if not rep:
                dist = off - 1
                lst = length - 2 if length - 2 < 3 else 3
                if dist < 4:
                    slot = dist
                else:
                    fl = dist.bit_length() - 1
                    slot = 2 * fl + ((dist >> (fl - 1)) & 1)
                lz.cost += lz.tree(lz.slot[lst], 6, slot)
                if slot >= 4:
                    lz.cost += ((slot >> 1) - 1) << PB
        state = 1
        end = pos + length
        for i in range(pos + 1, min(end, nbound + 1)):
            h = hs[i]
            k = cnt[h]
            bucket[h * EST_WAYS + (k & W1)] = i
            cnt[h] = (k + 1) & 255
        pos = end
    total = lz.cost if lz is not None else cost
    return (total + (8 << PB) - 1) >> (PB + 3)


def _x86_branch_filter(d, start, end):
    """x86_branch_filter on the bytearray d, in place."""
    size = end - start
    orig = bytes(d[start:end])  # candidates at or past `nxt` are still unconverted here
    nxt = start
    for m in _BRANCH_OPS.finditer(orig, 0, max(0, size - 4)):
        i = start + m.start()
        if i < nxt:
            continue
        b = d[i]
        if b < 0xE8 and not (i > start and d[i - 1] == 0x0F):
            continue
        t = (_U32.unpack_from(d, i + 1)[0] + (i + 1 - start)) & 0xFFFFFFFF
        if t < size:
            _BE32.pack_into(d, i + 1, t)
            nxt = i + 5


_BRANCH_OPS = re.compile(rb"[\x80-\x8f\xe8\xe9]")
_U32 = struct.Struct("<I")
_BE32 = struct.Struct(">I")


def _filtered_copy(d):
    """est_filtered_copy: a filtered bytearray, or None when no filter applies."""
    n = len(d)
    if n < 64 or d[:4] != _MAGIC or d[4] not in (1, 2) or d[5] != 1:
        return None
    c64 = d[4] == 2
    machine, = struct.unpack_from("<H", d, 18)
    if machine not in (3, 62):
        return None
    if c64:
        phoff, = struct.unpack_from("<Q", d, 32)
        phentsize, phnum = struct.unpack_from("<HH", d, 54)
    else:
        phoff, = struct.unpack_from("<I", d, 28)
        phentsize, phnum = struct.unpack_from("<HH", d, 42)
    if phentsize < (56 if c64 else 32) or not _in_file(phoff, 0, n):
        return None
    copy = None
    for k in range(phnum):
        b = phoff + k * phentsize
        if not _in_file(b, phentsize, n):
            break
        if c64:
            typ, flags, off = struct.unpack_from("<IIQ", d, b)
            fsz, = struct.unpack_from("<Q", d, b + 32)
        else:
            typ, off = struct.unpack_from("<II", d, b)
            fsz, = struct.unpack_from("<I", d, b + 16)
            flags, = struct.unpack_from("<I", d, b + 24)
        if typ != 1 or not flags & 1 or off >= n:
            continue
        end = n if fsz > n - off else off + fsz
        if copy is None:
            copy = bytearray(d)
        _x86_branch_filter(copy, off, end)
    return copy


def estimate_packed(data, level):
    """sk_estimate_packed: returns (rc, estimate, model stream bytes)."""
    if level not in (SK_LEVEL_BEST, SK_LEVEL_LZMA):
        return SK_ERR_ARG, 0, 0
    d = bytes(data)
    if not d:
        return SK_ERR_EMPTY, 0, 0
    if len(d) > 0x7FFFFFFF:
        return SK_ERR_ARG, 0, 0
    f = _filtered_copy(d)
    if f is not None:
        d = bytes(f)
    s = _est_stream(d, level)
    a, b = EST_CAL[level]
    return SK_OK, (s * a // 1000 + b) & M64, s

