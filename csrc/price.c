/* The cost models the LZ parse (lz.c) prices its tokens with. Python port:
 * sizekit/elf/pyport/price.py.
 *
 *  - SK_LEVEL_BEST: fixed bit costs shaped like UCL's NRV2E codes (flag bit per token,
 *    9-bit literals, gamma-coded offset high part + 8 raw bits, gamma-coded lengths).
 *  - SK_LEVEL_LZMA: adaptive binary models updated like LZMA's range coder (11-bit
 *    probabilities, shift-5 updates), literal trees with a 3-bit previous-byte context,
 *    LZMA's 12 states, length coder and distance slots; costs from a -log2 price table.
 *
 * Costs are integers in 1/64 bit (EST_PRICE_BITS) so C and Python agree exactly.
 */
#include "internal.h"

/* log2(x) in 16.16 fixed point for x >= 1, integer-only so Python reproduces it. */
static uint64_t ilog2_fp16(uint64_t x)
{
    unsigned n = 0, k;
    uint64_t y, r;
    while ((x >> (n + 1)) != 0) n++;
    /* y in [2^31, 2^32) represents x / 2^n in [1, 2) */
    y = n >= 31 ? x >> (n - 31) : x << (31 - n);
    r = (uint64_t)n << 16;
    for (k = 0; k < 16; k++) {
        y = (y * y) >> 31;
        if (y >= (1ULL << 32)) {
            y >>= 1;
            r |= 1ULL << (15 - k);
        }
    }
    return r;
}

/* PRICE[i] = -log2(i / 512) in 1/64 bit, for 11-bit probabilities looked up as p >> 2. */
static void make_prices(uint32_t *price)
{
    unsigned i;
    price[0] = 9u << EST_PRICE_BITS;
    for (i = 1; i < 512; i++) {
        uint64_t l = (9ULL << 16) - ilog2_fp16(i); /* 16.16 */
        price[i] = (uint32_t)((l + (1u << (15 - EST_PRICE_BITS))) >> (16 - EST_PRICE_BITS));
    }
}

static uint32_t bit_price(lzma_model *m, uint16_t *p, unsigned bit)
{
    uint32_t c;
    if (bit) {
        c = m->price[(2048u - *p) >> 2];
        *p = (uint16_t)(*p - (*p >> 5));
    } else {
        c = m->price[*p >> 2];
        *p = (uint16_t)(*p + ((2048u - *p) >> 5));
    }
    return c;
}

static uint32_t tree_price(lzma_model *m, uint16_t *probs, unsigned nbits, unsigned sym)
{
    uint32_t c = 0;
    unsigned idx = 1, i;
    for (i = nbits; i > 0; i--) {
        unsigned b = (sym >> (i - 1)) & 1u;
        c += bit_price(m, &probs[idx], b);
        idx = (idx << 1) | b;
    }
    return c;
}

/* LZMA's reverse bit tree: the low bit first. */
static uint32_t rev_price(lzma_model *m, uint16_t *probs, unsigned nbits, unsigned sym)
{
    uint32_t c = 0;
    unsigned idx = 1, i;
    for (i = 0; i < nbits; i++) {
        unsigned b = sym & 1u;
        sym >>= 1;
        c += bit_price(m, &probs[idx], b);
        idx = (idx << 1) | b;
    }
    return c;
}

void lzma_init(lzma_model *m)
{
    size_t i;
    uint16_t *all = &m->is_match[0][0];
    /* every probability array is contiguous between is_match and cost */
    size_t n = (size_t)((uint16_t *)&m->cost - all);
    make_prices(m->price);
    for (i = 0; i < n; i++) all[i] = 1024;
    m->cost = 0;
}

static uint32_t lzma_len_price(lzma_model *m, unsigned rep, unsigned len, unsigned pst)
{
    unsigned l = len - 2;
    uint32_t c;
    if (l < 8) {
        c = bit_price(m, &m->len_choice[rep][0], 0);
        return c + tree_price(m, m->len_low[rep][pst], 3, l);
    }
    c = bit_price(m, &m->len_choice[rep][0], 1);
    if (l < 16) {
        c += bit_price(m, &m->len_choice[rep][1], 0);
        return c + tree_price(m, m->len_mid[rep][pst], 3, l - 8);
    }
    c += bit_price(m, &m->len_choice[rep][1], 1);
    return c + tree_price(m, m->len_high[rep], 8, l - 16);
}

