/* Branch filters, as UPX 4.2.4 runs them (src/filter/ctok.h, ct.h) over a piece before
 * compressing it. Positions are relative to the piece, as UPX filters each block from its
 * own buffer start with addvalue 0. Python port: sizekit/elf/pyport/filters.py.
 */
#include "internal.h"

/* 0x49 (x86, x86-64): every E8 call, E9 jmp and 0F 8x jcc whose rel32 target lands in the
 * piece gets the absolute target, stored big-endian, so repeated calls to one function
 * become repeated byte strings. A conversion skips the 4 bytes it wrote; the 0F check
 * reads the byte before, as already converted. */
void filter_x86(uint8_t *d, uint64_t size)
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

/* 0x50 (ARM, little-endian) and 0x52 (AArch64): each aligned word that is a BL (ARM: the
 * top byte's low nibble is 0xb, any condition) or a B/BL (AArch64: top byte & 0x7c is
 * 0x14) gets word index + offset in its 24 or 26 offset bits. UPX's loop stops 4 bytes
 * before the end, so the last word is never converted. */
void filter_arm(uint8_t *d, uint64_t size, int arm64)
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
