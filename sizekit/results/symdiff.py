"""Symbol-level diff of one cell: two SymbolTables matched in passes, grouped by crate.

Passes, each over the symbols the earlier ones left unmatched:
  exact        the raw (mangled) name;
  no-hash      the demangled name without the legacy `::h<hash>`, v0 `[disambiguator]`s and
               clone suffixes (`.llvm.N`, `.constprop.N`, ...), so a symbol whose crate hash
               changed is the same symbol;
  no-generics  that name without generic arguments (`Vec<u8>` -> `Vec`, `::<T>` dropped).
Within a key, symbols pair largest with largest (the k-th of a key in one table with its k-th in
the other; tables are largest first). Bytes no symbol covers (padding, alignment, anonymous
constants) are one overhead row, not a crate.

The work is on numpy columns (sizekit.results.columns), not a Python step per symbol: raw names
compare as string indices (the old pool's mapped into the new one's once per diff), loose names
as the 64-bit hash of the loose name, worked out once per distinct string and pool. Only the
rows a report shows become dicts: per crate and kind at most LISTED rows over the threshold,
largest first; the others are folded into one count and byte sum, as rows under it are.
"""
import re

import numpy as np

from .columns import Interner, as_columns, group_sums
from .threshold import Threshold

PASSES = ("exact", "no-hash", "no-generics")
KINDS = ("added", "removed", "grown", "shrunk")
# Rows listed per crate and kind (the rest are folded): a diff's size is bounded whatever the tables.
LISTED = 200
# Pools of up to this many strings keep their pairing arrays (5 bytes a string) from one artifact
# pair to the next; larger ones (beyond any real matrix) free them, for memory.
SCRATCH_KEPT = 1 << 20
_HASH = re.compile(r"::h[0-9a-f]{16}(?=$|[.\s])")
_DISAMBIGUATOR = re.compile(r"\[[0-9a-f]{1,16}\]")
CLONE_WORDS = frozenset(("llvm", "constprop", "isra", "part", "cold", "lto_priv", "localalias"))


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
# than GENERICS_DEPTH keep their generics (real ones nest a dozen deep at most). The opener starts
# with the literal `<` (the lookbehind after it) so that the regex engine skips to each `<`
# instead of trying the lookbehind at every character: 2.5x faster on generic names.
GENERICS_DEPTH = 32
_OPENER = r"<(?<=[\w:>]<)(?!-)"
_GENERICS = re.compile(_OPENER + r"(?:[^<>]++|(?<=-)>|" + _generic_group(GENERICS_DEPTH - 1) + r")*+>")
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


# ---------------------------------------------------------------- pairing

_NONE = np.zeros(0, np.int64)


def _ranks(keys):
    """Each key's occurrence number among equal keys, in table order (0 for the first)."""
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    pos = np.arange(len(keys))
    starts = np.maximum.accumulate(np.where(np.concatenate(([True], ks[1:] != ks[:-1])), pos, 0))
    ranks = np.empty(len(keys), np.int64)
    ranks[order] = pos - starts
    return ranks


def _pair_sorted(okeys, oidx, nkeys, nidx):
    """(old rows, new rows) of equal keys, the k-th of a key on one side with its k-th on the other."""
    if not len(okeys) or not len(nkeys):
        return _NONE, _NONE
    keys = np.concatenate((okeys, nkeys))
    ranks = np.concatenate((_ranks(okeys), _ranks(nkeys)))
    side = np.concatenate((np.zeros(len(okeys), np.int8), np.ones(len(nkeys), np.int8)))
    order = np.lexsort((side, ranks, keys))
    k, r = keys[order], ranks[order]
    # (key, rank) is unique on each side, so an equal neighbour is the other side's.
    hit = np.flatnonzero((k[1:] == k[:-1]) & (r[1:] == r[:-1]))
    return oidx[order[hit]], nidx[order[hit + 1] - len(okeys)]


def _pair_exact(okeys, nkeys, size, scratch):
    """_pair_sorted for keys that are indices below size (old ones missing from the new pool are
    negative): keys found once on each side (nearly all) pair through lookup arrays over the pool,
    without sorting; only keys repeated on a side go through _pair_sorted."""
    ov = np.flatnonzero(okeys >= 0)
    ok = okeys[ov]
    new_at, new_many = _where(nkeys, size, scratch, "new")
    old_at, old_many = _where(ok, size, scratch, "old")
    found = _found(new_at[ok], nkeys, ok)
    many = found & (new_many[ok] | old_many[ok])
    once = found & ~many
    oi, nj = ov[once], new_at[ok[once]].astype(np.int64)
    if many.any():
        keys = np.unique(ok[many])
        ro, rn = ov[np.isin(ok, keys)], np.flatnonzero(np.isin(nkeys, keys))
        po, pn = _pair_sorted(okeys[ro], ro, nkeys[rn], rn)
        oi, nj = np.concatenate((oi, po)), np.concatenate((nj, pn))
    return oi, nj


