"""Table models: every table of the reports, built once from results.json and drawn by each writer.

A Table knows its columns (and what kind of figure each holds) and its rows of cells; a cell keeps
the raw figure beside its text, so the HTML writer styles by the number, never by parsing text.
The markdown (markdown.py), HTML (page.py) and terminal (terminal.py) writers only lay tables out.

Derived figures (% change, human sizes, ratios, shares, overhead) are computed here from the bytes
in the cells; a figure stored in results.json beside the bytes is never printed.
"""
import re
from dataclasses import dataclass, field

from typing import Optional

from ..results.cells import change_pct, is_ok as ok
from ..utils.units import (count, human, pct_change, pct_text, percent, ratio, share_text,
                           size_text)

# Kinds of column whose figures line up on the right.
NUMERIC = frozenset({"bytes", "size", "pct", "share", "ratio", "error"})


@dataclass(frozen=True)
class Column:
    title: str
    # name, text, label (a "+"-joined modifications text), runs, anchor, counts, or a NUMERIC kind
    kind: str = "text"

    @property
    def numeric(self):
        return self.kind in NUMERIC


@dataclass(frozen=True)
class Cell:
    text: str
    value: Optional[object] = None  # the figure behind text (bytes, percent, ratio, ...), None for plain words
    code: Optional[str] = None      # a name shown after text as code (a variant, a symbol)

    def plain(self):
        return " ".join(p for p in (self.text, self.code) if p)


@dataclass(frozen=True)
class Failure:
    """Why a row has no size: writers with room show it in place of the size columns."""
    status: str
    reason: Optional[str] = None
    log: Optional[str] = None
    tail: Optional[str] = None


@dataclass
class Row:
    cells: list
    kind: str = ""        # "", "baseline", "rest" (the folded tail of a ranking) or "total"
    failure: Optional[Failure] = None


@dataclass
class Table:
    name: str             # what the table is: "seed", "crates", "targets", ... (an HTML class)
    columns: list
    rows: list = field(default_factory=list)
    failure_span: Optional[tuple] = None  # the columns a row's Failure stands for, (start, stop)
    note: Optional[str] = None

    def add(self, cells, kind="", failure=None):
        self.rows.append(Row([c if isinstance(c, Cell) else Cell(str(c)) for c in cells], kind, failure))


def columns(*spec):
    """Columns from (title, kind) pairs; a bare title is a text column."""
    return [Column(*s) if isinstance(s, tuple) else Column(s) for s in spec]


# ---------------------------------------------------------------- reading cells

def groups(results):
    """[(crate, [(target, [cells in table order])])] in results order."""
    out: dict = {}
    for c in results["cells"]:
        out.setdefault(c["crate"], {}).setdefault(c["target"], []).append(c)
    return [(crate, list(by_target.items())) for crate, by_target in out.items()]


def baseline_of(cells, baseline):
    """The baseline row among one crate and target's cells, if it is there."""
    return next((c for c in cells if c["variant"] == baseline), None)


def changes(results):
    """{(crate, target, variant): % change against the baseline}, from the bytes."""
    out = {}
    for _, targets in groups(results):
        for _, cells in targets:
            base = baseline_of(cells, results.get("baseline"))
            for c in cells:
                out[(c["crate"], c["target"], c["variant"])] = change_pct(c, base)
    return out


def runs(cell):
    """The "runs" column: ok, the failure (e.g. SIGSEGV), or - when there is no smoke check."""
    smoke = cell.get("smoke")
    if not smoke:
        return "-"
    if smoke.get("ok"):
        return "ok"
    if smoke.get("ok") is None:
        return "-"
    return smoke["detail"]


def stripped_of(cells, cell):
    """The row that is `cell`'s build plus only a strip, if the matrix has one."""
    key = (cell.get("build") or {}).get("key")
    for c in cells:
        if c["target"] == cell["target"] and c["crate"] == cell["crate"] and key and \
                (c.get("build") or {}).get("key") == key and \
                [st["step"] for st in c.get("stages", [])] == ["build", "strip"]:
            return c
    return None


def is_upx_row(cell):
    """Whether the row's last step is UPX (from its stages; from its label when stages are absent)."""
    stages = cell.get("stages") or []
    if stages:
        return stages[-1].get("step") == "upx"
    return bool(re.search(r"\bupx\b", str(cell.get("label") or "")))


