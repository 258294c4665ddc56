"""The LZ parse of the packed-size estimate (csrc/lz.c), bit for bit: one lazy LZ77 parse
of a piece (bucketed match finder, repeat offsets, a match put off by a literal when the
next position or the one after does better), its tokens priced by price.Coder."""
import struct

from .codes import SK_LEVEL_LZMA
from .price import Coder
from .tables import (EST_HASH3BITS, EST_HASHBITS, EST_HASHBITS_MIN, EST_MAXLEN, EST_MAXLEN_NRV,
                     EST_MINMATCH, EST_NICE, EST_PRICE_BITS, EST_REPMIN, EST_SHORTFAR_LZMA,
                     EST_SHORTMATCH, EST_WAYS_LZMA, EST_WAYS_NRV, EST_WINDOW)


def _match_len(d, a, b, maxl):
    """match_len: how many bytes from d[a] equal those from d[b], at most maxl."""
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


def est_stream(d, level, nrv_far, stop=None, mark=None):
    """est_stream: (stream bytes, cost of the tokens that start before mark); the parse
    stops once it reaches stop (the end by default)."""
    n = len(d)
    stop = n if stop is None else stop
    mark = n if mark is None else mark
    at_mark = None
    lzma = level == SK_LEVEL_LZMA
    ways = EST_WAYS_LZMA if lzma else EST_WAYS_NRV
    bits = _hashbits(n, ways)
    hs = _hashes(d, bits)
    bucket = [-1] * ((1 << bits) * ways)
    cnt = [0] * (1 << bits)
    W1 = ways - 1
    h3 = _hashes3(d)
    last3 = [-1] * (1 << EST_HASH3BITS)
    short_far = EST_SHORTFAR_LZMA if lzma else nrv_far
    nbound3 = n - EST_SHORTMATCH
    coder = Coder(level, nrv_far)
    pos = 0
    reps = [0, 0, 0, 0]
    nreps = 4 if lzma else 1
    maxlen = EST_MAXLEN if lzma else EST_MAXLEN_NRV
    nbound = n - EST_MINMATCH  # pos <= nbound <=> pos + MINMATCH <= n
    while pos < stop:
        if at_mark is None and pos >= mark:
            at_mark = coder.cost
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
        elif lzma and reps[0] != 0 and reps[0] <= pos and d[pos - reps[0]] == d[pos]:
            coder.short_rep(pos)
            pos += 1
            continue
        else:
            coder.literal(d, pos)
            pos += 1
            continue
        coder.match(pos, length, off, rep)
        end = pos + length
        for i in range(pos + 1, min(end, nbound3 + 1)):
            last3[h3[i]] = i
        for i in range(pos + 1, min(end, nbound + 1)):
            h = hs[i]
            k = cnt[h]
            bucket[h * ways + (k & W1)] = i
            cnt[h] = (k + 1) & 255
        pos = end
    total = coder.cost
    return (total + (8 << EST_PRICE_BITS) - 1) >> (EST_PRICE_BITS + 3), \
        total if at_mark is None else at_mark
