"""Builds whose profile settings are equal share cargo's profile, and so its dependency builds.

release and release-words differ only in the crate's features: one cargo profile, one target
folder, the dependencies compiled once, and each row still gets its own file (cargo copies both
to the same place in the profile's folder; sizekit keeps each before the next build starts).
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, sizekit, write

pytestmark = pytest.mark.slow

WITHDEPS = os.path.join(ROOT, "tests", "fixtures", "withdeps")


def compiled(log):
    """Crate names cargo compiled (not found fresh) in one build's log."""
    with open(log) as f:
        return set(re.findall(r"^\s*Compiling (\S+) v", f.read(), re.M))


def test_rows_that_differ_in_features_share_dependency_builds(tmp_path):
    shutil.copytree(WITHDEPS, tmp_path / "withdeps", ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    matrix = write(tmp_path / "matrix.yaml", """
        version: 1
        crates:
          withdeps: {path: withdeps, artifact: bin:withdeps, smoke: {args: [a b]}}
        variants:
          - {name: release}
          - {name: release-words, from: release, features: [words]}
          - {name: release-lto, from: release, cargo: {lto: fat}}
    """)
    run = sizekit("run", matrix, "-n", "2", cwd=tmp_path, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.load(open(tmp_path / "out" / "results.json"))
    cells = {c["variant"]: c for c in results["cells"]}
    assert all(c["status"] == "ok" for c in cells.values()), cells
    logs = {v: compiled(tmp_path / "out" / "logs" / f"build-{c['build']['key']}.log") for v, c in cells.items()}
    profile = {v: c["build"]["command"][c["build"]["command"].index("--profile") + 1] for v, c in cells.items()}
    assert profile["release"] == profile["release-words"] != profile["release-lto"], profile
    # Whichever of release and release-words ran first compiled memchr and itoa; the other found
    # them fresh and compiled only the crate. release-lto is another profile: everything again.
    first, second = sorted(["release", "release-words"], key=lambda v: -len(logs[v]))
    assert {"memchr", "itoa", "withdeps"} <= logs[first], logs
    assert logs[second] == {"withdeps"}, logs
    assert {"memchr", "itoa", "withdeps"} <= logs["release-lto"], logs
    # Each row kept its own file, though cargo wrote both to one path.
    out = {v: subprocess.run([os.path.join(tmp_path, c["stages"][-1]["path"]), "a b"],
                             capture_output=True, text=True, timeout=30).stdout for v, c in cells.items()}
    assert out["release"] == "withdeps 0.1.0: 1 lines\n", out
    assert out["release-words"] == "withdeps 0.1.0: 1 lines\nwords: 2\n", out
    # One profile folder for the two, another for release-lto.
    folders = {d.name for t in os.scandir(tmp_path / "out" / "target" / "default") if t.is_dir()
               for d in os.scandir(t.path) if d.name.startswith("sk-")}
    assert folders == set(profile.values()), folders
