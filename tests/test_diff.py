"""sizekit diff: golden markdown, the JSON form, added/removed/status cells, bad input."""
import json
import os
import subprocess
import sys

import pytest

from sizekit.report.cell_tables import diff_markdown, summary_line
from sizekit.results.cell_diff import diff_results, top_moves
from sizekit.results.results_file import load_results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "golden")
X86 = "x86_64-unknown-linux-gnu"
ARM = "armv7-unknown-linux-gnueabihf"


def cell(variant, final, status="ok", target=X86, build=None, final_sections=None, crates=None, reason=None):
    stages = []
    if build is not None:
        stages.append({"step": "build", "path": f"out/{variant}", "bytes": final, "sections": build})
    if final_sections is not None:
        stages.append({"step": "strip", "path": f"out/{variant}.stripped", "bytes": final,
                       "sections": final_sections})
    c = {"crate": "app", "target": target, "variant": variant, "label": variant, "status": status,
         "reason": reason, "final_bytes": final if status == "ok" else None, "stages": stages}
    if crates is not None:
        c["crates"] = crates
    return c


BUILD_OLD = {".text": 700000, ".rodata": 200000, ".data": 5000, ".debug_info": 100000, ".eh_frame": 30000}
BUILD_NEW = {".text": 688000, ".rodata": 201000, ".data": 5000, ".debug_info": 100500, ".gcc_except_table": 900}
OLD = {"version": 1, "matrix": "matrix.yaml", "baseline": "release", "cells": [
    cell("dev", 6400000),
    cell("release", 1065432, build=BUILD_OLD, crates={"std": 300000, "app": 50000, "serde": 100000, "regex": 20000}),
    cell("release-stripped", 898944, build=BUILD_OLD,
         final_sections={".text": 700000, ".rodata": 200000, ".data": 5000}),
    cell("old-variant", 500000),
    cell("bstd", None, status="unavailable", reason="rust-src is not installed"),
    cell("release", 900000, target=ARM),
]}
NEW = {"version": 1, "matrix": "matrix.yaml", "baseline": "release", "cells": [
    cell("dev", 6400000),
    cell("release", 1053000, build=BUILD_NEW, crates={"std": 296000, "app": 52000, "serde": 100000, "regex": 12000}),
    cell("release-stripped", 905000, build=BUILD_NEW,
         final_sections={".text": 706056, ".rodata": 200000, ".data": 5000}),
    cell("bstd", None, status="unavailable", reason="rust-src is not installed"),
    cell("release", None, status="failed", target=ARM, reason="cargo build failed (exit status 101)"),
    cell("upx", 363716),
]}


@pytest.fixture
def files(tmp_path):
    paths = []
    for name, data in (("old", OLD), ("new", NEW)):
        p = tmp_path / name / "results.json"
        p.parent.mkdir()
        p.write_text(json.dumps(data))
        paths.append(str(p))
    return paths


def sizekit(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "sizekit", *args], capture_output=True, text=True, env=env)


def golden(name):
    with open(os.path.join(GOLDEN, name), encoding="utf-8") as f:
        return f.read()


def test_markdown_matches_golden(files):
    old, new = (load_results(p) for p in files)
    assert diff_markdown(diff_results(old, new)) == golden("diff_basic.md")


def test_cli_markdown_is_the_pr_comment_golden_and_exits_0(files):
    # The command line's markdown is the PR comment: a verdict per crate, the cells that changed,
    # then every table (and each cell's sections and crates) folded in <details>.
    r = sizekit("diff", *files)
    assert r.returncode == 0, r.stderr
    assert r.stdout == golden("diff_comment_basic.md")
    assert "- **app**: shrank -6,376 B (-6.2K) (-0.3%) over 2 of 7 cells" in r.stdout


def test_identical_files_say_nothing_changed(files):
    r = sizekit("diff", files[0], files[0])
    assert r.returncode == 0
    assert r.stdout == golden("diff_comment_same.md")
    assert "- **app**: unchanged · `size/none`" in r.stdout


