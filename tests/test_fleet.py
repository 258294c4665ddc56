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
from sizekit.results.fleet import find_copies, member_cells
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
        variants:
          - {name: release}
          - {name: stripped, from: release, post: [strip]}
        fleets:
          pair: {cells: [one/x86_64/stripped, two/x86_64/stripped], budget: 1K}
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
    assert 8192 < got["duplicated_bytes"] and 4096 < got["saving_bound"] < min(m["code_bytes"] for m in got["members"])
    assert got["saving_bound"] == sum(c["saving"] for c in got["crates"])
    text = sizekit("fleet", matrix, "pair", cwd=tmp_path)
    assert text.returncode == 0 and text.stdout.startswith(f"fleet pair: 2 members, {got['total_bytes']:,} bytes")
    assert f"sharing could save at most {got['saving_bound']:,} bytes" in text.stdout