def upx_error_pct(cell):
    """(estimate - real) / real, in percent, for a UPX row with an estimate; else None."""
    est = cell.get("upx_estimate_bytes")
    if not (ok(cell) and is_upx_row(cell) and est):
        return None
    return pct_change(est, cell["final_bytes"])


UPX_CANNOT = "UPX cannot pack this"


def one_line(text, width=100):
    """A reason fit for a table cell: its first line, cut to width."""
    line = str(text).splitlines()[0] if str(text).strip() else "no reason given"
    return line if len(line) <= width else line[:width - 3] + "..."


def estimate_cell(cell):
    """The "UPX (est.)" cell: the estimate, UPX_CANNOT and why where UPX would refuse the file, or
    why the estimate failed (never a quiet "-")."""
    why = cell.get("upx_refusal")
    if why:
        return Cell(f"{UPX_CANNOT} ({why.split(' (UPX')[0]})")
    if cell.get("upx_estimate_error"):
        return Cell(f"estimate failed: {one_line(cell['upx_estimate_error'])}")
    est = cell.get("upx_estimate_bytes")
    return Cell(estimate_text(cell, human) if est else "-", est or None)


def estimate_text(cell, fmt):
    """The estimate in fmt, with " (or ...)" where UPX may land on the other side of a page
    edge (engine.estimate_outcome): a library whose writable segments would move a page."""
    est, other = cell["upx_estimate_bytes"], cell.get("upx_estimate_other_bytes")
    return fmt(est) + (f" (or {fmt(other)})" if other else "")


def attribution_failure(results, cells):
    """Why the baseline row (else the first row) has no crate attribution, or None."""
    base = baseline_of(cells, results.get("baseline")) or (cells[0] if cells else None)
    if base is None or base.get("crates") or not base.get("crates_error"):
        return None
    return f"crate attribution of `{base['variant']}` failed: {one_line(base['crates_error'])}"


def attribution_row(results, cells):
    """The row whose crate attribution is shown: the baseline, else the first row that has one."""
    base = baseline_of(cells, results.get("baseline"))
    if base is not None and base.get("crates"):
        return base
    return next((c for c in cells if c.get("crates")), None)


# ---------------------------------------------------------------- the tables

SEED_COLUMNS = columns(("build", "name"), ("modifications", "label"), ("size (bytes)", "bytes"),
                       ("size (human)", "size"), ("% change", "pct"), ("UPX (est.)", "size"), ("runs", "runs"))


class Shared:
    """The tables of one results dict built once, for the markdown and the page of one render:
    each crate and target's cells (grouped once) and their seed tables."""

    def __init__(self, results):
        self.results = results
        self.grouped = groups(results)
        self._seed = {}

    def seed(self, cells):
        """seed_table(results, cells), once per list of grouped (the lists stay alive here)."""
        table = self._seed.get(id(cells))
        if table is None:
            table = self._seed[id(cells)] = seed_table(self.results, cells)
        return table


def seed_table(results, cells):
    """The seeds' table of one crate and target: build | modifications | size | human | % change | UPX | runs."""
    baseline = results.get("baseline")
    base = baseline_of(cells, baseline)
    table = Table("seed", SEED_COLUMNS, failure_span=(2, 6))
    for c in cells:
        label = c.get("label")
        pct = change_pct(c, base)
        if c["status"] == "ok":
            size = [Cell(count(c["final_bytes"]), c["final_bytes"]), Cell(human(c["final_bytes"]), c["final_bytes"])]
            failure = None
        else:
            size = [Cell(c["status"]), Cell("-")]
            failure = Failure(c["status"], c.get("reason"), c.get("log"), c.get("tail"))
        table.add([Cell(c["variant"]), Cell("-" if label is None else str(label)), *size,
                   Cell(pct_text(pct), pct), estimate_cell(c), Cell(runs(c))],
                  kind="baseline" if c["variant"] == baseline else "", failure=failure)
    return table


ATTRIBUTED = "attributed sections of the unstripped build"


