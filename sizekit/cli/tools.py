"""Subcommands over single files: `sizekit sections` and `sizekit estimate`."""
import dataclasses
import json
import os
import sys

from ..elf import engine
from ..utils import limits
from ..utils.errors import ElfError, UsageError
from ..utils.units import human, parse_size


def _print_json(obj):
    json.dump(obj, sys.stdout, indent=1)
    sys.stdout.write("\n")


def _section_dict(s):
    return {"index": s.index, "name": s.name, "type": s.type_name, "flags": s.flags, "addr": s.addr,
            "offset": s.offset, "size": s.size, "alloc": s.alloc, "hash": engine.hash_hex(s.hash)}


def cmd_sections(args):
    if len(args.files) == 1:
        info = engine.read_sections(args.files[0])
        if args.json:
            _print_json({"file": args.files[0], "class": info.elfclass, "endian": info.endian,
                         "machine": info.machine, "sections": [_section_dict(s) for s in info.sections]})
            return 0
        print(f"{args.files[0]}: ELF{info.elfclass} {info.endian}-endian, machine {info.machine}, "
              f"{len(info.sections)} sections")
        print(f"{'idx':>3}  {'name':<24} {'type':<14} {'offset':>10} {'size':>10}  hash")
        for s in info.sections:
            print(f"{s.index:>3}  {s.name[:24]:<24} {s.type_name[:14]:<14} {s.offset:>#10x} {s.size:>10}  "
                  f"{engine.hash_hex(s.hash)}")
        return 0
    old, new = (engine.read_sections(p) for p in args.files)
    rows = engine.diff_sections(old, new)
    changed = [r for r in rows if r[3]]
    if args.json:
        _print_json({"old": args.files[0], "new": args.files[1], "sections": [
            {"name": n, "old_size": a, "new_size": b, "changed": c,
             "delta": (b or 0) - (a or 0)} for n, a, b, c in rows]})
        return 0
    print(f"{len(changed)} of {len(rows)} sections differ between {args.files[0]} and {args.files[1]}")
    if changed:
        print(f"{'name':<24} {'old':>10} {'new':>10} {'delta':>10}")
    for name, a, b, _ in changed:
        delta = (b or 0) - (a or 0)
        print(f"{name[:24]:<24} {'-' if a is None else a:>10} {'-' if b is None else b:>10} {delta:>+10}")
    return 0


def _piece_rows(pieces):
    """The estimate's pieces of a file, each with what UPX would do with it."""
    for p in pieces:
        if p["kind"] == "copied":
            p["how"] = "left as it is" if p["offset"] == 0 else "copied after the loader"
        elif p["packed"] - 12 >= p["size"]:
            p["how"] = "stored (compression would not pay)"
        else:
            p["how"] = "compressed" + (", branch filter" if p["filter"] else "")
    return pieces


def _estimate_limit(args):
    """ESTIMATE_BYTES, or the --max-bytes the user gave for a file they trust; a larger file is refused."""
    limit = limits.ESTIMATE_BYTES
    if args.max_bytes is not None:
        try:
            limit = dataclasses.replace(limit, value=parse_size(args.max_bytes))
        except ValueError as exc:
            raise UsageError(f"--max-bytes: {exc}") from None
    try:
        size = os.stat(args.file).st_size if os.path.isfile(args.file) else 0
    except OSError:
        size = 0
    if size > limit.value:
        raise ElfError(args.file, f"{size:,} bytes, over the limit of {limits.value_text(limit)} for `sizekit "
                                  f"estimate` (the model reads every byte, up to 0.7 s a MiB); pass --max-bytes "
                                  f"{-(-size // limits.MiB)}MiB to estimate it anyway")
    return limit


def cmd_estimate(args):
    # the file may come from anyone: a size limit bounds the model's time (it reads every byte)
    limit = _estimate_limit(args)
    if args.pieces:  # one run of the model gives the pieces too
        estimate, why, pieces, other = engine.estimate_breakdown(args.file, args.upx, limit)
        pieces = None if why else _piece_rows(pieces)
    else:
        (estimate, why, other), pieces = engine.estimate_outcome(args.file, args.upx, limit), None
    size = os.path.getsize(args.file)  # a regular file: the estimate refused anything else
    if args.json:
        doc = {"file": args.file, "bytes": size, "level": args.upx, "estimate_bytes": estimate,
               "ratio": round(estimate / size, 4) if size and estimate else None, "upx_refusal": why,
               "other_bytes": other}
        if pieces is not None:
            doc["pieces"] = pieces
        _print_json(doc)
        return 1 if why else 0
    flags = "--best" + (" --lzma" if args.upx == "lzma" else "")
    if why:
        print(f"{args.file}: {size:,} bytes; UPX cannot pack this: {why}")
        return 1
    ratio = f" ({estimate * 100 / size:.1f}%)" if size else ""
    print(f"{args.file}: {size:,} bytes; upx {flags} estimate {estimate:,} bytes{ratio}, {human(estimate)}")
    if other:
        print(f"  near a page edge: if the compressed bytes come out {engine.EST_BAND_PCT:g}% "
              f"{'more' if other > estimate else 'fewer'}, UPX gives {other:,} bytes ({human(other)})")
    if pieces is not None:
        print(f"{'kind':<9} {'offset':>10} {'bytes':>10} {'estimate':>10}  what UPX does")
        for p in pieces:
            print(f"{p['kind']:<9} {p['offset']:>#10x} {p['size']:>10,} {p['packed']:>10,}  {p['how']}")
        rest = estimate - sum(p["packed"] for p in pieces)
        print(f"{'loader':<9} {'':>10} {'':>10} {rest:>10,}  UPX's loader, headers and padding")
    return 0


def _register_sections(sub):
    p = sub.add_parser("sections")
    p.add_argument("files", nargs="+", metavar="FILE", help="one ELF to list, or OLD NEW to compare")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_checked(cmd_sections, lambda a: len(a.files) in (1, 2), "give one FILE, or two to compare"))


def _register_estimate(sub):
    p = sub.add_parser("estimate", description="Estimate the UPX-packed size of a file without running UPX "
                                               "(exit 1, with UPX's reason, for a file UPX would refuse).")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--upx", choices=sorted(engine.LEVELS), default="best",
                   help="best = upx --best, lzma = upx --best --lzma")
    p.add_argument("--pieces", action="store_true",
                   help="list what UPX would do with each part of the file (compare upx --fileinfo)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--max-bytes", metavar="SIZE",
                   help=f"estimate files up to SIZE (default {limits.value_text(limits.ESTIMATE_BYTES)}, which "
                        f"bounds the time a file from anywhere can take)")
    p.set_defaults(func=cmd_estimate)


def _checked(func, ok, message):
    def run(args):
        if not ok(args):
            raise UsageError(message)
        return func(args)
    return run


REGISTER = [_register_sections, _register_estimate]
