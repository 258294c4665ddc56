/*
 * plugin.h - the tiny C ABI of sizekit's "identity filter plugin".
 *
 * Implemented twice, identically: in Rust (../src/lib.rs -> librsidentity.so)
 * and in C (identity.c -> libcidentity.so). A host loads either one with
 * dlopen() and looks the symbols up by name (see host.c).
 *
 * Conventions:
 *   - Functions returning int return SK_OK (0) on success, a negative
 *     SK_E* code on failure.
 *   - Every pointer argument may be NULL; NULL is reported as SK_EINVAL
 *     (or, for identity_bytes_seen / identity_free, ignored).
 *   - Instances are not thread-safe; use one instance per thread.
 */
#ifndef SK_PLUGIN_H
#define SK_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SK_PLUGIN_ABI_VERSION 1u

#define SK_OK          0
#define SK_EINVAL    (-1)  /* NULL pointer or bad UTF-8/value */
#define SK_ENOKEY    (-2)  /* unknown property name */
#define SK_ENOSPC    (-3)  /* output buffer smaller than input */
#define SK_EINTERNAL (-4)  /* implementation bug (Rust: caught panic) */

typedef struct sk_plugin_info {
    uint32_t abi_version;      /* SK_PLUGIN_ABI_VERSION */
    const char *name;          /* "rsidentity" or "cidentity" */
    const char *version;       /* e.g. "0.1.0" */
    const char *description;   /* one line, human readable */
} sk_plugin_info;

/* Static description of the plugin; never NULL, never freed. */
const sk_plugin_info *plugin_describe(void);

/* New identity element with default properties (silent=false).
 * Returns NULL on allocation failure. Free with identity_free(). */
void *identity_new(void);

/* Set a property. Known keys:
 *   "silent": "true"/"false"/"1"/"0" - suppress the per-buffer log line. */
int identity_set_property(void *self, const char *key, const char *value);

/* Copy len bytes from in to out (cap must be >= len), store len in
 * *written, count the bytes and the buffer, and unless silent log one line
 * to stderr:  "<name>: buffer #<n>: <len> bytes (<total> total)".
 * in may be NULL when len == 0. */
int identity_process(void *self, const uint8_t *in, size_t len,
                     uint8_t *out, size_t cap, size_t *written);

/* Total bytes passed through so far; 0 for NULL. */
uint64_t identity_bytes_seen(void *self);

/* Free an instance from identity_new(); NULL is a no-op. */
void identity_free(void *self);

#ifdef __cplusplus
}
#endif

#endif /* SK_PLUGIN_H */
