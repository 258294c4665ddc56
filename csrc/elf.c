/* The ELF header and section table (sk_elf_info_read, sk_elf_sections), from untrusted
 * bytes: every read is checked against the buffer first. Python port:
 * sizekit/elf/pyport/elf.py.
 */
#include "internal.h"

/* Reads section header `idx` (already range-checked against the table) into `s`. */
static void read_shdr(const elfbuf *e, const sk_elf_info *info, uint32_t idx, sk_section *s,
                      uint32_t *name)
{
    uint64_t b = info->shoff + (uint64_t)idx * info->shentsize;
    memset(s, 0, sizeof *s);
    s->index = idx;
    *name = (uint32_t)eread(e, b, 4);
    s->type = (uint32_t)eread(e, b + 4, 4);
    if (info->elfclass == 64) {
        s->flags = eread(e, b + 8, 8);
        s->addr = eread(e, b + 16, 8);
        s->offset = eread(e, b + 24, 8);
        s->size = eread(e, b + 32, 8);
        s->link = (uint32_t)eread(e, b + 40, 4);
        s->info = (uint32_t)eread(e, b + 44, 4);
        s->addralign = eread(e, b + 48, 8);
        s->entsize = eread(e, b + 56, 8);
    } else {
        s->flags = eread(e, b + 8, 4);
        s->addr = eread(e, b + 12, 4);
        s->offset = eread(e, b + 16, 4);
        s->size = eread(e, b + 20, 4);
        s->link = (uint32_t)eread(e, b + 24, 4);
        s->info = (uint32_t)eread(e, b + 28, 4);
        s->addralign = eread(e, b + 32, 4);
        s->entsize = eread(e, b + 36, 4);
    }
}

int sk_elf_info_read(const uint8_t *data, size_t len, sk_elf_info *info)
{
    elfbuf e;
    uint64_t shoff, shnum, shstrndx;
    uint32_t ehsize, shdrsize, entsize;
    size_t i;

    if (info == NULL || (data == NULL && len != 0)) return SK_ERR_ARG;
    memset(info, 0, sizeof *info);
    if (len == 0) return SK_ERR_EMPTY;
    for (i = 0; i < 4 && i < len; i++)
        if (data[i] != (uint8_t)SK_ELF_MAGIC[i]) return SK_ERR_BADMAGIC;
    if (len < 16) return SK_ERR_TRUNCATED;
    if (data[4] != 1 && data[4] != 2) return SK_ERR_BADCLASS;
    info->elfclass = data[4] == 1 ? 32 : 64;
    if (data[5] != 1 && data[5] != 2) return SK_ERR_BADDATA;
    info->endian = data[5];
    ehsize = info->elfclass == 64 ? 64 : 52;
    shdrsize = info->elfclass == 64 ? 64 : 40;
    if (len < ehsize) return SK_ERR_TRUNCATED;

    e.d = data;
    e.len = len;
    e.big = data[5] == 2;
    info->type = (uint32_t)eread(&e, 16, 2);
    info->machine = (uint32_t)eread(&e, 18, 2);
    if (info->elfclass == 64) {
        shoff = eread(&e, 40, 8);
        entsize = (uint32_t)eread(&e, 58, 2);
        shnum = eread(&e, 60, 2);
        shstrndx = eread(&e, 62, 2);
    } else {
        shoff = eread(&e, 32, 4);
        entsize = (uint32_t)eread(&e, 46, 2);
        shnum = eread(&e, 48, 2);
        shstrndx = eread(&e, 50, 2);
    }
    info->shoff = shoff;
    info->shentsize = entsize;
    /* No section header table at all (e.g. some packed files): a valid, empty list. */
    if (shoff == 0) return SK_OK;
    if (entsize < shdrsize) return SK_ERR_SHENTSIZE;
    if (!in_file(shoff, entsize, len)) return SK_ERR_SHTABLE;
    /* Extended numbering: the real count and name index live in section 0. */
    if (shnum == 0 || shstrndx == 0xffff) {
        sk_section s0;
        uint32_t nm;
        read_shdr(&e, info, 0, &s0, &nm);
        if (shnum == 0) shnum = s0.size;
        if (shstrndx == 0xffff) shstrndx = s0.link;
    }
    if (shnum > SK_MAX_SECTIONS) {
        info->shnum = shnum > 0xffffffffULL ? 0xffffffffU : (uint32_t)shnum;
        return SK_ERR_TOOMANY;
    }
    info->shnum = (uint32_t)shnum;
    info->shstrndx = (uint32_t)shstrndx;
    if (!in_file(shoff, shnum * entsize, len)) return SK_ERR_SHTABLE;
    if (shstrndx != 0 && shstrndx >= shnum) return SK_ERR_SHSTRNDX;
    return SK_OK;
}

static int has_file_bytes(const sk_section *s)
{
    return s->type != 8 /* SHT_NOBITS */ && s->type != 0 /* SHT_NULL */ && s->size > 0;
}

int sk_elf_sections(const uint8_t *data, size_t len, sk_section *out, size_t cap,
                    size_t *count)
{
    sk_elf_info info;
    elfbuf e;
    uint64_t str_off = 0, str_size = 0;
    uint32_t i, nm;
    int rc;

    if (count == NULL || (out == NULL && cap != 0)) return SK_ERR_ARG;
    *count = 0;
    rc = sk_elf_info_read(data, len, &info);
    if (rc != SK_OK) return rc;
    *count = info.shnum;
    if (cap < info.shnum) return SK_ERR_CAPACITY;
    e.d = data;
    e.len = len;
    e.big = info.endian == 2;

    if (info.shstrndx != 0) {
        sk_section st;
        read_shdr(&e, &info, info.shstrndx, &st, &nm);
        if (has_file_bytes(&st)) {
            if (!in_file(st.offset, st.size, len)) {
                *count = info.shstrndx;
                return SK_ERR_RANGE;
            }
            str_off = st.offset;
            str_size = st.size;
        }
    }
    for (i = 0; i < info.shnum; i++) {
        sk_section *s = &out[i];
        read_shdr(&e, &info, i, s, &nm);
        if (info.shstrndx != 0 && !(nm == 0 && str_size == 0)) {
            const uint8_t *start, *nul;
            if (nm >= str_size) {
                *count = i;
                return SK_ERR_NAME;
            }
            start = data + str_off + nm;
            nul = memchr(start, 0, (size_t)(str_size - nm));
            if (nul == NULL) {
                *count = i;
                return SK_ERR_NAME;
            }
            s->name_off = str_off + nm;
            s->name_len = (uint64_t)(nul - start);
        }
        if (has_file_bytes(s)) {
            if (!in_file(s->offset, s->size, len)) {
                *count = i;
                return SK_ERR_RANGE;
            }
            s->hash = sk_hash64(data + s->offset, (size_t)s->size, 0);
        } else {
            s->hash = sk_hash64(NULL, 0, 0);
        }
    }
    *count = info.shnum;
    return SK_OK;
}