def _where(keys, size, scratch, role):
    """(at, many) over the pool: at[k] is a position of key k in keys, many[k] whether k is there
    more than once. Only entries of these keys are written and read, so the arrays (one pair per
    pool and role) are reused across diffs without clearing."""
    if role in scratch:
        at, many = scratch[role]
    else:
        at, many = np.empty(size, np.int32), np.empty(size, bool)
        if size <= SCRATCH_KEPT:
            scratch[role] = (at, many)
    pos = np.arange(len(keys), dtype=np.int32)
    at[keys] = pos
    many[keys] = False
    # Whichever position a repeated key's entry kept, the others see that it is not theirs.
    many[keys[at[keys] != pos]] = True
    return at, many


def _found(at, keys, wanted):
    """Whether each entry of at (read from _where's array over keys) is a real position of wanted:
    an entry left from an earlier diff points at some other key, or past the end."""
    ok = (at >= 0) & (at < len(keys))
    ok[ok] = keys[at[ok]] == wanted[ok]
    return ok


def _ids_in(old_pool, new_pool, ids):
    """The new pool's index of each old pool string at ids, or -1 where the new pool lacks it.

    Strings are found by length and hash (Python's, keyed at random per process, so no file can
    aim for a collision) among the new pool's raw names; the old pool's raw names are mapped all
    at once, the first time the two pools meet."""
    if old_pool is new_pool:
        return ids
    if old_pool.into is None or old_pool.into[0] is not new_pool:
        old_pool.into = (new_pool, _map_strings(old_pool, new_pool))
    return old_pool.into[1][ids]


def _map_strings(old_pool, new_pool):
    """An array over the old pool: each raw name's index in the new pool, else -1 (see _ids_in)."""
    where = np.full(len(old_pool), -1, np.int32)
    known, hashes = new_pool.raw_names()
    todo, h = old_pool.raw_names()
    if not len(known) or not len(todo):
        return where
    order = np.argsort(hashes)
    known, hashes = known[order], hashes[order]
    at = np.minimum(np.searchsorted(hashes, h), len(known) - 1)
    cand = known[at]
    hit = np.flatnonzero(hashes[at] == h)
    hit = hit[new_pool.lengths(cand[hit]) == old_pool.lengths(todo[hit])]
    where[todo[hit]] = cand[hit]
    return where


def _loose_hashes(table, rows, which, piece=1 << 15):
    """The hash of the loose name of each row's name, worked out once per string of the pool.
    The cache is sorted (string index, hash) arrays: memory for the strings met, not the pool.
    Lookups go in sorted order and new names are worked out a piece at a time (a list of half a
    million decoded names would be ~80 MB)."""
    pool = table.pool
    ids, inverse = np.unique(table.names_at(rows), return_inverse=True)
    ids = ids.astype(np.int64)
    known, hashes = pool.loose.get(which, (_NONE, _NONE))
    at = np.searchsorted(known, ids)
    met = at < len(known)
    met[met] = known[at[met]] == ids[met]
    todo = ids[~met]
    if len(todo):
        fresh = np.empty(len(todo), np.int64)
        for start in range(0, len(todo), piece):
            part = pool.texts(todo[start:start + piece])
            fresh[start:start + len(part)] = np.fromiter((hash(_loose(s, which)) for s in part), np.int64, len(part))
        known, hashes = np.concatenate((known, todo)), np.concatenate((hashes, fresh))
        order = np.argsort(known, kind="stable")
        known, hashes = known[order], hashes[order]
        pool.loose[which] = (known, hashes)
        at = np.searchsorted(known, ids)
    return hashes[at][inverse.reshape(-1)]


def _match(old, new):
    """([(pass, old rows, new rows)], unmatched old rows, unmatched new rows), all int64 arrays."""
    left_old, left_new = np.arange(len(old)), np.arange(len(new))
    passes = []
    for which in PASSES:
        if not len(left_old) or not len(left_new):
            break
        if which == "exact":
            okeys = _ids_in(old.pool, new.pool, old.raw_ids).astype(np.int64, copy=False)
            oi, nj = _pair_exact(okeys, new.raw_ids.astype(np.int64), len(new.pool), new.pool.scratch)
        else:
            oi, nj = _pair_sorted(_loose_hashes(old, left_old, which), left_old,
                                  _loose_hashes(new, left_new, which), left_new)
        passes.append((which, oi, nj))
        if len(oi):
            left_old, left_new = _without(left_old, oi, len(old)), _without(left_new, nj, len(new))
    return passes, left_old, left_new


