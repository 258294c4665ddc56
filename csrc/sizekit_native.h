/* sizekit native module: content hash, ELF section table, UPX packed-size estimate.
 *
 * Every function except sk_hash64 returns 0 (SK_OK) or a negative SK_ERR_* code and writes
 * its results through pointers. The Python port, sizekit/elf/pyport/, mirrors each function
 * bit for bit (its codes.py these enums). This header is also the cffi cdef: keep it free
 * of macros (cffi drops '#' lines). The implementation is one file a job: hash.c, elf.c,
 * lz.c and price.c (the LZ model), filters.c, layout.c and upx.c (the estimate), sharing
 * internal.h and the generated tables.h.
 */
#ifndef SIZEKIT_NATIVE_H
#define SIZEKIT_NATIVE_H
#include <stdint.h>
#include <stddef.h>

enum {
    SK_OK = 0,
    SK_ERR_ARG = -1,        /* NULL pointer with a nonzero length, unknown level */
    SK_ERR_EMPTY = -2,      /* zero-length input */
    SK_ERR_TRUNCATED = -3,  /* shorter than the ELF header */
    SK_ERR_BADMAGIC = -4,   /* does not start with 0x7f 'E' 'L' 'F' */
    SK_ERR_BADCLASS = -5,   /* EI_CLASS is not ELFCLASS32/ELFCLASS64 */
    SK_ERR_BADDATA = -6,    /* EI_DATA is not little/big endian */
    SK_ERR_SHTABLE = -7,    /* section header table (e_shoff, count * entsize) past EOF */
    SK_ERR_SHENTSIZE = -8,  /* e_shentsize smaller than one section header */
    SK_ERR_TOOMANY = -9,    /* more than SK_MAX_SECTIONS sections */
    SK_ERR_SHSTRNDX = -10,  /* section name table index out of range */
    SK_ERR_NAME = -11,      /* a section name is outside / not NUL-terminated in the table */
    SK_ERR_RANGE = -12,     /* a section's file bytes (offset + size) are past EOF */
    SK_ERR_NOMEM = -13,     /* allocation failed */
    SK_ERR_CAPACITY = -14   /* output array too small; *count holds the needed size */
};

enum { SK_LEVEL_BEST = 1, SK_LEVEL_LZMA = 2 };
enum { SK_MAX_SECTIONS = 1048576 };

typedef struct {
    uint32_t elfclass;   /* 32 or 64 */
    uint32_t endian;     /* 1 little, 2 big (EI_DATA) */
    uint32_t machine;    /* e_machine */
    uint32_t type;       /* e_type */
    uint64_t shoff;      /* e_shoff */
    uint32_t shnum;      /* resolved count (SHN_XINDEX: section 0 sh_size), 0 if no table */
    uint32_t shentsize;  /* e_shentsize */
    uint32_t shstrndx;   /* resolved index (SHN_XINDEX: section 0 sh_link) */
    uint32_t reserved;
} sk_elf_info;

typedef struct {
    uint32_t index;
    uint32_t type;       /* sh_type */
    uint64_t flags;      /* sh_flags */
    uint64_t addr;
    uint64_t offset;
    uint64_t size;
    uint32_t link;
    uint32_t info;
    uint64_t addralign;
    uint64_t entsize;
    uint64_t name_off;   /* offset of the name in the input buffer (0 with name_len 0 if none) */
    uint64_t name_len;   /* without the terminating NUL */
    uint64_t hash;       /* sk_hash64(file bytes, 0); hash of empty for NOBITS/NULL/size 0 */
} sk_section;

uint64_t sk_hash64(const uint8_t *data, size_t len, uint64_t seed);

/* Header fields. On error, fields parsed before the failure are filled (for messages). */
int sk_elf_info_read(const uint8_t *data, size_t len, sk_elf_info *info);

/* All sections, index 0 included. On SK_ERR_NAME / SK_ERR_RANGE, *count is the index of
 * the offending section; on SK_ERR_CAPACITY it is the number of sections. */
