"""sizekit check: which cells a budget applies to, units, matrix lookup, exit codes 0/1/2."""
import json
import os
import subprocess
import sys

import pytest

from sizekit.report.budget import budget_table
from sizekit.results.budget import budget_rows
from sizekit.utils.errors import UsageError
from sizekit.config.load import load_matrix

from conftest import ROOT, TINY, write

X86 = "x86_64-unknown-linux-gnu"
ARM = "armv7-unknown-linux-gnueabihf"
VARIANTS = ["dev", "release", "release-stripped", "upx"]


def matrix_text(budget, output="out", only=None):
    extra = f", only: {only}" if only else ""
    return f"""
        version: 1
        output: {output}
        targets:
          {X86}: {{}}
          {ARM}: {{linker: arm-linux-gnueabihf-gcc}}
        crates:
          app:
            path: {TINY}
            artifact: bin:tiny
            targets: [{X86}, {ARM}]
            budget: {budget}
          other:
            path: {TINY}
            artifact: bin:tiny
        variants:
          - {{name: dev, profile: dev}}
          - {{name: release, profile: release}}
          - {{name: release-stripped, from: release, post: [strip]}}
          - {{name: upx, from: release-stripped, post: [upx]{extra}}}
    """


def cell(variant, size, target=X86, status="ok", crate="app"):
    return {"crate": crate, "target": target, "variant": variant, "label": variant, "status": status,
            "reason": None if status == "ok" else "it broke", "final_bytes": size if status == "ok" else None}


def sizes(x86=(5_000_000, 1_000_000, 800_000, 300_000), arm=(4_000_000, 900_000, 700_000, 250_000),
          status=None):
    status = status or {}
    cells = [cell(v, n, X86, status.get((X86, v), "ok")) for v, n in zip(VARIANTS, x86)]
    cells += [cell(v, n, ARM, status.get((ARM, v), "ok")) for v, n in zip(VARIANTS, arm)]
    cells += [cell("release", 123, crate="other")]
    return cells


def setup(tmp_path, budget, cells=None, output="out", only=None, matrix_name="matrix.yaml"):
    mpath = write(tmp_path / matrix_name, matrix_text(budget, output, only))
    rpath = tmp_path / output / "results.json"
    rpath.parent.mkdir(parents=True, exist_ok=True)
    rpath.write_text(json.dumps({"version": 1, "matrix": matrix_name, "baseline": "release",
                                 "variants": VARIANTS, "cells": sizes() if cells is None else cells}))
    return mpath, str(rpath)


def rows(tmp_path, budget, **kw):
    mpath, rpath = setup(tmp_path, budget, **kw)
    with open(rpath) as f:
        results = json.load(f)
    return [(r["target"], r["variant"], r["budget"], r["source"], r["status"])
            for r in budget_rows(load_matrix(mpath, host=X86), results)]


def sizekit(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "sizekit", *args], capture_output=True, text=True,
                          env=env, cwd=cwd)


# --- the rule ---

def test_plain_budget_applies_to_the_final_row_of_each_target_only(tmp_path):
    # dev (5 MB) is far over 1MiB, but it is not what ships: only the upx row is checked.
    assert rows(tmp_path, "1MiB") == [(X86, "upx", 1048576, "max", "OK"), (ARM, "upx", 1048576, "max", "OK")]


def test_final_row_falls_back_to_the_last_row_that_built(tmp_path):
    got = rows(tmp_path, "750KB", cells=sizes(status={(X86, "upx"): "failed"}))
    assert got == [(X86, "release-stripped", 750000, "max", "OVER"), (ARM, "upx", 750000, "max", "OK")]


def test_variant_budget_applies_on_every_target_and_beats_max(tmp_path):
    got = rows(tmp_path, "{max: 280KB, variants: {release: 950KB, upx: 2MB}}")
    assert got == [(X86, "release", 950000, "variant", "OVER"), (X86, "upx", 2000000, "variant", "OK"),
                   (ARM, "release", 950000, "variant", "OK"), (ARM, "upx", 2000000, "variant", "OK")]


def test_target_budget_beats_max_on_its_target(tmp_path):
    got = rows(tmp_path, f"{{max: 280KB, targets: {{{ARM}: 240KB}}}}")
    assert got == [(X86, "upx", 280000, "max", "OVER"), (ARM, "upx", 240000, "target", "OVER")]


