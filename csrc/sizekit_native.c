/* sizekit native module. See sizekit_native.h for the API and error codes.
 *
 * Everything here has a pure-Python twin in sizekit/elf/twin.py that must give the same
 * integers; any change to an algorithm or constant must be made in both places.
 */
#include "sizekit_native.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Loads. memcpy keeps unaligned access legal; the byte order is fixed by the format.    */

static int host_is_little(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static uint64_t bswap64(uint64_t v)
{
    return ((v & 0xffULL) << 56) | ((v & 0xff00ULL) << 40) | ((v & 0xff0000ULL) << 24) |
           ((v & 0xff000000ULL) << 8) | ((v >> 8) & 0xff000000ULL) |
           ((v >> 24) & 0xff0000ULL) | ((v >> 40) & 0xff00ULL) | (v >> 56);
}

static uint64_t rd64le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    /* folded to a constant by the compiler */
    return host_is_little() ? v : bswap64(v);
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

/* ------------------------------------------------------------------------------------ */
/* sk_hash64: four independent lanes, each eating 16 bytes per step with one 64x64->128  */
/* multiply folded to 64 bits. The lanes do not depend on each other, so the multiplier   */
/* pipeline stays full; each lane is chained (the state feeds the multiply), so block     */
/* order matters. Adding t back after the multiply keeps the state when a data word       */
/* happens to zero one factor.                                                            */

static const uint64_t HK[8] = {
    /* fractional parts of sqrt(2), sqrt(3), sqrt(5), ..., sqrt(19) */
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
    0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
    0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};
static const uint64_t HGOLD = 0x9e3779b97f4a7c15ULL;
static const uint64_t HFIN1 = 0xd6e8feb86659fd93ULL;
static const uint64_t HFIN2 = 0xcb24d0a5c88c35b3ULL;

#define SK_PREFETCH_AHEAD 8192

/* 64x64 -> 128-bit product, low half xor high half. */
static uint64_t mumfold(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__) && !defined(SK_NO_INT128)
    __extension__ typedef unsigned __int128 sk_u128;
    sk_u128 r = (sk_u128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    /* portable schoolbook version for compilers without a 128-bit type */
    uint64_t al = a & 0xffffffffULL, ah = a >> 32, bl = b & 0xffffffffULL, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffULL) + (hl & 0xffffffffULL);
    uint64_t lo = (ll & 0xffffffffULL) | (mid << 32);
    uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return lo ^ hi;
#endif
}

static uint64_t rotl64(uint64_t v, unsigned r)
{
    return (v << r) | (v >> (64 - r));
}

#define SK_LANE_STEP(lane, k, a, b)                                   \
    do {                                                              \
        uint64_t t_ = (lane) + (a);                                   \
        (lane) = mumfold(t_ ^ HK[2 * (k)], (b) ^ HK[2 * (k) + 1]) + t_; \
    } while (0)

