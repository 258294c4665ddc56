/* sk_hash64, the content hash of files and sections. Python port: sizekit/elf/pyport/hash.py.
 *
 * Four independent lanes, each eating 16 bytes per step with one 64x64->128 multiply folded
 * to 64 bits. The lanes do not depend on each other, so the multiplier pipeline stays full;
 * each lane is chained (the state feeds the multiply), so block order matters. Adding t
 * back after the multiply keeps the state when a data word happens to zero one factor. The
 * keys (HK, HGOLD, HFIN1, HFIN2) are in tables.json.
 */
#include "internal.h"

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