def test_targets_without_max_leave_other_targets_unchecked(tmp_path):
    assert rows(tmp_path, f"{{targets: {{{ARM}: 1MiB}}}}") == [(ARM, "upx", 1048576, "target", "OK")]


def test_variant_excluded_by_only_is_skipped_not_missing(tmp_path):
    cells = [c for c in sizes() if not (c["variant"] == "upx" and c["target"] == ARM)]
    got = rows(tmp_path, "{variants: {upx: 1MB}}", cells=cells, only=f"{{targets: [{X86}]}}")
    assert got == [(X86, "upx", 1000000, "variant", "OK")]


def test_budgeted_row_missing_from_results_is_not_checked(tmp_path):
    cells = [c for c in sizes() if not (c["variant"] == "upx" and c["target"] == ARM)]
    got = rows(tmp_path, "{variants: {upx: 1MB}}", cells=cells)
    assert got == [(X86, "upx", 1000000, "variant", "OK"), (ARM, "upx", 1000000, "variant", "NOT CHECKED")]


@pytest.mark.parametrize("budget,expected", [("1MiB", 1048576), ("1.5MB", 1500000), ("800KiB", 819200),
                                             ("300000", 300000), ("1m", 1048576)])
def test_budget_units(tmp_path, budget, expected):
    assert rows(tmp_path, budget)[0][2] == expected


# --- the command ---

def test_exit_0_within_budget_with_table(tmp_path):
    setup(tmp_path, "1MiB")
    r = sizekit("check", "out/results.json", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["crate", "target", "variant", "size", "budget", "headroom", "status"]
    assert lines[2].split() == ["app", X86, "upx", "300,000", "(293K)", "1,048,576", "(1.0M)", "max",
                                "+748,576", "(+71.4%)", "OK"]
    assert lines[-1] == "2 within budget, 0 over (matrix.yaml against out/results.json)"


def test_exit_1_over_budget(tmp_path):
    _, rpath = setup(tmp_path, "280KB")
    r = sizekit("check", rpath)
    assert r.returncode == 1
    over = [line.split() for line in r.stdout.splitlines() if line.endswith("OVER")]
    assert over == [["app", X86, "upx", "300,000", "(293K)", "280,000", "(273K)", "max", "-20,000", "(-7.1%)",
                     "OVER"]]
    assert r.stdout.splitlines()[-1].startswith("1 within budget, 1 over")


def test_fallback_note_and_strict(tmp_path):
    cells = sizes(status={(X86, "upx"): "failed", (ARM, "upx"): "failed", (ARM, "release-stripped"): "failed"})
    _, rpath = setup(tmp_path, "{max: 1MiB, variants: {release-stripped: 1MiB}}", cells=cells)
    r = sizekit("check", rpath)
    assert r.returncode == 0, r.stdout
    assert f"- app/{X86}/release-stripped: last row upx is failed; checked release-stripped instead" not in r.stdout
    assert f"- app/{ARM}/release: last row upx is failed; checked release instead" in r.stdout
    assert f"- app/{ARM}/release-stripped: failed: it broke" in r.stdout
    assert "2 within budget, 0 over, 1 not checked" in r.stdout
    strict = sizekit("check", "--strict", rpath)
    assert strict.returncode == 1
    assert "1 not checked (--strict: counts as a failure)" in strict.stdout


def test_matrix_flag_finds_results_in_its_output(tmp_path):
    mpath, _ = setup(tmp_path, "1MiB", output="build/sizes")
    r = sizekit("check", "--matrix", mpath, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "2 within budget, 0 over (matrix.yaml against build/sizes/results.json)"


def test_matrix_found_from_results_in_a_nested_output(tmp_path):
    # The tight matrix's results sit below matrix.yaml's own output folder. The "matrix" field
    # of results.json names tight.yaml, but a results file may come from a fork: only the
    # output folders decide, so matrix.yaml (output out) is passed over and --matrix is needed.
    setup(tmp_path, "1MiB")
    _, rpath = setup(tmp_path, "1KB", output="out/tight", matrix_name="tight.yaml")
    r = sizekit("check", rpath, cwd=str(tmp_path))
    assert (r.returncode, r.stdout) == (2, "")
    assert "no matrix.yaml in" in r.stderr and "pass --matrix PATH" in r.stderr
    r = sizekit("check", rpath, "--matrix", "tight.yaml", cwd=str(tmp_path))
    assert r.returncode == 1
    assert "(tight.yaml against out/tight/results.json)" in r.stdout


def test_matrix_flag_overrides_the_results_field(tmp_path):
    _, rpath = setup(tmp_path, "1KB")
    other = write(tmp_path / "loose" / "matrix.yaml", matrix_text("10MB"))
    r = sizekit("check", rpath, "--matrix", other)
    assert r.returncode == 0, r.stdout
    assert "10,000,000" in r.stdout


def test_default_results_is_out_results_json(tmp_path):
    setup(tmp_path, "1MiB")
    r = sizekit("check", cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "(matrix.yaml against out/results.json)" in r.stdout


def test_no_budgets_is_fine(tmp_path):
    write(tmp_path / "matrix.yaml", f"""
        version: 1
        crates:
          app: {{path: {TINY}, artifact: bin:tiny}}
        variants:
          - {{name: release}}
    """)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.json").write_text(json.dumps({"version": 1, "matrix": "matrix.yaml",
                                                               "cells": [cell("release", 5)]}))
    r = sizekit("check", cwd=str(tmp_path))
    assert (r.returncode, r.stdout) == (0, "sizekit: no budgets in matrix.yaml; add `budget: 1MiB` to a crate "
                                           "to check its size\n")


