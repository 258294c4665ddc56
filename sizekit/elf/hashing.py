"""Content hashes of files, from the native module (or its Python reference)."""
from . import native


def content_hash_hex(path):
    return native.hash_hex(native.hash_file(path))
