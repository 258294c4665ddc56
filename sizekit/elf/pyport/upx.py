"""The packed-size estimate (csrc/upx.c), bit for bit: what UPX 4.2.4 does with an ELF file,
as pieces (headers, segments, gaps, copied segments), each priced by the LZ model (lz.py)
and scaled by the fitted tables, plus UPX's loader and headers."""
from .codes import (SK_CONTENT_CODE, SK_CONTENT_DATA, SK_CONTENT_GAP, SK_CONTENT_THUMB, SK_ERR_ARG,
                    SK_ERR_EMPTY, SK_LEVEL_BEST, SK_LEVEL_LZMA, SK_OK, SK_PIECE_COPY, SK_PIECE_GAP,
                    SK_PIECE_HEADERS, SK_PIECE_PLAIN, SK_UPX_OK)
from .filters import filter_arm, filter_x86
from .internal import EST_ARCH_AARCH64, EST_ARCH_ARMV7, EST_ARCH_I386, EST_ARCH_X86_64, M64
from .layout import est_layout_read
from .lz import est_stream
from .tables import (EST_A, EST_BAND, EST_FADE_LZMA, EST_FADE_NRV, EST_FAR_NRV2B, EST_FAR_NRV2E,
                     EST_FILTER_MARGIN, EST_FILTER_PREFIX_MIN, EST_LSIZE, EST_SHLIB_TAIL,
                     EST_SMALL_FILE, EST_STUB)

EST_M_NRV2B, EST_M_NRV2E, EST_M_LZMA = 0, 1, 2


def _table_arch(arch):
    """EST_TABLE_ARCH: the row of EST_A, EST_STUB and EST_LSIZE (i386 uses x86-64's)."""
    return EST_ARCH_X86_64 if arch == EST_ARCH_I386 else arch


