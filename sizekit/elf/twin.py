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

SK_UPX_OK = 0
SK_UPX_NOT_ELF = 1
SK_UPX_MACHINE = 2
SK_UPX_TYPE = 3
SK_UPX_TOO_SMALL = 4
SK_UPX_PACKED = 5
SK_UPX_PHDRS = 6
SK_UPX_FIRST_LOAD = 7
SK_UPX_NO_EXEC = 8
SK_UPX_NEED_INIT = 9
SK_UPX_TEXTREL = 10
SK_UPX_NO_XCT = 11
SK_UPX_LOOKUP = 12

SK_PIECE_HEADERS = 1
SK_PIECE_PLAIN = 2
SK_PIECE_GAP = 3
SK_PIECE_COPY = 4

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
EST_SHORTMATCH = 3
EST_SHORTFAR_LZMA = 0x1000
EST_HASH3BITS = 16
EST_MAXLEN = 273
EST_MAXLEN_NRV = 65535
EST_HASHBITS = 17
EST_HASHBITS_MIN = 10
EST_WAYS_NRV = 8
EST_WAYS_LZMA = 16
EST_NICE = 64
EST_WINDOW = 1 << 22
EST_PRICE_BITS = 6



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
        self.is_match = [[1024] * 4 for _ in range(12)]
        self.is_rep = [1024] * 12
        self.is_rep_g = [[1024] * 12 for _ in range(3)]
        self.is_rep0_long = [[1024] * 4 for _ in range(12)]
        self.lit = [[1024] * 256 for _ in range(8)]
        self.len_choice = [[1024, 1024] for _ in range(2)]
        self.len_low = [[[1024] * 8 for _ in range(4)] for _ in range(2)]
        self.len_mid = [[[1024] * 8 for _ in range(4)] for _ in range(2)]
        self.len_high = [[1024] * 256 for _ in range(2)]
        self.slot = [[1024] * 64 for _ in range(4)]
        self.spec = [1024] * 115
        self.align = [1024] * 16
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

    def rev(self, probs, at, nbits, sym):
        """rev_price: LZMA's reverse bit tree over probs[at + 1 ...], the low bit first."""
        c = 0
        idx = 1
        for _ in range(nbits):
            b = sym & 1
            sym >>= 1
            c += self.bit(probs, at + idx, b)
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


def _hashbits(n, ways):
    """est_hashbits: table bits for a piece of n bytes."""
    bits = EST_HASHBITS_MIN
    while bits < EST_HASHBITS and (ways << bits) < n:
        bits += 1
    return bits


def _hashes(d, bits):
    """est_hash4 with a table of `bits` bits at every position that has 4 bytes."""
    n = len(d)
    if n < 4:
        return []
    shift = 32 - bits
    words = [0] * (n - 3)
    for k in range(4):
        cnt = (n - 3 - k + 3) // 4
        if cnt <= 0:
            continue
        vals = struct.unpack_from("<%dI" % cnt, d, k)
        words[k::4] = [((v * 2654435761) & 0xFFFFFFFF) >> shift for v in vals]
    return words


def _hashes3(d):
    """est_hash3 at every position that has 3 bytes."""
    shift = 32 - EST_HASH3BITS
    return [((d[i] | d[i + 1] << 8 | d[i + 2] << 16) * 2654435761 & 0xFFFFFFFF) >> shift
            for i in range(len(d) - 2)]


def _longer(d, hs, bucket, cnt, ways, p, least, maxlen):
    """est_longer: whether position p starts a match longer than `least` bytes."""
    n = len(d)
    if p + EST_MINMATCH > n:
        return False
    maxl = n - p if n - p < maxlen else maxlen
    if maxl <= least:
        return False
    h = hs[p]
    base = h * ways
    k = cnt[h]
    for j in range(ways):
        cand = bucket[base + ((k - 1 - j) & (ways - 1))]
        if cand < 0 or p - cand > EST_WINDOW:
            break
        if d[cand + least] == d[p + least] and _match_len(d, cand, p, maxl) > least:
            return True
    return False


def _defer(d, hs, bucket, cnt, ways, pos, best, maxlen, reps, nreps):
    """est_defer: whether a normal match of `best` bytes at pos is better put off by one
    literal."""
    if _longer(d, hs, bucket, cnt, ways, pos + 1, best, maxlen):
        return True
    n = len(d)
    if pos + 1 < n:
        maxl = n - pos - 1 if n - pos - 1 < maxlen else maxlen
        for r in range(nreps):
            rd = reps[r]
            if rd != 0 and rd <= pos + 1:
                l = _match_len(d, pos + 1 - rd, pos + 1, maxl)
                if l >= EST_REPMIN and l + 1 >= best:
                    return True
    return _longer(d, hs, bucket, cnt, ways, pos + 2, best + 1, maxlen)