# --- bad input: exit 2 ---

def test_missing_results_exits_2(tmp_path):
    r = sizekit("check", str(tmp_path / "nope.json"))
    assert r.returncode == 2
    assert r.stderr == f"sizekit: {tmp_path / 'nope.json'}: not found; run doit first to build the matrix\n"


def test_invalid_results_exits_2(tmp_path):
    _, rpath = setup(tmp_path, "1MiB")
    with open(rpath, "w") as f:
        f.write("{")
    r = sizekit("check", rpath)
    assert r.returncode == 2
    assert "not valid JSON" in r.stderr


def test_missing_matrix_exits_2(tmp_path):
    _, rpath = setup(tmp_path, "1MiB")
    os.unlink(tmp_path / "matrix.yaml")
    r = sizekit("check", rpath)
    assert r.returncode == 2
    assert r.stderr == (f"sizekit: {rpath}: no matrix.yaml in {tmp_path / 'out'} or the folders above has it as "
                        f"its output folder; pass --matrix PATH\n")


def test_invalid_budget_size_exits_2(tmp_path):
    _, rpath = setup(tmp_path, "12 parsecs")
    r = sizekit("check", rpath, cwd=str(tmp_path))
    assert (r.returncode, r.stderr) == (2, f"sizekit: {rpath}: matrix.yaml above it is not a valid matrix; "
                                           f"run `sizekit check --matrix matrix.yaml` to see why\n")
    r = sizekit("check", rpath, "--matrix", "matrix.yaml", cwd=str(tmp_path))
    assert r.returncode == 2
    assert "crates.app.budget: unknown unit 'parsecs' in '12 parsecs'" in r.stderr


def test_budget_naming_an_unknown_variant_or_target_exits_2(tmp_path):
    _, rpath = setup(tmp_path, "{variants: {relase: 1MB}, targets: {aarch64-unknown-linux-gnu: 1MB}}")
    r = sizekit("check", rpath, cwd=str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        'matrix.yaml: crates.app.budget.variants.relase: no variant named \'relase\' (did you mean "release"?); '
        'use one of: dev, release, release-stripped, upx',
        f"matrix.yaml: crates.app.budget.targets.aarch64-unknown-linux-gnu: app is not built for "
        f"'aarch64-unknown-linux-gnu'; its targets: {X86}, {ARM}"]


def test_budget_rows_raise_usage_error_for_unknown_names(tmp_path):
    mpath, _ = setup(tmp_path, "{variants: {nope: 1MB}}")
    with pytest.raises(UsageError, match="no variant named 'nope'"):
        budget_rows(load_matrix(mpath, host=X86), {"cells": sizes()})


def test_table_recomputes_headroom_from_the_bytes():
    row = {"crate": "app", "target": X86, "variant": "upx", "bytes": 300_000, "budget": 280_000, "source": "max",
           "headroom": 123, "status": "OVER", "note": None}
    cells = budget_table([row]).rows[0].cells
    assert cells[5].value == 280_000 - 300_000
    assert cells[5].text == f"{-20_000:+,} ({-20_000 * 100 / 280_000:+.1f}%)" == "-20,000 (-7.1%)"
    assert cells[3].text == "300,000 (293K)" and cells[4].text == "280,000 (273K) max"
