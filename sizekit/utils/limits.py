"""Every limit on a file sizekit reads, in one table: the README's table is rendered from it.

A file over a limit is refused with exit 2 and one line naming the file, the field and the
limit. The limits are set so that the largest input within them still finishes in under
10 s and 500 MB on a 2-core machine, while the README's supported size finishes in under 2 s
and 200 MB (tests/test_hostile_results.py, test_hostile_snapshots.py, test_hostile_elf.py).

    python3 -m sizekit.utils.limits --write README.md docs/SECURITY.md   # rewrite their tables
"""
import re
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    value: int
    unit: str        # "bytes" (shown as KiB/MiB/GiB) or "count"
    applies: str     # the file it bounds
    what: str        # what is counted


KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

# ---- matrix.yaml (sizekit.config)
MATRIX_BYTES = Limit(1 * MiB, "bytes", "matrix.yaml", "file size")
MATRIX_VALUES = Limit(20_000, "count", "matrix.yaml", "values, counting what each alias stands for again")
MATRIX_DEPTH = Limit(64, "count", "matrix.yaml", "nesting of lists and mappings")
MATRIX_ALIASES = Limit(100, "count", "matrix.yaml", "aliases")
MATRIX_SCALAR = Limit(4096, "count", "matrix.yaml", "characters in one value")

# ---- results.json, and the results inside a snapshot (sizekit.results.results_file)
RESULTS_BYTES = Limit(32 * MiB, "bytes", "results.json", "file size")
RESULTS_VALUES = Limit(1_000_000, "count", "results.json", "JSON values (numbers, strings, lists, objects)")
CELLS = Limit(10_000, "count", "results.json", "cells")
NAME_CHARS = Limit(256, "count", "results.json", "characters in a crate, target, variant, step or section name")
TEXT_CHARS = Limit(64 * KiB, "count", "results.json", "characters in any other string (a reason, a log's tail)")
SIZE_MAX = Limit(1 << 48, "count", "results.json", "a byte count (sizes are whole numbers from 0 to this)")

# ---- snapshots (sizekit.results.snapshot)
SNAPSHOT_BYTES = Limit(64 * MiB, "bytes", "snapshot", "file size (compressed)")
SNAPSHOT_PAYLOAD = Limit(96 * MiB, "bytes", "snapshot", "decompressed size, checked while decompressing")
SNAPSHOT_HEADER = Limit(32 * MiB, "bytes", "snapshot", "header (the embedded results.json and artifact list)")
SNAPSHOT_ARTIFACTS = Limit(4_000, "count", "snapshot", "artifacts (unstripped builds) read for one snapshot")
SNAPSHOT_FILES = Limit(1_000, "count", "snapshot", "files measured beside the cells (images, root file systems)")
SNAPSHOT_SYMBOLS = Limit(2_000_000, "count", "snapshot", "symbols in all artifacts together")
ARTIFACT_SYMBOLS = Limit(500_000, "count", "snapshot", "symbols of one artifact")
SNAPSHOT_STRINGS = Limit(1_000_000, "count", "snapshot", "strings in the string pool (so also the names "
                                                          "demangled to take one)")
SNAPSHOT_STRING_BYTES = Limit(32 * MiB, "bytes", "snapshot", "string pool")
SYMBOL_NAME_BYTES = Limit(64 * KiB, "bytes", "snapshot", "one symbol name")

# ---- ELF files (sizekit.elf): sections, bloat, estimate, snapshot's symbols
ELF_BYTES = Limit(256 * MiB, "bytes", "ELF file", "file size for `sizekit sections` (its pages are read: memory)")
ESTIMATE_BYTES = Limit(8 * MiB, "bytes", "ELF file", "file size for `sizekit estimate` (the model reads every byte: "
                                                      "time follows size; `--max-bytes` raises it)")
ELF_SECTIONS = Limit(65_536, "count", "ELF file", "sections")
ELF_SYMBOLS = Limit(500_000, "count", "ELF file", "symbols in .symtab (each is demangled: `bloat` of 500,000 "
                                                  "stays in the 10 s and 500 MB bound; librustc_driver.so has 165,000)")
ELF_STRTAB_BYTES = Limit(32 * MiB, "bytes", "ELF file", "symbol name table (.strtab; librustc_driver.so's is 19 MiB)")

ALL = {name: value for name, value in globals().items() if isinstance(value, Limit)}


def size_text(n):
    """1048576 -> "1 MiB"; other values as "65,536"."""
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,}"


def value_text(limit):
    if limit.unit == "bytes":
        return size_text(limit.value)
    if limit.value >= 1 << 32 and (limit.value & (limit.value - 1)) == 0:
        return f"2^{limit.value.bit_length() - 1}"
    return f"{limit.value:,}"


def markdown_table():
    """The README's table of limits."""
    lines = ["| file | what | limit |", "| --- | --- | --- |"]
    for limit in ALL.values():
        lines.append(f"| {limit.applies} | {limit.what} | {value_text(limit)} |")
    return "\n".join(lines) + "\n"


BLOCK = re.compile(r"(<!-- limits -->\n)(.*?)(<!-- /limits -->)", re.S)


def fill(text):
    """text with its <!-- limits --> block holding markdown_table()."""
    return BLOCK.sub(lambda m: m.group(1) + markdown_table() + m.group(3), text)


def _write(paths):
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if not BLOCK.search(text):
            print(f"{path}: no <!-- limits --> block", file=sys.stderr)
            return 2
        with open(path, "w", encoding="utf-8") as f:
            f.write(fill(text))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["--write"]:
        print("usage: python3 -m sizekit.utils.limits --write FILE...", file=sys.stderr)
        sys.exit(2)
    sys.exit(_write(sys.argv[2:]))