_LIT_NEXT = (0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5)  # EST_LIT_NEXT: LZMA's state after a literal


def _est_stream(d, level, nrv_far, stop=None, mark=None):
    """est_stream: (stream bytes, cost of the tokens that start before mark); the parse
    stops once it reaches stop (the end by default)."""
    n = len(d)
    stop = n if stop is None else stop
    mark = n if mark is None else mark
    at_mark = None
    ways = EST_WAYS_LZMA if level == SK_LEVEL_LZMA else EST_WAYS_NRV
    bits = _hashbits(n, ways)
    hs = _hashes(d, bits)
    bucket = [-1] * ((1 << bits) * ways)
    cnt = [0] * (1 << bits)
    W1 = ways - 1
    h3 = _hashes3(d)
    last3 = [-1] * (1 << EST_HASH3BITS)
    short_far = EST_SHORTFAR_LZMA if level == SK_LEVEL_LZMA else nrv_far
    nbound3 = n - EST_SHORTMATCH
    lz = _Lzma() if level == SK_LEVEL_LZMA else None
    cost = 0
    state = 0
    pos = 0
    reps = [0, 0, 0, 0]
    nreps = 4 if level == SK_LEVEL_LZMA else 1
    maxlen = EST_MAXLEN if level == SK_LEVEL_LZMA else EST_MAXLEN_NRV
    nbound = n - EST_MINMATCH  # pos <= nbound <=> pos + MINMATCH <= n
    PB = EST_PRICE_BITS
    while pos < stop:
        if at_mark is None and pos >= mark:
            at_mark = lz.cost if lz is not None else cost
        maxl = n - pos if n - pos < maxlen else maxlen
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
            base = h * ways
            k = cnt[h]
            for j in range(ways):
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
        if EST_MINMATCH <= best < EST_NICE and rl + 1 < best and \
                _defer(d, hs, bucket, cnt, ways, pos, best, maxlen, reps, nreps):
            best = rl = 0  # a literal (or short rep) here instead
        elif best < EST_MINMATCH and rl < EST_SHORTMATCH and pos <= nbound3:
            cand = last3[h3[pos]]
            if cand >= 0 and pos - cand <= short_far:
                l = _match_len(d, cand, pos, maxl)
                if l >= EST_SHORTMATCH:
                    best, boff = l, pos - cand
        if pos <= nbound3:
            last3[h3[pos]] = pos
        if rl >= EST_REPMIN and rl + 1 >= best:
            length, off, rep = rl, reps[ri], 1 + ri
            del reps[ri]
            reps.insert(0, off)
        elif best >= EST_SHORTMATCH:
            length, off, rep = best, boff, 0
            reps = [boff] + reps[:3]
        elif lz is not None and reps[0] != 0 and reps[0] <= pos and \
                d[pos - reps[0]] == d[pos]:
            # short rep
            lz.cost += lz.bit(lz.is_match[state], pos & 3, 1)
            lz.cost += lz.bit(lz.is_rep, state, 1)
            lz.cost += lz.bit(lz.is_rep_g[0], state, 0)
            lz.cost += lz.bit(lz.is_rep0_long[state], pos & 3, 0)
            state = 9 if state < 7 else 11
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
                state = _LIT_NEXT[state]
            pos += 1
            continue
        # match
        if lz is None:
            bits = 1
            if rep:
                bits += 2 + _gamma_bits(length - 1 + 2)
            else:
                bits += _gamma_bits(((off - 1) >> 8) + 2) + 8
                bits += _gamma_bits(length - 2 + 2 + (1 if off > nrv_far else 0))
            cost += bits << PB
        else:
            pst = pos & 3
            lz.cost += lz.bit(lz.is_match[state], pst, 1)
            lz.cost += lz.bit(lz.is_rep, state, 1 if rep else 0)
            if rep:
                ri = rep - 1
                lz.cost += lz.bit(lz.is_rep_g[0], state, 1 if ri else 0)
                if ri == 0:
                    lz.cost += lz.bit(lz.is_rep0_long[state], pst, 1)
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
                    footer = (slot >> 1) - 1
                    base = (2 | (slot & 1)) << footer
                    if slot < 14:
                        lz.cost += lz.rev(lz.spec, base - slot - 1, footer, dist - base)
                    else:
                        lz.cost += (footer - 4) << PB
                        lz.cost += lz.rev(lz.align, 0, 4, dist & 15)
            state = (8 if state < 7 else 11) if rep else (7 if state < 7 else 10)
        end = pos + length
        for i in range(pos + 1, min(end, nbound3 + 1)):
            last3[h3[i]] = i
        for i in range(pos + 1, min(end, nbound + 1)):
            h = hs[i]
            k = cnt[h]
            bucket[h * ways + (k & W1)] = i
            cnt[h] = (k + 1) & 255
        pos = end
    total = lz.cost if lz is not None else cost
    return (total + (8 << PB) - 1) >> (PB + 3), total if at_mark is None else at_mark


