"""`sizekit explore`: the explore: block and --space, the front and its outputs, and real searches
on the tiny crate (a budget of 4, resume after kill -9, two workers on one storage, a point that
fails its smoke check never picked)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from sizekit import api
from sizekit.explore import front, space

from conftest import copy_tiny, sizekit, skip_no_tool, write

HOST = "x86_64-unknown-linux-gnu"
STUDY = f"tiny-{HOST}"


def project(tmp_path, explore="", smoke='{args: [--version], expect: "tiny 0.1.0"}', bench=True):
    if shutil.which("cargo") is None:
        skip_no_tool("cargo", "these machines come with rustup's cargo")
    copy_tiny(tmp_path / "tiny")
    lines = ["version: 1", "crates:", "  tiny:", "    path: tiny", f"    smoke: {smoke}"]
    if bench:
        lines.append('    bench: {command: ["{artifact}", --version], runs: 3}')
    lines += ["variants:", "  - {name: release, profile: release}", explore]
    (tmp_path / "matrix.yaml").write_text("\n".join(lines) + "\n")
    return tmp_path


def explore(folder, *args, timeout=900):
    return sizekit("explore", folder / "matrix.yaml", "--crate", "tiny", *args, cwd=folder, timeout=timeout)


def journal_trials(folder):
    """The study's trials as optuna reads them back from the journal file."""
    import optuna
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
        str(folder / "out" / "explore" / STUDY / "study.journal")))
    return optuna.load_study(study_name=STUDY, storage=storage).get_trials(deepcopy=False)


# --- the explore: block, --space ----------------------------------------------------------------

def test_explore_block_errors_name_the_key(tmp_path):
    write(tmp_path / "tiny" / "Cargo.toml", "[package]\nname = 'tiny'\nversion = '0.1.0'\n")
    path = write(tmp_path / "m.yaml", """
        version: 1
        crates:
          tiny:
            path: tiny
            smoke: {args: [--version]}
            bench: {command: [wrk, "{prot}"], metric: "Requests/sec: [0-9.]+", server: true}
        variants: [{name: release}]
        explore:
          crate: tiny
          space:
            opt-levl: [s, z]
            lto: []
            codegen-units: [0, 1]
            upx: [fastest]
            features: [extra]
          sampler: genetic
          budget: {builds: 0, time: soon}
    """)
    with pytest.raises(api.MatrixError) as err:
        api.load_matrix(path)
    text = str(err.value)
    for expected in [
        "m.yaml:6: crates.tiny.bench.command[1]: unknown placeholder {prot} (did you mean \"port\"?); "
        "use {artifact}, {artifact_dir}, {tmp} or {port} (write {{ or }} for a literal brace)",
        "m.yaml:6: crates.tiny.bench.server: server: true starts the artifact as the smoke check's http form "
        "does; give the crate smoke: {http: {...}}",
        "m.yaml:6: crates.tiny.bench.metric: needs exactly one (group) around the number, has 0",
        "m.yaml:11: explore.space.opt-levl: unknown dimension 'opt-levl' (did you mean \"opt-level\"?)",
        "m.yaml:12: explore.space.lto: expected a non-empty list of values, got an empty list",
        "m.yaml:13: explore.space.codegen-units[0]: expected a whole number >= 1, got 0",
        "m.yaml:14: explore.space.upx[0]: expected none, best or lzma, got 'fastest'",
        "m.yaml:15: explore.space.features[0]: expected a list of strings (one features set), got 'extra'",
        "m.yaml:16: explore.sampler: unknown sampler 'genetic'; use one of: tpe, nsga2, random",
        "m.yaml:17: explore.budget.builds: expected a number of builds >= 1, got 0",
        "m.yaml:17: explore.budget.time: expected a duration such as 90s, 30m or 2h, got 'soon'",
    ]:
        assert expected in text, (expected, text)


