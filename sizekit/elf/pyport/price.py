"""The cost models the LZ parse (lz.py) prices its tokens with (csrc/price.c), bit for bit:
NRV's fixed bit costs for SK_LEVEL_BEST, LZMA's adaptive binary models for SK_LEVEL_LZMA.
Costs are integers in 1/64 bit (EST_PRICE_BITS)."""
from .codes import SK_LEVEL_LZMA
from .tables import EST_LIT_NEXT, EST_PRICE_BITS


def _ilog2_fp16(x):
    """log2(x) in 16.16 fixed point for x >= 1, integer-only as in C."""
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
    """PRICE[i] = -log2(i / 512) in 1/64 bit, for 11-bit probabilities looked up as p >> 2."""
    price = [9 << EST_PRICE_BITS]
    for i in range(1, 512):
        l = (9 << 16) - _ilog2_fp16(i)
        price.append((l + (1 << (15 - EST_PRICE_BITS))) >> (16 - EST_PRICE_BITS))
    return price


_PRICES = None


def _gamma_bits(v):
    """NRV-style gamma code: every bit of v below the top one costs a data bit + a flag bit."""
    return 2 * ((2 if v < 2 else v).bit_length() - 1)


class Lzma:
    """lzma_model: LZMA's probabilities, each bit priced and then updated as its range coder
    would (11-bit probabilities, shift-5 updates)."""

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
        self.spec = [1024] * 115  # distance footers of slots 4-13
        self.align = [1024] * 16  # the low 4 bits of distances of slot 14 and up

    def bit(self, probs, i, b):
        """bit_price of probs[i]."""
        p = probs[i]
        if b:
            probs[i] = p - (p >> 5)
            return self.price[(2048 - p) >> 2]
        probs[i] = p + ((2048 - p) >> 5)
        return self.price[p >> 2]

    def tree(self, probs, nbits, sym):
        """tree_price: a bit tree, the high bit first (bit() inlined: it runs per literal bit)."""
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
        """lzma_len_price."""
        l = length - 2
        ch = self.len_choice[rep]
        if l < 8:
            return self.bit(ch, 0, 0) + self.tree(self.len_low[rep][pst], 3, l)
        c = self.bit(ch, 0, 1)
        if l < 16:
            return c + self.bit(ch, 1, 0) + self.tree(self.len_mid[rep][pst], 3, l - 8)
        return c + self.bit(ch, 1, 1) + self.tree(self.len_high[rep], 8, l - 16)

    def dist_price(self, off, length):
        """What a normal match's distance costs: its slot, then the bits below the slot
        (adaptive for slots 4-13, and for the low 4 bits above that; the rest 1 bit each)."""
        dist = off - 1
        lst = length - 2 if length - 2 < 3 else 3
        if dist < 4:
            slot = dist
        else:
            fl = dist.bit_length() - 1
            slot = 2 * fl + ((dist >> (fl - 1)) & 1)
        c = self.tree(self.slot[lst], 6, slot)
        if slot >= 4:
            footer = (slot >> 1) - 1
            base = (2 | (slot & 1)) << footer
            if slot < 14:
                c += self.rev(self.spec, base - slot - 1, footer, dist - base)
            else:
                c += (footer - 4) << EST_PRICE_BITS
                c += self.rev(self.align, 0, 4, dist & 15)
        return c


class Coder:
    """est_coder: the cost of one parse's tokens so far (cost, 1/64 bit) under the level's
    model, and LZMA's state (0-11)."""

    __slots__ = ("lz", "nrv_far", "state", "cost")

    def __init__(self, level, nrv_far):
        self.lz = Lzma() if level == SK_LEVEL_LZMA else None
        self.nrv_far = nrv_far  # offsets above this pay one length unit more
        self.state = 0
        self.cost = 0

    def literal(self, d, pos):
        """code_literal."""
        lz = self.lz
        if lz is None:
            self.cost += 9 << EST_PRICE_BITS
            return
        ctx = d[pos - 1] >> 5 if pos > 0 else 0
        state = self.state
        self.cost += lz.bit(lz.is_match[state], pos & 3, 0) + lz.tree(lz.lit[ctx], 8, d[pos])
        self.state = EST_LIT_NEXT[state]

    def match(self, pos, length, off, rep):
        """code_match: a normal match (rep 0) or repeat match rep - 1 of `length` bytes."""
        lz = self.lz
        if lz is None:
            bits = 1
            if rep:
                bits += 2 + _gamma_bits(length - 1 + 2)
            else:
                bits += _gamma_bits(((off - 1) >> 8) + 2) + 8
                # NRV2B/2E make far matches pay one length unit more
                bits += _gamma_bits(length - 2 + 2 + (1 if off > self.nrv_far else 0))
            self.cost += bits << EST_PRICE_BITS
            return
        state = self.state
        pst = pos & 3
        c = lz.bit(lz.is_match[state], pst, 1) + lz.bit(lz.is_rep, state, 1 if rep else 0)
        if rep:
            ri = rep - 1
            c += lz.bit(lz.is_rep_g[0], state, 1 if ri else 0)
            if ri == 0:
                c += lz.bit(lz.is_rep0_long[state], pst, 1)
            else:
                c += lz.bit(lz.is_rep_g[1], state, 1 if ri != 1 else 0)
                if ri != 1:
                    c += lz.bit(lz.is_rep_g[2], state, 1 if ri != 2 else 0)
        c += lz.len_price(1 if rep else 0, length, pst)
        if not rep:
            c += lz.dist_price(off, length)
        self.cost += c
        self.state = (8 if state < 7 else 11) if rep else (7 if state < 7 else 10)

    def short_rep(self, pos):
        """code_short_rep: LZMA's one byte from the last distance."""
        lz = self.lz
        assert lz is not None   # only the LZMA coder has a short rep
        state = self.state
        self.cost += lz.bit(lz.is_match[state], pos & 3, 1) + lz.bit(lz.is_rep, state, 1) + \
            lz.bit(lz.is_rep_g[0], state, 0) + lz.bit(lz.is_rep0_long[state], pos & 3, 0)
        self.state = 9 if state < 7 else 11