static unsigned floor_log2_64(uint64_t v)
{
    unsigned n = 0;
    while (v >>= 1) n++;
    return n;
}

/* NRV-style gamma code: every bit of v below the top one costs a data bit + a flag bit. */
static uint32_t gamma_bits(uint64_t v)
{
    return 2u * floor_log2_64(v < 2 ? 2 : v);
}

/* What a normal match's distance costs: its slot, then the bits below the slot: adaptive
 * for slots 4-13, and for the low 4 bits above that (LZMA learns that fixed-width code's
 * distances are multiples of 4); the rest 1 bit each. */
static uint64_t lzma_dist_price(lzma_model *m, uint64_t off, unsigned len)
{
    uint64_t dist = off - 1, c;
    unsigned lst = len - 2 < 3 ? len - 2 : 3;
    unsigned slot;
    if (dist < 4) {
        slot = (unsigned)dist;
    } else {
        unsigned fl = floor_log2_64(dist);
        slot = 2 * fl + (unsigned)((dist >> (fl - 1)) & 1u);
    }
    c = tree_price(m, m->slot[lst], 6, slot);
    if (slot >= 4) {
        unsigned footer = (slot >> 1) - 1;
        uint64_t base = (uint64_t)(2 | (slot & 1)) << footer;
        if (slot < 14) {
            c += rev_price(m, m->spec + base - slot - 1, footer, (unsigned)(dist - base));
        } else {
            c += (uint64_t)(footer - 4) << EST_PRICE_BITS;
            c += rev_price(m, m->align, 4, (unsigned)(dist & 15));
        }
    }
    return c;
}

/* A literal: LZMA's state after one is EST_LIT_NEXT[state] (tables.json). */
void code_literal(est_coder *c, const uint8_t *d, size_t pos)
{
    if (c->level == SK_LEVEL_BEST) {
        c->cost += 9u << EST_PRICE_BITS;
    } else {
        lzma_model *m = c->lz;
        unsigned ctx = pos > 0 ? d[pos - 1] >> 5 : 0;
        m->cost += bit_price(m, &m->is_match[c->state][pos & 3], 0);
        m->cost += tree_price(m, m->lit[ctx], 8, d[pos]);
        c->state = EST_LIT_NEXT[c->state];
    }
}

void code_match(est_coder *c, size_t pos, unsigned len, uint64_t off, int rep)
{
    if (c->level == SK_LEVEL_BEST) {
        uint64_t bits = 1;
        if (rep) {
            bits += 2 + gamma_bits(len - 1 + 2);
        } else {
            bits += gamma_bits(((off - 1) >> 8) + 2) + 8;
            /* NRV2B/2E make far matches pay one length unit more */
            bits += gamma_bits(len - 2 + 2 + (off > c->nrv_far ? 1 : 0));
        }
        c->cost += bits << EST_PRICE_BITS;
    } else {
        lzma_model *m = c->lz;
        unsigned pst = (unsigned)(pos & 3);
        m->cost += bit_price(m, &m->is_match[c->state][pst], 1);
        m->cost += bit_price(m, &m->is_rep[c->state], rep ? 1u : 0u);
        if (rep) {
            unsigned ri = rep - 1;
            m->cost += bit_price(m, &m->is_rep_g[0][c->state], ri != 0);
            if (ri == 0) m->cost += bit_price(m, &m->is_rep0_long[c->state][pst], 1);
            if (ri != 0) {
                m->cost += bit_price(m, &m->is_rep_g[1][c->state], ri != 1);
                if (ri != 1) m->cost += bit_price(m, &m->is_rep_g[2][c->state], ri != 2);
            }
        }
        m->cost += lzma_len_price(m, rep ? 1u : 0u, len, pst);
        if (!rep) m->cost += lzma_dist_price(m, off, len);
    }
    if (c->level == SK_LEVEL_LZMA)
        c->state = rep ? (c->state < 7 ? 8u : 11u) : (c->state < 7 ? 7u : 10u);
}

/* LZMA's short rep: one byte from the last distance. */
void code_short_rep(est_coder *c, size_t pos)
{
    lzma_model *m = c->lz;
    m->cost += bit_price(m, &m->is_match[c->state][pos & 3], 1);
    m->cost += bit_price(m, &m->is_rep[c->state], 1);
    m->cost += bit_price(m, &m->is_rep_g[0][c->state], 0);
    m->cost += bit_price(m, &m->is_rep0_long[c->state][pos & 3], 0);
    c->state = c->state < 7 ? 9 : 11;
}
