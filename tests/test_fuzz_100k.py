"""100,000 hostile inputs under ASan + UBSan.

The harness mutates in C (a seeded xorshift), so no input corpus is written: real
and crafted ELFs (/bin/true and /usr/bin/ls among them) are truncated, have header
and random bytes flipped, or are replaced by random bytes. Each input lives in a
malloc'd block of exactly its length, so a one-byte over-read aborts. Every input goes
through sk_elf_info_read, sk_elf_sections, sk_hash64 and sk_upx_check; every 16th
(6,250 of 100,000) also through sk_estimate_packed and sk_estimate_pieces, because the
estimate reads every byte and would make the run exceed the CI cap; the harness prints
the real counts and the test checks them. SIZEKIT_FUZZ_INPUTS (default 100000) and
SIZEKIT_FUZZ_SECONDS (default 240, the CI cap) bound the run.
"""
import os
import shutil
import subprocess

import pytest

from conftest import skip_no_tool

from test_native import SAMPLE_SECTIONS, build_elf
from test_native_fuzz import asan_compile

# Builds with sanitizers or fuzzes many inputs: deselect with -m "not slow".
pytestmark = pytest.mark.slow


HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sizekit_native.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
    buf = malloc(n ? n : 1);
    if (fread(buf, 1, n, f) != (size_t)n) { fclose(f); return NULL; }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv)
{
    long want = atol(argv[1]), seconds = atol(argv[2]), done = 0, ok_elf = 0, estimated = 0;
    long refused = 0;
    int nbases = argc - 3;
    unsigned char *bases[16];
    size_t lens[16];
    time_t start = time(NULL);
    for (int i = 0; i < nbases && i < 16; i++)
        if (!(bases[i] = slurp(argv[3 + i], &lens[i]))) return 2;
    while (done < want && time(NULL) - start < seconds) {
        int b = (int)(next() % nbases);
        size_t n = lens[b];
        unsigned kind = (unsigned)(next() % 10);
        if (kind == 0) n = next() % 4096;                     /* random bytes */
        else if (kind <= 3) n = next() % (lens[b] + 1);       /* truncated */
        unsigned char *buf = malloc(n ? n : 1);
        if (kind == 0) for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)next();
        else memcpy(buf, bases[b], n);
        if (kind >= 2 && n) {                                  /* flip bytes, mostly in headers */
            int flips = 1 + (int)(next() % 8);
            for (int k = 0; k < flips; k++) {
                size_t off = (next() & 1) ? next() % (n < 64 ? n : 64) : next() % n;
                buf[off] = (next() & 1) ? (unsigned char[]){0, 1, 0x7f, 0x80, 0xff}[next() % 5]
                                        : (unsigned char)next();
            }
        }
        sk_elf_info info;
        size_t cnt = 0, cap = 0;
        int rc = sk_elf_info_read(buf, n, &info);
        if (rc == 0) cap = info.shnum < 70000 ? info.shnum : 70000;
        sk_section *out = malloc(sizeof(sk_section) * (cap ? cap : 1));
        if (sk_elf_sections(buf, n, out, cap, &cnt) == 0) ok_elf++;
        (void)sk_hash64(buf, n, (uint64_t)done);
        uint32_t why = 0;
        if (sk_upx_check(buf, n, &why) == 0 && why != 0) refused++;
        if (done % 16 == 0) {
            uint64_t est = 0, stream = 0, tot = 0, other = 0;
            sk_piece pc[4];
            size_t np = 0;
            sk_estimate_packed(buf, n, 1 + (int)((done >> 4) & 1), &est, &stream, &other);
            sk_estimate_pieces(buf, n, 2 - (int)((done >> 4) & 1), pc, 4, &np, &tot, &other);
            estimated++;
        }
        free(out);
        free(buf);
        done++;
    }
    printf("%ld %ld %ld %ld\n", done, ok_elf, estimated, refused);
    for (int i = 0; i < nbases; i++) free(bases[i]);
    return 0;
}
"""


def test_100k_hostile_inputs_no_crash_no_asan_report(tmp_path):
    if shutil.which("gcc") is None:
        skip_no_tool("gcc")
    src = tmp_path / "fuzz.c"
    src.write_text(HARNESS)
    exe = tmp_path / "fuzz"
    build = asan_compile(src, exe)
    assert build.returncode == 0, build.stdout[-2000:]
    bases = []
    for i, (cls, endian) in enumerate([(64, "<"), (32, ">"), (64, ">"), (32, "<")]):
        p = tmp_path / f"crafted{i}.elf"
        p.write_bytes(build_elf(cls, endian, sections=SAMPLE_SECTIONS))
        bases.append(str(p))
    bases += ["/bin/true", "/usr/bin/ls"]
    want = int(os.environ.get("SIZEKIT_FUZZ_INPUTS", "100000"))
    seconds = int(os.environ.get("SIZEKIT_FUZZ_SECONDS", "240"))
    run = subprocess.run([str(exe), str(want), str(seconds), *bases], capture_output=True, text=True,
                         env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1"),
                         timeout=seconds + 60)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ERROR: AddressSanitizer" not in run.stderr and "runtime error" not in run.stderr
    done, ok_elf, estimated, refused = map(int, run.stdout.split())
    assert done == want, f"only {done} inputs ran within the {seconds} s cap"
    assert 0 < ok_elf < done  # both parsable and rejected inputs were exercised
    assert estimated == (want + 15) // 16
    assert 0 < refused < done  # both UPX-packable and refused layouts were exercised