def crates_table(crates, top=10):
    """The seed's `cargo bloat --crates` listing: share, bytes and name of the biggest crates."""
    total = sum(crates.values())
    ranked = sorted(crates.items(), key=lambda kv: -kv[1])
    table = Table("crates", columns(("share", "share"), ("bytes", "bytes"), ("size", "size"), ("crate", "name")),
                  note=ATTRIBUTED)

    def add(n, name, kind=""):
        share = percent(n, total)
        table.add([Cell(share_text(share), share), Cell(count(n), n), Cell(human(n), n), Cell(name)], kind)

    for name, n in ranked[:top]:
        add(n, name)
    rest = ranked[top:]
    if rest:
        add(sum(v for _, v in rest), f"and {len(rest)} more crates", "rest")
    table.add([Cell("100%", 100.0), Cell(count(total), total), Cell(human(total), total),
               Cell(f"total ({ATTRIBUTED})", "total")], "total")
    return table


def targets_table(cells, targets):
    """Each row's final size on every target, and each target's size relative to the first."""
    by = {(c["variant"], c["target"]): c for c in cells}
    variants = list(dict.fromkeys(c["variant"] for c in cells))
    arch = [t.split("-")[0] for t in targets]
    table = Table("targets", columns(("build", "name"), *((t, "size") for t in targets),
                                     *((f"{a} / {arch[0]}", "ratio") for a in arch[1:])))
    for v in variants:
        sizes = [by[(v, t)]["final_bytes"] if (v, t) in by and ok(by[(v, t)]) else None for t in targets]
        cols = [Cell(size_text(n), n) if n else Cell("-") for n in sizes]
        ratios = [ratio(n, sizes[0]) if n else None for n in sizes[1:]]
        table.add([Cell(v), *cols, *(Cell(f"{r:.2f}", r) if r else Cell("-") for r in ratios)])
    return table


def overhead_table(results, cells, refs):
    """The seed's "Rust size overhead": the baseline row and its stripped twin against the reference,
    as built and stripped; the overhead and the factor are of the stripped files."""
    name = refs[0]["name"]
    table = Table("overhead", columns(("target", "name"), ("Rust", "size"), ("Rust, stripped", "size"),
                                      (name, "size"), (f"{name}, stripped", "size"),
                                      ("overhead (bytes)", "bytes"), ("ratio", "ratio")))
    for ref in refs:
        base = baseline_of([c for c in cells if c["target"] == ref["target"]], results["baseline"])
        ours = stripped_of(cells, base) if base else None
        if ref["status"] != "ok":
            table.add([ref["target"], "-", "-", f"{ref['name']}: {ref['status']} ({ref.get('reason')})", "-", "-", "-"])
            continue
        theirs, theirs_full = ref["stripped_bytes"], ref.get("bytes")
        full = Cell(size_text(theirs_full), theirs_full) if isinstance(theirs_full, int) else Cell("-")
        rust_full = Cell(size_text(base["final_bytes"]), base["final_bytes"], code=base["variant"]) \
            if base and ok(base) else Cell("-")
        if not ours or not ok(ours):
            table.add([ref["target"], rust_full, "-", full, Cell(size_text(theirs), theirs), "-", "-"])
            continue
        mine = ours["final_bytes"]
        factor = ratio(mine, theirs)
        table.add([Cell(ref["target"]), rust_full, Cell(size_text(mine), mine, code=ours["variant"]), full,
                   Cell(size_text(theirs), theirs), Cell(f"{mine - theirs:+,}", mine - theirs),
                   Cell(f"{factor:.1f}x", factor) if factor is not None else Cell("-")])
    return table


def all_crates_tables(results):
    """The seed's all-plugins table per target: each crate's baseline row, as built and stripped. A
    crate the baseline row does not cover shows its last row that has a stripped twin instead, named
    beside the crate."""
    baseline = results["baseline"]
    # Each crate and target's cells once, so the table is linear in the cells.
    by_group: dict = {}
    for c in results["cells"]:
        by_group.setdefault((c["crate"], c["target"]), []).append(c)
    shown = []
    for cells in by_group.values():
        base = next((c for c in cells if c["variant"] == baseline), None)
        if base is None:
            base = next((c for c in reversed(cells) if stripped_of(cells, c) not in (None, c)), None)
        if base is not None:
            shown.append(base)
    out = []
    for target in dict.fromkeys(c["target"] for c in shown):
        table = Table("all-crates", columns(("crate", "name"), ("size", "bytes"), ("human", "size"),
                                            ("stripped", "bytes"), ("stripped human", "size")))
        for c in (c for c in shown if c["target"] == target):
            stripped = stripped_of(by_group[(c["crate"], c["target"])], c)
            size = c["final_bytes"] if c["status"] == "ok" else None
            ssize = stripped["final_bytes"] if stripped and stripped["status"] == "ok" else None
            name = Cell(c["crate"], code=None if c["variant"] == baseline else c["variant"])
            table.add([name, Cell(count(size), size) if size else Cell(c["status"]),
                       Cell(human(size), size), Cell(count(ssize), ssize) if ssize else Cell("-"),
                       Cell(human(ssize), ssize)])
        out.append((target, table))
    return out


