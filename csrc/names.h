/* Symbol names in a string table: their hashes, their order, and a table from hash to number
 * (names.c; Python port sizekit/elf/pyport/names.py). Apart from sizekit_native.h because it is
 * not part of the UPX model: benchmarks/estimate_split.model_digest leaves names.[ch] out. Also
 * a cffi cdef: no macros beyond the include guard.
 */
#ifndef SIZEKIT_NAMES_H
#define SIZEKIT_NAMES_H
#include <stdint.h>
#include <stddef.h>

/* Names in a string table data[0..len): each is the bytes from offs[i] to the next NUL, or to
 * the end. sk_name_hashes: lens[i] its length, hashes[i] sk_hash64(its bytes, seed).
 * sk_name_order: order[0..n) the rows by sizes[i] (largest first), then name bytes (a prefix
 * first), then row. Both: SK_ERR_RANGE with *bad the row if an offset is past len. */
int sk_name_hashes(const uint8_t *data, size_t len, const uint64_t *offs, size_t n, uint64_t seed,
                   uint64_t *hashes, uint64_t *lens, size_t *bad);
int sk_name_order(const uint8_t *data, size_t len, const uint64_t *offs, const uint64_t *sizes,
                  size_t n, uint64_t *order, size_t *bad);

/* A table from 64-bit keys (hashes: their low bits pick the slot) to u32 values: cap slots (a
 * power of two) of keys[] and vals[] (0: empty, else the value + 1), *used of them filled.
 * sk_index_put adds or replaces n pairs (values below UINT32_MAX); SK_ERR_CAPACITY, and nothing
 * put, if the table would pass 3/4 full. sk_index_get: out[i] the value of k[i], or -1. */
int sk_index_put(uint64_t *keys, uint32_t *vals, size_t cap, size_t *used, const uint64_t *k,
                 const uint32_t *v, size_t n);
int sk_index_get(const uint64_t *keys, const uint32_t *vals, size_t cap, const uint64_t *k, size_t n,
                 int64_t *out);

#endif