def test_space_option_errors_exit_2(tmp_path):
    write(tmp_path / "tiny" / "Cargo.toml", "[package]\nname = 'tiny'\nversion = '0.1.0'\n")
    write(tmp_path / "matrix.yaml", """
        version: 1
        crates: {tiny: {path: tiny}}
        variants: [{name: release}]
    """)
    for args, message in [
        (["--crate", "tiny", "--space", "opt-level=4,z"],
         '--space.opt-level[0]: expected 0, 1, 2, 3, "s" or "z", got 4'),
        (["--crate", "tiny", "--space", "nonsense"],
         "--space 'nonsense': expected DIM=V1,V2 (e.g. --space opt-level=s,z)"),
        (["--crate", "tiny", "--space", "inline=true"], "unknown dimension 'inline'"),
        (["--crate", "nope"], "--crate 'nope' is not a crate of matrix.yaml; use one of: tiny"),
        ([], "name the crate to explore: --crate NAME (one of: tiny)"),
        (["--crate", "tiny", "--time", "soon"], "--time: expected a duration such as 90s, 30m or 2h, got 'soon'"),
    ]:
        proc = sizekit("explore", "matrix.yaml", *args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert not (tmp_path / "out" / "explore").exists()   # nothing was started


# --- the front, picks and the profile block -----------------------------------------------------

def _p(n, nbytes, seconds, speed, ok=True, **point):
    point = {"opt-level": "z", **point}
    return {"number": n, "bytes": nbytes, "build_seconds": seconds, "speed": speed, "ok": ok,
            "point": point, "point_key": space.point_key(point)}


def test_a_trial_matrix_leaves_the_users_fleets_out(tmp_path):
    """A trial has its own rows, so fleets naming the user's rows would not load: they are left out."""
    from sizekit.config.load import load_matrix
    from sizekit.explore.trials import BASELINE, trial_matrix
    folder = project(tmp_path, explore="fleets: {image: [tiny/x86_64/release]}")
    user = load_matrix(str(folder / "matrix.yaml"), host=HOST)
    assert list(user.fleets) == ["image"]
    trial = trial_matrix(user, [{"name": BASELINE, "profile": "release"}, {"name": "x-1", "from": BASELINE,
                                                                           "cargo": {"lto": "fat"}}],
                         str(folder / "out" / "explore" / "s" / "w-1"))
    assert trial.fleets == {} and [v.name for v in trial.variants] == [BASELINE, "x-1"]


def test_front_keeps_what_no_point_beats_and_never_a_failed_point():
    points = [_p(0, 100, 5, 10), _p(1, 90, 9, 8), _p(2, 120, 9, 9),     # 2 is beaten by 0
              _p(3, 50, 1, 99, ok=False), _p(4, 100, 5, 10, lto="fat")]  # 3 failed; 4 ties with 0
    got = front.pareto(points, higher_speed=True, with_speed=True)
    assert [p["number"] for p in got] == [1, 0, 4]
    assert front.pick(got, "smallest", True, True)["number"] == 1
    assert front.pick(got, "fastest", True, True)["number"] in (0, 4)
    assert front.pick(got, "fastest-under 95", True, True)["number"] == 1
    with pytest.raises(api.UsageError, match="no point of the front is 10B or smaller"):
        front.pick(got, "fastest-under 10", True, True)
    with pytest.raises(api.UsageError, match="needs a speed"):
        front.pick(got, "fastest", False, False)


def test_write_profile_replaces_only_its_block():
    toml = ('[package]\nname = "tiny"\n\n[profile.sizekit]\ninherits = "release"\nopt-level = 3\n\n'
            '[profile.release]\ndebug = true\n')
    block = space.profile_toml({"opt-level": "z", "lto": "fat", "strip": True, "upx": "lzma"}, "sizekit")
    out = front.write_profile(toml, block, "sizekit")
    assert out.startswith('[package]\nname = "tiny"\n\n[profile.sizekit]\ninherits = "release"\nopt-level = "z"\n'
                          'lto = "fat"\n')
    assert out.endswith("[profile.release]\ndebug = true\n")
    assert "opt-level = 3" not in out and "# then pack: upx --best --lzma" in out
    # A manifest without the block gets it at the end.
    added = front.write_profile('[package]\nname = "tiny"\n', block, "sizekit")
    assert added == '[package]\nname = "tiny"\n\n' + block


# --- real searches on the tiny crate (slow: cargo builds) ---------------------------------------

SMALL_SPACE = """explore:
          space:
            opt-level: [s, z]
            lto: ["off", fat]
            codegen-units: [16]
            panic: [abort]
            upx: [none, best]"""


@pytest.mark.slow
def test_budget_of_four_then_resume_and_report(tmp_path):
    folder = project(tmp_path, explore=SMALL_SPACE)
    proc = explore(folder, "--max-builds", "4")
    assert proc.returncode == 0, proc.stderr
    assert "explore: build budget spent (4 builds)" in proc.stderr
    trials = [t for t in journal_trials(folder) if "repeat_of" not in t.user_attrs]
    assert sum(t.user_attrs["new_build"] for t in trials) == 4
    out = folder / "out" / "explore" / STUDY
    data = json.loads((out / "front.json").read_text())
    release = data["baseline_bytes"]
    assert release > 0 and data["front"]
    for p in data["front"]:
        # Each front point was built, ran its smoke check, and UPX points were packed for real.
        assert os.path.isfile(folder / p["artifact"])
        if p["point"]["upx"]:
            assert p["upx_real"] is True
    assert min(p["bytes"] for p in data["front"]) < release
    for name in ("front.md", "explore.html", "matrix-fragment.yaml", "profile.toml"):
        assert (out / name).stat().st_size > 0
    # The fragment's rows are matrix rows: they load in the user's matrix.
    fragment = (out / "matrix-fragment.yaml").read_text()
    text = (folder / "matrix.yaml").read_text().replace("variants:\n  - {name: release, profile: release}\n",
                                                         "variants:\n  - {name: release, profile: release}\n"
                                                         + "".join("  " + l + "\n" for l in fragment.splitlines()
                                                                   if not l.startswith("#")))
    (folder / "joined.yaml").write_text(text)
    assert len(api.load_matrix(str(folder / "joined.yaml")).variants) == 1 + len(data["front"])
    # Again: the study continues where it stopped, and --report-only builds nothing.
    again = explore(folder, "--max-builds", "1")
    assert again.returncode == 0, again.stderr
    assert len([t for t in journal_trials(folder) if "repeat_of" not in t.user_attrs]) > len(trials)
    before = len(journal_trials(folder))
    report = explore(folder, "--report-only", "--pick", "fastest", "--write-profile")
    assert report.returncode == 0 and len(journal_trials(folder)) == before
    manifest = (folder / "tiny" / "Cargo.toml").read_text()
    assert manifest.count("[profile.sizekit]") == 1 and "[package]" in manifest


@pytest.mark.slow
def test_point_failing_its_smoke_check_is_never_picked(tmp_path):
    space_text = SMALL_SPACE.replace("upx: [none, best]", "upx: [none]\n            features: [[], [extra]]")
    folder = project(tmp_path, explore=space_text, smoke='{args: [--table], expect: "sum of cubes"}', bench=False)
    proc = explore(folder, "--max-builds", "6", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    data = json.loads((folder / "out" / "explore" / STUDY / "front.json").read_text())
    assert data["failed"], "the search never tried a point without the feature"
    for p in data["failed"]:
        assert p["point"]["features"] == [] and "smoke check failed" in p["detail"]
    assert data["front"] and all(p["point"]["features"] == ["extra"] for p in data["front"])
    assert "features extra" in (folder / "out" / "explore" / STUDY / "profile.toml").read_text()


@pytest.mark.slow
def test_resume_after_kill_9_keeps_the_study_and_the_cells(tmp_path):
    folder = project(tmp_path, explore=SMALL_SPACE)
    proc = subprocess.Popen([sys.executable, "-m", "sizekit", "explore", "matrix.yaml", "--crate", "tiny",
                             "--max-builds", "8"], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    journal = folder / "out" / "explore" / STUDY / "study.journal"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            done = [t for t in (journal_trials(folder) if journal.exists() else []) if t.state.name == "COMPLETE"]
        except KeyError:
            done = []   # read while the worker appends: the journal's last record is not whole yet
        if len(done) >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    trials = journal_trials(folder)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) >= 2
    records = list((folder / "out" / "explore" / STUDY / "w-1" / ".sizekit" / "stages").iterdir())
    again = explore(folder, "--max-builds", "1")
    assert again.returncode == 0, again.stderr
    after = journal_trials(folder)
    # What was measured before the kill is still there, and no trial is left running.
    assert {t.number for t in complete} <= {t.number for t in after if t.state.name == "COMPLETE"}
    assert not [t for t in after if t.state.name == "RUNNING"]
    assert set(records) <= set((folder / "out" / "explore" / STUDY / "w-1" / ".sizekit" / "stages").iterdir())
    if any(t.state.name == "RUNNING" for t in trials):
        assert "were cut off; measuring their points again" in again.stderr


@pytest.mark.slow
def test_two_workers_on_one_storage_make_disjoint_trials(tmp_path):
    folder = project(tmp_path, explore=SMALL_SPACE)
    procs = [subprocess.Popen([sys.executable, "-m", "sizekit", "explore", "matrix.yaml", "--crate", "tiny",
                               "--max-builds", "2", "--worker", w], cwd=folder, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for w in ("a", "b")]
    outs = [p.communicate(timeout=900) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    trials = [t for t in journal_trials(folder) if "repeat_of" not in t.user_attrs]
    by_worker = {w: {t.number for t in trials if t.user_attrs["worker"] == w} for w in ("a", "b")}
    assert by_worker["a"] and by_worker["b"] and not (by_worker["a"] & by_worker["b"])
    # Each worker built in its own folder; both wrote into the one study.
    for w in ("a", "b"):
        assert (folder / "out" / "explore" / STUDY / f"w-{w}" / "results.json").exists()


def test_points_sharing_a_build_show_that_builds_time():
    """A point that differs from an earlier one only in strip or UPX reuses its cargo build: the front
    shows the first build's seconds, not the no-op cargo run that followed it."""
    import optuna
    study = optuna.create_study(directions=["minimize", "minimize"])
    dist = {"opt-level": optuna.distributions.CategoricalDistribution(['"z"'])}
    for number, (upx, new, seconds) in enumerate([(None, True, 41.5), ("best", False, 0.1)]):
        point = {"opt-level": "z", "upx": upx}
        study.add_trial(optuna.trial.create_trial(
            params={"opt-level": '"z"'}, distributions=dist, values=[1000 - number, seconds],
            user_attrs={"point_key": space.point_key(point), "point": point, "bytes": 1000 - number,
                        "build_seconds": seconds, "new_build": new, "build_key": space.build_key(point),
                        "speed": 1.0}))
    got = {p["number"]: p["build_seconds"] for p in front.points(study)}
    assert got == {0: 41.5, 1: 41.5}
