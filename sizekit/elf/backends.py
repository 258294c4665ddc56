"""The two backends behind sizekit.elf.engine, and the choice between them.

``SIZEKIT_BACKEND=c`` (default) is the cffi module ``sizekit.elf._native``, wrapped by
CBackend to the signatures of the Python port (``sizekit.elf.pyport``: return codes, no
exceptions); ``SIZEKIT_BACKEND=python`` is the port itself. If the C module cannot be
imported, the port serves and one line on stderr says so (chosen explicitly, it is silent).
"""
import os

from . import pyport
from .pyport.codes import SK_ERR_CAPACITY
from ..utils.errors import UsageError
from ..utils.log import say


class CBackend:
    """The C module with the Python port's signatures."""

    name = "c"

    def __init__(self, mod):
        self.ffi = mod.ffi
        self.lib = mod.lib
        self.files = (mod.__file__,)

    def _buf(self, data):
        # from_buffer wants a non-empty or any bytes-like object; it does not copy
        return self.ffi.from_buffer(data) if len(data) else self.ffi.NULL

    def hash64(self, data, seed=0):
        return self.lib.sk_hash64(self._buf(data), len(data), seed)

    @staticmethod
    def _info_dict(info):
        return {k: getattr(info, k) for k in ("elfclass", "endian", "machine", "type",
                                               "shoff", "shnum", "shentsize", "shstrndx")}

    def _u64(self, array):
        return self.ffi.from_buffer("uint64_t[]", array) if len(array) else self.ffi.NULL

    def name_hashes(self, data, offs, seed):
        """offs: a contiguous uint64 numpy array; hashes and lengths come back as such arrays."""
        import numpy as np  # lazy: only the snapshot and diff commands ask
        hashes, lens = np.empty(len(offs), np.uint64), np.empty(len(offs), np.uint64)
        bad = self.ffi.new("size_t *")
        rc = self.lib.sk_name_hashes(self._buf(data), len(data), self._u64(offs), len(offs), seed,
                                     self._u64(hashes), self._u64(lens), bad)
        return rc, hashes, lens, bad[0]

    def name_order(self, data, offs, sizes):
        """offs, sizes: contiguous uint64 numpy arrays; the order comes back as one."""
        import numpy as np
        order = np.empty(len(offs), np.uint64)
        bad = self.ffi.new("size_t *")
        rc = self.lib.sk_name_order(self._buf(data), len(data), self._u64(offs), self._u64(sizes),
                                    len(offs), self._u64(order), bad)
        return rc, order, bad[0]

    def index_put(self, keys, vals, cap, used, k, v):
        """keys, vals: the table's uint64 and uint32 numpy arrays (changed in place); k, v: numpy arrays."""
        count = self.ffi.new("size_t *", used)
        rc = self.lib.sk_index_put(self.ffi.from_buffer("uint64_t[]", keys), self.ffi.from_buffer("uint32_t[]", vals),
                                   cap, count, self._u64(k),
                                   self.ffi.from_buffer("uint32_t[]", v) if len(v) else self.ffi.NULL, len(k))
        return rc, count[0]

    def index_get(self, keys, vals, cap, k):
        import numpy as np
        out = np.empty(len(k), np.int64)
        rc = self.lib.sk_index_get(self.ffi.from_buffer("uint64_t[]", keys), self.ffi.from_buffer("uint32_t[]", vals),
                                   cap, self._u64(k), len(k),
                                   self.ffi.from_buffer("int64_t[]", out) if len(k) else self.ffi.NULL)
        return rc, out

    def elf_info_read(self, data):
        info = self.ffi.new("sk_elf_info *")
        rc = self.lib.sk_elf_info_read(self._buf(data), len(data), info)
        return rc, self._info_dict(info)

    def elf_sections(self, data):
        rc, info = self.elf_info_read(data)
        if rc != 0:
            return rc, 0, [], info
        n = info["shnum"]
        out = self.ffi.new("sk_section[]", max(n, 1))
        count = self.ffi.new("size_t *")
        rc = self.lib.sk_elf_sections(self._buf(data), len(data), out, n, count)
        if rc != 0:
            return rc, count[0], [], info
        keys = ("index", "type", "flags", "addr", "offset", "size", "link", "info",
                "addralign", "entsize", "name_off", "name_len", "hash")
        secs = [{k: getattr(out[i], k) for k in keys} for i in range(count[0])]
        return rc, count[0], secs, info

    def estimate_packed(self, data, level):
        out = self.ffi.new("uint64_t *")
        stream = self.ffi.new("uint64_t *")
        other = self.ffi.new("uint64_t *")
        rc = self.lib.sk_estimate_packed(self._buf(data), len(data), level, out, stream, other)
        return rc, out[0], stream[0], other[0]

    def upx_check(self, data):
        reason = self.ffi.new("uint32_t *")
        rc = self.lib.sk_upx_check(self._buf(data), len(data), reason)
        return rc, reason[0]

    def estimate_pieces(self, data, level):
        count = self.ffi.new("size_t *")
        total = self.ffi.new("uint64_t *")
        other = self.ffi.new("uint64_t *")
        cap = 16
        while True:
            out = self.ffi.new("sk_piece[]", cap)
            rc = self.lib.sk_estimate_pieces(self._buf(data), len(data), level, out, cap,
                                             count, total, other)
            if rc != SK_ERR_CAPACITY:
                break
            cap = count[0]
        if rc != 0:
            return rc, [], 0, 0
        keys = ("offset", "size", "stream", "packed", "kind", "filter", "content")
        return (rc, [{k: getattr(out[i], k) for k in keys} for i in range(count[0])], total[0],
                other[0])


def pick():
    """(backend, its name) as SIZEKIT_BACKEND asks; the backend's files are its model."""
    want = os.environ.get("SIZEKIT_BACKEND", "c").strip().lower() or "c"
    if want not in ("c", "python"):
        raise UsageError(f"SIZEKIT_BACKEND must be 'c' or 'python', not {want!r}")
    if want == "c":
        try:
            from . import _native  # type: ignore[attr-defined]  # the compiled module: no stub
        except ImportError as e:
            # the C module is part of the product: running 100x slower must not go unnoticed
            say(f"the C module sizekit.elf._native failed to load ({e}); using the "
                f"slow Python backend (SIZEKIT_BACKEND=python silences this)")
            return pyport, "python"
        return CBackend(_native), "c"
    return pyport, "python"


def model_files(backend):
    """The files whose bytes are the backend's model: the C module, or the port's sources."""
    return backend.files if isinstance(backend, CBackend) else pyport.source_files()
