"""The benchmarks treat their peers fairly: orders alternate, rounds repeat, both sides' timed
regions hold the same work, and each docstring gives the peer's recipe. No benchmark runs here:
the builds are replaced by fakes that record what ran, in which order, and when."""
import argparse
import importlib.util
import json
import os
import sys

import pytest

from conftest import ROOT, write

BENCH_DIR = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH_DIR)   # the benchmarks import each other and benchjson by name


def _bench(name):
    spec = importlib.util.spec_from_file_location(f"fair_{name}", os.path.join(BENCH_DIR, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_alternate_puts_the_peer_first_then_last():
    bj = _bench("benchjson")
    assert [bj.alternate(k, "peer", ["x", "y"]) for k in range(4)] == [
        ["peer", "x", "y"], ["x", "y", "peer"], ["peer", "x", "y"], ["x", "y", "peer"]]


def test_spread_and_write(tmp_path):
    bj = _bench("benchjson")
    assert bj.spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3, "values": [3.0, 1.0, 2.0]}
    path = tmp_path / "x.json"
    bj.write(str(path), "bench_x", {"runs": 3}, {"ratio": bj.spread([0.5, 0.4, 0.6])})
    data = json.loads(path.read_text())
    assert data["benchmark"] == "bench_x" and data["settings"] == {"runs": 3}
    assert data["ratio"]["median"] == 0.5 and data["machine"]["cpus"] == os.cpu_count()
    assert len(data["date"]) == 10 and not os.path.exists(f"{path}.tmp")


def test_scale_repeats_three_times_by_default():
    scale = _bench("bench_scale")
    args = scale.arguments([])
    assert args.repeat >= 3
    with pytest.raises(SystemExit):
        scale.arguments(["--repeat", "0"])


class _FakeRuns:
    """bench_scale's run() and matrix_for() without cargo: each run is named by its folder and
    takes the seconds given for that name, and the order of the runs is recorded."""

    def __init__(self, seconds):
        self.seconds, self.log = seconds, []

    def matrix_for(self, folder, args, cache=None):
        return os.path.join(folder, "matrix.yaml") + ("+cache" if cache else "")

    def run(self, matrix, *extra):
        name = os.path.basename(os.path.dirname(matrix))
        self.log.append(name)
        cells = [{"crate": "c", "target": "t", "variant": "v", "final_bytes": 100,
                  "build": {"key": name, "cache": {"hits": 5, "misses": 1}}}]
        return self.seconds[name], {"cells": cells}


def test_scale_cache_half_alternates_and_reports_the_median(monkeypatch, tmp_path, capsys):
    scale = _bench("bench_scale")
    fake = _FakeRuns({"a": 100.0, "w": 110.0, "b": 45.0})
    monkeypatch.setattr(scale, "run", fake.run)
    monkeypatch.setattr(scale, "matrix_for", fake.matrix_for)
    monkeypatch.setattr(scale, "redis_server", lambda: _null_context("redis://fake"))
    ok, differ, figures = scale.bench_cache(scale.arguments([]), str(tmp_path))
    assert fake.log == ["a", "w", "b", "w", "b", "a", "a", "w", "b"]   # the peer (A) first, last, first
    assert [r["order"] for r in figures["rounds"]] == [["a", "w", "b"], ["w", "b", "a"], ["a", "w", "b"]]
    assert figures["ratio"]["median"] == 0.45 and figures["ratio"]["n"] == 3 and ok and differ == []
    assert figures["b_hits"] == 15 and figures["b_compiles"] == 18
    assert "median 0.45, range 0.45-0.45" in capsys.readouterr().out


def test_scale_shard_half_does_not_always_run_the_whole_first(monkeypatch, tmp_path):
    scale = _bench("bench_scale")
    fake = _FakeRuns({"whole": 100.0, "shard1": 40.0, "shard2": 55.0})
    monkeypatch.setattr(scale, "run", fake.run)
    monkeypatch.setattr(scale, "matrix_for", fake.matrix_for)
    ok, _, figures = scale.bench_shards(scale.arguments(["--repeat", "4"]), str(tmp_path))
    assert fake.log[:3] == ["whole", "shard1", "shard2"] and fake.log[3:6] == ["shard1", "shard2", "whole"]
    assert len(fake.log) == 12
    assert figures["ratio"]["median"] == 0.55 and figures["slowest"]["median"] == 55.0 and ok


class _null_context:
    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self.value

    def __exit__(self, *exc):
        return False


def _crate_matrix(folder, rows):
    """A matrix of one crate `a` (a bare Cargo.toml: nothing here builds it) with these rows."""
    write(folder / "crate" / "Cargo.toml", '[package]\nname = "a"\nversion = "0.1.0"\n')
    text = "version: 1\ncrates:\n  a: {path: crate, artifact: bin:a}\nvariants:\n"
    return write(folder / "matrix.yaml", text + "".join(f"  - {row}\n" for row in rows))


def test_matrix_times_the_same_work_on_both_sides(monkeypatch, tmp_path):
    """The debug-info check (strip --strip-debug) of both sides runs after both timed regions."""
    bm = _bench("bench_matrix")
    matrix = _crate_matrix(tmp_path, ["{name: release}"])
    events = []

    def peer(plan, folder):
        events.append("peer timed")
        path = write(os.path.join(folder, "peer-a"), "x" * 10)
        return 1.0, 1, {cell.name: path for cell in plan.cells}

    def sizekit(matrix_path, jobs):
        events.append("sizekit timed")
        folder = os.path.dirname(matrix_path)
        write(os.path.join(folder, "out", "a"), "x" * 10)
        write(os.path.join(folder, "out", "results.json"), json.dumps({"cells": [
            {"crate": "a", "target": c.build.target, "variant": "release", "status": "ok", "final_bytes": 10,
             "stages": [{"path": "out/a"}]} for c in bm.api.load_plan(matrix_path, cache=False).cells]}))
        return 0.5, 1

    def debugless(path, strip, folder):
        events.append("debugless")
        return os.path.getsize(path)

    monkeypatch.setattr(bm, "run_peer", peer)
    monkeypatch.setattr(bm, "run_sizekit", sizekit)
    monkeypatch.setattr(bm, "debugless", debugless)
    args = type("Args", (), {"matrix": matrix, "crates": None, "variants": None, "jobs": 2, "upx_slack": 64})()
    for order in (["peer", "sizekit"], ["sizekit", "peer"]):
        events.clear()
        _, _, times, bad, _, rows = bm.one_round(args, order)
        assert events[:2] == [f"{side} timed" for side in order]
        assert events[2:] == ["debugless", "debugless"] and rows == 1 and bad == []


def test_matrix_peer_builds_once_per_setting(monkeypatch, tmp_path):
    """The careful human's recipe: one cargo build per distinct setting in one target folder
    (a row that only adds strip reuses its parent's build), then the post steps on copies."""
    bm = _bench("bench_matrix")
    matrix = _crate_matrix(tmp_path, ["{name: release}", "{name: release-stripped, from: release, post: [strip]}",
                                      "{name: release-lto, from: release, cargo: {lto: fat}}"])
    ran = []

    class FakeSubprocess:
        @staticmethod
        def run(argv, **kw):
            ran.append((os.path.basename(argv[0]), argv[1], (kw.get("env") or {}).get("CARGO_TARGET_DIR"),
                        (kw.get("env") or {}).get("CARGO_PROFILE_RELEASE_LTO")))

    monkeypatch.setattr(bm, "subprocess", FakeSubprocess)
    monkeypatch.setattr(bm.shutil, "copy2", lambda src, dst: None)
    plan = bm.api.load_plan(matrix, cache=False)
    if any(c.build.problem for c in plan.cells):
        pytest.skip(f"no cargo build here: {plan.cells[0].build.problem}")
    seconds, builds, finals = bm.run_peer(plan, str(tmp_path / "bench"))
    cargo = [r for r in ran if r[1] == "build"]
    target = str(tmp_path / "bench" / "peer-target")
    assert builds == 2 and cargo == [("cargo", "build", target, None), ("cargo", "build", target, "fat")]
    assert len(ran) == 3 and "strip" in ran[1][0]        # release's build, its strip, then the lto build
    assert sorted(finals) == sorted(c.name for c in plan.cells)


def test_matrix_clean_peer_builds_every_row_in_a_fresh_folder(monkeypatch, tmp_path):
    """The pasted table's recipe: one clean cargo build per row, a row that only adds strip too."""
    bm = _bench("bench_matrix")
    matrix = _crate_matrix(tmp_path, ["{name: release}", "{name: release-stripped, from: release, post: [strip]}"])
    ran = []

    class FakeSubprocess:
        @staticmethod
        def run(argv, **kw):
            ran.append((argv[1], (kw.get("env") or {}).get("CARGO_TARGET_DIR")))

    monkeypatch.setattr(bm, "subprocess", FakeSubprocess)
    monkeypatch.setattr(bm.shutil, "copy2", lambda src, dst: None)
    plan = bm.api.load_plan(matrix, cache=False)
    if any(c.build.problem for c in plan.cells):
        pytest.skip(f"no cargo build here: {plan.cells[0].build.problem}")
    seconds, builds, finals = bm.run_peer(plan, str(tmp_path / "bench"), clean=True)
    cargo = [r for r in ran if r[0] == "build"]
    assert builds == 2 and len(cargo) == 2 and cargo[0][1] != cargo[1][1]
    assert sorted(finals) == sorted(c.name for c in plan.cells)


# bench_estimate.py's peer is UPX itself, run on every file (its docstring gives the commands).
PEERED = ["bench_bloat", "bench_hash", "bench_matrix", "bench_noop", "bench_scale", "bench_snapshot"]


@pytest.mark.parametrize("name", PEERED)
def test_every_benchmark_states_its_peer_and_writes_json(name, monkeypatch):
    module = _bench(name)
    doc = " ".join(module.__doc__.split())
    assert "careful human" in doc, "the docstring gives the peer's recipe as a careful human would run it"
    assert "[--json PATH]" in doc
    options = []

    def parse_args(self, argv=None, namespace=None):   # the command line, read before anything runs
        options.extend(o for action in self._actions for o in action.option_strings)
        raise SystemExit(0)
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_args)
    with pytest.raises(SystemExit):
        (getattr(module, "arguments", None) or module.main)([])
    assert "--json" in options
