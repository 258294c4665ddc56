"""Fleets: the cells one image ships, their bytes, and the bytes they duplicate.

The slow test builds tests/fixtures/fleetpair, two programs that share the crate `common` (a
4,096-byte table and the function that reads it), each with a 2,048-byte table of its own and a
function `mix` whose code is the same in both under two names: the answer is known by
construction.
"""
import json
import os
import shutil

import pytest

from conftest import ROOT, sizekit, write
from sizekit.config.load import load_matrix
from sizekit.config.model import Fleet
from sizekit.elf.copies import CodeRows
from sizekit.results.fleet import find_copies
from sizekit.results.fleet_members import member_cells
from sizekit.utils.errors import MatrixError, ResultsError

FLEETPAIR = os.path.join(ROOT, "tests", "fixtures", "fleetpair")
HOST = "x86_64-unknown-linux-gnu"


def rows(*symbols):
    r = CodeRows(path="x")
    for name, size, digest in symbols:
        r.name.append(name)
        r.crate.append(name.split("::")[0])
        r.section.append(".text")
        r.size.append(size)
        r.digest.append(digest)
    r.covered = sum(r.size)
    return r


def test_copies_by_name_and_size_then_by_bytes():
    a = rows(("std::fmt::write", 800, b"w"), ("a::own", 100, b"o1"), ("a::mix", 64, b"m"), ("std::tiny", 8, None))
    b = rows(("std::fmt::write", 800, b"w2"), ("b::own", 120, b"o2"), ("b::mix", 64, b"m"), ("std::tiny", 8, None))
    c = rows(("std::fmt::write", 760, b"w3"), ("c::mix", 64, b"m"))
    groups = {(g.name, g.match): g for g in find_copies([a, b, c])}
    # Same name and size in a and b; c's write is another size: not the same code.
    write_group = groups["std::fmt::write", "name"]
    assert write_group.copies == {0: 800, 1: 800} and write_group.saving == 800
    # mix: three names, one set of bytes.
    mix = groups["a::mix", "bytes"]
    assert mix.copies == {0: 64, 1: 64, 2: 64} and mix.names == 3 and mix.saving == 128
    # Names match even when too small for a digest; what each member alone has is no copy.
    assert groups["std::tiny", "name"].saving == 8
    assert not any("own" in name for name, _ in groups)
    assert len(groups) == 3


def test_saving_keeps_the_largest_share():
    a = rows(("x::f", 100, b"1"), ("x::f", 100, b"2"))     # two copies in one member (e.g. legacy names)
    b = rows(("x::f", 100, b"3"))
    (g,) = find_copies([a, b])
    assert g.copies == {0: 200, 1: 100} and g.bytes == 300 and g.saving == 100


def fleet_matrix(tmp_path, fleets):
    return write(tmp_path / "m.yaml", f"""
        version: 1
        targets:
          armv7-unknown-linux-gnueabihf: {{linker: arm-linux-gnueabihf-gcc}}
          armv7-unknown-linux-musleabihf: {{linker: arm-linux-musleabihf-gcc}}
        crates:
          one: {{path: {FLEETPAIR}, artifact: bin:one}}
          arm: {{path: {FLEETPAIR}, artifact: bin:one,
                 targets: [armv7-unknown-linux-gnueabihf, armv7-unknown-linux-musleabihf]}}
        variants:
          - {{name: release}}
          - {{name: stripped, from: release, post: [strip], only: {{crates: [one]}}}}
        fleets:
{fleets}
    """)


def test_fleet_members_resolve_short_targets(tmp_path):
    m = load_matrix(fleet_matrix(tmp_path, "          image: {cells: [one/x86_64/stripped, "
                                           "arm/armv7-unknown-linux-gnueabihf/release], budget: 8M}"), host=HOST)
    assert m.fleets == {"image": Fleet(name="image", cells=(f"one/{HOST}/stripped",
                                                             "arm/armv7-unknown-linux-gnueabihf/release"),
                                       budget=8 << 20)}


