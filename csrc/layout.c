/* The file as UPX 4.2.4 sees it (src/p_lx_elf.cpp, p_unix.cpp): its PT_LOADs, where a
 * shared library's code starts, and why UPX would refuse to pack it (sk_upx_check). Every
 * read is checked against the buffer first. Python port: sizekit/elf/pyport/layout.py.
 */
#include "internal.h"

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

/* est_layout_read: see internal.h. */
uint32_t est_layout_read(const uint8_t *d, size_t len, est_layout *L)
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
    if (len < 64 || memcmp(d, SK_ELF_MAGIC, 4) != 0) return SK_UPX_NOT_ELF;
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

int sk_upx_check(const uint8_t *data, size_t len, uint32_t *reason)
{
    est_layout L;
    if (reason == NULL || (data == NULL && len != 0)) return SK_ERR_ARG;
    *reason = est_layout_read(data, len, &L);
    return SK_OK;
}
