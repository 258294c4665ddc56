"""The Python port of the native module (csrc/), bit for bit: slow, but dependency-free.

It is split file for file as the C is: hash.py is csrc/hash.c, elf.py elf.c, price.py
price.c, lz.py lz.c, filters.py filters.c, layout.py layout.c, upx.py upx.c, names.py names.c, internal.py
internal.h and codes.py the enums of sizekit_native.h; tables.py is generated from
csrc/tables.json, as csrc/tables.h is. A change to an algorithm is made in both languages.

Each function returns what the C function returns: an error code (0 or a negative
``SK_ERR_*``) plus its outputs. ``sizekit.elf.engine`` turns codes into exceptions for both
backends, so the two cannot drift in what they raise; it uses this package as its backend
when ``SIZEKIT_BACKEND=python``.
"""
import os

from .elf import elf_info_read, elf_sections
from .hash import hash64
from .layout import upx_check
from .names import index_get, index_put, name_hashes, name_order
from .upx import estimate_packed, estimate_pieces

__all__ = ["elf_info_read", "elf_sections", "estimate_packed", "estimate_pieces", "hash64", "index_get", "index_put", "name_hashes", "name_order", "upx_check"]


def source_files():
    """The port's source files, sorted: the model sizekit.elf.engine.model_fingerprint digests."""
    here = os.path.dirname(os.path.abspath(__file__))
    return tuple(sorted(os.path.join(here, n) for n in os.listdir(here) if n.endswith(".py")))
