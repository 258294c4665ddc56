"""The compressed blocks inside a file packed by UPX: what UPX did with each piece.

UPX writes each compressed piece as a 12-byte b_info (uncompressed size, compressed size,
method, filter id, filter parameter, unused) followed by the compressed bytes, and ends the
run with a b_info whose uncompressed size is 0 and whose second word is "UPX!"; a block UPX
did not compress has method 0 and its own bytes. This finds
the longest such chain in a packed file, so a benchmark can set each of UPX's blocks beside
the estimate's piece for the same bytes (`python benchmarks/upx_blocks.py PACKED` lists them).
"""
import struct
import sys

END = 0x21585055  # "UPX!" read as a little-endian word
METHODS = {0: "stored", 2: "nrv2b", 3: "nrv2b", 4: "nrv2b", 5: "nrv2d", 6: "nrv2d", 7: "nrv2d",
           8: "nrv2e", 9: "nrv2e", 10: "nrv2e", 14: "lzma"}


def _one(data, i):
    if i + 12 > len(data):
        return None
    unc, cpr, method, ftid, cto, _ = struct.unpack_from("<IIBBBB", data, i)
    if unc == 0:
        return "end" if cpr == END else None
    if method not in METHODS or cpr == 0 or cpr > unc or i + 12 + cpr > len(data):
        return None
    if method == 0 and cpr != unc:  # a stored block is its own bytes
        return None
    return {"offset": i, "unc": unc, "cpr": cpr, "method": METHODS[method],
            "method_id": method, "filter": ftid, "cto": cto}


def _chain(data, i):
    out = []
    while True:
        b = _one(data, i)
        if b == "end":
            return out or None
        if b is None:
            return None
        out.append(b)
        nxt = i + 12 + b["cpr"]
        # UPX pads between blocks to a 4-byte boundary in some places: try the aligned spot
        i = nxt if _one(data, nxt) is not None else (nxt + 3) & ~3


def blocks(data):
    """The b_info chain (dicts: offset, unc, cpr, method, method_id, filter, cto) with the
    most blocks; [] when none is found."""
    best = []
    i = 0
    n = len(data)
    while i + 12 <= n:
        unc, cpr = struct.unpack_from("<II", data, i)
        if 0 < cpr <= unc < (1 << 31) and data[i + 8] in METHODS:
            found = _chain(data, i)
            if found and len(found) > len(best):
                best = found
        i += 1
    return best


def block_for(data, unc):
    """The b_info of the block holding `unc` uncompressed bytes, or None."""
    key = struct.pack("<I", unc)
    i = data.find(key)
    while i >= 0:
        b = _one(data, i)
        if isinstance(b, dict) and data[i + 11] == 0:
            return b
        i = data.find(key, i + 1)
    return None


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python benchmarks/upx_blocks.py PACKED", file=sys.stderr)
        return 2
    with open(args[0], "rb") as f:
        found = blocks(f.read())
    for b in found:
        print(f"{b['offset']:>9} unc {b['unc']:>9} cpr {b['cpr']:>9} {b['method']:<5} "
              f"filter 0x{b['filter']:02x}")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
