"""A fleet's figures: the bytes its members ship, and the bytes that are the same code twice.

Members are cells of results.json. Each member's final file gives the image's bytes; its build
stage's file (unstripped: the names) gives its symbols, read by sizekit.elf.copies. Two symbols
in different members are copies when they have the same demangled name and size, or (names
differing) the same bytes, MIN_CONTENT bytes or more. A group of copies spans at least two
members; its bytes are duplicated, and sharing could save all of them but the largest member's
share of the group (code_saving). Files that merge also share what lies outside every symbol:
headers, unwind tables, dynamic-linking tables, string literals and other anonymous constants,
padding (a member's final bytes less its symbols' bytes). The bound adds that overhead of every
member but the largest to code_saving. It is
a bound to hold built alternatives against, not a promise: what each program inlined stays, LTO
over a merged program may change code no symbol match sees, and a packed (UPX) member ships
compressed bytes, not these.
"""
import os
from dataclasses import dataclass, field
from typing import Optional

from ..elf.copies import code_rows
from ..utils.errors import ElfError, ResultsError
from .capture import ArtifactPaths
from .cells import build_path, ok_bytes
from .fleet_members import image_bytes, member_cells, smoke_verdict
from ..config.model import Fleet

SYMBOLS_SHOWN = 20


@dataclass
class Group:
    name: str
    crate: str
    match: str                     # "name" or "bytes"
    copies: dict                   # member index -> bytes of its copies
    names: int = 1                 # distinct names in the group (a "bytes" match may have several)

    @property
    def bytes(self):
        return sum(self.copies.values())

    @property
    def saving(self):
        return self.bytes - max(self.copies.values())


@dataclass
class FleetFigures:
    name: str
    members: list                  # dicts: cell, final_bytes, code_bytes, duplicated_bytes
    groups: list                   # Groups, the largest saving first
    total_bytes: int = 0           # image_bytes of the members
    budget: Optional[int] = None
    crates: dict = field(default_factory=dict)   # crate -> {"duplicated": n, "saving": n}
    alternatives: list = field(default_factory=list)  # dicts: name, cells, total_bytes, smoke, reason

    @property
    def duplicated_bytes(self):
        return sum(g.bytes for g in self.groups)

    @property
    def code_saving(self):
        """Duplicated code and data beyond one copy of each group (per crate: self.crates)."""
        return sum(g.saving for g in self.groups)

    @property
    def overhead_saving(self):
        """The bytes outside every symbol (final less its symbols' bytes) of each member but the largest."""
        spare = [max(0, m["final_bytes"] - m["symbol_bytes"]) for m in self.members]
        largest = max(range(len(self.members)), key=lambda i: self.members[i]["final_bytes"], default=None)
        return sum(n for i, n in enumerate(spare) if i != largest)

    @property
    def saving_bound(self):
        return self.code_saving + self.overhead_saving

    def by_match(self, match):
        groups = [g for g in self.groups if g.match == match]
        return {"duplicated": sum(g.bytes for g in groups), "saving": sum(g.saving for g in groups),
                "groups": len(groups)}

    def to_json(self, symbols=SYMBOLS_SHOWN):
        cells = [m["cell"] for m in self.members]
        return {
            "fleet": self.name, "members": self.members, "total_bytes": self.total_bytes,
            "code_bytes": sum(m["code_bytes"] for m in self.members),
            "duplicated_bytes": self.duplicated_bytes, "saving_bound": self.saving_bound,
            "code_saving": self.code_saving, "overhead_saving": self.overhead_saving,
            "by_name": self.by_match("name"), "by_bytes": self.by_match("bytes"),
            "crates": [{"crate": c, **v} for c, v in self.crates.items()],
            "symbols": [{"name": g.name, "crate": g.crate, "match": g.match, "names": g.names,
                         "copies": {cells[i]: n for i, n in sorted(g.copies.items())},
                         "bytes": g.bytes, "saving": g.saving} for g in self.groups[:symbols]],
            "budget": self.budget,
            "over_budget": None if self.budget is None else self.total_bytes > self.budget,
            "alternatives": self.alternatives,
        }


