"""Symbol-level diff of one cell: two SymbolTables matched in passes, grouped by crate.

Passes, each over the symbols the earlier ones left unmatched:
  exact        the raw (mangled) name;
  no-hash      the demangled name without the legacy `::h<hash>`, v0 `[disambiguator]`s and
               clone suffixes (`.llvm.N`, `.constprop.N`, ...), so a symbol whose crate hash
               changed is the same symbol;
  no-generics  that name without generic arguments (`Vec<u8>` -> `Vec`, `::<T>` dropped).
Within a key, symbols pair largest with largest. Bytes no symbol covers (padding, alignment,
anonymous constants) are one overhead row, not a crate.
"""
import re
from collections import Counter
from itertools import compress
from operator import itemgetter, ne

from .threshold import Threshold

PASSES = ("exact", "no-hash", "no-generics")
_HASH = re.compile(r"::h[0-9a-f]{16}(?=$|[.\s])")
_DISAMBIGUATOR = re.compile(r"\[[0-9a-f]{1,16}\]")
CLONE_WORDS = frozenset(("llvm", "constprop", "isra", "part", "cold", "lto_priv", "localalias"))
_first, _second = itemgetter(0), itemgetter(1)


def strip_clones(name):
    """name without its trailing clone suffixes: `.llvm.N`, `.constprop.N`, ... or ` [clone ...]`s.

    Peeled from the end a segment at a time, so linear in the name (a regex ending in `)+$`
    backtracks quadratically on a long run of `.llvm`)."""
    if name.endswith("]"):
        return _strip_bracket_clones(name)
    end = len(name)
    while True:
        dot = name.rfind(".", 0, end)
        if dot < 0:
            break
        tail = name[dot + 1:end]
        if tail in CLONE_WORDS:
            end = dot
            continue
        before = name.rfind(".", 0, dot) if tail.isdecimal() else -1
        if before < 0 or name[before + 1:dot] not in CLONE_WORDS:
            break
        end = before
    return name[:end]


def _strip_bracket_clones(name):
    """Trailing ` [clone X]` groups (X without `]`), as GCC names its clones."""
    end = len(name)
    while end and name[end - 1] == "]":
        prev = name.rfind("]", 0, end - 1)
        start = name.find(" [clone ", prev + 1, end)
        if start < 0:
            break
        end = start
        if start != prev + 1:     # text between this group and the one before: no more groups
            break
    return name[:end]


def no_hash(name):
    if "." in name or "[" in name:
        name = strip_clones(name)
    if "::h" in name:
        name = _HASH.sub("", name)
    if "[" in name:
        name = strip_clones(_DISAMBIGUATOR.sub("", name))
    return name


def _generic_group(depth):
    """A regex of one <...> group nested at most depth deep: inside it every `<` opens a group and
    every `>` closes one unless it ends `->`. Possessive, so a failed match never backtracks."""
    group = r"<(?:[^<>]++|(?<=-)>)*+>"
    for _ in range(depth - 1):
        group = r"<(?:[^<>]++|(?<=-)>|" + group + r")*+>"
    return group


# Generic arguments open after a letter, digit, `_`, `:` or `>`, not as `<-`. Names nested deeper
# than GENERICS_DEPTH keep their generics (real ones nest a dozen deep at most).
GENERICS_DEPTH = 32
_OPENER = r"(?<=[\w:>])(?!<-)(?=<)"
_GENERICS = re.compile(_OPENER + _generic_group(GENERICS_DEPTH))
_UNCLOSED = re.compile(_OPENER)


def no_generics(name):
    """Drop every <...> that follows a name or `::` (generic arguments), keeping `<T as Trait>` heads.

    One regex pass at C speed (a loop over a hostile name's million brackets took seconds); a
    name whose group never closes keeps every bracket, as a left-to-right scan would leave it."""
    if "<" not in name:
        return name
    out = _GENERICS.sub("", name)
    if _UNCLOSED.search(out):
        return name
    return out.replace("::::", "::").rstrip(":")


def _loose(name, which):
    key = no_hash(name)
    return key if which == "no-hash" else no_generics(key)


def _keys(table, indices, which):
    """The loose pass's key of each symbol at indices, cached per distinct string (per snapshot
    for a loaded one, whose strings repeat across its artifacts)."""
    pool = getattr(table.name, "pool", None)
    cache = pool.loose.setdefault(which, {}) if pool is not None else {}
    out = []
    for name in map(table.name.__getitem__, indices):
        key = cache.get(name)
        if key is None:
            key = cache[name] = _loose(name, which)
        out.append(key)
    return out


def _repeated(keys):
    return {k for k, n in Counter(keys).items() if n > 1}


def _pair(okeys, oidx, nkeys, nidx):
    """[(old index, new index)] of equal keys, largest with largest, in new order.

    Keys that occur once on each side (nearly all) pair through dicts and sets; only keys that
    repeat on a side go through the loop that pairs them in order."""
    old_at, new_at = dict(zip(okeys, oidx)), dict(zip(nkeys, nidx))
    common = old_at.keys() & new_at.keys()
    repeated = (_repeated(okeys) if len(old_at) < len(okeys) else set()) | \
               (_repeated(nkeys) if len(new_at) < len(nkeys) else set())
    common -= repeated
    pairs = list(zip(map(old_at.__getitem__, common), map(new_at.__getitem__, common)))
    if repeated & old_at.keys() & new_at.keys():
        pairs += _pair_in_order(okeys, oidx, nkeys, nidx, repeated)
    pairs.sort(key=_second)
    return pairs