def test_json_form(files):
    r = sizekit("diff", "--format", "json", *files)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["old"] == files[0] and data["new"] == files[1]
    assert data["summary"] == {"grew": 1, "shrank": 1, "unchanged": 2, "changed_status": 1, "added": 1,
                               "removed": 1, "total_delta_bytes": (1053000 - 1065432) + (905000 - 898944)}
    by = {(c["target"], c["variant"]): c for c in data["cells"]}
    # Every cell of both sides is there: new order first, then the removed ones.
    assert [(c["target"], c["variant"]) for c in data["cells"]] == [
        (X86, "dev"), (X86, "release"), (X86, "release-stripped"), (X86, "bstd"), (ARM, "release"),
        (X86, "upx"), (X86, "old-variant")]
    rel = by[(X86, "release")]
    assert (rel["change"], rel["old_bytes"], rel["new_bytes"], rel["delta_bytes"], rel["delta_pct"]) == \
        ("shrank", 1065432, 1053000, -12432, -1.2)
    assert rel["sections"]["build"]["moves"] == [
        {"name": ".eh_frame", "old": 30000, "new": None, "delta": -30000},
        {"name": ".text", "old": 700000, "new": 688000, "delta": -12000},
        {"name": ".rodata", "old": 200000, "new": 201000, "delta": 1000}]
    # No post step: the build stage is the final stage, listed once.
    assert "final" not in rel["sections"]
    assert [m["name"] for m in rel["crates"]] == ["regex", "std", "app"]
    stripped = by[(X86, "release-stripped")]
    assert stripped["change"] == "grew"
    assert stripped["sections"]["final"] == {"old_step": "strip", "new_step": "strip", "moves": [
        {"name": ".text", "old": 700000, "new": 706056, "delta": 6056}]}
    assert "crates" not in stripped
    arm = by[(ARM, "release")]
    assert (arm["change"], arm["old_status"], arm["new_status"], arm["delta_bytes"], arm["reason"]) == \
        ("changed status", "ok", "failed", None, "cargo build failed (exit status 101)")
    assert (by[(X86, "upx")]["change"], by[(X86, "upx")]["old_status"], by[(X86, "upx")]["new_bytes"]) == \
        ("added", None, 363716)
    assert (by[(X86, "old-variant")]["change"], by[(X86, "old-variant")]["new_status"]) == ("removed", None)
    assert by[(X86, "bstd")]["change"] == "unchanged"


def test_status_change_and_added_removed_rows_in_markdown(files):
    text = sizekit("diff", *files).stdout
    assert f"| app | {ARM} | release | 900,000 | failed | - | - | ok → failed |" in text
    assert f"| app | {X86} | upx | - | 363,716 | - | - | added |" in text
    assert f"| app | {X86} | old-variant | 500,000 | - | - | - | removed |" in text
    assert "ok → failed: cargo build failed (exit status 101)" in text


def test_top_moves_orders_by_absolute_delta_then_name():
    old = {"a": 10, "b": 10, "c": 10, "d": 10, "same": 5}
    new = {"a": 15, "b": 5, "c": 30, "e": 1, "same": 5}
    assert [(m["name"], m["delta"]) for m in top_moves(old, new, n=5)] == [
        ("c", 20), ("d", -10), ("a", 5), ("b", -5), ("e", 1)]
    assert top_moves(None, {}) == []


def test_summary_line_singular_and_skips_empty_kinds():
    s = {"grew": 1, "shrank": 0, "unchanged": 0, "changed_status": 0, "added": 2, "removed": 0,
         "total_delta_bytes": 2048}
    assert summary_line(s) == "1 cell grew, 0 shrank, 2 added; total +2,048 B (+2.0K)"


@pytest.mark.parametrize("content,message", [
    (None, "not found; run doit first"),
    ("{", "not valid JSON"),
    ('{"version": 7, "cells": []}', "not a sizekit results.json of version 1"),
    ('{"version": 1, "cells": [{"crate": "a", "target": "t"}]}', "cells[0] lacks crate/target/variant/status"),
])
def test_bad_input_exits_2(files, tmp_path, content, message):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    r = sizekit("diff", files[0], str(bad))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith(f"sizekit: {bad}: ") and message in r.stderr


def test_bad_format_is_a_usage_error(files):
    r = sizekit("diff", "--format", "html", *files)
    assert r.returncode == 2
    assert "invalid choice: 'html'" in r.stderr


def test_malformed_cell_contents_exit_2(files, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 1, "cells": [dict(NEW["cells"][1], stages=["oops"])]}))
    r = sizekit("diff", files[0], str(bad))
    assert r.returncode == 2
    assert r.stderr.startswith(f"sizekit: {files[0]} or {bad}: unexpected cell contents")


def test_markdown_recomputes_deltas_from_the_bytes(files):
    old, new = (load_results(p) for p in files)
    diff = diff_results(old, new)
    # A comparison read back from JSON with its derived figures tampered with prints the same.
    for c in diff["cells"]:
        c["delta_bytes"] = 12345 if c["delta_bytes"] is not None else None
        c["delta_pct"] = 99.9 if c["delta_pct"] is not None else None
    diff["summary"]["total_delta_bytes"] = 1
    text = diff_markdown(diff)
    assert text == golden("diff_basic.md")
    assert f"| release | 1,065,432 | 1,053,000 | -12,432 B (-12K) | {(1053000 - 1065432) * 100 / 1065432:+.1f}% |" in text