def est_arm_mode(d, off, size):
    """est_arm_mode: at least 35% of the aligned words have the "always" condition nibble."""
    start = off + ((4 - (off & 3)) & 3)
    words = max(0, (off + size - start) // 4)
    always = sum(1 for b in d[start + 3:start + 4 * words:4] if b & 0xF0 == 0xE0)
    return words > 0 and always * 100 >= words * 35


def est_scale(k, stream, size, fade):
    """est_scale: stream * A, A = (a + b * r + c * r^2) / 1000 with r = stream / size per mille
    held to [lo, hi], A clamped, its distance from 1 times stream / (stream + fade)."""
    r = min(max(stream * 1000 // size, k[3]), k[4])
    num = min(max(k[0] * 1000000 + k[1] * r * 1000 + k[2] * r * r, 500000000), 1100000000) // 1000
    if num <= 1000000:
        num = 1000000 - (1000000 - num) * stream // (stream + fade)
    else:
        num = 1000000 + (num - 1000000) * stream // (stream + fade)
    return stream * num // 1000000


def _gap(L, k, n):
    hi = L.loads[k][0] + L.loads[k][1]
    lo = n
    for j, s in enumerate(L.loads):
        if j != k and hi <= s[0] < lo:
            lo = s[0]
    return lo - hi


def _pieces(d, level):
    """est_run: (rc, pieces, total, stream sum, other size); a piece is a dict like
    sk_piece."""
    n = len(d)
    if level not in (SK_LEVEL_BEST, SK_LEVEL_LZMA) or n > 0x7FFFFFFF:
        return SK_ERR_ARG, [], 0, 0, 0
    if n == 0:
        return SK_ERR_EMPTY, [], 0, 0, 0
    method = EST_M_LZMA if level == SK_LEVEL_LZMA else \
        (EST_M_NRV2B if n <= EST_SMALL_FILE else EST_M_NRV2E)
    why, L = est_layout_read(d)
    arch = L.arch if why == SK_UPX_OK else EST_ARCH_X86_64
    far = EST_FAR_NRV2B if method == EST_M_NRV2B else EST_FAR_NRV2E
    ta = _table_arch(arch)
    a = EST_A[ta][method]
    fade = EST_FADE_LZMA if method == EST_M_LZMA else EST_FADE_NRV
    lsize = EST_LSIZE[ta][1 if L.shlib else 0][method] if why == SK_UPX_OK else 0
    out = []

    def _filtered_stream(src, thumb):
        """est_filtered_stream: (stream, whether the filtered bytes won)."""
        size = len(src)
        mark = size // 4 if size >= EST_FILTER_PREFIX_MIN else size
        buf = bytearray(src)
        if arch in (EST_ARCH_X86_64, EST_ARCH_I386):
            filter_x86(buf)
        else:
            filter_arm(buf, arch == EST_ARCH_AARCH64)
        first, second = (src, bytes(buf)) if thumb else (bytes(buf), src)
        s1, m1 = est_stream(first, level, far, size, mark)
        if mark < size:
            _, m2 = est_stream(second, level, far, mark, mark)
            if m2 * 1000 > m1 * (1000 + EST_FILTER_MARGIN):
                return s1, not thumb
        s2 = est_stream(second, level, far)[0]
        sf, su = (s2, s1) if thumb else (s1, s2)  # filtered, unfiltered
        return (sf, True) if sf < su else (su, False)  # ties: unfiltered

    def piece(off, size, filt, kind):
        if size == 0:
            return
        stream = 0
        candidate = filt
        cls = SK_CONTENT_DATA
        if kind == SK_PIECE_COPY:
            packed = size
        else:
            buf = d[off:off + size]
            thumb = filt and arch == EST_ARCH_ARMV7 and not est_arm_mode(d, off, size)
            if filt:
                stream, filt = _filtered_stream(buf, thumb)
            else:
                stream = est_stream(buf, level, far)[0]
            cls = SK_CONTENT_GAP if kind == SK_PIECE_GAP else (SK_CONTENT_CODE if candidate else SK_CONTENT_DATA)
            if thumb:
                cls = SK_CONTENT_THUMB
            packed = size if stream >= size else est_scale(a[cls], stream, size, fade)
            if candidate and packed < size and size - packed < lsize:
                packed, filt = size, 0
            packed += 12
        out.append({"offset": off, "size": size, "stream": stream, "packed": packed,
                    "kind": kind, "filter": 1 if filt else 0, "content": cls})

    if why != SK_UPX_OK:
        piece(0, n, 0, SK_PIECE_PLAIN)
        return SK_OK, out, sum(p["packed"] for p in out), sum(p["stream"] for p in out), 0
    nx, have = 0, False
    for k, s in enumerate(L.loads):
        if s[4] & 1 and (not have or s[1] > L.loads[nx][1]):
            nx, have = k, True
    end = max(off + size for off, size, _, _, _ in L.loads)
    blocksize = max(max(size for _, size, _, _, _ in L.loads), n - end)

    def extent(off, size, filt, kind):
        while size > 0:
            k = min(size, blocksize) if blocksize else size
            piece(off, k, filt, kind)
            off += k
            size -= k

    if not L.shlib:
        piece(0, L.hdr_len, 0, SK_PIECE_HEADERS)
        for k, (off, size, _, _, _) in enumerate(L.loads):
            if k == 0:
                if L.hdr_len > size:
                    continue
                off += L.hdr_len
                size -= L.hdr_len
            extent(off, size, k == nx, SK_PIECE_PLAIN)
    else:
        hdr_done = False
        for off, size, _, _, fl in L.loads:
            if off < L.xct_off:
                keep = min(size, L.xct_off - off)
                piece(off, keep, 0, SK_PIECE_COPY)
                if not hdr_done:
                    piece(0, L.hdr_len, 0, SK_PIECE_HEADERS)
                    hdr_done = True
                if size > L.xct_off - off:
                    extent(L.xct_off, size - (L.xct_off - off), 1, SK_PIECE_PLAIN)
            elif not fl & 2:
                extent(off, size, 1, SK_PIECE_PLAIN)
    for k, s in enumerate(L.loads):
        extent(s[0] + s[1], _gap(L, k, n), 0, SK_PIECE_GAP)
    total = sum(p["packed"] for p in out)
    pos = total + EST_STUB[ta][1 if L.shlib else 0][method] - \
        (EST_SHLIB_TAIL if L.shlib else 0)
    other = 0
    if L.shlib:
        band = (total - sum(p["packed"] for p in out if p["kind"] == SK_PIECE_COPY)) \
            * EST_BAND // 1000
        end = _shlib_end(L, pos)
        for off, size, _, _, fl in L.loads:
            if off >= L.xct_off and fl & 2:
                piece(off, size, 0, SK_PIECE_COPY)
        up = _shlib_end(L, pos + band) - end
        down = end - _shlib_end(L, pos - band if pos >= band else 0)
        if up > 0 and up * 20 >= end:
            other = end + up
        elif down > 0 and down * 20 >= end:
            other = end - down
        pos = end
    return SK_OK, out, pos & M64, sum(p["stream"] for p in out), other & M64


def _shlib_end(L, pos):
    """est_shlib_end: where a shared library's output ends when its writable PT_LOADs
    follow pos, each at its file offset modulo its page size."""
    for off, size, _, align, fl in L.loads:
        if off < L.xct_off or not fl & 2:
            continue
        if L.arch != EST_ARCH_AARCH64:
            align = min(align, 4096)
        if align == 0 or align & (align - 1):
            align = 1
        pos += ((off - pos) & (align - 1)) + size
    return pos + EST_SHLIB_TAIL + L.arm_tail


def estimate_pieces(data, level):
    """sk_estimate_pieces with unlimited capacity: (rc, pieces, total, other size or 0)."""
    rc, out, total, _, other = _pieces(bytes(data), level)
    return rc, out, total, other


def estimate_packed(data, level):
    """sk_estimate_packed: returns (rc, estimate, model stream bytes, other size or 0)."""
    rc, _, total, stream, other = _pieces(bytes(data), level)
    if rc != SK_OK:
        return rc, 0, 0, 0
    return SK_OK, total, stream, other
