/* What the files of the native module share and sizekit_native.h does not export: byte
 * loads, the bounds check every reader uses, the ELF reader's byte-order load, the file
 * layout UPX would see, and the functions one file calls in another.
 *
 * Each file has its Python port in sizekit/elf/pyport/ under the same name (hash.c is
 * pyport/hash.py, and so on; this header is pyport/internal.py), which must give the same
 * integers: a change to an algorithm must be made in both. The numbers both share are in
 * tables.json; tables.h is generated from it (scripts/gen_tables).
 */
#ifndef SK_INTERNAL_H
#define SK_INTERNAL_H
#include "sizekit_native.h"
#include "tables.h"

#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Loads. memcpy keeps unaligned access legal; the byte order is fixed by the format.    */

static inline int host_is_little(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static inline uint64_t bswap64(uint64_t v)
{
    return ((v & 0xffULL) << 56) | ((v & 0xff00ULL) << 40) | ((v & 0xff0000ULL) << 24) |
           ((v & 0xff000000ULL) << 8) | ((v >> 8) & 0xff000000ULL) |
           ((v >> 24) & 0xff0000ULL) | ((v >> 40) & 0xff00ULL) | (v >> 56);
}

static inline uint64_t rd64le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    /* folded to a constant by the compiler */
    return host_is_little() ? v : bswap64(v);
}

static inline uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

/* ------------------------------------------------------------------------------------ */
/* ELF bytes (elf.c, layout.c)                                                            */

#define SK_ELF_MAGIC "\177ELF"

typedef struct {
    const uint8_t *d;
    size_t len;
    int big;
} elfbuf;

/* Callers have already checked that off + n <= len. */
static inline uint64_t eread(const elfbuf *e, uint64_t off, unsigned n)
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
static inline int in_file(uint64_t off, uint64_t n, size_t len)
{
    return off <= (uint64_t)len && n <= (uint64_t)len - off;
}

/* ------------------------------------------------------------------------------------ */
/* The LZ parse (lz.c) and its cost models (price.c)                                      */

/* The model's stream bytes of d[0, n) in *bytes. The parse stops once it reaches `stop`
 * (n for the whole piece); *at_mark (may be NULL) gets the cost in 1/64 bit of the tokens
 * that start before `mark`. */
int est_stream(const uint8_t *d, size_t n, int level, uint64_t nrv_far, size_t stop,
               size_t mark, uint64_t *at_mark, uint64_t *bytes);

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

typedef struct {
    int level;
    uint64_t nrv_far; /* offsets above this pay one length unit more (NRV2B 0xd00, 2E 0x500) */
    unsigned state;   /* LZMA's state, 0-11 */
    uint64_t cost;
    lzma_model *lz;
} est_coder;

void lzma_init(lzma_model *m);
void code_literal(est_coder *c, const uint8_t *d, size_t pos);
void code_match(est_coder *c, size_t pos, unsigned len, uint64_t off, int rep);
void code_short_rep(est_coder *c, size_t pos);

/* ------------------------------------------------------------------------------------ */
/* Branch filters (filters.c), in place over one piece                                    */

void filter_x86(uint8_t *d, uint64_t size);
void filter_arm(uint8_t *d, uint64_t size, int arm64);

/* ------------------------------------------------------------------------------------ */
/* The file as UPX sees it (layout.c)                                                     */

enum { EST_ARCH_X86_64 = 0, EST_ARCH_ARMV7 = 1, EST_ARCH_AARCH64 = 2, EST_ARCH_I386 = 3 };

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

/* Reads program and dynamic headers; returns SK_UPX_OK or why UPX would refuse the file. */
uint32_t est_layout_read(const uint8_t *d, size_t len, est_layout *L);

#endif