int sk_elf_sections(const uint8_t *data, size_t len, sk_section *out, size_t cap,
                    size_t *count);

/* Why UPX 4.2.4 would refuse to pack a file (SK_UPX_OK: it would pack it). */
enum {
    SK_UPX_OK = 0,
    SK_UPX_NOT_ELF = 1,      /* no ELF magic, or shorter than an ELF header */
    SK_UPX_MACHINE = 2,      /* not x86-64, i386, ARM (little-endian) or AArch64 */
    SK_UPX_TYPE = 3,         /* neither a program nor a shared library (e_type) */
    SK_UPX_TOO_SMALL = 4,    /* under 4096 bytes */
    SK_UPX_PACKED = 5,       /* "UPX!" in the last 256 bytes: already packed */
    SK_UPX_PHDRS = 6,        /* program headers not right after the ELF header, or past EOF */
    SK_UPX_FIRST_LOAD = 7,   /* the first PT_LOAD does not start at offset 0 */
    SK_UPX_NO_EXEC = 8,      /* no PT_LOAD has PF_X */
    SK_UPX_NEED_INIT = 9,    /* shared library without DT_INIT, DT_INIT_ARRAY or DT_PREINIT_ARRAY */
    SK_UPX_TEXTREL = 10,     /* shared library with DT_TEXTREL */
    SK_UPX_NO_XCT = 11,      /* shared library whose code starts inside its headers */
    SK_UPX_LOOKUP = 12       /* ELF32: UPX's lookup of JNI_OnLoad in the dynamic symbols fails */
};

/* One piece of UPX's output, in file order except that copied writable segments of a
 * shared library come last. */
enum { SK_PIECE_HEADERS = 1, SK_PIECE_PLAIN = 2, SK_PIECE_GAP = 3, SK_PIECE_COPY = 4 };
/* Code is what UPX tries its branch filter on (Thumb-2 code apart, on armv7); gaps are bytes
 * outside the PT_LOADs; the rest (headers, data, copied segments) is data. */
enum { SK_CONTENT_CODE = 0, SK_CONTENT_DATA = 1, SK_CONTENT_GAP = 2, SK_CONTENT_THUMB = 3 };
typedef struct {
    uint64_t offset;   /* in the input file */
    uint64_t size;     /* input bytes */
    uint64_t stream;   /* model size of the (filtered) bytes, before calibration; 0 for COPY */
    uint64_t packed;   /* output bytes: b_info + min(compressed, size), or size for COPY */
    uint32_t kind;     /* SK_PIECE_* */
    uint32_t filter;   /* 1 if the branch-filtered bytes compressed smaller (UPX keeps them) */
    uint32_t content;  /* SK_CONTENT_*: the ratio class the estimate priced the piece with */
} sk_piece;

/* *reason gets SK_UPX_* for this file; returns SK_OK or SK_ERR_ARG. */
int sk_upx_check(const uint8_t *data, size_t len, uint32_t *reason);

/* UPX's pieces for this file and level and the estimated output size in *total. A file UPX
 * would refuse is one plain piece (see sk_upx_check). On SK_ERR_CAPACITY, *count is the
 * number of pieces and *total is still set. *other_bytes (may be NULL): as
 * sk_estimate_packed's. */
int sk_estimate_pieces(const uint8_t *data, size_t len, int level, sk_piece *out, size_t cap,
                       size_t *count, uint64_t *total, uint64_t *other_bytes);

/* Estimated size of `upx --best` (SK_LEVEL_BEST) or `upx --best --lzma` (SK_LEVEL_LZMA)
 * output for this file. *stream_bytes (may be NULL) gets the summed model stream sizes.
 * *other_bytes (may be NULL) gets the size UPX gives instead if the compressed bytes land
 * on the other side of a page edge within the model's error (a shared library whose
 * writable segments would move a page, a step of 5% or more), else 0. */
int sk_estimate_packed(const uint8_t *data, size_t len, int level, uint64_t *out_bytes,
                       uint64_t *stream_bytes, uint64_t *other_bytes);

#endif
