"""Content hashes of files, from the native module (or its Python reference)."""
from . import engine


def content_hash_hex(path):
    return engine.hash_hex(engine.hash_file(path))
