/*
 * identity.c - the "identity" filter plugin of plugin.h, in C.
 * The same plugin as ../src/lib.rs (librsidentity.so), for a size
 * comparison: built as libcidentity.so by the Makefile.
 */
#include "plugin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "cidentity"

#if defined(__GNUC__)
#define SK_EXPORT __attribute__((visibility("default")))
#else
#define SK_EXPORT
#endif

struct identity {
    int silent;
    uint64_t buffers;
    uint64_t bytes;
};

static const sk_plugin_info info = {
    SK_PLUGIN_ABI_VERSION,
    NAME,
    "0.1.0",
    "Identity filter: passes buffers through unchanged (C)",
};

static int parse_bool(const char *value, int *out)
{
    if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
        *out = 1;
        return 1;
    }
    if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
        *out = 0;
        return 1;
    }
    return 0;
}

SK_EXPORT const sk_plugin_info *plugin_describe(void)
{
    return &info;
}

SK_EXPORT void *identity_new(void)
{
    return calloc(1, sizeof(struct identity));
}

SK_EXPORT int identity_set_property(void *self, const char *key, const char *value)
{
    struct identity *st = self;
    int b;

    if (st == NULL || key == NULL || value == NULL)
        return SK_EINVAL;
    if (strcmp(key, "silent") == 0) {
        if (!parse_bool(value, &b))
            return SK_EINVAL;
        st->silent = b;
        return SK_OK;
    }
    return SK_ENOKEY;
}

SK_EXPORT int identity_process(void *self, const uint8_t *in, size_t len,
                               uint8_t *out, size_t cap, size_t *written)
{
    struct identity *st = self;

    if (st == NULL || written == NULL || (len > 0 && (in == NULL || out == NULL)))
        return SK_EINVAL;
    if (cap < len)
        return SK_ENOSPC;
    if (len > 0)
        memmove(out, in, len); /* in-place processing is allowed */
    *written = len;
    st->buffers++;
    st->bytes += len;
    if (!st->silent)
        fprintf(stderr, NAME ": buffer #%" PRIu64 ": %zu bytes (%" PRIu64 " total)\n",
                st->buffers, len, st->bytes);
    return SK_OK;
}

SK_EXPORT uint64_t identity_bytes_seen(void *self)
{
    const struct identity *st = self;
    return st == NULL ? 0 : st->bytes;
}

SK_EXPORT void identity_free(void *self)
{
    free(self);
}
