/* The LZ parse of the packed-size estimate: the model's stream bytes of one piece.
 * Python port: sizekit/elf/pyport/lz.py.
 *
 * One lazy LZ77 parse (bucketed match finder, repeat-offset check: rep0 for BEST,
 * rep0-rep3 plus LZMA's one-byte short rep for LZMA; a match is put off by a literal
 * when the next position or the one after starts a longer one, or a repeat match nearly
 * as long, as an optimal parse would) feeds one of two cost models (price.c). Its
 * parameters (EST_MINMATCH, EST_WAYS_*, EST_WINDOW, ...) are in tables.json.
 */
#include "internal.h"

#include <stdlib.h>

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

/* est_stream: see internal.h. */
int est_stream(const uint8_t *d, size_t n, int level, uint64_t nrv_far, size_t stop,
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
            code_short_rep(&c, pos);
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
