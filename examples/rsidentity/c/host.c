/*
 * host.c - a tiny plugin host: dlopen()s an identity plugin (plugin.h) and
 * checks that it really is an identity filter.
 *
 *   ./host ./libcidentity.so
 *   ./host ../target/release/librsidentity.so
 *
 * Prints "identity ok: <name> <bytes> bytes" and exits 0, or prints what
 * went wrong to stderr and exits 1 (2 for usage errors).
 */
#include "plugin.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef const sk_plugin_info *(*describe_fn)(void);
typedef void *(*new_fn)(void);
typedef int (*set_property_fn)(void *, const char *, const char *);
typedef int (*process_fn)(void *, const uint8_t *, size_t, uint8_t *, size_t, size_t *);
typedef uint64_t (*bytes_seen_fn)(void *);
typedef void (*free_fn)(void *);

static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "host: check failed (line %d): %s\n",          \
                    __LINE__, #cond);                                      \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static void *sym(void *lib, const char *name)
{
    void *p;

    dlerror();
    p = dlsym(lib, name);
    if (p == NULL) {
        const char *err = dlerror();
        fprintf(stderr, "host: missing symbol %s: %s\n", name, err ? err : "NULL");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    enum { N = 4096 };
    static uint8_t in[N], out[N + 16];
    char path[4096];
    void *lib, *obj;
    const sk_plugin_info *info;
    describe_fn describe;
    new_fn new_;
    set_property_fn set_property;
    process_fn process;
    bytes_seen_fn bytes_seen;
    free_fn free_;
    size_t i, written, total = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
        return 2;
    }
    /* A bare file name would make dlopen() search the library path. */
    snprintf(path, sizeof path, "%s%s", strchr(argv[1], '/') ? "" : "./", argv[1]);
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "host: dlopen: %s\n", dlerror());
        return 1;
    }
    /* Object pointer -> function pointer, the POSIX-sanctioned way. */
    *(void **)&describe = sym(lib, "plugin_describe");
    *(void **)&new_ = sym(lib, "identity_new");
    *(void **)&set_property = sym(lib, "identity_set_property");
    *(void **)&process = sym(lib, "identity_process");
    *(void **)&bytes_seen = sym(lib, "identity_bytes_seen");
    *(void **)&free_ = sym(lib, "identity_free");

    info = describe();
    if (info == NULL || info->abi_version != SK_PLUGIN_ABI_VERSION ||
        info->name == NULL || info->version == NULL || info->description == NULL) {
        fprintf(stderr, "host: bad plugin_describe()\n");
        return 1;
    }
    fprintf(stderr, "host: loaded %s %s: %s\n", info->name, info->version, info->description);

    obj = new_();
    if (obj == NULL) {
        fprintf(stderr, "host: identity_new() returned NULL\n");
        return 1;
    }

    for (i = 0; i < N; i++)
        in[i] = (uint8_t)(i * 131u + 7u);

    /* First buffer logged, the rest silent. */
    CHECK(process(obj, in, 100, out, sizeof out, &written) == SK_OK);
    CHECK(written == 100 && memcmp(in, out, 100) == 0);
    total += 100;
    CHECK(set_property(obj, "silent", "true") == SK_OK);
    memset(out, 0, sizeof out);
    CHECK(process(obj, in, N, out, sizeof out, &written) == SK_OK);
    CHECK(written == N && memcmp(in, out, N) == 0);
    total += N;
    CHECK(process(obj, NULL, 0, NULL, 0, &written) == SK_OK && written == 0);

    /* Error paths: nothing is counted. */
    CHECK(process(obj, in, N, out, N - 1, &written) == SK_ENOSPC);
    CHECK(process(obj, in, 1, out, 1, NULL) == SK_EINVAL);
    CHECK(process(NULL, in, 1, out, 1, &written) == SK_EINVAL);
    CHECK(set_property(obj, "silent", "maybe") == SK_EINVAL);
    CHECK(set_property(obj, "no-such-key", "1") == SK_ENOKEY);
    CHECK(set_property(obj, NULL, "1") == SK_EINVAL);
    CHECK(bytes_seen(NULL) == 0);

    CHECK(bytes_seen(obj) == total);
    if (failures == 0)
        printf("identity ok: %s %llu bytes\n", info->name,
               (unsigned long long)bytes_seen(obj));
    free_(obj);
    free_(NULL);
    dlclose(lib);
    return failures == 0 ? 0 : 1;
}