uint64_t sk_hash64(const uint8_t *data, size_t len, uint64_t seed)
{
    uint64_t l0 = seed ^ rotl64(HK[0], 17), l1 = seed ^ rotl64(HK[2], 17);
    uint64_t l2 = seed ^ rotl64(HK[4], 17), l3 = seed ^ rotl64(HK[6], 17);
    const uint8_t *p = data;
    size_t n = (data == NULL) ? 0 : len;
    size_t rest = n;

    while (rest >= 64) {
#if defined(__GNUC__)
        /* On this class of machine (2-core Xeon VM) the hardware prefetcher alone falls
         * behind this loop; asking for the line 8 KiB ahead keeps it fed. The throughput
         * is what benchmarks/bench_hash.py prints (the README quotes it). Only inside the
         * buffer, so the pointer arithmetic stays defined. */
        if (rest >= SK_PREFETCH_AHEAD + 64) __builtin_prefetch(p + SK_PREFETCH_AHEAD);
#endif
        SK_LANE_STEP(l0, 0, rd64le(p), rd64le(p + 8));
        SK_LANE_STEP(l1, 1, rd64le(p + 16), rd64le(p + 24));
        SK_LANE_STEP(l2, 2, rd64le(p + 32), rd64le(p + 40));
        SK_LANE_STEP(l3, 3, rd64le(p + 48), rd64le(p + 56));
        p += 64;
        rest -= 64;
    }
    {
        uint64_t lanes[4];
        unsigned k = 0;
        lanes[0] = l0; lanes[1] = l1; lanes[2] = l2; lanes[3] = l3;
        while (rest >= 16) {
            SK_LANE_STEP(lanes[k], k, rd64le(p), rd64le(p + 8));
            k++;
            p += 16;
            rest -= 16;
        }
        if (rest > 0) {
            /* zero padding is unambiguous because the length is mixed in below */
            uint8_t buf[16];
            memset(buf, 0, sizeof buf);
            memcpy(buf, p, rest);
            SK_LANE_STEP(lanes[k], k, rd64le(buf), rd64le(buf + 8));
        }
        {
            uint64_t h = seed ^ ((uint64_t)n * HGOLD);
            for (k = 0; k < 4; k++)
                h = mumfold(h ^ lanes[k], HK[(k + 4) & 7] ^ HGOLD) + lanes[k];
            h ^= h >> 32;
            h *= HFIN1;
            h ^= h >> 29;
            h *= HFIN2;
            h ^= h >> 32;
            return h;
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* ELF                                                                                    */

typedef struct {
    const uint8_t *d;
    size_t len;
    int big;
} elfbuf;

/* Callers have already checked that off + n <= len. */
static uint64_t eread(const elfbuf *e, uint64_t off, unsigned n)
{
    uint64_t v = 0;
    unsigned i;
    const uint8_t *p = e->d + off;
    if (e->big) {
        for (i = 0; i < n; i++) v = (v << 8) | p[i];
    } else {
        for (i = n; i > 0; i--) v = (v << 8) | p[i - 1];
    }
    return v;
}

/* Does [off, off + n) lie inside the buffer? Written so that nothing can overflow. */
static int in_file(uint64_t off, uint64_t n, size_t len)
{
    return off <= (uint64_t)len && n <= (uint64_t)len - off;
}

static const uint8_t ELF_MAGIC[4] = {0x7f, 'E', 'L', 'F'};

/* Reads section header `idx` (already range-checked against the table) into `s`. */
static void read_shdr(const elfbuf *e, const sk_elf_info *info, uint32_t idx, sk_section *s,
                      uint32_t *name)
{
    uint64_t b = info->shoff + (uint64_t)idx * info->shentsize;
    memset(s, 0, sizeof *s);
    s->index = idx;
    *name = (uint32_t)eread(e, b, 4);
    s->type = (uint32_t)eread(e, b + 4, 4);
    if (info->elfclass == 64) {
        s->flags = eread(e, b + 8, 8);
        s->addr = eread(e, b + 16, 8);
        s->offset = eread(e, b + 24, 8);
        s->size = eread(e, b + 32, 8);
        s->link = (uint32_t)eread(e, b + 40, 4);
        s->info = (uint32_t)eread(e, b + 44, 4);
        s->addralign = eread(e, b + 48, 8);
        s->entsize = eread(e, b + 56, 8);
    } else {
        s->flags = eread(e, b + 8, 4);
        s->addr = eread(e, b + 12, 4);
        s->offset = eread(e, b + 16, 4);
        s->size = eread(e, b + 20, 4);
        s->link = (uint32_t)eread(e, b + 24, 4);
        s->info = (uint32_t)eread(e, b + 28, 4);
        s->addralign = eread(e, b + 32, 4);
        s->entsize = eread(e, b + 36, 4);
    }
}

int sk_elf_info_read(const uint8_t *data, size_t len, sk_elf_info *info)
{
    elfbuf e;
    uint64_t shoff, shnum, shstrndx;
    uint32_t ehsize, shdrsize, entsize;
    size_t i;

    if (info == NULL || (data == NULL && len != 0)) return SK_ERR_ARG;
    memset(info, 0, sizeof *info);
    if (len == 0) return SK_ERR_EMPTY;
    for (i = 0; i < 4 && i < len; i++)
        if (data[i] != ELF_MAGIC[i]) return SK_ERR_BADMAGIC;
    if (len < 16) return SK_ERR_TRUNCATED;
    if (data[4] != 1 && data[4] != 2) return SK_ERR_BADCLASS;
    info->elfclass = data[4] == 1 ? 32 : 64;
    if (data[5] != 1 && data[5] != 2) return SK_ERR_BADDATA;
    info->endian = data[5];
    ehsize = info->elfclass == 64 ? 64 : 52;
    shdrsize = info->elfclass == 64 ? 64 : 40;
    if (len < ehsize) return SK_ERR_TRUNCATED;

    e.d = data;
    e.len = len;
    e.big = data[5] == 2;
    info->type = (uint32_t)eread(&e, 16, 2);
    info->machine = (uint32_t)eread(&e, 18, 2);
    if (info->elfclass == 64) {
        shoff = eread(&e, 40, 8);
        entsize = (uint32_t)eread(&e, 58, 2);
        shnum = eread(&e, 60, 2);
        shstrndx = eread(&e, 62, 2);
    } else {
        shoff = eread(&e, 32, 4);
        entsize = (uint32_t)eread(&e, 46, 2);
        shnum = eread(&e, 48, 2);
        shstrndx = eread(&e, 50, 2);
    }
    info->shoff = shoff;
    info->shentsize = entsize;
    /* No section header table at all (e.g. some packed files): a valid, empty list. */
    if (shoff == 0) return SK_OK;
    if (entsize < shdrsize) return SK_ERR_SHENTSIZE;
    if (!in_file(shoff, entsize, len)) return SK_ERR_SHTABLE;
    /* Extended numbering: the real count and name index live in section 0. */
    if (shnum == 0 || shstrndx == 0xffff) {
        sk_section s0;
        uint32_t nm;
        read_shdr(&e, info, 0, &s0, &nm);
        if (shnum == 0) shnum = s0.size;
        if (shstrndx == 0xffff) shstrndx = s0.link;
    }
    if (shnum > SK_MAX_SECTIONS) {
        info->shnum = shnum > 0xffffffffULL ? 0xffffffffU : (uint32_t)shnum;
        return SK_ERR_TOOMANY;
    }
    info->shnum = (uint32_t)shnum;
    info->shstrndx = (uint32_t)shstrndx;
    if (!in_file(shoff, shnum * entsize, len)) return SK_ERR_SHTABLE;
    if (shstrndx != 0 && shstrndx >= shnum) return SK_ERR_SHSTRNDX;
    return SK_OK;
}

static int has_file_bytes(const sk_section *s)
{
    return s->type != 8 /* SHT_NOBITS */ && s->type != 0 /* SHT_NULL */ && s->size > 0;
}

int sk_elf_sections(const uint8_t *data, size_t len, sk_section *out, size_t cap,
                    size_t *count)
{
    sk_elf_info info;
    elfbuf e;
    uint64_t str_off = 0, str_size = 0;
    uint32_t i, nm;
    int rc;

    if (count == NULL || (out == NULL && cap != 0)) return SK_ERR_ARG;
    *count = 0;
    rc = sk_elf_info_read(data, len, &info);
    if (rc != SK_OK) return rc;
    *count = info.shnum;
    if (cap < info.shnum) return SK_ERR_CAPACITY;
    e.d = data;
    e.len = len;
    e.big = info.endian == 2;

    if (info.shstrndx != 0) {
        sk_section st;
        read_shdr(&e, &info, info.shstrndx, &st, &nm);
        if (has_file_bytes(&st)) {
            if (!in_file(st.offset, st.size, len)) {
                *count = info.shstrndx;
                return SK_ERR_RANGE;
            }
            str_off = st.offset;
            str_size = st.size;
        }
    }
    for (i = 0; i < info.shnum; i++) {
        sk_section *s = &out[i];
        read_shdr(&e, &info, i, s, &nm);
        if (info.shstrndx != 0 && !(nm == 0 && str_size == 0)) {
            const uint8_t *start, *nul;
            if (nm >= str_size) {
                *count = i;
                return SK_ERR_NAME;
            }
            start = data + str_off + nm;
            nul = memchr(start, 0, (size_t)(str_size - nm));
            if (nul == NULL) {
                *count = i;
                return SK_ERR_NAME;
            }
            s->name_off = str_off + nm;
            s->name_len = (uint64_t)(nul - start);
        }
        if (has_file_bytes(s)) {
            if (!in_file(s->offset, s->size, len)) {
                *count = i;
                return SK_ERR_RANGE;
            }
            s->hash = sk_hash64(data + s->offset, (size_t)s->size, 0);
        } else {
            s->hash = sk_hash64(NULL, 0, 0);
        }
    }
    *count = info.shnum;
    return SK_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Packed-size estimate                                                                   */
/*                                                                                        */
/* The file is cut into the pieces UPX compresses separately (est_run, below); pieces     */
/* UPX may filter are priced with and without the branch filter.                         */
/* One lazy LZ77 parse (bucketed match finder, repeat-offset check: rep0 for BEST,        */
/* rep0-rep3 plus LZMA's one-byte short rep for LZMA; a match is put off by a literal     */
/* when the next position or the one after starts a longer one, or a repeat match nearly  */
/* as long, as an optimal parse would) feeds one of two cost models:                      */
/*  - SK_LEVEL_BEST: fixed bit costs shaped like UCL's NRV2E codes (flag bit per token,   */
/*    9-bit literals, gamma-coded offset high part + 8 raw bits, gamma-coded lengths).    */
/*  - SK_LEVEL_LZMA: adaptive binary models updated like LZMA's range coder (11-bit       */
/*    probabilities, shift-5 updates), literal trees with a 3-bit previous-byte context,  */
/*    LZMA's 12 states, length coder and distance slots; costs from a -log2 price table.  */
/* Costs are integers in 1/64 bit so C and Python agree exactly. EST_A maps the model    */
/* size to UPX's compressed size; EST_STUB adds UPX's loader and headers.                 */

#define EST_MINMATCH 4
#define EST_REPMIN 2
#define EST_SHORTMATCH 3 /* found where no 4-byte match is, within NRV's near offsets (nrv_far)
                          * or EST_SHORTFAR_LZMA */
#define EST_SHORTFAR_LZMA 0x1000
#define EST_HASH3BITS 16
#define EST_MAXLEN 273        /* LZMA's longest match */
#define EST_MAXLEN_NRV 65535  /* UCL's gamma-coded lengths have no such limit */
#define EST_HASHBITS 17 /* the most; a piece of n bytes gets a table of about n entries */
#define EST_HASHBITS_MIN 10
/* positions kept per hash bucket (powers of two dividing 256): LZMA's optimal parse finds
 * matches a bigger search brings out, at 1.4x the time */
#define EST_WAYS_NRV 8
#define EST_WAYS_LZMA 16
#define EST_NICE 64
#define EST_WINDOW (1u << 22)
#define EST_PRICE_BITS 6 /* prices in 1/64 bit */


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

typedef struct {
    uint32_t price[512];
    uint16_t is_match[12][4];
    uint16_t is_rep[12];
    uint16_t is_rep_g[3][12];
    uint16_t is_rep0_long[12][4];
    uint16_t lit[8][256];
    uint16_t len_choice[2][2];
    uint16_t len_low[2][4][8];
    uint16_t len_mid[2][4][8];
    uint16_t len_high[2][256];
    uint16_t slot[4][64];
    uint16_t spec[115]; /* distance footers of slots 4-13 */
    uint16_t align[16]; /* the low 4 bits of distances of slot 14 and up */
    uint64_t cost;      /* 1/64 bit */
} lzma_model;

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

static void lzma_init(lzma_model *m)
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

typedef struct {
    int level;
    uint64_t nrv_far; /* offsets above this pay one length unit more (NRV2B 0xd00, 2E 0x500) */
    unsigned state;   /* LZMA's state, 0-11 */
    uint64_t cost;
    lzma_model *lz;
} est_coder;

/* LZMA's 12 states (the contexts of its match and repeat flags): the state after a
 * literal; a match, repeat and short repeat lead to 7, 8 and 9 from a state below 7, else
 * to 10, 11 and 11. (LZMA codes a literal after a match against the byte at the last
 * distance; priced that way, the model's error over the calibration blocks grew by 5%,
 * so literals are priced alike here.) */
static const uint8_t EST_LIT_NEXT[12] = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5};

static void code_literal(est_coder *c, const uint8_t *d, size_t pos)
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

static void code_match(est_coder *c, size_t pos, unsigned len, uint64_t off, int rep)
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
        if (!rep) {
            uint64_t dist = off - 1;
            unsigned lst = len - 2 < 3 ? len - 2 : 3;
            unsigned slot;
            if (dist < 4) {
                slot = (unsigned)dist;
            } else {
                unsigned fl = floor_log2_64(dist);
                slot = 2 * fl + (unsigned)((dist >> (fl - 1)) & 1u);
            }
            m->cost += tree_price(m, m->slot[lst], 6, slot);
            if (slot >= 4) {
                /* the bits below the slot: adaptive for slots 4-13, and for the low 4 bits
                 * above that (LZMA learns that fixed-width code's distances are multiples
                 * of 4); the rest 1 bit each */
                unsigned footer = (slot >> 1) - 1;
                uint64_t base = (uint64_t)(2 | (slot & 1)) << footer;
                if (slot < 14) {
                    m->cost += rev_price(m, m->spec + base - slot - 1, footer,
                                         (unsigned)(dist - base));
                } else {
                    m->cost += (uint64_t)(footer - 4) << EST_PRICE_BITS;
                    m->cost += rev_price(m, m->align, 4, (unsigned)(dist & 15));
                }
            }
        }
    }
    if (c->level == SK_LEVEL_LZMA)
        c->state = rep ? (c->state < 7 ? 8u : 11u) : (c->state < 7 ? 7u : 10u);
}

/* The match finder: each hash bucket keeps the last `ways` positions in one cache line,
 * newest at cnt-1. Hash chains (a linked list through a prev[] array) measured 3x slower
 * here: every step of the walk was a dependent cache miss. */
typedef struct {
    int32_t *bucket;
    uint8_t *cnt;
    unsigned bits, ways;
} est_finder;

/* Table bits for a piece of n bytes: the fewest (from EST_HASHBITS_MIN) whose buckets hold
 * n positions, at most EST_HASHBITS, so a small piece does not fill a 4 MB table. */
static unsigned est_hashbits(size_t n, unsigned ways)
{
    unsigned bits = EST_HASHBITS_MIN;
    while (bits < EST_HASHBITS && ((size_t)ways << bits) < n) bits++;
    return bits;
}

/* The 3-byte matches' table: the last position of each 3-byte hash. */
static uint32_t est_hash3(const uint8_t *p)
{
    return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16) * 2654435761u >>
           (32 - EST_HASH3BITS);
}