def _pair_in_order(okeys, oidx, nkeys, nidx, only):
    """Pairs of the keys in only: a key's k-th old symbol with its k-th new one (tables are largest first)."""
    groups = {}
    for i, key in zip(oidx, okeys):
        if key in only:
            groups.setdefault(key, []).append(i)
    taken = dict.fromkeys(groups, 0)
    pairs = []
    for j, key in zip(nidx, nkeys):
        cands = groups.get(key)
        if cands and taken[key] < len(cands):
            pairs.append((cands[taken[key]], j))
            taken[key] += 1
    return pairs


def _exact_keys(old, new):
    """The raw names of both tables as keys: for loaded snapshots, string indices in the new one's
    pool (ints hash and compare without touching the strings), else the strings themselves."""
    po, pn = getattr(old.raw, "pool", None), getattr(new.raw, "pool", None)
    if po is None or pn is None:
        return list(old.raw), list(new.raw)
    okeys = old.raw.ids.tolist() if po is pn else list(map(po.indices_in(pn).__getitem__, old.raw.ids))
    return okeys, new.raw.ids.tolist()


def _match(old, new):
    """([(pass, [(old index, new index)])], unmatched old indices, unmatched new indices)."""
    left_old, left_new = list(range(len(old))), list(range(len(new)))
    passes = []
    for which in PASSES:
        if not left_old or not left_new:
            break
        if which == "exact":
            okeys, nkeys = _exact_keys(old, new)
        else:
            okeys, nkeys = _keys(old, left_old, which), _keys(new, left_new, which)
        pairs = _pair(okeys, left_old, nkeys, left_new)
        passes.append((which, pairs))
        if pairs:
            left_old = sorted(set(left_old).difference(map(_first, pairs)))
            left_new = sorted(set(left_new).difference(map(_second, pairs)))
    return passes, left_old, left_new


def match(old, new):
    """[(old index, new index, pass)], unmatched old indices, unmatched new indices."""
    passes, left_old, left_new = _match(old, new)
    return [(i, j, which) for which, pairs in passes for i, j in pairs], left_old, left_new


def _crate_sums(table):
    """table.crates(), summed by string index for a loaded snapshot (ints, not strings, as keys)."""
    col = table.crate
    if getattr(col, "pool", None) is None:
        return table.crates()
    sums = {}
    for c, n in zip(col.ids, _sizes(table)):
        sums[c] = sums.get(c, 0) + n
    strings = col.pool.strings
    return {strings[c]: n for c, n in sums.items()}


def _sizes(table):
    """The size column, indexed without a Python call per symbol when it is a loaded snapshot's."""
    return getattr(table.size, "view", table.size)


def _row(name, section, a, b, how=None):
    row = {"name": name, "section": section, "old": a, "new": b, "delta": (b or 0) - (a or 0)}
    if how and how != "exact":
        row["match"] = how
    return row


def diff_tables(old, new, threshold=None, whole=None):
    """Crates that grew or shrank, each with its symbols added, removed, grown and shrunk.

    Rows under the threshold (bytes, or percent of `whole`, the cell's size before) are folded
    into one count per crate and kind. Returns a JSON-ready dict."""
    threshold = threshold or Threshold()
    passes, gone, born = _match(old, new)
    crates = {}

    def bucket(crate):
        return crates.setdefault(crate, {"added": [], "removed": [], "grown": [], "shrunk": []})

    counts = dict.fromkeys(PASSES, 0)
    osize, nsize = _sizes(old), _sizes(new)
    for how, pairs in passes:
        counts[how] = len(pairs)
        # Most pairs kept their size: pick the others out without a Python step per pair.
        moved = compress(pairs, map(ne, map(osize.__getitem__, map(_first, pairs)),
                                    map(nsize.__getitem__, map(_second, pairs))))
        for i, j in moved:
            a, b = osize[i], nsize[j]
            bucket(new.crate[j])["grown" if b > a else "shrunk"].append(
                _row(new.name[j], new.section[j], a, b, how))
    for i in gone:
        bucket(old.crate[i])["removed"].append(_row(old.name[i], old.section[i], old.size[i], None))
    for j in born:
        bucket(new.crate[j])["added"].append(_row(new.name[j], new.section[j], None, new.size[j]))
    before, after = _crate_sums(old), _crate_sums(new)
    limit = threshold.bytes_of(whole if whole is not None else sum(osize) + old.overhead)
    out = []
    for crate, kinds in crates.items():
        a, b = before.get(crate, 0), after.get(crate, 0)
        entry = {"crate": crate, "old": a, "new": b, "delta": b - a,
                 "change": "grew" if b > a else "shrank" if b < a else "unchanged", "folded": {}}
        for kind, rows in kinds.items():
            rows.sort(key=lambda r: (-abs(r["delta"]), r["name"]))
            n = next((k for k, r in enumerate(rows) if abs(r["delta"]) < limit), len(rows))
            if n < len(rows):
                entry["folded"][kind] = {"count": len(rows) - n, "delta": sum(r["delta"] for r in rows[n:])}
            entry[kind] = rows[:n]
        out.append(entry)
    out.sort(key=lambda e: (-abs(e["delta"]), e["crate"]))
    oa, ob = old.overhead, new.overhead
    return {"crates": out, "overhead": {"old": oa, "new": ob, "delta": ob - oa},
            "matched": counts, "added": len(born), "removed": len(gone),
            "old_symbols": len(old), "new_symbols": len(new)}