def test_fleet_declaration_errors_name_the_key(tmp_path):
    with pytest.raises(MatrixError) as exc:
        load_matrix(fleet_matrix(tmp_path, "          a: [arm/armv7/release]\n"
                                           "          b: [arm/x86_64/stripped]\n"
                                           "          c: {budget: 1M}\n"
                                           "          d: [one/x86_64/release, one/x86_64-unknown-linux-gnu/release]"),
                    host=HOST)
    assert [p.split(": ", 1)[1] for p in exc.value.problems] == [
        "fleets.a[0]: target 'armv7' in arm/armv7/release could be armv7-unknown-linux-gnueabihf or "
        "armv7-unknown-linux-musleabihf; write the full triple",
        "fleets.b[0]: crate arm is not built for 'x86_64'; its targets: armv7-unknown-linux-gnueabihf, "
        "armv7-unknown-linux-musleabihf",
        "fleets.c: missing required key \"cells\"",
        f"fleets.d[1]: one/{HOST}/release is listed twice; list each cell once",
    ]


def _cell(name, status="ok"):
    crate, target, variant = name.split("/")
    return {"crate": crate, "target": target, "variant": variant, "status": status, "final_bytes": 10,
            "reason": None if status == "ok" else "cargo build failed (exit status 101)"}


def test_a_member_another_shard_builds_is_named_with_the_fix():
    fleet = Fleet(name="image", cells=("a/t/r", "b/t/r"))
    shard = {"cells": [_cell("a/t/r")], "shard": {"index": 1, "count": 2, "matrix_cells": ["a/t/r", "b/t/r"]}}
    with pytest.raises(ResultsError) as exc:
        member_cells(shard, "out/results.json", fleet)
    assert str(exc.value) == ("fleets.image[1]: b/t/r is built by another shard (out/results.json is shard 1 of 2); "
                              "merge the shards' results (sizekit merge) and ask the merged file")
    assert exc.value.exit_code == 2
    with pytest.raises(ResultsError, match=r"fleets.image\[1\]: b/t/r is failed in out/results.json: cargo build "
                                           r"failed \(exit status 101\); every member must build"):
        member_cells({"cells": [_cell("a/t/r"), _cell("b/t/r", "failed")]}, "out/results.json", fleet)
    with pytest.raises(ResultsError, match=r"fleets.image\[0\]: a/t/r is not in out/results.json; run the matrix"):
        member_cells({"cells": []}, "out/results.json", fleet)


def test_unknown_fleet_name(tmp_path):
    path = fleet_matrix(tmp_path, "          image: [one/x86_64/release]")
    proc = sizekit("fleet", path, "imgae")
    assert proc.returncode == 2
    assert proc.stderr == f"sizekit: {path}: no fleet named 'imgae'; its fleets: image\n"