static uint32_t est_hash4(const est_finder *f, const uint8_t *p)
{
    return (rd32le(p) * 2654435761u) >> (32 - f->bits);
}

/* The bucket of position p is read a few positions later: start loading it now, since
 * with a table of megabytes nearly every bucket is a cache miss. */
#if defined(__GNUC__)
#define EST_PREFETCH(f, d, n, p)                                                          \
    do {                                                                                  \
        if ((p) + EST_MINMATCH <= (n))                                                    \
            __builtin_prefetch((f)->bucket + (size_t)est_hash4((f), (d) + (p)) * (f)->ways); \
    } while (0)
#else
#define EST_PREFETCH(f, d, n, p) ((void)0)
#endif

static unsigned match_len(const uint8_t *a, const uint8_t *b, unsigned maxl)
{
    unsigned n = 0;
    while (n + 8 <= maxl) {
        uint64_t x = rd64le(a + n) ^ rd64le(b + n);
        if (x != 0) {
#if defined(__GNUC__)
            return n + (unsigned)(__builtin_ctzll(x) >> 3);
#else
            while ((x & 0xff) == 0) {
                x >>= 8;
                n++;
            }
            return n;
#endif
        }
        n += 8;
    }
    while (n < maxl && a[n] == b[n]) n++;
    return n;
}

/* Whether position p starts a match longer than `min` bytes (the bucket read only). */
static int est_longer(const est_finder *f, const uint8_t *d, size_t n, size_t p,
                      unsigned min, unsigned maxlen)
{
    const int32_t *b;
    uint32_t h;
    unsigned k, j, maxl;
    if (p + EST_MINMATCH > n) return 0;
    maxl = n - p < maxlen ? (unsigned)(n - p) : maxlen;
    if (maxl <= min) return 0;
    h = est_hash4(f, d + p);
    b = f->bucket + (size_t)h * f->ways;
    k = f->cnt[h];
    for (j = 0; j < f->ways; j++) {
        int32_t cand = b[(k - 1 - j) & (f->ways - 1)];
        if (cand < 0 || p - (size_t)cand > EST_WINDOW) break;
        if (d[cand + min] == d[p + min] && match_len(d + cand, d + p, maxl) > min) return 1;
    }
    return 0;
}

/* Whether a normal match of `best` bytes at pos is better put off by one literal: the
 * next position starts a longer match or a repeat match at most one byte shorter, or the
 * one after a match longer by two. */
static int est_defer(const est_finder *f, const uint8_t *d, size_t n, size_t pos,
                     unsigned best, unsigned maxlen, const uint64_t *reps, unsigned nreps)
{
    unsigned r;
    if (est_longer(f, d, n, pos + 1, best, maxlen)) return 1;
    if (pos + 1 < n) {
        unsigned maxl = n - pos - 1 < maxlen ? (unsigned)(n - pos - 1) : maxlen;
        for (r = 0; r < nreps; r++)
            if (reps[r] != 0 && reps[r] <= pos + 1) {
                unsigned l = match_len(d + pos + 1 - reps[r], d + pos + 1, maxl);
                if (l >= EST_REPMIN && l + 1 >= best) return 1;
            }
    }
    return est_longer(f, d, n, pos + 2, best + 1, maxlen);
}

/* The model's stream bytes of d[0, n) in *bytes. The parse stops once it reaches `stop`
 * (n for the whole piece); *at_mark (may be NULL) gets the cost in 1/64 bit of the tokens
 * that start before `mark`. */
static int est_stream(const uint8_t *d, size_t n, int level, uint64_t nrv_far, size_t stop,
                      size_t mark, uint64_t *at_mark, uint64_t *bytes)
{
    est_finder f;
    int32_t *bucket, *last3;
    const uint64_t short_far = level == SK_LEVEL_LZMA ? EST_SHORTFAR_LZMA : nrv_far;
    uint8_t *cnt;
    lzma_model *lz = NULL;
    est_coder c;
    size_t pos = 0, i;
    uint64_t reps[4] = {0, 0, 0, 0};
    unsigned nreps = level == SK_LEVEL_LZMA ? 4 : 1;
    const unsigned maxlen = level == SK_LEVEL_LZMA ? EST_MAXLEN : EST_MAXLEN_NRV;
    const unsigned ways = level == SK_LEVEL_LZMA ? EST_WAYS_LZMA : EST_WAYS_NRV;
    const unsigned bits = est_hashbits(n, ways);
    const size_t nb = (size_t)1 << bits;
    uint32_t h3;

    /* positions are stored as int32 */
    if (n > 0x7fffffffu) return SK_ERR_ARG;
    bucket = malloc(sizeof(int32_t) * nb * ways);
    last3 = calloc((size_t)1 << EST_HASH3BITS, sizeof(int32_t)); /* position + 1; 0: none */
    cnt = calloc(nb, 1);
    if (level == SK_LEVEL_LZMA) lz = malloc(sizeof *lz);
    if (bucket == NULL || cnt == NULL || last3 == NULL ||
        (level == SK_LEVEL_LZMA && lz == NULL)) {
        free(bucket);
        free(cnt);
        free(last3);
        free(lz);
        return SK_ERR_NOMEM;
    }
    for (i = 0; i < nb * ways; i++) bucket[i] = -1;
    if (lz) lzma_init(lz);
    f.bucket = bucket;
    f.cnt = cnt;
    f.bits = bits;
    f.ways = ways;
    c.level = level;
    c.nrv_far = nrv_far;
    c.state = 0;
    c.cost = 0;
    c.lz = lz;

    if (at_mark) *at_mark = 0;
    while (pos < stop) {
        unsigned maxl = n - pos < maxlen ? (unsigned)(n - pos) : maxlen;
        unsigned best = 0, rl = 0;
        uint64_t boff = 0;
        unsigned ri = 0, r;
        if (at_mark && pos >= mark) {
            *at_mark = lz ? lz->cost : c.cost;
            at_mark = NULL;
        }
        EST_PREFETCH(&f, d, n, pos + 1);
        EST_PREFETCH(&f, d, n, pos + 2);
        for (r = 0; r < nreps; r++) {
            if (reps[r] != 0 && reps[r] <= pos) {
                unsigned l = match_len(d + pos - reps[r], d + pos, maxl);
                if (l > rl) {
                    rl = l;
                    ri = r;
                }
            }
        }
        if (pos + EST_MINMATCH <= n) {
            uint32_t h = est_hash4(&f, d + pos);
            int32_t *b = bucket + (size_t)h * ways;
            unsigned k = cnt[h], j;
            for (j = 0; j < ways; j++) {
                int32_t cand = b[(k - 1 - j) & (ways - 1)];
                uint64_t off;
                unsigned l;
                if (cand < 0) break;
                off = pos - (size_t)cand;
                if (off > EST_WINDOW) break;
                /* A candidate that differs at byte `best` cannot be longer: skipping it
                 * saves the compare without changing the result. */
                if (d[cand + best] != d[pos + best]) continue;
                l = match_len(d + cand, d + pos, maxl);
                if (l > best) {
                    best = l;
                    boff = off;
                    if (l >= EST_NICE || l == maxl) break;
                }
            }
            b[k & (ways - 1)] = (int32_t)pos;
            cnt[h] = (uint8_t)(k + 1);
        }
        h3 = pos + EST_SHORTMATCH <= n ? est_hash3(d + pos) : 0;
        if (best >= EST_MINMATCH && best < EST_NICE && rl + 1 < best &&
            est_defer(&f, d, n, pos, best, maxlen, reps, nreps))
            best = rl = 0; /* a literal (or short rep) here instead */
        else if (best < EST_MINMATCH && rl < EST_SHORTMATCH && pos + EST_SHORTMATCH <= n) {
            /* no 4-byte match: a 3-byte one at a near distance, as NRV and LZMA code them */
            int32_t cand = last3[h3] - 1;
            if (cand >= 0 && pos - (size_t)cand <= short_far) {
                unsigned l = match_len(d + cand, d + pos, maxl);
                if (l >= EST_SHORTMATCH) {
                    best = l;
                    boff = pos - (size_t)cand;
                }
            }
        }
        if (pos + EST_SHORTMATCH <= n) last3[h3] = (int32_t)pos + 1;
        if (rl >= EST_REPMIN && rl + 1 >= best) {
            uint64_t dist = reps[ri];
            code_match(&c, pos, rl, dist, 1 + ri);
            for (; ri > 0; ri--) reps[ri] = reps[ri - 1];
            reps[0] = dist;
            best = rl;
        } else if (best >= EST_SHORTMATCH) {
            code_match(&c, pos, best, boff, 0);
            reps[3] = reps[2];
            reps[2] = reps[1];
            reps[1] = reps[0];
            reps[0] = boff;
        } else if (lz != NULL && reps[0] != 0 && reps[0] <= pos && d[pos - reps[0]] == d[pos]) {
            /* LZMA's short rep: one byte from the last distance */
            lzma_model *m = lz;
            m->cost += bit_price(m, &m->is_match[c.state][pos & 3], 1);
            m->cost += bit_price(m, &m->is_rep[c.state], 1);
            m->cost += bit_price(m, &m->is_rep_g[0][c.state], 0);
            m->cost += bit_price(m, &m->is_rep0_long[c.state][pos & 3], 0);
            c.state = c.state < 7 ? 9 : 11;
            pos++;
            continue;
        } else {
            code_literal(&c, d, pos);
            pos++;
            continue;
        }
        for (i = pos + 1; i < pos + best && i + EST_SHORTMATCH <= n; i++)
            last3[est_hash3(d + i)] = (int32_t)i + 1;
        for (i = pos + 1; i < pos + best && i + EST_MINMATCH <= n; i++) {
            uint32_t h = est_hash4(&f, d + i);
            EST_PREFETCH(&f, d, n, i + 4);
            bucket[(size_t)h * ways + (cnt[h] & (ways - 1))] = (int32_t)i;
            cnt[h] = (uint8_t)(cnt[h] + 1);
        }
        pos += best;
    }
    if (at_mark) *at_mark = lz ? lz->cost : c.cost;
    *bytes = ((level == SK_LEVEL_LZMA ? lz->cost : c.cost) + (8u << EST_PRICE_BITS) - 1) >>
             (EST_PRICE_BITS + 3);
    free(bucket);
    free(cnt);
    free(lz);
    free(last3);
    return SK_OK;
}