# ---------------------------------------------------------------------------------------
# branch filters and UPX's pieces (see the comments in csrc/sizekit_native.c)

_BRANCH_OPS = re.compile(rb"[\x80-\x8f\xe8\xe9]")
_U32 = struct.Struct("<I")
_BE32 = struct.Struct(">I")


def _filter_x86(d):
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


def _filter_arm(d, arm64):
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


EST_ARCH_X86_64, EST_ARCH_ARMV7, EST_ARCH_AARCH64, EST_ARCH_I386 = 0, 1, 2, 3
EST_M_NRV2B, EST_M_NRV2E, EST_M_LZMA = 0, 1, 2
EST_SMALL_FILE = 512 * 1024
EST_MAX_LOADS = 64
# EST_A, EST_STUB, EST_SHLIB_TAIL: see csrc/sizekit_native.c
EST_C_CODE, EST_C_DATA, EST_C_GAP, EST_C_THUMB = 0, 1, 2, 3
EST_FADE_NRV, EST_FADE_LZMA = 300, 5000
EST_A = (  # [arch][NRV2B, NRV2E, LZMA][code, data, gap, thumb] = (a, b, c, lo, hi)
    (((1019, -119, 0, 352, 553), (1145, -346, 0, 160, 560),
      (932, 0, 0, 0, 1000), (1019, -119, 0, 352, 553)),
     ((962, -50, 0, 276, 519), (1586, -3625, 5225, 209, 424),
      (932, 0, 0, 0, 1000), (962, -50, 0, 276, 519)),
     ((840, 191, 0, 202, 509), (697, 1322, -2207, 103, 483),
      (881, 0, 0, 0, 1000), (840, 191, 0, 202, 509))),
    (((1038, -159, 0, 444, 546), (1023, 0, 0, 0, 1000),
      (932, 0, 0, 0, 1000), (1034, -116, 0, 543, 769)),
     ((848, 187, 0, 280, 549), (1005, 0, 0, 0, 1000),
      (932, 0, 0, 0, 1000), (1034, -116, 0, 543, 769)),
     ((701, 886, -941, 207, 438), (775, 0, 0, 0, 1000),
      (876, 0, 0, 0, 1000), (650, 978, -768, 460, 665))),
    (((961, 0, 0, 0, 1000), (1256, -1045, 0, 210, 247),
      (930, 0, 0, 0, 1000), (961, 0, 0, 0, 1000)),
     ((912, 82, 0, 303, 565), (1256, -1045, 0, 210, 247),
      (930, 0, 0, 0, 1000), (912, 82, 0, 303, 565)),
     ((681, 1127, -1288, 222, 458), (781, 0, 0, 0, 1000),
      (877, 0, 0, 0, 1000), (681, 1127, -1288, 222, 458)))
)
EST_STUB = (((3110, 3146, 5451), (2372, 2392, 3664)), ((3080, 3166, 5171), (2830, 2870, 4218)),
            ((3222, 3273, 5386), (2756, 2812, 4376)))
EST_LSIZE = (((2804, 2838, 5144), (2282, 2302, 3574)), ((2652, 2692, 4744), (2740, 2780, 4128)),
             ((2912, 2968, 5080), (2666, 2706, 4286)))
EST_SHLIB_TAIL = 36
EST_FILTER_PREFIX_MIN, EST_FILTER_MARGIN = 256 * 1024, 10
EST_BAND = 20


def _table_arch(arch):
    """EST_TABLE_ARCH: the row of EST_A, EST_STUB and EST_LSIZE (i386 uses x86-64's)."""
    return EST_ARCH_X86_64 if arch == EST_ARCH_I386 else arch


