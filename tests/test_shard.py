"""Sharding a matrix (--shard K/N, doit shard=K/N) and merging the shards' results (sizekit merge)."""
import json
import os

import pytest

from conftest import ROOT, TINY, sizekit, write
from sizekit.config.load import load_matrix
from sizekit.plan.cells import make_plan
from sizekit.plan.shard import owners, parse_shard, shard_plan
from sizekit.utils.errors import UsageError

GOLDEN = os.path.join(ROOT, "tests", "golden", "results_small.json")
RULE = "not a shard; write K/N with 1 <= K <= N, e.g. 1/2 for the first of two shards"


def matrix_with(tmp_path, n_variants):
    """A matrix of two crates x n_variants release rows, each with a stripped twin (shared build)."""
    rows = []
    for i in range(n_variants):
        rows.append(f"  - {{name: r{i}, cargo: {{opt-level: {i % 4}}}, env: {{SK_ROW: '{i}'}}}}")
        rows.append(f"  - {{name: r{i}-stripped, from: r{i}, post: [strip]}}")
    return write(tmp_path / "matrix.yaml", f"version: 1\ncrates:\n  a: {{path: {TINY}}}\n  b: {{path: {TINY}}}\n"
                 "variants:\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("text", ["0/2", "3/2", "x/y", "1", "1/0", "-1/2", ""])
def test_bad_shard_is_a_usage_error_with_the_rule(text):
    with pytest.raises(UsageError) as err:
        parse_shard(text)
    assert str(err.value) == f"--shard {text}: {RULE}"


def test_bad_shard_on_the_command_line_is_exit_2(tmp_path):
    matrix = matrix_with(tmp_path, 1)
    proc = sizekit("run", matrix, "--shard", "3/2", "--list", cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (2, f"sizekit: --shard 3/2: {RULE}\n")
    proc = sizekit("run", "--shard=0/2", matrix, cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (2, f"sizekit: --shard 0/2: {RULE}\n")
    assert not os.path.exists(tmp_path / "out" / "results.json")


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_partition_the_builds_evenly_and_keep_shared_builds_together(tmp_path, count):
    plan = make_plan(load_matrix(matrix_with(tmp_path, 7)))
    parts = [shard_plan(plan, k, count) for k in range(1, count + 1)]
    names = [c.name for p in parts for c in p.cells]
    assert sorted(names) == sorted(c.name for c in plan.cells)       # every cell once
    assert len(names) == len(set(names))
    sizes = [len(p.builds) for p in parts]
    assert max(sizes) - min(sizes) <= 1                              # balanced by builds
    for p in parts:                                                  # a build's rows stay together
        keys = {b.key for b in p.builds}
        assert all(c.build.key in keys for c in p.cells)
        assert all(s.build.key in keys for s in p.steps)
        assert p.all_cells == [c.name for c in plan.cells]


def test_the_partition_does_not_depend_on_matrix_order(tmp_path):
    one = make_plan(load_matrix(matrix_with(tmp_path, 6)))
    text = open(tmp_path / "matrix.yaml").read()
    head, rows = text.split("variants:\n")
    lines = rows.splitlines()
    pairs = [lines[i:i + 2] for i in range(0, len(lines), 2)][::-1]
    write(tmp_path / "matrix-rev.yaml", head + "variants:\n" + "\n".join(l for p in pairs for l in p) + "\n")
    two = make_plan(load_matrix(tmp_path / "matrix-rev.yaml"))
    mine = lambda plan: {c.name: k for c in plan.cells for b, k in owners(plan, 3).items() if c.build.key == b}  # noqa: E731
    assert mine(one) == mine(two)


def test_list_shows_what_a_shard_owns(tmp_path):
    matrix = matrix_with(tmp_path, 3)
    first = sizekit("run", matrix, "--shard", "1/2", "--list", cwd=tmp_path)
    second = sizekit("run", "--shard", "2/2", "--list", matrix, cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    assert first.stdout.startswith("shard 1/2: ") and second.stdout.startswith("shard 2/2: ")
    cells = [name for out in (first.stdout, second.stdout) for line in out.splitlines()[1:]
             for name in line.split(": ", 1)[1].split(", ")]
    assert sorted(cells) == sorted(f"{c}/x86_64-unknown-linux-gnu/r{i}{s}" for c in "ab" for i in range(3)
                                   for s in ("", "-stripped"))
    assert not os.path.exists(tmp_path / "out")


# ---------------------------------------------------------------- merge

def shards_of(tmp_path, parts, digest="d" * 64, version="0.1.0"):
    """Write the golden results split into shards: parts is a list of cell-index lists."""
    data = json.load(open(GOLDEN))
    names = [f"{c['crate']}/{c['target']}/{c['variant']}" for c in data["cells"]]
    paths = []
    for k, indexes in enumerate(parts, 1):
        shard = dict(data, cells=[data["cells"][i] for i in indexes], matrix_digest=digest, sizekit_version=version,
                     shard={"index": k, "count": len(parts), "matrix_cells": names})
        path = write(tmp_path / f"shard{k}" / "out" / "results.json", json.dumps(shard))
        paths.append(path)
    return paths, data


def test_merge_equals_the_whole_run(tmp_path):
    paths, whole = shards_of(tmp_path, [[0, 2, 4], [1, 3, 5]])
    proc = sizekit("merge", *paths, "--output", tmp_path / "merged", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    merged = json.load(open(tmp_path / "merged" / "results.json"))
    strip = lambda c: {k: v for k, v in c.items() if k != "shard"}  # noqa: E731
    assert [strip(c) for c in merged["cells"]] == whole["cells"]
    assert [c["shard"] for c in merged["cells"]][:2] == [{"index": 1, "folder": "../shard1/out"},
                                                         {"index": 2, "folder": "../shard2/out"}]
    assert merged["merged_from"] == [{"index": 1, "results": "../shard1/out/results.json"},
                                     {"index": 2, "results": "../shard2/out/results.json"}]
    # The reports are the ones a single run writes from the same cells.
    sizekit("report", GOLDEN, "--output", tmp_path / "single", cwd=tmp_path)
    for name in ("app.md", "sizes.csv"):
        assert open(tmp_path / "merged" / "reports" / name).read() == \
            open(tmp_path / "single" / "reports" / name).read()
    assert os.path.exists(tmp_path / "merged" / "reports" / "index.html")


@pytest.mark.parametrize("case,message", [
    ("digest", "sizekit: these results come from different matrix files (their sha256 differ) ("),
    ("version", "sizekit: these results come from different sizekit versions ("),
    ("twice", "are both shard 1/2; pass each shard once"),
    ("overlap", "is in both"),
    ("missing", "sizekit: 2 cell(s) of the matrix are in no shard given: app/x86_64-unknown-linux-gnu/release, "
                "app/x86_64-unknown-linux-gnu/upx; pass every shard's results.json, or --partial to show them "
                "as missing"),
])
def test_merge_refuses_what_does_not_fit(tmp_path, case, message):
    if case == "digest":
        paths = shards_of(tmp_path, [[0, 2, 4]])[0] + shards_of(tmp_path / "x", [[1, 3, 5], [1]], digest="e" * 64)[0][:1]
    elif case == "version":
        paths = shards_of(tmp_path, [[0, 2, 4]])[0] + shards_of(tmp_path / "x", [[1, 3, 5], [1]], version="9")[0][:1]
    elif case == "twice":
        paths, _ = shards_of(tmp_path, [[0, 2, 4], [1, 3, 5]])
        paths = [paths[0], paths[0]]
    elif case == "overlap":
        paths, _ = shards_of(tmp_path, [[0, 2, 4], [1, 2, 3, 5]])
    else:
        paths, _ = shards_of(tmp_path, [[0, 2, 4, 5], []])
    proc = sizekit("merge", *paths, "-o", tmp_path / "merged", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert message in proc.stderr
    assert not os.path.exists(tmp_path / "merged")


def test_partial_merge_shows_missing_cells(tmp_path):
    paths, _ = shards_of(tmp_path, [[0, 2, 4, 5], []])
    proc = sizekit("merge", paths[0], "--partial", "-o", tmp_path / "merged", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "(2 missing)" in proc.stderr
    md = open(tmp_path / "merged" / "reports" / "app.md").read()
    assert "| release | - | missing | - |" in md
    assert "- `release` missing: its shard's results.json was not merged" in md


# ---------------------------------------------------------------- real shards, real merge

REAL = """
    version: 1
    crates:
      tiny: {path: tiny, artifact: bin:tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
      other: {path: other, artifact: bin:tiny}
    variants:
      - {name: release}
      - {name: release-stripped, from: release, post: [strip]}
      - {name: small, from: release, cargo: {opt-level: s}}
      - {name: small-stripped, from: small, post: [strip]}
"""


def _table_rows(md):
    return [line for line in md.splitlines() if line.startswith("| ")]


@pytest.mark.slow
def test_two_real_shards_merge_to_the_single_machine_table(tmp_path):
    from conftest import doit, tiny_project
    folders = {}
    for name in ("single", "shard1", "shard2"):
        tiny_project(tmp_path / name, REAL, crate_dirs=("tiny", "other"))
        folders[name] = tmp_path / name
    doit(folders["single"])
    doit(folders["shard1"], "shard=1/2")
    proc = sizekit("run", "--shard", "2/2", "matrix.yaml", cwd=folders["shard2"])
    assert proc.returncode == 0, proc.stderr
    parts = [json.load(open(folders[f"shard{k}"] / "out" / "results.json")) for k in (1, 2)]
    assert [p["shard"]["index"] for p in parts] == [1, 2]
    assert 0 < len(parts[0]["cells"]) < 8 and len(parts[0]["cells"]) + len(parts[1]["cells"]) == 8
    merged_dir = tmp_path / "merged"
    proc = sizekit("merge", folders["shard1"] / "out" / "results.json", folders["shard2"] / "out" / "results.json",
                   "-o", merged_dir, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    merged = json.load(open(merged_dir / "results.json"))
    single = json.load(open(folders["single"] / "out" / "results.json"))
    key = lambda c: (c["crate"], c["target"], c["variant"])  # noqa: E731
    assert [(key(c), c["status"], c["final_bytes"], c["change_pct"]) for c in merged["cells"]] == \
        [(key(c), c["status"], c["final_bytes"], c["change_pct"]) for c in single["cells"]]
    for c in merged["cells"]:   # each artifact is where its shard built it
        shard_out = merged_dir / c["shard"]["folder"]
        assert os.path.getsize(shard_out.parent / c["stages"][-1]["path"]) == c["final_bytes"]
    for report in ("tiny.md", "other.md", "crates.md"):
        assert _table_rows(open(merged_dir / "reports" / report).read()) == \
            _table_rows(open(folders["single"] / "out" / "reports" / report).read())
