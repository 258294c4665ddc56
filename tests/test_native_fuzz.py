"""Memory safety of csrc/ under AddressSanitizer + UBSan, on hostile ELF bytes.

The C files are compiled into a small harness with -fsanitize=address,undefined. Each input
is copied into a malloc'd block of exactly its size, so a one-byte over-read aborts, and
goes through every exported function: sk_elf_info_read, sk_elf_sections, sk_hash64,
sk_upx_check, sk_estimate_pieces (with too small a buffer, then a big enough one) and
sk_estimate_packed at both levels. Inputs: truncations and byte mutations of real and
crafted ELFs (/bin/true, 40 KB, so matches reach past NRV's far offsets and LZMA's high
distance slots), armhf libanl with hostile dynamic and hash tables, random bytes, and one
4.3 MB input whose repeat lies beyond the match window. SIZEKIT_FUZZ_ROUNDS (default 3000)
sets how many mutated inputs run.
"""
import glob
import os
import random
import shutil
import struct
import subprocess

import pytest

from conftest import dynamic_mutants, skip_no_file, skip_no_tool
from test_native import SAMPLE_SECTIONS, build_elf  # pytest puts tests/ on sys.path

# Builds with sanitizers or fuzzes many inputs: deselect with -m "not slow".

pytestmark = pytest.mark.slow  # an ASan build, then thousands of estimates

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")

HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sizekit_native.h"

/* Input stream: repeated [u32 length][bytes]. Prints one line per input. */
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    unsigned char lenb[4];
    (void)argc;
    if (!f) return 2;
    while (fread(lenb, 1, 4, f) == 4) {
        size_t n = lenb[0] | (lenb[1] << 8) | (lenb[2] << 16) | ((size_t)lenb[3] << 24);
        unsigned char *buf = malloc(n ? n : 1);
        size_t cnt = 0, cap;
        sk_section *out;
        sk_elf_info info;
        uint64_t h = 0, o = 0, s = 0, o2 = 0, tot = 0, other = 0;
        uint32_t why = 0;
        sk_piece pieces[2];
        sk_piece *all;
        size_t np = 0;
        int rc, rc2, rc3, rc4;
        if (fread(buf, 1, n, f) != n) return 3;
        rc = sk_elf_info_read(buf, n, &info);
        cap = rc == 0 ? info.shnum : 0;
        out = malloc(sizeof(sk_section) * (cap ? cap : 1));
        rc2 = sk_elf_sections(buf, n, out, cap, &cnt);
        h = sk_hash64(buf, n, 7);
        rc3 = sk_upx_check(buf, n, &why);
        sk_estimate_packed(buf, n, 1, &o, &s, &other);
        sk_estimate_packed(buf, n, 2, &o2, &s, &other);
        rc4 = sk_estimate_pieces(buf, n, 1 + (int)(n & 1), pieces, 2, &np, &tot, &other);
        if (rc4 == SK_ERR_CAPACITY) {
            all = malloc(sizeof(sk_piece) * np);
            rc4 = sk_estimate_pieces(buf, n, 1 + (int)(n & 1), all, np, &np, &tot, NULL);
            free(all);
        }
        printf("%d %d %zu %llx %llu %llu %d %u %d %zu\n", rc, rc2, cnt, (unsigned long long)h,
               (unsigned long long)o, (unsigned long long)o2, rc3, why, rc4, np);
        free(out);
        free(buf);
    }
    fclose(f);
    return 0;
}
"""


def asan_compile(source, exe):
    """gcc with ASan + UBSan (no recovery) over a harness and every csrc/*.c file."""
    sources = sorted(glob.glob(os.path.join(CSRC, "*.c")))
    assert len(sources) > 1, sources  # the module is one file a job, not one file
    return subprocess.run(["gcc", "-std=c99", "-O1", "-g", "-fsanitize=address,undefined",
                           "-fno-sanitize-recover=all", "-I", CSRC, str(source)] + sources + ["-o", str(exe)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    if shutil.which("gcc") is None:
        skip_no_tool("gcc")
    d = tmp_path_factory.mktemp("asan")
    src = d / "harness.c"
    src.write_text(HARNESS)
    exe = d / "harness"
    r = asan_compile(src, exe)
    if r.returncode != 0:
        raise AssertionError("cannot build the ASan harness: " + r.stdout[-300:])
    return str(exe), d


def run_inputs(harness, inputs):
    exe, d = harness
    path = d / "inputs.bin"
    with open(path, "wb") as f:
        for b in inputs:
            f.write(struct.pack("<I", len(b)) + b)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1")
    r = subprocess.run([exe, str(path)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert len(lines) == len(inputs)
    return lines


def bases():
    out = [build_elf(64, "<", sections=SAMPLE_SECTIONS),
           build_elf(32, ">", sections=SAMPLE_SECTIONS),
           build_elf(64, ">", sections=SAMPLE_SECTIONS),
           build_elf(32, "<", sections=SAMPLE_SECTIONS)]
    with open("/bin/true", "rb") as f:
        out.append(f.read())
    return out


def test_truncations_are_memory_safe(harness):
    inputs = []
    for b in bases():
        step = 1 if len(b) < 5000 else 7
        inputs += [b[:n] for n in range(0, len(b) + 1, step)]
    run_inputs(harness, inputs)


def test_mutations_are_memory_safe(harness):
    rng = random.Random(1234)
    rounds = int(os.environ.get("SIZEKIT_FUZZ_ROUNDS", "3000"))
    inputs = []
    bs = bases()
    interesting = [0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF]
    for i in range(rounds):
        b = bytearray(bs[i % len(bs)])
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.6:
                off = rng.randrange(min(64, len(b)))  # the ELF header
            else:
                off = rng.randrange(len(b))
            b[off] = rng.choice(interesting) if rng.random() < 0.5 else rng.randrange(256)
        if rng.random() < 0.2:
            b = b[:rng.randrange(len(b) + 1)]
        inputs.append(bytes(b))
    run_inputs(harness, inputs)


def test_hostile_dynamic_tables_are_memory_safe(harness):
    """UPX's JNI_OnLoad lookup (sk_upx_check) walks DT_HASH chains and the DT_GNU_HASH Bloom
    filter and buckets through addresses the file gives: armhf libanl with words of those
    tables, its symbols and program headers overwritten."""
    path = "/usr/arm-linux-gnueabihf/lib/libanl.so.1"
    if not os.path.exists(path):
        skip_no_file(path, "scripts/install installs libc6-armhf-cross")
    with open(path, "rb") as f:
        data = f.read()
    rounds = int(os.environ.get("SIZEKIT_FUZZ_ROUNDS", "3000")) // 3
    run_inputs(harness, dynamic_mutants(data, rounds, seed=7))


def test_random_bytes_and_estimates_are_memory_safe(harness):
    rng = random.Random(99)
    inputs = [bytes(rng.randrange(256) for _ in range(rng.randrange(600)))
              for _ in range(300)]
    inputs += [b"\x7fELF" + x for x in inputs[:100]]
    inputs += [bytes(n) for n in range(0, 300, 7)] + [b"ab" * n for n in range(0, 300, 11)]
    head = rng.randbytes(65536)
    inputs.append(head + rng.randbytes(4_300_000) + head)  # repeat beyond EST_WINDOW
    lines = run_inputs(harness, inputs)
    # every input reached the estimator: a positive estimate, or EMPTY for empty input
    for b, line in zip(inputs, lines):
        f = line.split()
        assert (int(f[4]) > 0 and int(f[5]) > 0) == (len(b) > 0)
        assert int(f[8]) == (0 if b else -2)