def arm_mode(d, off, size):
    """est_arm_mode: at least 35% of the aligned words have the "always" condition nibble."""
    start = off + ((4 - (off & 3)) & 3)
    words = max(0, (off + size - start) // 4)
    always = sum(1 for b in d[start + 3:start + 4 * words:4] if b & 0xF0 == 0xE0)
    return words > 0 and always * 100 >= words * 35


def _scale(k, stream, size, fade):
    """est_scale: stream * A, A = (a + b * r + c * r^2) / 1000 with r = stream / size per mille
    held to [lo, hi], A clamped, its distance from 1 times stream / (stream + fade)."""
    r = min(max(stream * 1000 // size, k[3]), k[4])
    num = min(max(k[0] * 1000000 + k[1] * r * 1000 + k[2] * r * r, 500000000), 1100000000) // 1000
    if num <= 1000000:
        num = 1000000 - (1000000 - num) * stream // (stream + fade)
    else:
        num = 1000000 + (num - 1000000) * stream // (stream + fade)
    return stream * num // 1000000


class _Layout:
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
        return struct.unpack_from("<I", d, off)[0] if _in_file(off, 4, n) else None
    if not sym or not strtab:
        return False
    if hsh and _in_file(hsh, 8, n):
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
                if _in_file(at, len(name), n) and d[at:at + len(name)] == name:
                    return False
                nvisit += 1
                if nbucket <= nvisit:
                    return True
                si = u32(hsh + 8 + 4 * nbucket + 4 * si)
            if si is None:
                return False
    if gnu and _in_file(gnu, 16, n):
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


def _layout_read(d):
    """est_layout_read: (reason, layout)."""
    n = len(d)
    L = _Layout()
    if n < 64 or d[:4] != _MAGIC:
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
            not _in_file(phoff, phnum * phent, n):
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
        if not _in_file(off, fsz, n):
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
    if dyn_size > 0 and _in_file(dyn_off, 0, n):
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
            _in_file(shoff, shnum * shent, n):
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


def _gap(L, k, n):
    hi = L.loads[k][0] + L.loads[k][1]
    lo = n
    for j, s in enumerate(L.loads):
        if j != k and hi <= s[0] < lo:
            lo = s[0]
    return lo - hi


def upx_check(data):
    """sk_upx_check: (rc, reason)."""
    return SK_OK, _layout_read(bytes(data))[0]


def _pieces(d, level):
    """est_run: (rc, pieces, total, stream sum, other size); a piece is a dict like
    sk_piece."""
    n = len(d)
    if level not in (SK_LEVEL_BEST, SK_LEVEL_LZMA) or n > 0x7FFFFFFF:
        return SK_ERR_ARG, [], 0, 0, 0
    if n == 0:
        return SK_ERR_EMPTY, [], 0, 0, 0
    method = EST_M_LZMA if level == SK_LEVEL_LZMA else \
        (EST_M_NRV2B if n <= EST_SMALL_FILE else EST_M_NRV2E)
    why, L = _layout_read(d)
    arch = L.arch if why == SK_UPX_OK else EST_ARCH_X86_64
    far = 0xD00 if method == EST_M_NRV2B else 0x500
    ta = _table_arch(arch)
    a = EST_A[ta][method]
    fade = EST_FADE_LZMA if method == EST_M_LZMA else EST_FADE_NRV
    lsize = EST_LSIZE[ta][1 if L.shlib else 0][method] if why == SK_UPX_OK else 0
    out = []

    def _filtered_stream(src, thumb):
        """est_filtered_stream: (stream, whether the filtered bytes won)."""
        size = len(src)
        mark = size // 4 if size >= EST_FILTER_PREFIX_MIN else size
        buf = bytearray(src)
        if arch in (EST_ARCH_X86_64, EST_ARCH_I386):
            _filter_x86(buf)
        else:
            _filter_arm(buf, arch == EST_ARCH_AARCH64)
        first, second = (src, bytes(buf)) if thumb else (bytes(buf), src)
        s1, m1 = _est_stream(first, level, far, size, mark)
        if mark < size:
            _, m2 = _est_stream(second, level, far, mark, mark)
            if m2 * 1000 > m1 * (1000 + EST_FILTER_MARGIN):
                return s1, not thumb
        s2 = _est_stream(second, level, far)[0]
        sf, su = (s2, s1) if thumb else (s1, s2)  # filtered, unfiltered
        return (sf, True) if sf < su else (su, False)  # ties: unfiltered

    def piece(off, size, filt, kind):
        if size == 0:
            return
        stream = 0
        candidate = filt
        cls = EST_C_DATA
        if kind == SK_PIECE_COPY:
            packed = size
        else:
            buf = d[off:off + size]
            thumb = filt and arch == EST_ARCH_ARMV7 and not arm_mode(d, off, size)
            if filt:
                stream, filt = _filtered_stream(buf, thumb)
            else:
                stream = _est_stream(buf, level, far)[0]
            cls = EST_C_GAP if kind == SK_PIECE_GAP else (EST_C_CODE if candidate else EST_C_DATA)
            if thumb:
                cls = EST_C_THUMB
            packed = size if stream >= size else _scale(a[cls], stream, size, fade)
            if candidate and packed < size and size - packed < lsize:
                packed, filt = size, 0
            packed += 12
        out.append({"offset": off, "size": size, "stream": stream, "packed": packed,
                    "kind": kind, "filter": 1 if filt else 0, "content": cls})

    if why != SK_UPX_OK:
        piece(0, n, 0, SK_PIECE_PLAIN)
        return SK_OK, out, sum(p["packed"] for p in out), sum(p["stream"] for p in out), 0
    nx, have = 0, False
    for k, s in enumerate(L.loads):
        if s[4] & 1 and (not have or s[1] > L.loads[nx][1]):
            nx, have = k, True
    end = max(off + size for off, size, _, _, _ in L.loads)
    blocksize = max(max(size for _, size, _, _, _ in L.loads), n - end)

    def extent(off, size, filt, kind):
        while size > 0:
            k = min(size, blocksize) if blocksize else size
            piece(off, k, filt, kind)
            off += k
            size -= k

    if not L.shlib:
        piece(0, L.hdr_len, 0, SK_PIECE_HEADERS)
        for k, (off, size, _, _, _) in enumerate(L.loads):
            if k == 0:
                if L.hdr_len > size:
                    continue
                off += L.hdr_len
                size -= L.hdr_len
            extent(off, size, k == nx, SK_PIECE_PLAIN)
    else:
        hdr_done = False
        for off, size, _, _, fl in L.loads:
            if off < L.xct_off:
                keep = min(size, L.xct_off - off)
                piece(off, keep, 0, SK_PIECE_COPY)
                if not hdr_done:
                    piece(0, L.hdr_len, 0, SK_PIECE_HEADERS)
                    hdr_done = True
                if size > L.xct_off - off:
                    extent(L.xct_off, size - (L.xct_off - off), 1, SK_PIECE_PLAIN)
            elif not fl & 2:
                extent(off, size, 1, SK_PIECE_PLAIN)
    for k, s in enumerate(L.loads):
        extent(s[0] + s[1], _gap(L, k, n), 0, SK_PIECE_GAP)
    total = sum(p["packed"] for p in out)
    pos = total + EST_STUB[ta][1 if L.shlib else 0][method] - \
        (EST_SHLIB_TAIL if L.shlib else 0)
    other = 0
    if L.shlib:
        band = (total - sum(p["packed"] for p in out if p["kind"] == SK_PIECE_COPY)) \
            * EST_BAND // 1000
        end = _shlib_end(L, pos)
        for off, size, _, _, fl in L.loads:
            if off >= L.xct_off and fl & 2:
                piece(off, size, 0, SK_PIECE_COPY)
        up = _shlib_end(L, pos + band) - end
        down = end - _shlib_end(L, pos - band if pos >= band else 0)
        if up > 0 and up * 20 >= end:
            other = end + up
        elif down > 0 and down * 20 >= end:
            other = end - down
        pos = end
    return SK_OK, out, pos & M64, sum(p["stream"] for p in out), other & M64


def _shlib_end(L, pos):
    """est_shlib_end: where a shared library's output ends when its writable PT_LOADs
    follow pos, each at its file offset modulo its page size."""
    for off, size, _, align, fl in L.loads:
        if off < L.xct_off or not fl & 2:
            continue
        if L.arch != EST_ARCH_AARCH64:
            align = min(align, 4096)
        if align == 0 or align & (align - 1):
            align = 1
        pos += ((off - pos) & (align - 1)) + size
    return pos + EST_SHLIB_TAIL + L.arm_tail


def estimate_pieces(data, level):
    """sk_estimate_pieces with unlimited capacity: (rc, pieces, total, other size or 0)."""
    rc, out, total, _, other = _pieces(bytes(data), level)
    return rc, out, total, other


def estimate_packed(data, level):
    """sk_estimate_packed: returns (rc, estimate, model stream bytes, other size or 0)."""
    rc, _, total, stream, other = _pieces(bytes(data), level)
    if rc != SK_OK:
        return rc, 0, 0, 0
    return SK_OK, total, stream, other