/* ------------------------------------------------------------------------------------ */
/* Branch filters, as UPX 4.2.4 runs them (src/filter/ctok.h, ct.h) over a piece before  */
/* compressing it. Positions are relative to the piece, as UPX filters each block from   */
/* its own buffer start with addvalue 0.                                                  */

/* 0x49 (x86, x86-64): every E8 call, E9 jmp and 0F 8x jcc whose rel32 target lands in    */
/* the piece gets the absolute target, stored big-endian, so repeated calls to one        */
/* function become repeated byte strings. A conversion skips the 4 bytes it wrote; the    */
/* 0F check reads the byte before, as already converted.                                  */
static void filter_x86(uint8_t *d, uint64_t size)
{
    uint64_t i = 0;
    while (i + 5 <= size) {
        uint8_t b = d[i];
        if (b == 0xe8 || b == 0xe9 || ((b & 0xf0) == 0x80 && i > 0 && d[i - 1] == 0x0f)) {
            uint64_t t = (uint64_t)((rd32le(d + i + 1) + (uint32_t)(i + 1)) & 0xffffffffu);
            if (t < size) {
                d[i + 1] = (uint8_t)(t >> 24);
                d[i + 2] = (uint8_t)(t >> 16);
                d[i + 3] = (uint8_t)(t >> 8);
                d[i + 4] = (uint8_t)t;
                i += 5;
                continue;
            }
        }
        i++;
    }
}

