"""`sizekit bloat FILE`: which crates (or functions) the bytes of an unstripped ELF belong to."""
import json
import sys

from ..utils.units import human


def cmd_bloat(args):
    from ..elf.bloat import attribute
    from ..utils.errors import UsageError

    if args.n < 1:
        raise UsageError(f"-n must be at least 1, not {args.n}")
    att = attribute(args.file, split_std=args.split_std)
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
    return f"{nbytes * 100 / total:5.1f}%" if total else "    -"


def _print_crates(att, n):
    text = att.sections.get(".text", {})
    text_total = att.section_sizes.get(".text", 0)
    print(f"{'Share':>6} {'.text%':>6} {'Bytes':>12} {'Size':>6}  Crate")
    rows = list(att.crates.items())
    for crate, nbytes in rows[:n]:
        print(f"{_share(nbytes, att.total)} {_share(text.get(crate, 0), text_total)} {nbytes:>12,} "
              f"{human(nbytes):>6}  {crate}")
    rest = rows[n:]
    if rest:
        nbytes = sum(b for _, b in rest)
        tb = sum(text.get(c, 0) for c, _ in rest)
        print(f"{_share(nbytes, att.total)} {_share(tb, text_total)} {nbytes:>12,} {human(nbytes):>6}  "
              f"And {len(rest)} more crates. Use -n N to show more.")
    print(f"{_share(att.total, att.total)} {_share(text_total, text_total)} {att.total:>12,} "
          f"{human(att.total):>6}  total ({'std split' if att.split_std else 'std grouped'}; "
          f"[Unknown] = bytes no symbol covers)")


def _print_functions(att, n):
    print(f"{'Share':>6} {'Bytes':>12} {'Size':>6}  {'Section':<14} {'Crate':<20} Name")
    shown = att.functions[:n]
    for name, crate, nbytes, sec in shown:
        print(f"{_share(nbytes, att.total)} {nbytes:>12,} {human(nbytes):>6}  {sec:<14} {crate:<20} {name}")
    rest = att.functions[n:]
    if rest:
        nbytes = sum(f[2] for f in rest)
        print(f"{_share(nbytes, att.total)} {nbytes:>12,} {human(nbytes):>6}  "
              f"And {len(rest)} smaller symbols. Use -n N to show more.")
    print(f"{_share(att.total, att.total)} {att.total:>12,} {human(att.total):>6}  "
          f"total (with bytes no symbol covers)")


def _register_bloat(sub):
    p = sub.add_parser("bloat", help="attribute an unstripped ELF's bytes to crates or functions (like cargo-bloat)")
    p.add_argument("file", metavar="FILE", help="an unstripped ELF (the build artifact, before strip)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--crates", action="store_true", help="bytes per crate (the default)")
    mode.add_argument("--functions", action="store_true", help="the largest symbols with their crate")
    p.add_argument("--split-std", action="store_true", help="show std, core, alloc, ... separately")
    p.add_argument("--json", action="store_true",
                   help="JSON: every crate and section; with --functions also the N largest symbols")
    p.add_argument("-n", type=int, default=20, metavar="N", help="rows to show (default 20)")
    p.set_defaults(func=cmd_bloat)


REGISTER = [_register_bloat]
