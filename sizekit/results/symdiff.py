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

from .threshold import Threshold

PASSES = ("exact", "no-hash", "no-generics")
_HASH = re.compile(r"::h[0-9a-f]{16}(?=$|[.\s])")
_DISAMBIGUATOR = re.compile(r"\[[0-9a-f]{1,16}\]")
_CLONE = re.compile(r"(?:\.(?:llvm|constprop|isra|part|cold|lto_priv|localalias)(?:\.\d+)?)+$|"
                    r"(?: \[clone [^\]]*\])+$")


def no_hash(name):
    if "." in name or "[" in name:
        name = _CLONE.sub("", name)
    if "::h" in name:
        name = _HASH.sub("", name)
    if "[" in name:
        name = _CLONE.sub("", _DISAMBIGUATOR.sub("", name))
    return name


def no_generics(name):
    """Drop every <...> that follows a name or `::` (generic arguments), keeping `<T as Trait>` heads."""
    if "<" not in name:
        return name
    out, depth, i, n = [], 0, 0, len(name)
    while i < n:
        ch = name[i]
        if ch == "<" and (depth or (i and (name[i - 1].isalnum() or name[i - 1] in "_:>"))
                          and not name.startswith("<-", i)):
            depth += 1
        elif ch == ">" and depth and name[i - 1] != "-":
            depth -= 1
        elif not depth:
            out.append(ch)
        i += 1
    return "".join(out).replace("::::", "::").rstrip(":") if depth == 0 else name


def _keys(table, indices, which):
    if which == "exact":
        return [table.raw[i] for i in indices]
    loose = [no_hash(table.name[i]) for i in indices]
    return loose if which == "no-hash" else [no_generics(k) for k in loose]


def match(old, new):
    """[(old index, new index, pass)], unmatched old indices, unmatched new indices."""
    left_old, left_new = list(range(len(old))), list(range(len(new)))
    pairs = []
    for which in PASSES:
        if not left_old or not left_new:
            break
        groups = {}
        for i, key in zip(left_old, _keys(old, left_old, which)):
            groups.setdefault(key, []).append(i)
        taken = dict.fromkeys(groups, 0)
        used_old, rest_new = set(), []
        for j, key in zip(left_new, _keys(new, left_new, which)):
            cands = groups.get(key)
            if cands and taken[key] < len(cands):
                i = cands[taken[key]]      # tables are largest first: pairs go largest with largest
                taken[key] += 1
                used_old.add(i)
                pairs.append((i, j, which))
            else:
                rest_new.append(j)
        left_old = [i for i in left_old if i not in used_old]
        left_new = rest_new
    return pairs, left_old, left_new


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
    pairs, gone, born = match(old, new)
    crates = {}

    def bucket(crate):
        return crates.setdefault(crate, {"added": [], "removed": [], "grown": [], "shrunk": []})

    counts = dict.fromkeys(PASSES, 0)
    for i, j, how in pairs:
        counts[how] += 1
        a, b = old.size[i], new.size[j]
        if a != b:
            bucket(new.crate[j])["grown" if b > a else "shrunk"].append(
                _row(new.name[j], new.section[j], a, b, how))
    for i in gone:
        bucket(old.crate[i])["removed"].append(_row(old.name[i], old.section[i], old.size[i], None))
    for j in born:
        bucket(new.crate[j])["added"].append(_row(new.name[j], new.section[j], None, new.size[j]))
    before, after = old.crates(), new.crates()
    limit = threshold.bytes_of(whole if whole is not None else sum(old.size) + old.overhead)
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