/* 0x50 (ARM, little-endian) and 0x52 (AArch64): each aligned word that is a BL (ARM: the */
/* top byte's low nibble is 0xb, any condition) or a B/BL (AArch64: top byte & 0x7c is    */
/* 0x14) gets word index + offset in its 24 or 26 offset bits. UPX's loop stops 4 bytes   */
/* before the end, so the last word is never converted.                                   */
static void filter_arm(uint8_t *d, uint64_t size, int arm64)
{
    uint64_t i;
    if (size < 8) return;
    for (i = 0; i + 4 < size; i += 4) {
        uint32_t w = rd32le(d + i);
        uint32_t mask = arm64 ? 0x03ffffffu : 0x00ffffffu;
        int hit = arm64 ? ((d[i + 3] & 0x7c) == 0x14) : ((d[i + 3] & 0x0f) == 0x0b);
        if (hit) {
            w = (w & ~mask) | ((w + (uint32_t)(i / 4)) & mask);
            d[i] = (uint8_t)w;
            d[i + 1] = (uint8_t)(w >> 8);
            d[i + 2] = (uint8_t)(w >> 16);
            d[i + 3] = (uint8_t)(w >> 24);
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* What UPX 4.2.4 does with an ELF file (src/p_lx_elf.cpp, p_unix.cpp), as pieces.        */
/*  - The method: --lzma is LZMA; otherwise NRV2B for files up to 512 KiB, NRV2E above    */
/*    (Packer::getDefaultCompressionMethods_*: "small" files get NRV2B).                  */
/*  - Program (ET_EXEC, or ET_DYN with PT_INTERP or DF_1_PIE): the ELF and program headers */
/*    are one piece; each PT_LOAD (the first one after the headers) is one piece, and    */
/*    only the largest PF_X PT_LOAD goes through the branch filter; every gap after a    */
/*    PT_LOAD up to the next one or the end of file (section headers, symbols, debug     */
/*    info) is one more piece without a filter.                                          */
/*  - Shared library: everything below xct_off (the lowest SHF_EXECINSTR section) stays  */
/*    as it is, because ld.so reads it before UPX's code runs; the headers are one piece; */
/*    the rest of the PT_LOAD holding xct_off and every later read-only PT_LOAD are      */
/*    filtered pieces; gaps are pieces; writable PT_LOADs are copied after the loader,    */
/*    each padded to its offset modulo p_align, lowered to 4 KiB except on AArch64 (the    */
/*    packed files' PT_LOADs say 0x1000 for x86-64 and ARM, 0x10000 for AArch64).          */
/*  - Every extent is compressed in blocks of at most p_blocksize bytes (the largest       */
/*    PT_LOAD, or the tail after the last one when longer), each with its own b_info.      */
/*  - Each piece costs a 12-byte b_info header plus its compressed size, or its own size */
/*    when compression does not shrink it (UPX then stores it). A block of code is also  */
/*    stored when compressing it would not save the loader's size (EST_LSIZE).           */
/*  - ARM shared libraries: after the copied PT_LOADs UPX appends the original section   */
/*    headers, .ARM.attributes, a .shstrtab and its own 3-entry section table.           */
/*  - The rest is per architecture and file kind: UPX's loader stub, the new ELF headers */
/*    of a packed program, l_info/p_info, the end marker and the PackHeader (EST_STUB).  */

enum { EST_ARCH_X86_64 = 0, EST_ARCH_ARMV7 = 1, EST_ARCH_AARCH64 = 2, EST_ARCH_I386 = 3 };
/* The row of EST_A, EST_STUB and EST_LSIZE for an arch: i386 is taken as x86-64. */
#define EST_TABLE_ARCH(arch) ((arch) == EST_ARCH_I386 ? EST_ARCH_X86_64 : (arch))
enum { EST_M_NRV2B = 0, EST_M_NRV2E = 1, EST_M_LZMA = 2 };
#define EST_SMALL_FILE (512u * 1024u)
#define EST_MAX_LOADS 64

/* Compressed size = model stream * A, A = (a + b * r + c * r^2) / 1000 with r = stream /
 * size in per mille (its own factor of 1000 taken out), r held to [lo, hi] (the calibrated
 * range: no curve is trusted beyond its points) and A clamped to [0.5, 1.1], per [arch]
 * [method (NRV2B, NRV2E, LZMA)][content (code: the piece UPX tries its branch filter on;
 * data: other segments and the headers; gap: bytes outside PT_LOADs, such as symbols and
 * debug info)]. A < 1 because UCL's and LZMA's optimal parses beat this lazy one, and by
 * more where the model finds much to match (small r: repetitive code such as unoptimised
 * Rust); the gain shrinks fast as r rises from unoptimised to optimised code and slowly
 * after, so the curve is a parabola where the calibration has the blocks for one. A block
 * of s model bytes gets A's distance from 1 times s / (s + F) (est_scale). a, b, c are a
 * least-squares fit of UPX's compressed bytes over the model's stream bytes with that fade
 * taken out, per block of 2000+ model bytes of the calibration half of
 * benchmarks/estimate_corpus.py's files (crc32(name) even), UPX 4.2.4, 2026-12-01; F is
 * scanned on the same half's blocks of 300+ model bytes: `bench_estimate.py --fit` prints
 * the scan and this table. Each group's curve is the constant, line (4+ blocks) or
 * parabola (8+) that best predicts each of its blocks from the others (leave-one-out);
 * one with no blocks takes NRV2E's curve of the same arch and content. i386 uses the
 * x86-64 rows (EST_TABLE_ARCH). */
enum { EST_C_CODE = SK_CONTENT_CODE, EST_C_DATA = SK_CONTENT_DATA, EST_C_GAP = SK_CONTENT_GAP,
       EST_C_THUMB = SK_CONTENT_THUMB };
#define EST_FADE_NRV 300
#define EST_FADE_LZMA 5000
static const int32_t EST_A[3][3][4][5] = { /* {a, b, c, lo, hi} */
    /* x86_64: NRV2B, NRV2E, LZMA; code, data, gap, thumb */
    {{{1019, -119, 0, 352, 553}, {1145, -346, 0, 160, 560},
      {932, 0, 0, 0, 1000}, {1019, -119, 0, 352, 553}},
     {{962, -50, 0, 276, 519}, {1586, -3625, 5225, 209, 424},
      {932, 0, 0, 0, 1000}, {962, -50, 0, 276, 519}},
     {{840, 191, 0, 202, 509}, {697, 1322, -2207, 103, 483},
      {881, 0, 0, 0, 1000}, {840, 191, 0, 202, 509}}},
    /* armv7: NRV2B, NRV2E, LZMA; code, data, gap, thumb */
    {{{1038, -159, 0, 444, 546}, {1023, 0, 0, 0, 1000},
      {932, 0, 0, 0, 1000}, {1034, -116, 0, 543, 769}},
     {{848, 187, 0, 280, 549}, {1005, 0, 0, 0, 1000},
      {932, 0, 0, 0, 1000}, {1034, -116, 0, 543, 769}},
     {{701, 886, -941, 207, 438}, {775, 0, 0, 0, 1000},
      {876, 0, 0, 0, 1000}, {650, 978, -768, 460, 665}}},
    /* aarch64: NRV2B, NRV2E, LZMA; code, data, gap, thumb */
    {{{961, 0, 0, 0, 1000}, {1256, -1045, 0, 210, 247},
      {930, 0, 0, 0, 1000}, {961, 0, 0, 0, 1000}},
     {{912, 82, 0, 303, 565}, {1256, -1045, 0, 210, 247},
      {930, 0, 0, 0, 1000}, {912, 82, 0, 303, 565}},
     {{681, 1127, -1288, 222, 458}, {781, 0, 0, 0, 1000},
      {877, 0, 0, 0, 1000}, {681, 1127, -1288, 222, 458}}},
};

/* ARM code is ARM-mode when at least 35% of its aligned words have the "always" condition
 * (top nibble 0xE); Thumb-2 code, a stream of 16-bit halfwords, rarely does. Alignment is
 * by file offset, which matches the addresses' modulo 4. */
static int est_arm_mode(const uint8_t *d, uint64_t off, uint64_t size)
{
    uint64_t i = (4 - (off & 3)) & 3, words = 0, always = 0;
    for (; i + 4 <= size; i += 4) {
        words++;
        if ((d[off + i + 3] & 0xf0) == 0xe0) always++;
    }
    return words > 0 && always * 100 >= words * 35;
}

/* stream * A for one piece, in integers so C and Python agree (divisions of non-negative
 * numbers only, so both round down).
 *
 * The optimal parses' gain over the model needs data to build on (LZMA's adaptive
 * probabilities and repeat offsets most): a block of s model bytes gets A's gain times
 * s / (s + F). F per method is the value that gives the smallest summed block error on the
 * calibration half (`bench_estimate.py --fit` scans it): LZMA's gain builds up over a few
 * KB (a block of 2 KB of model bytes keeps half of it), NRV's within a hundred bytes. */
static uint64_t est_scale(const int32_t (*a)[5], int content, uint64_t stream, uint64_t size,
                          uint64_t fade)
{
    const int32_t *k = a[content];
    int64_t r = (int64_t)(stream * 1000 / size), num;
    uint64_t gain;
    if (r < k[3]) r = k[3];
    if (r > k[4]) r = k[4];
    /* in 1e-9, then clamped (so the division below is of a non-negative number) */
    num = (int64_t)k[0] * 1000000 + (int64_t)k[1] * r * 1000 + (int64_t)k[2] * r * r;
    if (num < 500000000) num = 500000000;
    if (num > 1100000000) num = 1100000000;
    num /= 1000;
    if (num <= 1000000) {
        gain = (uint64_t)(1000000 - num) * stream / (stream + fade);
        num = 1000000 - (int64_t)gain;
    } else {
        gain = (uint64_t)(num - 1000000) * stream / (stream + fade);
        num = 1000000 + (int64_t)gain;
    }
    return stream * (uint64_t)num / 1000000;
}

/* Bytes UPX adds besides the pieces (each a 12-byte b_info and its bytes) and the copied
 * bytes, [arch][0 program, 1 shlib][method]: its loader stub and what it writes around it
 * (new ELF and program headers, l_info, p_info, the end marker, the PackHeader). For a
 * program this is the same for every file of an arch and method to a few bytes: the
 * figures are the medians of packed size minus UPX's own blocks over the calibration
 * half's programs (AArch64 NRV2B: none there, kept from the loader's l_lsize 2912 + 310).
 * For a shared library the loader comes before the copied writable PT_LOADs, so its size
 * shifts their padding and cannot be read off one file; these are l_lsize (x86-64
 * 2282/2302/3574, ARM 2740/-/4128, AArch64 2666/-/4286; "-": taken as NRV2B + 40) plus
 * l_info, p_info, the end marker, the loader's offset words and the PackHeader (90).
 * i386 is taken as x86-64. */
static const uint32_t EST_STUB[3][2][3] = {
    {{3110, 3146, 5451}, {2372, 2392, 3664}},
    {{3080, 3166, 5171}, {2830, 2870, 4218}},
    {{3222, 3273, 5386}, {2756, 2812, 4376}},
};
/* UPX's loader alone (l_lsize in the packed file's l_info), [arch][program, shlib][method];
 * the same for every file of an arch, kind and method; "-" above taken as NRV2B + 40. */
static const uint32_t EST_LSIZE[3][2][3] = {
    {{2804, 2838, 5144}, {2282, 2302, 3574}},
    {{2652, 2692, 4744}, {2740, 2780, 4128}},
    {{2912, 2968, 5080}, {2666, 2706, 4286}},
};
/* Of that, the part after the copied writable PT_LOADs of a shared library (PackHeader). */
#define EST_SHLIB_TAIL 36
/* The model's error band on the compressed bytes, per mille: most calibration blocks of
 * 2 KB+ are estimated within 2%. Where moving them by this much would move a shared
 * library's writable PT_LOADs to the next or previous page, and that step is 5% of the
 * size or more (a page of 64 KiB is 10% of a 640 KB library, 4 KiB is 25% of a 16 KB one),
 * the estimate also gives that other size (sk_estimate_packed's *other_bytes): UPX may
 * give either. `bench_estimate.py` lists these and which size UPX gave. */
#define EST_BAND 20

typedef struct {
    uint64_t off, filesz, vaddr, align;
    uint32_t flags;
} est_seg;

typedef struct {
    int c64, arch, shlib;
    uint64_t hdr_len, xct_off;
    uint64_t arm_tail; /* ARM shared library: bytes written after the copied PT_LOADs */
    unsigned nload;
    est_seg load[EST_MAX_LOADS];
} est_layout;

/* A dynamic entry's address as a file offset through the PT_LOADs, in 32-bit arithmetic
 * as UPX's ELF32 code does (0 when no PT_LOAD holds it or it lies past the end). */
static uint64_t est_va_off32(const est_layout *L, uint64_t va, size_t len)
{
    unsigned k;
    for (k = 0; k < L->nload; k++) {
        uint32_t t = (uint32_t)(va - L->load[k].vaddr);
        if (t < L->load[k].filesz) {
            uint64_t off = (uint32_t)(L->load[k].off + t);
            return off < len ? off : 0;
        }
    }
    return 0;
}

static int est_name_is(const uint8_t *d, size_t len, uint64_t off, const char *name)
{
    size_t n = strlen(name) + 1;
    return in_file(off, n, len) && memcmp(d + off, name, n) == 0;
}

/* UPX 4.2.4 looks up JNI_OnLoad in every ELF32 file with dynamic symbols (DT_HASH first,
 * then DT_GNU_HASH) and refuses the file when that lookup trips one of its checks. One of
 * them compares the GNU hash bucket's first symbol index with the bucket count, so a
 * library whose Bloom filter lets the name through (it defines it, or a false positive)
 * is refused when that index is not below the count: "bad DT_GNU_HASH n_bucket <=
 * buckets[..]". Returns 1 when UPX would refuse. Reads stay inside the file. */
static int est_jni_lookup_fails(const uint8_t *d, size_t len, const est_layout *L,
                                const uint64_t *dyn_va)
{
    static const char name[] = "JNI_OnLoad";
    elfbuf e;
    uint64_t hash = est_va_off32(L, dyn_va[0], len), gnu = est_va_off32(L, dyn_va[1], len);
    uint64_t sym = est_va_off32(L, dyn_va[2], len), str = est_va_off32(L, dyn_va[3], len);
    uint32_t h;
    const char *c;
    e.d = d;
    e.len = len;
    e.big = 0;
    if (!sym || !str) return 0;
    if (hash && in_file(hash, 8, len)) {
        uint64_t nbucket = eread(&e, hash, 4), nvisit = 0, si, at;
        if (nbucket) {
            for (h = 0, c = name; *c; c++) {
                uint32_t t;
                h = (h << 4) + (uint8_t)*c;
                t = h & 0xf0000000u;
                h &= ~t;
                h ^= t >> 24;
            }
            at = hash + 8 + 4 * (uint64_t)(h % nbucket);
            if (!in_file(at, 4, len)) return 0;
            for (si = eread(&e, at, 4); si != 0;) {
                uint64_t s = sym + 16 * si;
                if (!in_file(s, 4, len)) return 0;
                if (est_name_is(d, len, str + eread(&e, s, 4), name)) return 0;
                if (nbucket <= ++nvisit) return 1; /* "circular DT_HASH chain" */
                at = hash + 8 + 4 * nbucket + 4 * si;
                if (!in_file(at, 4, len)) return 0;
                si = eread(&e, at, 4);
            }
        }
    }
    if (gnu && in_file(gnu, 16, len)) {
        uint64_t n_bucket = eread(&e, gnu, 4), n_bitmask = eread(&e, gnu + 8, 4);
        uint64_t shift = eread(&e, gnu + 12, 4), bitmask = gnu + 16, w;
        if (shift > 31) return 1;                                         /* bad gnu_shift */
        if (bitmask + 4 * n_bitmask + 4 * n_bucket >= len) return 1;      /* bad n_bucket */
        if (!n_bitmask || (uint32_t)(len - bitmask) <= 4 * n_bitmask) return 1;
        if (!n_bucket) return 0;
        for (h = 5381, c = name; *c; c++) h += (uint8_t)*c + (h << 5);
        w = eread(&e, bitmask + 4 * ((n_bitmask - 1) & (h >> 5)), 4);
        if (1 & (w >> (h & 31)) & (w >> ((h >> shift) & 31)))
            return n_bucket <= eread(&e, bitmask + 4 * n_bitmask + 4 * (h % n_bucket), 4);
    }
    return 0;
}

/* Reads program and dynamic headers; returns SK_UPX_OK or why UPX would refuse the file. */
static uint32_t est_layout_read(const uint8_t *d, size_t len, est_layout *L)
{
    elfbuf e;
    uint64_t phoff, phent, phnum, k, dyn_off = 0, dyn_size = 0, min_exec = ~0ULL;
    uint64_t shoff, shent, shnum, flags1 = 0, init_va = 0;
    uint64_t dyn_va[4] = {0, 0, 0, 0}; /* DT_HASH, DT_GNU_HASH, DT_SYMTAB, DT_STRTAB */
    unsigned dyn_seen = 0;             /* UPX takes each tag's first entry */
    uint32_t etype, machine;
    int has_init = 0, textrel = 0, has_exec = 0;
    size_t i;

    memset(L, 0, sizeof *L);
    if (len < 64 || memcmp(d, ELF_MAGIC, 4) != 0) return SK_UPX_NOT_ELF;
    if ((d[4] != 1 && d[4] != 2) || d[5] != 1) return SK_UPX_MACHINE;
    L->c64 = d[4] == 2;
    e.d = d;
    e.len = len;
    e.big = 0;
    etype = (uint32_t)eread(&e, 16, 2);
    machine = (uint32_t)eread(&e, 18, 2);
    if (L->c64 && machine == 62) L->arch = EST_ARCH_X86_64;
    else if (L->c64 && machine == 183) L->arch = EST_ARCH_AARCH64;
    else if (!L->c64 && machine == 40) L->arch = EST_ARCH_ARMV7;
    else if (!L->c64 && machine == 3) L->arch = EST_ARCH_I386;
    else return SK_UPX_MACHINE;
    if (etype != 2 && etype != 3) return SK_UPX_TYPE;
    if (len < 4096) return SK_UPX_TOO_SMALL;
    /* UPX's PackHeader carries "UPX!" within the last 256 bytes of a packed file */
    for (i = len - 256; i + 4 <= len; i++)
        if (d[i] == 'U' && d[i + 1] == 'P' && d[i + 2] == 'X' && d[i + 3] == '!')
            return SK_UPX_PACKED;
    phoff = L->c64 ? eread(&e, 32, 8) : eread(&e, 28, 4);
    phent = eread(&e, L->c64 ? 54 : 42, 2);
    phnum = eread(&e, L->c64 ? 56 : 44, 2);
    if (phoff != (L->c64 ? 64u : 52u) || phent != (L->c64 ? 56u : 32u) || phnum == 0 ||
        !in_file(phoff, phnum * phent, len))
        return SK_UPX_PHDRS;
    L->hdr_len = phoff + phnum * phent;
    for (k = 0; k < phnum; k++) {
        uint64_t b = phoff + k * phent, type, off, fsz, va, al;
        uint32_t fl;
        type = eread(&e, b, 4);
        fl = (uint32_t)eread(&e, L->c64 ? b + 4 : b + 24, 4);
        off = L->c64 ? eread(&e, b + 8, 8) : eread(&e, b + 4, 4);
        va = L->c64 ? eread(&e, b + 16, 8) : eread(&e, b + 8, 4);
        fsz = L->c64 ? eread(&e, b + 32, 8) : eread(&e, b + 16, 4);
        al = L->c64 ? eread(&e, b + 48, 8) : eread(&e, b + 28, 4);
        if (type == 2) {
            dyn_off = off;
            dyn_size = fsz;
        }
        if (type != 1) continue;
        if (!in_file(off, fsz, len)) return SK_UPX_PHDRS;
        if (L->nload == 0 && off != 0) return SK_UPX_FIRST_LOAD;
        if (L->nload == EST_MAX_LOADS) return SK_UPX_PHDRS;
        if (fl & 1) has_exec = 1;
        L->load[L->nload].off = off;
        L->load[L->nload].filesz = fsz;
        L->load[L->nload].vaddr = va;
        L->load[L->nload].align = al;
        L->load[L->nload].flags = fl;
        L->nload++;
    }
    if (!has_exec) return SK_UPX_NO_EXEC;
    if (dyn_size > 0 && in_file(dyn_off, 0, len)) {
        uint64_t ent = L->c64 ? 16 : 8, p;
        uint64_t end = dyn_size > len - dyn_off ? len : dyn_off + dyn_size;
        for (p = dyn_off; p + ent <= end; p += ent) {
            uint64_t tag = L->c64 ? eread(&e, p, 8) : eread(&e, p, 4);
            uint64_t val = L->c64 ? eread(&e, p + 8, 8) : eread(&e, p + 4, 4);
            if (tag == 0) break;
            if (tag == 12 || tag == 25 || tag == 32) has_init = 1;
            if (tag == 12) init_va = val;
            if (tag == 22) textrel = 1;
            if (tag == 0x6ffffffbULL) flags1 = val;
            for (i = 0; i < 4; i++) {
                static const uint64_t tags[4] = {4, 0x6ffffef5ULL, 6, 5};
                if (tag == tags[i] && !(dyn_seen & (1u << i))) {
                    dyn_va[i] = val;
                    dyn_seen |= 1u << i;
                }
            }
        }
        if (!L->c64 && est_jni_lookup_fails(d, len, L, dyn_va)) return SK_UPX_LOOKUP;
    }
    /* UPX takes an ET_DYN file for a program only when DF_1_PIE says so (a library with
     * PT_INTERP, like libc.so.6, is still a library) */
    L->shlib = etype == 3 && !(flags1 & 0x08000000ULL);
    if (!L->shlib) return SK_UPX_OK;
    if (!has_init) return SK_UPX_NEED_INIT;
    if (textrel) return SK_UPX_TEXTREL;
    /* xct_off: the lowest executable section's file offset (its address mapped through
     * the PT_LOADs); without sections, DT_INIT's address. */
    shoff = L->c64 ? eread(&e, 40, 8) : eread(&e, 32, 4);
    shent = eread(&e, L->c64 ? 58 : 46, 2);
    shnum = eread(&e, L->c64 ? 60 : 48, 2);
    if (shoff != 0 && shent >= (L->c64 ? 64u : 40u) && shnum > 0 && shnum <= 65535 &&
        in_file(shoff, shnum * shent, len)) {
        uint64_t attr = 0;
        for (k = 1; k < shnum; k++) {
            uint64_t b = shoff + k * shent;
            uint64_t fl = L->c64 ? eread(&e, b + 8, 8) : eread(&e, b + 8, 4);
            uint64_t addr = L->c64 ? eread(&e, b + 16, 8) : eread(&e, b + 12, 4);
            if ((fl & 4) && addr < min_exec) min_exec = addr;
            if (!L->c64 && eread(&e, b + 4, 4) == 0x70000003u) attr = eread(&e, b + 20, 4);
        }
        /* ARM: after the copied writable PT_LOAD UPX writes the original section headers,
         * .ARM.attributes (4-aligned), a .shstrtab naming it (28 bytes) and a 3-entry
         * section header table of its own */
        if (L->arch == EST_ARCH_ARMV7 && attr < len)
            L->arm_tail = shnum * 40 + ((attr + 3) & ~3ULL) + 28 + 3 * 40;
    }
    if (min_exec == ~0ULL) min_exec = init_va;
    for (k = 0; k < L->nload; k++) {
        const est_seg *s = &L->load[k];
        if (min_exec >= s->vaddr && min_exec - s->vaddr < s->filesz) {
            L->xct_off = s->off + (min_exec - s->vaddr);
            break;
        }
    }
    if (L->xct_off == 0 || L->xct_off < L->hdr_len) return SK_UPX_NO_XCT;
    return SK_UPX_OK;
}

/* The gap after PT_LOAD k: up to the nearest PT_LOAD starting at or after its end, or EOF. */
static uint64_t est_gap(const est_layout *L, unsigned k, size_t len)
{
    uint64_t hi = L->load[k].off + L->load[k].filesz, lo = len;
    unsigned j;
    for (j = 0; j < L->nload; j++) {
        uint64_t t = L->load[j].off;
        if (j != k && t >= hi && t < lo) lo = t;
    }
    return lo - hi;
}

typedef struct {
    const uint8_t *data;
    size_t len;
    int level, arch;
    uint64_t nrv_far;
    uint64_t blocksize; /* UPX's p_blocksize: pieces longer than this are split */
    const int32_t (*a)[5]; /* EST_A[arch][method] */
    uint64_t fade;         /* EST_FADE_NRV or EST_FADE_LZMA */
    uint64_t lsize;        /* EST_LSIZE[arch][kind][method] */
    uint8_t *scratch;
    sk_piece *out;
    size_t cap, count;
    uint64_t sum;    /* b_info headers + stored or compressed bytes of every piece */
    uint64_t copied; /* of that, the pieces UPX copies as they are */
    uint64_t stream; /* model stream bytes of every piece */
} est_ctx;

/* The model's stream bytes of a piece UPX tries its branch filter on, and whether the
 * filtered bytes won. UPX compresses such a piece twice, with the filter and without, and
 * keeps the smaller (Packer::compressWithFilters, filter strategy 2). The side that
 * usually wins (filtered; unfiltered for Thumb-2 code, where the ARM filter only garbles)
 * is parsed whole and the other only up to a quarter of the piece: when that quarter
 * already costs EST_FILTER_MARGIN per mille more, the other side is not parsed further
 * (over the corpus the two sides end 1.4-11% apart, or within 0.7% where this margin
 * sends both to a full parse). Pieces under EST_FILTER_PREFIX_MIN bytes get both parses. */
#define EST_FILTER_PREFIX_MIN (256u * 1024u)
#define EST_FILTER_MARGIN 10
static int est_filtered_stream(est_ctx *c, const uint8_t *src, size_t size, int thumb,
                               uint64_t *stream, int *filtered)
{
    const uint8_t *first, *second;
    size_t mark = size >= EST_FILTER_PREFIX_MIN ? size / 4 : size;
    uint64_t s1 = 0, s2 = 0, m1 = 0, m2 = 0;
    int rc;
    memcpy(c->scratch, src, size);
    if (c->arch == EST_ARCH_X86_64 || c->arch == EST_ARCH_I386)
        filter_x86(c->scratch, size);
    else
        filter_arm(c->scratch, size, c->arch == EST_ARCH_AARCH64);
    first = thumb ? src : c->scratch;
    second = thumb ? c->scratch : src;
    rc = est_stream(first, size, c->level, c->nrv_far, size, mark, &m1, &s1);
    if (rc == SK_OK && mark < size)
        rc = est_stream(second, size, c->level, c->nrv_far, mark, mark, &m2, &s2);
    if (rc != SK_OK) return rc;
    if (mark < size && m2 * 1000 > m1 * (1000 + EST_FILTER_MARGIN)) {
        *stream = s1;
        *filtered = !thumb;
        return SK_OK;
    }
    rc = est_stream(second, size, c->level, c->nrv_far, size, size, NULL, &s2);
    if (rc != SK_OK) return rc;
    {
        uint64_t sf = thumb ? s2 : s1, su = thumb ? s1 : s2; /* filtered, unfiltered */
        *filtered = sf < su;                                 /* ties: unfiltered */
        *stream = *filtered ? sf : su;
    }
    return SK_OK;
}

static int est_piece(est_ctx *c, uint64_t off, uint64_t size, int filter, uint32_t kind)
{
    uint64_t stream = 0, packed;
    const uint8_t *src = c->data + off;
    int rc, candidate = filter, content = EST_C_DATA;
    if (size == 0) return SK_OK;
    if (kind == SK_PIECE_COPY) {
        packed = size;
    } else {
        int thumb = filter && c->arch == EST_ARCH_ARMV7 && !est_arm_mode(c->data, off, size);
        if (filter)
            rc = est_filtered_stream(c, src, (size_t)size, thumb, &stream, &filter);
        else
            rc = est_stream(src, (size_t)size, c->level, c->nrv_far, (size_t)size,
                            (size_t)size, NULL, &stream);
        if (rc != SK_OK) return rc;
        /* UPX stores a block that does not shrink; where the model cannot shrink it
         * either, A (a gain of the optimal parse over this one) does not apply */
        content = kind == SK_PIECE_GAP ? EST_C_GAP : (candidate ? EST_C_CODE : EST_C_DATA);
        if (thumb) content = EST_C_THUMB;
        packed = stream >= size ? size : est_scale(c->a, content, stream, size, c->fade);
        /* UPX stores the code block as it is when compressing it would not save at least
         * the size of the loader that decompresses it (seen on every code block of a few
         * KB: the block is written with method 0, and the loader is still added) */
        if (candidate && packed < size && size - packed < c->lsize) {
            packed = size;
            filter = 0;
        }
        packed += 12;                      /* b_info */
    }
    c->sum += packed;
    if (kind == SK_PIECE_COPY) c->copied += packed;
    c->stream += stream;
    if (c->count < c->cap) {
        sk_piece *p = &c->out[c->count];
        p->offset = off;
        p->size = size;
        p->kind = kind;
        p->filter = (uint32_t)filter;
        p->content = (uint32_t)content;
        p->stream = stream;
        p->packed = packed;
    }
    c->count++;
    return SK_OK;
}

/* UPX compresses an extent in blocks of at most p_blocksize bytes, each with its own
 * b_info and its own choice of filter (PackUnix::packExtent). */
static int est_extent(est_ctx *c, uint64_t off, uint64_t size, int filter, uint32_t kind)
{
    int rc = SK_OK;
    while (size > 0 && rc == SK_OK) {
        uint64_t n = c->blocksize > 0 && size > c->blocksize ? c->blocksize : size;
        rc = est_piece(c, off, n, filter, kind);
        off += n;
        size -= n;
    }
    return rc;
}

/* p_blocksize: the largest PT_LOAD, or the tail after the last one if that is longer. */
static uint64_t est_blocksize(const est_layout *L, size_t len)
{
    uint64_t bs = 0, end = 0;
    unsigned k;
    for (k = 0; k < L->nload; k++) {
        uint64_t e = L->load[k].off + L->load[k].filesz;
        if (L->load[k].filesz > bs) bs = L->load[k].filesz;
        if (e > end) end = e;
    }
    return len - end > bs ? len - end : bs;
}

int sk_upx_check(const uint8_t *data, size_t len, uint32_t *reason)
{
    est_layout L;
    if (reason == NULL || (data == NULL && len != 0)) return SK_ERR_ARG;
    *reason = est_layout_read(data, len, &L);
    return SK_OK;
}

/* Where a shared library's writable PT_LOADs land: each follows what comes before it
 * (pos) at its file offset modulo its page size (UPX keeps them mappable). Returns the end
 * of the output. */
static uint64_t est_shlib_end(const est_layout *L, uint64_t pos)
{
    unsigned k;
    for (k = 0; k < L->nload; k++) {
        const est_seg *s = &L->load[k];
        uint64_t align = s->align;
        if (s->off < L->xct_off || !(s->flags & 2)) continue;
        if (L->arch != EST_ARCH_AARCH64 && align > 4096) align = 4096;
        if (align == 0 || (align & (align - 1)) != 0) align = 1;
        pos += ((s->off - pos) & (align - 1)) + s->filesz;
    }
    return pos + EST_SHLIB_TAIL + L->arm_tail;
}

static int est_run(const uint8_t *data, size_t len, int level, sk_piece *out, size_t cap,
                   size_t *count, uint64_t *total, uint64_t *stream_sum, uint64_t *other)
{
    est_layout L;
    est_ctx c;
    uint32_t why;
    int method, rc = SK_OK;
    unsigned k, nx = 0;
    int have_x;
    uint64_t pos;

    if (level != SK_LEVEL_BEST && level != SK_LEVEL_LZMA) return SK_ERR_ARG;
    *count = 0;
    *total = 0;
    *other = 0;
    if (len == 0) return SK_ERR_EMPTY;
    if (len > 0x7fffffffu) return SK_ERR_ARG;
    method = level == SK_LEVEL_LZMA ? EST_M_LZMA
                                    : (len <= EST_SMALL_FILE ? EST_M_NRV2B : EST_M_NRV2E);
    why = est_layout_read(data, len, &L);
    memset(&c, 0, sizeof c);
    c.data = data;
    c.len = len;
    c.level = level;
    c.arch = why == SK_UPX_OK ? L.arch : EST_ARCH_X86_64;
    c.nrv_far = method == EST_M_NRV2B ? 0xd00 : 0x500;
    c.a = EST_A[EST_TABLE_ARCH(c.arch)][method];
    c.fade = method == EST_M_LZMA ? EST_FADE_LZMA : EST_FADE_NRV;
    c.out = out;
    c.cap = cap;
    if (why != SK_UPX_OK) {
        /* Not something UPX packs: the whole file as one plain piece, so the figure still
         * says how compressible the bytes are. */
        rc = est_piece(&c, 0, len, 0, SK_PIECE_PLAIN);
        *count = c.count;
        *total = c.sum;
        *stream_sum = c.stream;
        return rc;
    }
    c.scratch = malloc(len);
    if (c.scratch == NULL) return SK_ERR_NOMEM;
    c.blocksize = est_blocksize(&L, len);
    c.lsize = EST_LSIZE[EST_TABLE_ARCH(L.arch)][L.shlib][method];
    for (k = 0, have_x = 0; k < L.nload; k++)
        if ((L.load[k].flags & 1) && (!have_x || L.load[k].filesz > L.load[nx].filesz)) {
            nx = k;
            have_x = 1;
        }
    if (!L.shlib) {
        rc = est_piece(&c, 0, L.hdr_len, 0, SK_PIECE_HEADERS);
        for (k = 0; k < L.nload && rc == SK_OK; k++) {
            uint64_t off = L.load[k].off, size = L.load[k].filesz;
            if (k == 0) {
                if (L.hdr_len > size) continue;
                off += L.hdr_len;
                size -= L.hdr_len;
            }
            rc = est_extent(&c, off, size, k == nx, SK_PIECE_PLAIN);
        }
    } else {
        int hdr_done = 0;
        for (k = 0; k < L.nload && rc == SK_OK; k++) {
            const est_seg *s = &L.load[k];
            if (s->off < L.xct_off) {
                uint64_t keep = s->filesz < L.xct_off - s->off ? s->filesz : L.xct_off - s->off;
                rc = est_piece(&c, s->off, keep, 0, SK_PIECE_COPY);
                if (!hdr_done && rc == SK_OK) {
                    rc = est_piece(&c, 0, L.hdr_len, 0, SK_PIECE_HEADERS);
                    hdr_done = 1;
                }
                if (rc == SK_OK && s->filesz > L.xct_off - s->off)
                    rc = est_extent(&c, L.xct_off, s->filesz - (L.xct_off - s->off), 1,
                                    SK_PIECE_PLAIN);
            } else if (!(s->flags & 2)) {
                rc = est_extent(&c, s->off, s->filesz, 1, SK_PIECE_PLAIN);
            }
        }
    }
    for (k = 0; k < L.nload && rc == SK_OK; k++) {
        uint64_t g = est_gap(&L, k, len);
        rc = est_extent(&c, L.load[k].off + L.load[k].filesz, g, 0, SK_PIECE_GAP);
    }
    pos = c.sum + EST_STUB[EST_TABLE_ARCH(L.arch)][L.shlib][method] -
          (L.shlib ? EST_SHLIB_TAIL : 0);
    if (L.shlib) {
        uint64_t end = est_shlib_end(&L, pos);
        uint64_t band = (c.sum - c.copied) * EST_BAND / 1000, up, down;
        for (k = 0; k < L.nload && rc == SK_OK; k++)
            if (L.load[k].off >= L.xct_off && (L.load[k].flags & 2))
                rc = est_piece(&c, L.load[k].off, L.load[k].filesz, 0, SK_PIECE_COPY);
        /* the page step when the compressed bytes are EST_BAND more or fewer */
        up = est_shlib_end(&L, pos + band) - end;
        down = end - est_shlib_end(&L, pos >= band ? pos - band : 0);
        if (up > 0 && up * 20 >= end) *other = end + up;
        else if (down > 0 && down * 20 >= end) *other = end - down;
        pos = end;
    }
    free(c.scratch);
    if (rc != SK_OK) return rc;
    *count = c.count;
    *total = pos;
    *stream_sum = c.stream;
    return SK_OK;
}

int sk_estimate_pieces(const uint8_t *data, size_t len, int level, sk_piece *out, size_t cap,
                       size_t *count, uint64_t *total, uint64_t *other_bytes)
{
    uint64_t s, o = 0;
    int rc;
    if (other_bytes) *other_bytes = 0;
    if (count == NULL || total == NULL || (data == NULL && len != 0) ||
        (out == NULL && cap != 0))
        return SK_ERR_ARG;
    rc = est_run(data, len, level, out, cap, count, total, &s, &o);
    if (other_bytes && (rc == SK_OK || rc == SK_ERR_CAPACITY)) *other_bytes = o;
    return rc == SK_OK && *count > cap ? SK_ERR_CAPACITY : rc;
}

int sk_estimate_packed(const uint8_t *data, size_t len, int level, uint64_t *out_bytes,
                       uint64_t *stream_bytes, uint64_t *other_bytes)
{
    size_t n = 0;
    uint64_t total = 0, s = 0, o = 0;
    int rc;
    if (out_bytes == NULL || (data == NULL && len != 0)) return SK_ERR_ARG;
    *out_bytes = 0;
    if (stream_bytes) *stream_bytes = 0;
    if (other_bytes) *other_bytes = 0;
    rc = est_run(data, len, level, NULL, 0, &n, &total, &s, &o);
    if (rc != SK_OK) return rc;
    *out_bytes = total;
    if (stream_bytes) *stream_bytes = s;
    if (other_bytes) *other_bytes = o;
    return SK_OK;
}