def upx_table(cells):
    """Real UPX size against the estimate, for rows whose last step is UPX; None when there is none."""
    table = Table("upx", columns(("build", "name"), ("UPX (real)", "size"), ("UPX (estimate)", "size"),
                                 ("estimate error", "error")),
                  note="The estimate predicts the packed size without running UPX; "
                       "the error is (estimate − real) / real.")
    for c in cells:
        err = upx_error_pct(c)
        if err is not None:
            real, est = c["final_bytes"], c["upx_estimate_bytes"]
            table.add([Cell(c["variant"]), Cell(size_text(real), real), Cell(estimate_text(c, size_text), est),
                       Cell(f"{err:+.1f}%", err)])
    return table if table.rows else None


def summary_table(results):
    """Per crate and target: the baseline, the smallest row and its change, and how many rows built."""
    baseline = results.get("baseline")
    table = Table("summary", columns(("crate", "anchor"), "target", (f"baseline ({baseline})", "size"),
                                     ("smallest", "size"), ("vs baseline", "pct"), ("rows", "counts")))
    for crate, targets in groups(results):
        for target, cells in targets:
            base = baseline_of(cells, baseline)
            base = base if base is not None and ok(base) else None
            sized = [c for c in cells if ok(c)]
            best = min(sized, key=lambda c: c["final_bytes"]) if sized else None
            counts = {"ok": len(sized)}
            for c in cells:
                if c.get("status") != "ok":
                    counts[c.get("status")] = counts.get(c.get("status"), 0) + 1
            cut = change_pct(best, base) if best else None
            table.add([Cell(crate, (crate, target)), Cell(target),
                       Cell(human(base["final_bytes"]), base["final_bytes"]) if base else Cell("-"),
                       Cell(human(best["final_bytes"]), best["final_bytes"], code=best["variant"]) if best
                       else Cell("-"),
                       Cell(pct_text(cut), cut),
                       Cell(", ".join(f"{n} {s}" for s, n in counts.items()), counts)])
    return table


def cache_line(cells):
    """One line on the compile cache of these cells' builds (each build counted once), or None."""
    seen = {}
    for c in cells:
        build = c.get("build") or {}
        if isinstance(build.get("cache"), dict) and build.get("key") not in seen:
            seen[build.get("key")] = build["cache"]
    if not seen:
        return None
    used = [r for r in seen.values() if r.get("used")]
    hits = sum(r.get("hits") or 0 for r in used)
    misses = sum(r.get("misses") or 0 for r in used)
    where = sorted({str(r.get("location")) for r in used if r.get("location")})
    text = (f"Compile cache (sccache{', ' + '; '.join(where) if where else ''}): {hits} hits, {misses} misses "
            f"over {len(used)} of {len(seen)} cargo builds")
    languages: dict = {}
    for r in used:
        for lang, n in (r.get("languages") or {}).items():
            total = languages.setdefault(lang, [0, 0])
            total[0] += n.get("hits") or 0
            total[1] += n.get("misses") or 0
    if languages:   # Rust first, then C/C++ (build scripts' C compiles)
        order = sorted(languages, key=lambda lang: (lang != "Rust", lang))
        text += " (" + "; ".join(f"{lang} {languages[lang][0]} hits, {languages[lang][1]} misses"
                                 for lang in order) + ")"
    off = [r.get("reason") for r in seen.values() if not r.get("used")]
    if off:
        text += f"; {len(off)} built without it ({off[0]})"
    return text + "."
