"""Reports from results.json: a markdown table per crate and target (the seeds' format), CSV."""
import csv
import io
import os

from .fsutil import atomic_write_text
from .units import human


def reports_dir(matrix_output):
    return os.path.join(matrix_output, "reports")


def report_files(matrix, plan):
    names = [f"{c}.md" for c in matrix.crates] + ["sizes.csv", "index.html"] + (["crates.md"] if len(matrix.crates) > 1 else [])
    return [os.path.join(reports_dir(matrix.output), n) for n in names]


def _pct(value):
    if value is None:
        return "-"
    return f"{value:+.1f}%" if value else "0%"


def _size_cells(cell):
    if cell["status"] != "ok":
        return [cell["status"], "-"]
    return [f"{cell['final_bytes']:,}", human(cell["final_bytes"])]


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


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(x).replace("|", "\\|") for x in row) + " |" for row in rows]
    return "\n".join(out)


def crate_markdown(results, crate):
    """The markdown report of one crate: one size table per target."""
    cells = [c for c in results["cells"] if c["crate"] == crate]
    targets = list(dict.fromkeys(c["target"] for c in cells))
    parts = [f"# {crate}", "",
             f"Sizes of the final artifact of each row; % change is against `{results['baseline']}`."]
    for target in targets:
        rows = []
        notes = []
        for c in (c for c in cells if c["target"] == target):
            est = c.get("upx_estimate_bytes")
            rows.append([c["variant"], c["label"], *_size_cells(c), _pct(c.get("change_pct")),
                         human(est) if est else "-", runs(c)])
            if c["status"] != "ok":
                notes.append(f"- `{c['variant']}` {c['status']}: {c['reason']}"
                             + (f" (log: `{c['log']}`)" if c.get("log") else ""))
        parts += ["", f"## {target}", "",
                  _table(["build", "modifications", "size (bytes)", "size (human)", "% change", "UPX (est.)", "runs"], rows)]
        if notes:
            parts += [""] + notes
    for target in targets:
        base = next((c for c in cells if c["target"] == target and c["variant"] == results["baseline"]), None)
        if base and base.get("crates"):
            parts += ["", f"## Biggest crates: {target}, `{base['variant']}`", "", crates_table(base["crates"])]
    if len(targets) > 1:
        parts += ["", "## Targets compared", "", targets_table(cells, targets)]
    refs = [r for r in results.get("references", []) if r["crate"] == crate]
    if refs:
        parts += ["", "## Size overhead against the reference", "", overhead_table(results, cells, refs)]
    return "\n".join(parts) + "\n"


def overhead_table(results, cells, refs):
    """The seed's "Rust size overhead": the stripped baseline row against the stripped reference."""
    rows = []
    for ref in refs:
        base = next((c for c in cells if c["target"] == ref["target"] and c["variant"] == results["baseline"]), None)
        ours = stripped_of(cells, base) if base else None
        if ref["status"] != "ok":
            rows.append([ref["target"], "-", f"{ref['name']}: {ref['status']} ({ref.get('reason')})", "-", "-"])
            continue
        theirs = ref["stripped_bytes"]
        if not ours or ours["status"] != "ok":
            rows.append([ref["target"], "-", f"{theirs:,} ({human(theirs)})", "-", "-"])
            continue
        mine = ours["final_bytes"]
        rows.append([ref["target"], f"{mine:,} ({human(mine)}) `{ours['variant']}`",
                     f"{theirs:,} ({human(theirs)})", f"{mine - theirs:+,}", f"{mine / theirs:.1f}x"])
    name = refs[0]["name"]
    return _table(["target", "Rust, stripped", f"{name}, stripped", "overhead (bytes)", "ratio"], rows)


def crates_table(crates, top=10):
    """The seed's `cargo bloat --crates` listing: share, bytes and name of the biggest crates."""
    total = sum(crates.values()) or 1
    ranked = sorted(crates.items(), key=lambda kv: -kv[1])
    rows = [[f"{n * 100 / total:.1f}%", f"{n:,}", human(n), name] for name, n in ranked[:top]]
    rest = ranked[top:]
    if rest:
        n = sum(v for _, v in rest)
        rows.append([f"{n * 100 / total:.1f}%", f"{n:,}", human(n), f"and {len(rest)} more crates"])
    rows.append(["100%", f"{total:,}", human(total), "total (attributed sections of the unstripped build)"])
    return _table(["share", "bytes", "size", "crate"], rows)


def targets_table(cells, targets):
    """Each row's final size on every target, and each target's size relative to the first."""
    by = {(c["variant"], c["target"]): c for c in cells}
    variants = list(dict.fromkeys(c["variant"] for c in cells))
    header = ["build"] + targets + [f"{t.split('-')[0]} / {targets[0].split('-')[0]}" for t in targets[1:]]
    rows = []
    for v in variants:
        sizes = [by.get((v, t), {}).get("final_bytes") if by.get((v, t), {}).get("status") == "ok" else None
                 for t in targets]
        cols = [f"{n:,} ({human(n)})" if n else "-" for n in sizes]
        ratios = [f"{n / sizes[0]:.2f}" if n and sizes[0] else "-" for n in sizes[1:]]
        rows.append([v] + cols + ratios)
    return _table(header, rows)


def stripped_of(cells, cell):
    """The row that is `cell`'s build plus only a strip, if the matrix has one."""
    key = (cell.get("build") or {}).get("key")
    for c in cells:
        if c["target"] == cell["target"] and c["crate"] == cell["crate"] and key and \
                (c.get("build") or {}).get("key") == key and \
                [st["step"] for st in c.get("stages", [])] == ["build", "strip"]:
            return c
    return None


def crates_markdown(results):
    """The seed's all-plugins table: every crate's baseline size and stripped size, per target."""
    base = [c for c in results["cells"] if c["variant"] == results["baseline"]]
    targets = list(dict.fromkeys(c["target"] for c in base))
    parts = [f"# All crates", "", f"Row `{results['baseline']}` of each crate, as built and stripped."]
    for target in targets:
        rows = []
        for c in (c for c in base if c["target"] == target):
            stripped = stripped_of(results["cells"], c)
            size = c["final_bytes"] if c["status"] == "ok" else None
            ssize = stripped["final_bytes"] if stripped and stripped["status"] == "ok" else None
            rows.append([c["crate"], f"{size:,}" if size else c["status"], human(size),
                         f"{ssize:,}" if ssize else "-", human(ssize)])
        parts += ["", f"## {target}", "", _table(["crate", "size", "human", "stripped", "stripped human"], rows)]
    return "\n".join(parts) + "\n"


CSV_FIELDS = ["crate", "target", "variant", "label", "status", "final_bytes", "change_pct",
              "upx_estimate_bytes", "runs", "reason"]


def sizes_csv(results):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for c in results["cells"]:
        w.writerow({**{k: c.get(k) for k in CSV_FIELDS}, "runs": runs(c)})
    return buf.getvalue()


def write_reports(matrix_or_output, results):
    output = getattr(matrix_or_output, "output", matrix_or_output)
    folder = reports_dir(output)
    written = []
    crates = list(dict.fromkeys(c["crate"] for c in results["cells"]))
    for crate in crates:
        path = os.path.join(folder, f"{crate}.md")
        atomic_write_text(path, crate_markdown(results, crate))
        written.append(path)
    path = os.path.join(folder, "sizes.csv")
    atomic_write_text(path, sizes_csv(results))
    written.append(path)
    if len(crates) > 1:
        path = os.path.join(folder, "crates.md")
        atomic_write_text(path, crates_markdown(results))
        written.append(path)
    return written