def measure_fleet(results, results_path, fleet):
    """The FleetFigures of fleet (a config Fleet) from a loaded results.json. Only files inside
    the results file's folder are opened (the paths come from results.json)."""
    cells = member_cells(results, results_path, fleet)
    paths = ArtifactPaths(os.path.dirname(os.path.abspath(results_path)))
    cache: dict = {}
    rows = []
    for i, cell in enumerate(cells):
        rel = build_path(cell)
        full = paths.find(rel)
        if full is None:
            raise ResultsError(f"fleets.{fleet.name}[{i}]: {fleet.cells[i]}'s build file {str(rel)[:200]!r} is not "
                               f"inside {paths.output}; results.json names files under its own folder only")
        rows.append(code_rows(full, cache))
    members = [{"cell": name, "final_bytes": ok_bytes(cell), "code_bytes": r.covered, "symbol_bytes": sum(r.size),
                "duplicated_bytes": 0,
                "shared_libraries": cell.get("shared_libraries") or []}
               for name, cell, r in zip(fleet.cells, cells, rows)]
    groups = find_copies(rows)
    crates: dict = {}
    for g in groups:
        for m, n in g.copies.items():
            members[m]["duplicated_bytes"] += n
        entry = crates.setdefault(g.crate, {"duplicated": 0, "saving": 0})
        entry["duplicated"] += g.bytes
        entry["saving"] += g.saving
    crates = dict(sorted(crates.items(), key=lambda kv: (-kv[1]["saving"], kv[0])))
    return FleetFigures(name=fleet.name, members=members, groups=groups, total_bytes=image_bytes(cells),
                        budget=fleet.budget, crates=crates, alternatives=measure_alternatives(results, results_path, fleet))


def measure_alternatives(results, results_path, fleet):
    """Each alternative's image bytes (built for real: its cells in results.json) and whether all
    its smoke checks passed; with the reason instead when one of its cells did not build."""
    out = []
    for name, cells in fleet.alternatives:
        entry = {"name": name, "cells": list(cells), "total_bytes": None, "smoke": None, "reason": None}
        try:
            found = member_cells(results, results_path, Fleet(name=f"{fleet.name}.alternatives.{name}", cells=cells))
        except ResultsError as exc:
            entry["reason"] = str(exc)
        else:
            entry.update(total_bytes=image_bytes(found), smoke=smoke_verdict(found))
        out.append(entry)
    return out


def find_copies(rows):
    """Groups of copies across the members' CodeRows: by (name, size) first, then the rows left
    by identical bytes. Only groups spanning two members or more; the largest saving first."""
    groups = []
    taken: list = [set() for _ in rows]
    by_name: dict = {}
    for m, r in enumerate(rows):
        for k, key in enumerate(zip(r.name, r.size)):
            by_name.setdefault(key, []).append((m, k))
    for (name, _), hits in by_name.items():
        if len({m for m, _ in hits}) < 2:
            continue
        copies: dict = {}
        for m, k in hits:
            copies[m] = copies.get(m, 0) + rows[m].size[k]
            taken[m].add(k)
        groups.append(Group(name=name, crate=rows[hits[0][0]].crate[hits[0][1]], match="name", copies=copies))
    by_bytes: dict = {}
    for m, r in enumerate(rows):
        for k, digest in enumerate(r.digest):
            if digest is not None and k not in taken[m]:
                by_bytes.setdefault(digest, []).append((m, k))
    for hits in by_bytes.values():
        if len({m for m, _ in hits}) < 2:
            continue
        copies = {}
        for m, k in hits:
            copies[m] = copies.get(m, 0) + rows[m].size[k]
        m0, k0 = hits[0]
        groups.append(Group(name=rows[m0].name[k0], crate=rows[m0].crate[k0], match="bytes", copies=copies,
                            names=len({rows[m].name[k] for m, k in hits})))
    groups.sort(key=lambda g: (-g.saving, -g.bytes, g.name))
    return groups


def fleet_summaries(results, results_path, fleets):
    """results.json's "fleets": each fleet's totals, or null figures with the reason (a member that
    did not build, or is built by another shard). Read from the members' files once per run."""
    out = []
    for fleet in fleets.values():
        entry = {"name": fleet.name, "cells": list(fleet.cells), "budget": fleet.budget, "total_bytes": None,
                 "code_bytes": None, "duplicated_bytes": None, "saving_bound": None, "reason": None}
        try:
            got = measure_fleet(results, results_path, fleet).to_json(symbols=0)
        except (ResultsError, ElfError) as exc:
            entry["reason"] = str(exc)
        else:
            entry.update({k: got[k] for k in ("total_bytes", "code_bytes", "duplicated_bytes", "saving_bound",
                                              "alternatives")})
            # Each member's copies (its final bytes are its cell's: not stored twice).
            entry["members"] = [{"cell": m["cell"], "duplicated_bytes": m["duplicated_bytes"]} for m in got["members"]]
        out.append(entry)
    return out