def _without(rows, taken, n):
    """rows (sorted) less taken, still sorted."""
    keep = np.zeros(n, bool)
    keep[rows] = True
    keep[taken] = False
    return np.flatnonzero(keep)


def match(old, new):
    """[(old index, new index, pass)] (by pass, then new index), unmatched old and new indices."""
    passes, left_old, left_new = _match(as_columns(old), as_columns(new))
    pairs = []
    for which, oi, nj in passes:
        order = np.argsort(nj)
        pairs += [(i, j, which) for i, j in zip(oi[order].tolist(), nj[order].tolist())]
    return pairs, left_old.tolist(), left_new.tolist()


# ---------------------------------------------------------------- the diff

class _Rows:
    """One kind's rows as arrays: crate (index into the diff's crate names), delta, a tiebreak
    (the order rows had before: by pass, then table index), and where each row's symbol is."""

    def __init__(self, crate, old, new, tiebreak, side, row, how=None):
        self.crate, self.old, self.new, self.tiebreak = crate, old, new, tiebreak
        self.delta = (new if new is not None else 0) - (old if old is not None else 0)
        self.side, self.row, self.how = side, row, how

    def __len__(self):
        return len(self.crate)


def _crate_lookup(table, crates):
    """Per crate number of table's pool (Pool.number_crates): the diff's crate number, for the crates
    the table has (-1 for others), numbered by the Interner crates."""
    numbers = table.crate_totals()[0]
    lookup = np.full(len(table.pool.crate_ids), -1, np.int64)
    names = table.pool.texts(table.pool.crate_ids[numbers])
    lookup[numbers] = crates.ids(names)
    return lookup


def _crates_of(table, rows, lookup):
    return lookup[table.crate_codes[rows]]


def _kinds(old, new, passes, gone, born, lookups):
    """{kind: _Rows}: grown and shrunk from the pairs whose size changed, removed, added."""
    osize, nsize = old.sizes.astype(np.int64), new.sizes.astype(np.int64)
    parts: dict = {"grown": [], "shrunk": []}
    for number, (which, oi, nj) in enumerate(passes):
        a, b = osize[oi], nsize[nj]
        for kind, pick in (("grown", b > a), ("shrunk", b < a)):
            i, j = oi[pick], nj[pick]
            parts[kind].append((i, j, a[pick], b[pick], np.full(len(j), number, np.int64)))
    out = {"added": _Rows(_crates_of(new, born, lookups[1]), None, nsize[born], born, new, born),
           "removed": _Rows(_crates_of(old, gone, lookups[0]), osize[gone], None, gone, old, gone)}
    for kind, items in parts.items():
        i, j, a, b, how = (np.concatenate(c) for c in zip(*items)) if items else [_NONE] * 5
        out[kind] = _Rows(_crates_of(new, j, lookups[1]), a, b, how * (1 << 32) + j, new, j, how)
    return {kind: out[kind] for kind in KINDS}


def _listed(rows, limit):
    """{crate number: [(position, name)]}: per crate, at most LISTED rows over the threshold, by size
    of the change, then name, then their order before. Only names that can decide a crate's cut
    are decoded, all of one kind's at once."""
    keep = np.flatnonzero(np.abs(rows.delta) >= limit)
    if not len(keep):
        return {}
    absd = np.abs(rows.delta[keep])
    sort = np.lexsort((rows.tiebreak[keep], -absd, rows.crate[keep]))
    order, absd = keep[sort], absd[sort]
    crates = rows.crate[order]
    first = np.concatenate(([True], crates[1:] != crates[:-1]))
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(order))
    # A crate's cut is the size of its LISTED-th largest change: rows as large as that may tie it.
    cut = absd[np.minimum(starts + LISTED - 1, ends - 1)]
    group = np.cumsum(first) - 1
    order = order[absd >= cut[group]]
    names = rows.side.pool.texts(rows.side.names_at(rows.row[order]))
    keyed = sorted(zip(rows.crate[order].tolist(), (-np.abs(rows.delta[order])).tolist(), names,
                       rows.tiebreak[order].tolist(), order.tolist()))
    out: dict = {}
    for crate, _, name, _, row in keyed:
        chosen = out.setdefault(crate, [])
        if len(chosen) < LISTED:
            chosen.append((row, name))
    return out


