/* The packed-size estimate: what UPX 4.2.4 does with an ELF file (src/p_lx_elf.cpp,
 * p_unix.cpp), as pieces, each priced by the LZ model (lz.c). Python port:
 * sizekit/elf/pyport/upx.py.
 *
 *  - The method: --lzma is LZMA; otherwise NRV2B for files up to 512 KiB, NRV2E above
 *    (Packer::getDefaultCompressionMethods_*: "small" files get NRV2B).
 *  - Program (ET_EXEC, or ET_DYN with PT_INTERP or DF_1_PIE): the ELF and program headers
 *    are one piece; each PT_LOAD (the first one after the headers) is one piece, and
 *    only the largest PF_X PT_LOAD goes through the branch filter; every gap after a
 *    PT_LOAD up to the next one or the end of file (section headers, symbols, debug
 *    info) is one more piece without a filter.
 *  - Shared library: everything below xct_off (the lowest SHF_EXECINSTR section) stays
 *    as it is, because ld.so reads it before UPX's code runs; the headers are one piece;
 *    the rest of the PT_LOAD holding xct_off and every later read-only PT_LOAD are
 *    filtered pieces; gaps are pieces; writable PT_LOADs are copied after the loader,
 *    each padded to its offset modulo p_align, lowered to 4 KiB except on AArch64 (the
 *    packed files' PT_LOADs say 0x1000 for x86-64 and ARM, 0x10000 for AArch64).
 *  - Every extent is compressed in blocks of at most p_blocksize bytes (the largest
 *    PT_LOAD, or the tail after the last one when longer), each with its own b_info.
 *  - Each piece costs a 12-byte b_info header plus its compressed size, or its own size
 *    when compression does not shrink it (UPX then stores it). A block of code is also
 *    stored when compressing it would not save the loader's size (EST_LSIZE).
 *  - ARM shared libraries: after the copied PT_LOADs UPX appends the original section
 *    headers, .ARM.attributes, a .shstrtab and its own 3-entry section table.
 *  - The rest is per architecture and file kind: UPX's loader stub, the new ELF headers
 *    of a packed program, l_info/p_info, the end marker and the PackHeader (EST_STUB).
 *
 * The numbers (EST_A, EST_STUB, EST_LSIZE, ...) are tables.json's, with how each was found.
 */
#include "internal.h"

#include <stdlib.h>

/* The row of EST_A, EST_STUB and EST_LSIZE for an arch: i386 is taken as x86-64. */
#define EST_TABLE_ARCH(arch) ((arch) == EST_ARCH_I386 ? EST_ARCH_X86_64 : (arch))
enum { EST_M_NRV2B = 0, EST_M_NRV2E = 1, EST_M_LZMA = 2 };

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
 * numbers only, so both round down). a is EST_A[arch][method]; a block of s model bytes
 * gets A's gain (its distance from 1) times s / (s + fade), fade EST_FADE_NRV or
 * EST_FADE_LZMA. */
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
    int rc, candidate = filter, content = SK_CONTENT_DATA;
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
        content = kind == SK_PIECE_GAP ? SK_CONTENT_GAP
                                       : (candidate ? SK_CONTENT_CODE : SK_CONTENT_DATA);
        if (thumb) content = SK_CONTENT_THUMB;
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
    c.nrv_far = method == EST_M_NRV2B ? EST_FAR_NRV2B : EST_FAR_NRV2E;
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
