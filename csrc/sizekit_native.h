/* sizekit native module: exported API (placeholder, replaced by the real module). */
#include <stdint.h>
#include <stddef.h>
uint64_t sk_hash64(const uint8_t *data, size_t len, uint64_t seed);
