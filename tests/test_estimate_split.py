"""The UPX estimate's sealed test set: the committed split (benchmarks/estimate_split.json) is
what benchmarks/estimate_split.py's rule gives, its groups keep builds and sources on one side,
and no sealed file (benchmarks/estimate_sealed.json, by sha256) can enter the fit."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

BENCH = os.path.join(ROOT, "benchmarks")


def _load(name):
    sys.path.insert(0, BENCH)
    try:
        spec = importlib.util.spec_from_file_location(name, os.path.join(BENCH, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(BENCH)


split = _load("estimate_split")
fit = _load("estimate_fit")
DOC = split.load_split()
FILES = DOC["files"]
SEALED = split.load_sealed()


def test_the_committed_lists_are_whole():
    parts = {e["part"] for e in FILES}
    assert parts == {"fit", "validation", "sealed"}
    with open(split.SEALED) as f:
        manifest = json.load(f)
    # the manifest is exactly the split's sealed files, each with its sha256
    assert {e["sha256"] for e in manifest["files"]} == {e["sha256"] for e in FILES if e["part"] == "sealed"}
    assert all(len(e["sha256"]) == 64 for e in manifest["files"])
    assert manifest["sealed_on"] and manifest["model_at_sealing"]
    # both classes the README reports are in the sealed set, and in the fit part
    for part in ("sealed", "fit"):
        assert {e["kind"] for e in FILES if e["part"] == part} == {"exec", "shlib"}, part
    assert len(SEALED) >= len(FILES) // 5


def test_the_split_is_the_rule_s_answer():
    """Drawn again from the committed file list, the rule gives the same groups and parts,
    in another process with another hash seed too (no salted hash, no random draw)."""
    again = split.split(FILES, SEALED)
    assert {sha: gp for sha, gp in again.items()} == {e["sha256"]: (e["group"], e["part"]) for e in FILES}
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import estimate_split as s; "
            "d = s.load_split(); r = s.split(d['files'], s.load_sealed()); "
            "print(json.dumps(sorted((k, v[1]) for k, v in r.items())))")
    out = subprocess.run([sys.executable, "-c", code, BENCH], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONHASHSEED="4321"))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == sorted([e["sha256"], e["part"]] for e in FILES)


def test_groups_keep_builds_and_sources_on_one_side():
    part_of_group = {}
    for e in FILES:
        assert part_of_group.setdefault(e["group"], e["part"]) == e["part"], e["name"]
    by_name = {e["name"]: e for e in FILES}
    twins = [n for n in by_name if n.endswith("-stripped") and n[:-len("-stripped")] in by_name]
    assert twins
    for n in twins:  # a stripped file with the build it was stripped from
        assert by_name[n]["group"] == by_name[n[:-len("-stripped")]]["group"], n
    crates = {}
    for e in FILES:
        m = split.RUST.match(e["name"])
        if m:  # a crate's builds for every target and profile, and crates sharing dependencies
            crates.setdefault(split.CRATE_SOURCE.get(m.group("crate"), m.group("crate")), set()).add(e["group"])
    assert crates and all(len(g) == 1 for g in crates.values()), crates
    sources = {}
    for e in FILES:
        if e.get("debian_source"):
            sources.setdefault(e["debian_source"], set()).add(e["group"])
    assert sources and all(len(g) == 1 for g in sources.values()), sources


def test_no_sealed_file_enters_the_fit():
    chosen = fit.fit_rows([e for e in FILES if e["part"] != "sealed"], DOC, SEALED)
    assert chosen, "the fit part is empty"
    assert not {e["sha256"] for e in chosen} & SEALED
    sealed_groups = {e["group"] for e in FILES if e["sha256"] in SEALED}
    assert not {DOC_GROUP[e["sha256"]] for e in chosen} & sealed_groups
    assert {e["sha256"] for e in chosen} == {e["sha256"] for e in FILES if e["part"] == "fit"}
    # the fit refuses any list holding a sealed file, whatever part the list gives it
    one = next(e for e in FILES if e["part"] == "sealed")
    with pytest.raises(SystemExit) as ei:
        fit.fit_rows([e for e in FILES if e["part"] == "fit"] + [dict(one, part="fit")], DOC, SEALED)
    assert one["name"] in str(ei.value)
    # and fit_files keeps a sealed file out even if the split list called it a fit file
    relabelled = {"files": [dict(e, part="fit") if e is one else e for e in FILES]}
    assert one["sha256"] not in {e["sha256"] for e in split.fit_files(FILES, relabelled, SEALED)}


DOC_GROUP = {e["sha256"]: e["group"] for e in FILES}


def test_a_file_the_split_does_not_list_is_never_fitted():
    stranger = {"name": "new-file", "sha256": "0" * 64}
    assert split.part_of([stranger], DOC) == {"0" * 64: "unsplit"}
    assert split.fit_files([stranger], DOC, SEALED) == []
