/* Symbol names in a string table: their hashes and their order. Python port:
 * sizekit/elf/pyport/names.py.
 *
 * A name is the bytes from its offset to the next NUL, or to the table's end if there is none
 * (a linker may start one name inside another, so offsets need not be distinct or start a
 * piece). Taking a snapshot numbers a million names this way without making a Python string
 * of each: sk_name_hashes gives the key a name is looked up by, sk_name_order the order the
 * rows are stored in.
 */
#include <stdlib.h>

#include "internal.h"
#include "names.h"

static size_t name_len(const uint8_t *data, size_t len, uint64_t off)
{
    const uint8_t *nul;
    if (off >= len)
        return 0;
    nul = memchr(data + off, 0, len - (size_t)off);
    return nul ? (size_t)(nul - (data + off)) : len - (size_t)off;
}

int sk_name_hashes(const uint8_t *data, size_t len, const uint64_t *offs, size_t n, uint64_t seed,
                   uint64_t *hashes, uint64_t *lens, size_t *bad)
{
    size_t i;
    if ((n && (offs == NULL || hashes == NULL || lens == NULL)) || (len && data == NULL) || bad == NULL)
        return SK_ERR_ARG;
    for (i = 0; i < n; i++) {
        /* an offset equal to len is the empty name at the table's end */
        if (offs[i] > len) {
            *bad = i;
            return SK_ERR_RANGE;
        }
        lens[i] = name_len(data, len, offs[i]);
        hashes[i] = sk_hash64(lens[i] ? data + offs[i] : NULL, (size_t)lens[i], seed);
    }
    return SK_OK;
}

typedef struct {
    const uint8_t *data;
    const uint64_t *offs;
    const uint64_t *sizes;
    const size_t *lens;
} order_ctx;

/* <0 when row a goes before row b: larger size first, then name bytes (a name that is a prefix
 * of the other first). Equal: 0 (the merge keeps the earlier row first). */
static int before(const order_ctx *c, uint64_t a, uint64_t b)
{
    size_t na, nb;
    int k;
    if (c->sizes[a] != c->sizes[b])
        return c->sizes[a] > c->sizes[b] ? -1 : 1;
    na = c->lens[a];
    nb = c->lens[b];
    k = (na && nb) ? memcmp(c->data + c->offs[a], c->data + c->offs[b], na < nb ? na : nb) : 0;
    if (k)
        return k;
    return na < nb ? -1 : na > nb;
}

int sk_name_order(const uint8_t *data, size_t len, const uint64_t *offs, const uint64_t *sizes,
                  size_t n, uint64_t *order, size_t *bad)
{
    order_ctx c;
    uint64_t *tmp, *src, *dst, *swap;
    size_t *lens;
    size_t i, width;
    if ((n && (offs == NULL || sizes == NULL || order == NULL)) || (len && data == NULL) || bad == NULL)
        return SK_ERR_ARG;
    for (i = 0; i < n; i++) {
        if (offs[i] > len) {
            *bad = i;
            return SK_ERR_RANGE;
        }
        order[i] = i;
    }
    if (n < 2)
        return SK_OK;
    tmp = malloc(n * sizeof *tmp);
    lens = malloc(n * sizeof *lens);
    if (tmp == NULL || lens == NULL) {
        free(tmp);
        free(lens);
        return SK_ERR_NOMEM;
    }
    for (i = 0; i < n; i++)
        lens[i] = name_len(data, len, offs[i]);
    c.data = data;
    c.offs = offs;
    c.sizes = sizes;
    c.lens = lens;
    /* bottom-up merge sort: stable, so rows that compare equal keep their order */
    src = order;
    dst = tmp;
    for (width = 1; width < n; width *= 2) {
        size_t lo;
        for (lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = before(&c, src[b], src[a]) < 0 ? src[b++] : src[a++];
            while (a < mid) dst[k++] = src[a++];
            while (b < hi) dst[k++] = src[b++];
        }
        swap = src;
        src = dst;
        dst = swap;
    }
    if (src != order)
        memcpy(order, src, n * sizeof *order);
    free(tmp);
    free(lens);
    return SK_OK;
}

/* The slot of key in an open-addressing table of cap (a power of two) slots: where it is, or
 * the empty slot (vals 0) where it would go. Keys are hashes already, so their low bits are
 * the start; the probe is linear. The table is never full (sk_index_put keeps it at most 3/4
 * full, and sk_index_get is given only tables it filled), so the probe ends. */
static size_t slot_of(const uint64_t *keys, const uint32_t *vals, size_t cap, uint64_t key)
{
    size_t at = (size_t)key & (cap - 1);
    while (vals[at] != 0 && keys[at] != key)
        at = (at + 1) & (cap - 1);
    return at;
}

static int index_ok(const uint64_t *keys, const uint32_t *vals, size_t cap)
{
    return keys != NULL && vals != NULL && cap >= 2 && (cap & (cap - 1)) == 0;
}

int sk_index_put(uint64_t *keys, uint32_t *vals, size_t cap, size_t *used, const uint64_t *k,
                 const uint32_t *v, size_t n)
{
    size_t i;
    if (!index_ok(keys, vals, cap) || used == NULL || *used > cap || (n && (k == NULL || v == NULL)))
        return SK_ERR_ARG;
    /* room for every key as a new one, checked before any is put */
    if (n > cap || (*used + n) > cap / 4 * 3)
        return SK_ERR_CAPACITY;
    for (i = 0; i < n; i++)
        if (v[i] == UINT32_MAX)
            return SK_ERR_ARG;
    for (i = 0; i < n; i++) {
        size_t at = slot_of(keys, vals, cap, k[i]);
        if (vals[at] == 0) {
            (*used)++;
            keys[at] = k[i];
        }
        vals[at] = v[i] + 1;
    }
    return SK_OK;
}

int sk_index_get(const uint64_t *keys, const uint32_t *vals, size_t cap, const uint64_t *k, size_t n,
                 int64_t *out)
{
    size_t i;
    if (!index_ok(keys, vals, cap) || (n && (k == NULL || out == NULL)))
        return SK_ERR_ARG;
    for (i = 0; i < n; i++) {
        size_t at = slot_of(keys, vals, cap, k[i]);
        out[i] = (int64_t)vals[at] - 1;
    }
    return SK_OK;
}