@pytest.mark.slow
def test_duplicated_bytes_of_two_programs_known_by_construction(tmp_path):
    shutil.copytree(FLEETPAIR, tmp_path / "fleetpair", ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    matrix = write(tmp_path / "matrix.yaml", """
        version: 1
        crates:
          one: {path: fleetpair, artifact: bin:one, smoke: {args: [x], expect: "one "}}
          two: {path: fleetpair, artifact: bin:two, smoke: {args: [x], expect: "two "}}
          # Both programs in one file, each run through its link name.
          multi:
            path: fleetpair
            artifact: bin:multi
            smoke:
              command: [sh, -c, 'ln -s "$0" "$1/one" && ln -s "$0" "$1/two" && "$1/one" x | grep "^one " &&
                                 "$1/two" x | grep "^two " && echo both ran', "{artifact}", "{tmp}"]
              expect: both ran
        variants:
          - {name: release, only: {crates: [one, two]}}
          - {name: stripped, from: release, post: [strip], only: {crates: [one, two, multi]}}
          - {name: dynamic, from: release, rustflags: [-C, prefer-dynamic], post: [strip], only: {crates: [one, two]}}
        fleets:
          pair:
            cells: [one/x86_64/stripped, two/x86_64/stripped]
            budget: 1K
            alternatives:
              multicall: [multi/x86_64/stripped]
              prefer-dynamic: [one/x86_64/dynamic, two/x86_64/dynamic]
    """)
    run = sizekit("run", matrix, cwd=tmp_path, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    proc = sizekit("fleet", matrix, "pair", "--json", "-n", "100000", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    results = {f"{c['crate']}/{c['target']}/{c['variant']}": c
               for c in json.load(open(tmp_path / "out" / "results.json"))["cells"]}
    members = [f"one/{HOST}/stripped", f"two/{HOST}/stripped"]
    assert [m["cell"] for m in got["members"]] == members
    assert got["total_bytes"] == sum(results[m]["final_bytes"] for m in members)
    assert got["budget"] == 1024 and got["over_budget"] is True
    groups = {g["name"]: g for g in got["symbols"]}
    # The shared table: one copy in each program, matched by name; sharing keeps one.
    table = groups["common::COMMON_TABLE"]
    assert (table["match"], table["bytes"], table["saving"]) == ("name", 8192, 4096)
    assert set(table["copies"].values()) == {4096}
    assert groups["common::common_lookup"]["match"] == "name"
    # Each program's own table is no copy; mix is the same code under two names.
    assert not [n for n in groups if "OWN_TABLE" in n]
    mix = [g for g in got["symbols"] if g["name"].endswith("::mix")]
    assert len(mix) == 1 and mix[0]["match"] == "bytes" and mix[0]["names"] == 2
    # std is in both, so most of the duplicated bytes are std's; the bound is under either program.
    crates = {c["crate"]: c for c in got["crates"]}
    assert crates["std"]["saving"] > crates["common"]["saving"] >= 4096
    assert 8192 < got["duplicated_bytes"] and 4096 < got["code_saving"] < min(m["code_bytes"] for m in got["members"])
    assert got["code_saving"] == sum(c["saving"] for c in got["crates"])
    # The bound adds the smaller program's bytes outside every symbol (headers, unwind tables).
    smaller = min(got["members"], key=lambda m: m["final_bytes"])
    assert got["overhead_saving"] == smaller["final_bytes"] - smaller["symbol_bytes"] > 0
    assert smaller["symbol_bytes"] < smaller["code_bytes"]     # string literals: in .rodata, in no symbol
    assert got["saving_bound"] == got["code_saving"] + got["overhead_saving"]
    text = sizekit("fleet", matrix, "pair", cwd=tmp_path)
    assert text.returncode == 0 and text.stdout.startswith(f"fleet pair: 2 members, {got['total_bytes']:,} bytes")
    assert f"sharing could save at most {got['saving_bound']:,} bytes" in text.stdout
    # The alternatives, built and smoke-checked: one multicall file; each program against a
    # shared std, which ships once, stripped, and is counted.
    alts = {a["name"]: a for a in got["alternatives"]}
    multi = results[f"multi/{HOST}/stripped"]
    assert alts["multicall"] == {"name": "multicall", "cells": [f"multi/{HOST}/stripped"],
                                 "total_bytes": multi["final_bytes"], "smoke": "passed", "reason": None}
    assert multi["smoke"]["ok"] is True and multi["final_bytes"] < got["total_bytes"] - 4096
    # What the built multicall file saves stays within the bound.
    assert got["total_bytes"] - multi["final_bytes"] <= got["saving_bound"]
    dyn = [results[f"{p}/{HOST}/dynamic"] for p in ("one", "two")]
    (lib,) = {lib["name"] for c in dyn for lib in c["shared_libraries"]}
    assert lib.startswith("libstd-") and lib.endswith(".so")
    std = dyn[0]["shared_libraries"][0]
    assert os.path.getsize(tmp_path / std["path"]) == std["bytes"] > 100_000     # stripped, in the build folder
    assert alts["prefer-dynamic"]["total_bytes"] == sum(c["final_bytes"] for c in dyn) + std["bytes"]
    assert alts["prefer-dynamic"]["smoke"] == "passed" and all(c["smoke"]["ok"] for c in dyn)
    assert all(c["final_bytes"] < results[f"{p}/{HOST}/stripped"]["final_bytes"] / 4
               for p, c in zip(("one", "two"), dyn))
    # sizekit check holds the fleet to its budget.
    check = sizekit("check", "--matrix", matrix, cwd=tmp_path)
    assert check.returncode == 1 and "fleet pair" in check.stdout and "OVER" in check.stdout, check.stdout
    # results.json and the report carry the fleet; a snapshot does too, so diff shows it.
    stored = json.load(open(tmp_path / "out" / "results.json"))["fleets"]
    assert [(f["name"], f["total_bytes"], f["saving_bound"]) for f in stored] == [
        ("pair", got["total_bytes"], got["saving_bound"])]
    assert [a["total_bytes"] for a in stored[0]["alternatives"]] == [a["total_bytes"] for a in got["alternatives"]]
    report = open(tmp_path / "out" / "reports" / "crates.md").read()
    assert "## Fleets" in report and "multicall" in report and "prefer-dynamic" in report
    snap = sizekit("snapshot", tmp_path / "out", "-o", tmp_path / "s.sksnap.zst", cwd=tmp_path)
    assert snap.returncode == 0, snap.stderr
    diff = sizekit("diff", tmp_path / "s.sksnap.zst", tmp_path / "out" / "results.json", cwd=tmp_path)
    assert diff.returncode == 0 and "### Fleets" in diff.stdout and "unchanged" in diff.stdout, diff.stdout


# --- results.json's fleets: read as untrusted, diffed, shown ------------------------------------

def _results(fleets, n=1000):
    cell = {"crate": "app", "target": HOST, "variant": "release", "status": "ok", "final_bytes": n,
            "stages": [{"step": "build", "path": "out/build/app", "bytes": n}]}
    return {"version": 1, "matrix": "matrix.yaml", "baseline": "release", "variants": ["release"],
            "cells": [cell], "fleets": fleets}


def _fleet(name="image", total=1000, duplicated=300, **kw):
    return {"name": name, "cells": [f"app/{HOST}/release"], "budget": 8 << 20, "total_bytes": total,
            "code_bytes": 900, "duplicated_bytes": duplicated,
            "saving_bound": None if duplicated is None else duplicated // 2, "reason": None, **kw}


@pytest.mark.parametrize("fleet,problem", [
    ({"cells": []}, "fleets[0].name is missing"),
    (_fleet(total=-1), "fleets[0].total_bytes: expected a byte count or null, got -1"),
    (_fleet(cells="app"), "fleets[0].cells: expected a list, got a string"),
    (_fleet(cells=[3]), "fleets[0].cells[0]: expected a string, got 3"),
])
def test_hostile_fleets_in_results_are_refused(tmp_path, fleet, problem):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_results([fleet])))
    proc = sizekit("report", str(path), "--output", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"sizekit: {path}: {problem}"), proc.stderr
    assert not (tmp_path / "o").exists()


def test_report_diff_and_comment_show_fleets(tmp_path):
    from sizekit.report.comment import comment_markdown
    from sizekit.report.markdown import crates_markdown
    from sizekit.results.compare import fleets_diff
    old = _results([_fleet(), _fleet("gone", 500, 0)])
    new = _results([_fleet(total=1200, duplicated=100),
                    _fleet("arm", total=None, duplicated=None, reason="fleets.arm[0]: not built")])
    rows = {r["name"]: r for r in fleets_diff(old, new)}
    assert rows["image"] == {"name": "image", "old_bytes": 1000, "new_bytes": 1200, "delta_bytes": 200, "change": "grew",
                             "old_duplicated": 300, "new_duplicated": 100, "delta_duplicated": -200}
    assert rows["gone"]["change"] == "removed" and "arm" not in rows
    md = crates_markdown(new)
    assert "## Fleets" in md and "not measured: fleets.arm[0]: not built" in md
    assert "| image | 1 | 1,200 |" in md
    from sizekit.results.cell_diff import diff_results
    diff = {**diff_results(old, new), "verdicts": [], "files": [], "fleets": fleets_diff(old, new), "threshold": {}}
    text = comment_markdown(diff)
    assert "### Fleets" in text and "+200" in text


def test_sizekit_fleet_on_a_shard_names_the_member_and_the_fix(tmp_path):
    path = fleet_matrix(tmp_path, "          image: [one/x86_64/release, one/x86_64/stripped]")
    cells = [{"crate": "one", "target": HOST, "variant": "release", "status": "ok", "final_bytes": 10, "stages": []}]
    results = tmp_path / "shard1.json"
    results.write_text(json.dumps({"version": 1, "cells": cells, "shard": {
        "index": 1, "count": 2, "matrix_cells": [f"one/{HOST}/release", f"one/{HOST}/stripped"]}}))
    proc = sizekit("fleet", path, "image", "--results", results)
    assert proc.returncode == 2
    assert proc.stderr == (f"sizekit: fleets.image[1]: one/{HOST}/stripped is built by another shard ({results} is "
                           f"shard 1 of 2); merge the shards' results (sizekit merge) and ask the merged file\n")