def _row_dicts(rows, listed):
    """{crate number: its JSON rows} of the chosen (position, name) pairs of one kind."""
    chosen = [pair for pairs in listed.values() for pair in pairs]
    if not chosen:
        return {}
    pos = np.asarray([p for p, _ in chosen], np.int64)
    pool = rows.side.pool
    codes = rows.side.section_codes[rows.row[pos]]
    distinct, at = np.unique(codes, return_inverse=True)
    texts = pool.texts(pool.section_ids[distinct])      # one string per section, shared by its rows
    sections = [texts[k] for k in at.reshape(-1).tolist()]
    old = rows.old[pos].tolist() if rows.old is not None else [None] * len(pos)
    new = rows.new[pos].tolist() if rows.new is not None else [None] * len(pos)
    how = rows.how[pos].tolist() if rows.how is not None else [0] * len(pos)
    made = []
    for (_, name), section, a, b, h in zip(chosen, sections, old, new, how):
        row = {"name": name, "section": section, "old": a, "new": b, "delta": (b or 0) - (a or 0)}
        if h:
            row["match"] = PASSES[h]
        made.append(row)
    out, first = {}, 0
    for crate, pairs in listed.items():
        out[crate] = made[first:first + len(pairs)]
        first += len(pairs)
    return out


def _folded(rows, listed, ncrates):
    """{crate number: (count, delta)} of the rows not listed."""
    count = np.bincount(rows.crate, minlength=ncrates)
    delta = _sums(rows.crate, rows.delta, ncrates)
    for crate, chosen in listed.items():
        pos = [p for p, _ in chosen]
        count[crate] -= len(pos)
        delta[crate] -= int(rows.delta[pos].sum())
    return {k: (c, d) for k, (c, d) in enumerate(zip(count.tolist(), delta)) if c}


def _sums(keys, values, n):
    """Exact int sums of values per key in range(n), as a list."""
    out = [0] * n
    ks, sums = group_sums(keys, values)
    for k, v in zip(ks.tolist(), sums.tolist()):
        out[k] = v
    return out


def diff_tables(old, new, threshold=None, whole=None):
    """Crates that grew or shrank, each with its symbols added, removed, grown and shrunk.

    Rows under the threshold (bytes, or percent of `whole`, the cell's size before), and rows past
    the LISTED largest of their crate and kind, are folded into one count per crate and kind.
    Takes SymbolTables or ColumnTables; returns a JSON-ready dict."""
    threshold = threshold or Threshold()
    old, new = as_columns(old), as_columns(new)
    passes, gone, born = _match(old, new)
    crates = Interner()
    lookups = (_crate_lookup(old, crates), _crate_lookup(new, crates))
    names = crates.strings()
    kinds = _kinds(old, new, passes, gone, born, lookups)
    total = int(old.sizes.sum(dtype=np.int64))
    limit = threshold.bytes_of(whole if whole is not None else total + old.overhead)
    before, after = old.crate_sums(), new.crate_sums()
    listed = {kind: _listed(rows, limit) for kind, rows in kinds.items()}
    folded = {kind: _folded(rows, listed[kind], len(names)) for kind, rows in kinds.items()}
    made = {kind: _row_dicts(rows, listed[kind]) for kind, rows in kinds.items()}
    present = sorted(set().union(*(np.unique(rows.crate).tolist() for rows in kinds.values())))
    out = []
    for k in present:
        crate = names[k]
        a, b = before.get(crate, 0), after.get(crate, 0)
        entry = {"crate": crate, "old": a, "new": b, "delta": b - a,
                 "change": "grew" if b > a else "shrank" if b < a else "unchanged", "folded": {}}
        for kind in KINDS:
            if k in folded[kind]:
                count, delta = folded[kind][k]
                entry["folded"][kind] = {"count": count, "delta": delta}
        for kind in KINDS:
            entry[kind] = made[kind].get(k, [])
        out.append(entry)
    out.sort(key=lambda e: (-abs(e["delta"]), e["crate"]))
    oa, ob = old.overhead, new.overhead
    counts = dict.fromkeys(PASSES, 0)
    counts.update((which, len(oi)) for which, oi, _ in passes)
    return {"crates": out, "overhead": {"old": oa, "new": ob, "delta": ob - oa},
            "matched": counts, "added": len(born), "removed": len(gone),
            "old_symbols": len(old), "new_symbols": len(new)}
