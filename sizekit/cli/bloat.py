"""`sizekit bloat FILE`: which crates (or functions) the bytes of an unstripped ELF belong to."""
import json
import sys

from ..elf.bloat import attribute
from ..report.tables import Cell, Table, columns
from ..report.terminal import table_text
from ..utils.errors import UsageError
from ..utils.units import count, human, percent, share_text


def cmd_bloat(args):
    if args.n < 1:
        raise UsageError(f"-n must be at least 1, not {args.n}")
    att = attribute(args.file, split_std=args.split_std, sections=[".text"] if args.text_only else None)
    if args.json:
        json.dump(att.to_json(functions=args.n if args.functions else None), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    secs = ", ".join(f"{s} {human(b)}" for s, b in att.section_sizes.items())
    print(f"{args.file}: {att.total:,} bytes in {len(att.section_sizes)} sections ({secs})")
    if args.functions:
        _print_functions(att, args.n)
    else:
        _print_crates(att, args.n)
    return 0


def _share(nbytes, total):
    pct = percent(nbytes, total)
    return Cell(share_text(pct), pct)


def _sizes(nbytes):
    return [Cell(count(nbytes), nbytes), Cell(human(nbytes), nbytes)]


def _print_crates(att, n):
    text = att.sections.get(".text", {})
    text_total = att.section_sizes.get(".text", 0)
    table = Table("crates", columns(("Share", "share"), (".text%", "share"), ("Bytes", "bytes"), ("Size", "size"),
                                    ("Crate", "name")))
    rows = list(att.crates.items())
    for crate, nbytes in rows[:n]:
        table.add([_share(nbytes, att.total), _share(text.get(crate, 0), text_total), *_sizes(nbytes), Cell(crate)])
    rest = rows[n:]
    if rest:
        nbytes = sum(b for _, b in rest)
        table.add([_share(nbytes, att.total), _share(sum(text.get(c, 0) for c, _ in rest), text_total),
                   *_sizes(nbytes), Cell(f"And {len(rest)} more crates. Use -n N to show more.")], "rest")
    table.add([_share(att.total, att.total), _share(text_total, text_total), *_sizes(att.total),
               Cell(f"total ({'std split' if att.split_std else 'std grouped'}; [Unknown] = bytes no symbol covers)")],
              "total")
    print(table_text(table, rule=False))


def _print_functions(att, n):
    table = Table("functions", columns(("Share", "share"), ("Bytes", "bytes"), ("Size", "size"), "Section", "Crate",
                                       "Name"))
    for name, crate, nbytes, sec in att.functions[:n]:
        table.add([_share(nbytes, att.total), *_sizes(nbytes), Cell(sec), Cell(crate), Cell(name)])
    rest = att.functions[n:]
    if rest:
        nbytes = sum(f[2] for f in rest)
        table.add([_share(nbytes, att.total), *_sizes(nbytes), Cell(""), Cell(""),
                   Cell(f"And {len(rest)} smaller symbols. Use -n N to show more.")], "rest")
    table.add([_share(att.total, att.total), *_sizes(att.total), Cell(""), Cell(""),
               Cell("total (with bytes no symbol covers)")], "total")
    print(table_text(table, rule=False))


def _register_bloat(sub):
    p = sub.add_parser("bloat")
    p.add_argument("file", metavar="FILE", help="an unstripped ELF (the build artifact, before strip)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--crates", action="store_true", help="bytes per crate (the default)")
    mode.add_argument("--functions", action="store_true", help="the largest symbols with their crate")
    p.add_argument("--split-std", action="store_true", help="show std, core, alloc, ... separately")
    p.add_argument("--json", action="store_true",
                   help="JSON: every crate and section; with --functions also the N largest symbols")
    p.add_argument("--text-only", action="store_true",
                   help="count .text alone, as cargo-bloat does (by default .rodata, .data and the other "
                        "allocated sections a crate's symbols own are counted too)")
    p.add_argument("-n", type=int, default=20, metavar="N", help="rows to show (default 20)")
    p.set_defaults(func=cmd_bloat)


REGISTER = [_register_bloat]
