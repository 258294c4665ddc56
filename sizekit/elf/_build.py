"""cffi build script (API mode): csrc/sizekit_native.h is the cdef, csrc/*.c the sources."""
import glob
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(os.path.dirname(os.path.dirname(HERE)), "csrc")
# hash.c, elf.c, lz.c, price.c, filters.c, layout.c, upx.c, names.c: one file per job, sharing
# internal.h and the generated tables.h (scripts/gen_tables).
SOURCES = sorted(glob.glob(os.path.join(CSRC, "*.c")))


def _read(name):
    with open(os.path.join(CSRC, name)) as f:
        return f.read()


def _cdef_text(header):
    # cffi's cdef does not take preprocessor lines.
    return "\n".join(l for l in header.splitlines() if not l.lstrip().startswith("#"))


# SIZEKIT_SANITIZE=address builds the module with AddressSanitizer and UBSan; load it
# with LD_PRELOAD=$(gcc -print-file-name=libasan.so) (tests/test_asan_module.py does).
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"] \
    if os.environ.get("SIZEKIT_SANITIZE") == "address" else []

ffibuilder = FFI()
ffibuilder.cdef(_cdef_text(_read("sizekit_native.h")) + _cdef_text(_read("names.h")))
ffibuilder.set_source(
    "sizekit.elf._native",
    '#include "sizekit_native.h"\n#include "names.h"',
    sources=SOURCES,
    include_dirs=[CSRC],
    extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra"] + SANITIZE,
    extra_link_args=SANITIZE,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
