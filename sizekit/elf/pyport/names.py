"""csrc/names.c, bit for bit: the hashes and the order of the names in a string table, and the
table from hashes to string numbers.

A name is the bytes from its offset to the next NUL, or to the table's end if there is none.
"""
from .codes import SK_ERR_ARG, SK_ERR_CAPACITY, SK_ERR_RANGE, SK_OK
from .hash import hash64


def _name(data, off):
    stop = data.find(b"\0", off)
    return data[off:stop if stop >= 0 else len(data)]


def _past(data, offs):
    """The first row whose offset is past the table, or None."""
    return next((i for i, off in enumerate(offs) if off > len(data)), None)


def name_hashes(data, offs, seed):
    """sk_name_hashes: (code, hashes, lengths, bad row)."""
    data = bytes(data)
    bad = _past(data, offs)
    if bad is not None:
        return SK_ERR_RANGE, [], [], bad
    names = [_name(data, off) for off in offs]
    return SK_OK, [hash64(n, seed) for n in names], [len(n) for n in names], 0


def name_order(data, offs, sizes):
    """sk_name_order: (code, order, bad row): by size (largest first), name bytes, then row."""
    data = bytes(data)
    bad = _past(data, offs)
    if bad is not None:
        return SK_ERR_RANGE, [], bad
    names = [_name(data, off) for off in offs]
    return SK_OK, sorted(range(len(offs)), key=lambda i: (-sizes[i], names[i], i)), 0


def _slot(keys, vals, cap, key):
    at = key & (cap - 1)
    while vals[at] != 0 and keys[at] != key:
        at = (at + 1) & (cap - 1)
    return at


def _index_ok(keys, vals, cap):
    return cap >= 2 and cap & (cap - 1) == 0 and len(keys) >= cap and len(vals) >= cap


def index_put(keys, vals, cap, used, k, v):
    """sk_index_put, into keys and vals (mutable sequences) in place: (code, used)."""
    if not _index_ok(keys, vals, cap) or used > cap:
        return SK_ERR_ARG, used
    if len(k) > cap or used + len(k) > cap // 4 * 3:
        return SK_ERR_CAPACITY, used
    if any(x == 0xFFFFFFFF for x in v):
        return SK_ERR_ARG, used
    for key, value in zip(k, v):
        at = _slot(keys, vals, cap, int(key))
        if vals[at] == 0:
            used += 1
            keys[at] = key
        vals[at] = value + 1
    return SK_OK, used


def index_get(keys, vals, cap, k):
    """sk_index_get: (code, the value of each key or -1)."""
    if not _index_ok(keys, vals, cap):
        return SK_ERR_ARG, []
    return SK_OK, [int(vals[_slot(keys, vals, cap, int(key))]) - 1 for key in k]
