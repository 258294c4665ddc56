"""One matrix under doit, SCons and make (make/sizekit.mk's `sizes`): the same results.json cells
and the same rerun decisions after each change, since every driver translates the same nodes
(sizekit/drivers/nodes.py).

The changes, in turn: none; a touched source (mtime only: the one known difference, see
every_driver); an edited source; a changed profile
key of one row; a smoke command's program that appears on PATH after being missing; a new
UPX-size model (SIZEKIT_TEST_MODEL_SALT, which only tests set, changes the model's fingerprint).
"""
import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import ROOT, doit, ran, require_tool, tiny_project, write

# Builds the tiny crate with cargo under three drivers: deselect with -m "not slow".
pytestmark = pytest.mark.slow

HOST = "x86_64-unknown-linux-gnu"
# The smoke runs a program that is not on PATH at first: its check is recorded as unavailable.
MATRIX = """
    version: 1
    crates:
      tiny: {path: tiny, artifact: bin:tiny, smoke: {command: [sk-parity-smoke, "{artifact}"], expect: "tiny 0.1.0"}}
    variants:
      - {name: release}
      - {name: release-stripped, from: release, post: [strip]}
      - {name: small, cargo: {opt-level: %s}}
"""
SCONSTRUCT = 'import sizekit.scons\nenv = Environment(tools=[sizekit.scons.tool])\nenv.SizeMatrix("matrix.yaml")\n'
# The SCons driver's job lines (drivers/scons/actions.py Job): "sizekit build:NAME", "sizekit report".
SCONS_JOB = "sizekit "
# Fields that differ between two runs of the same build, or name the project's folder (the build
# key digests the crate's path; sizekit plan's shard uses the portable key).
TIMINGS = {"seconds", "build_seconds", "smoke_seconds", "key", "command"}
KEY_IN_PATH = re.compile(r"/[0-9a-f]{8}/")


def drive(name, folder, env):
    """Run one driver over folder's matrix; the ids of the nodes it ran ('build:NAME', 'report')."""
    if name == "doit":
        return sorted(ran(doit(folder, env=env)))
    if name == "make":
        proc = subprocess.run(["make", "-f", os.path.join(ROOT, "make", "sizekit.mk"), "sizes",
                               f"PYTHON={sys.executable}"], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return sorted(ran(proc))
    proc = subprocess.run([sys.executable, "-m", "SCons", "-Q"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return sorted(line[len(SCONS_JOB):] for line in proc.stdout.splitlines() if line.startswith(SCONS_JOB))


def cells(folder):
    """results.json's cells without timings and build keys, keyed by crate/target/variant."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMINGS}
        if isinstance(value, str):
            return KEY_IN_PATH.sub("/KEY/", value.replace(folder, "PROJECT"))
        return [strip(v) for v in value] if isinstance(value, list) else value
    data = json.load(open(os.path.join(folder, "out", "results.json")))
    return {f"{c['crate']}/{c['target']}/{c['variant']}": strip(c) for c in data["cells"]}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    for tool in ("cargo", "strip", "make", "scons"):
        require_tool(tool)
    root = tmp_path_factory.mktemp("parity")
    # Folder names of one length: every path cargo embeds has the same length, so the same bytes.
    folders = {name: str(root / name) for name in ("doit", "make", "scon")}
    for name, folder in folders.items():
        tiny_project(folder, MATRIX % "z")
        write(os.path.join(folder, "SConstruct"), SCONSTRUCT)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MAKEFLAGS", None)
    env.pop("SIZEKIT_TEST_MODEL_SALT", None)
    return folders, env, root


def every_driver(projects, touched=False):
    """(the node ids every driver ran, the table), after checking that tables and reruns agree.

    touched: the one known difference. After a source's mtime moves with its bytes the same,
    doit asks cargo (the build meta's mtimes decide; cargo answers at once and nothing after it
    changes, tests/test_incremental.py), while SCons keeps each source's content hash and runs
    nothing. Both leave the same table."""
    folders, env, _ = projects
    runs = {name: drive(name if name != "scon" else "scons", folder, env) for name, folder in folders.items()}
    tables = {name: cells(folder) for name, folder in folders.items()}
    assert tables["doit"] == tables["make"] == tables["scon"], tables
    if touched:
        assert runs["doit"] == runs["make"] and runs["scon"] == [], runs
        assert all(n.startswith("build:") or n == "report" for n in runs["doit"]), runs
        return [], tables["doit"]
    assert runs["doit"] == runs["make"] == runs["scon"], runs
    return runs["doit"], tables["doit"]


def test_the_drivers_agree_after_every_change(projects):
    folders, env, root = projects
    started = time.monotonic()
    release, stripped, small = (f"tiny/{HOST}/{v}" for v in ("release", "release-stripped", "small"))
    builds = [f"build:{release}", f"build:{small}"]
    smokes = [f"smoke:{release}", f"smoke:{stripped}", f"smoke:{small}"]
    measures = [f"measure:{release}", f"measure:{stripped}", f"measure:{small}"]

    ran_now, table = every_driver(projects)                       # a cold run
    assert ran_now == sorted([*builds, f"post:{stripped}/strip1", *measures, *smokes, "report"])
    assert [c["status"] for c in table.values()] == ["ok"] * 3
    assert all(c["smoke"]["ok"] is None and "sk-parity-smoke" in c["smoke"]["detail"] for c in table.values()), table

    assert every_driver(projects)[0] == []                        # nothing changed

    for folder in folders.values():                               # a touch: nothing after cargo reruns
        main = os.path.join(folder, "tiny", "src", "main.rs")
        later = time.time() + 5
        os.utime(main, (later, later))
    every_driver(projects, touched=True)
    assert every_driver(projects)[0] == []

    for folder in folders.values():                               # an edit: its builds rerun
        main = os.path.join(folder, "tiny", "src", "main.rs")
        text = open(main).read()
        write(main, text.replace('"hello from tiny"', '"hello from tiny, edited"'))
    assert set(builds) <= set(every_driver(projects)[0])

    for folder in folders.values():                               # one row's profile key
        write(os.path.join(folder, "matrix.yaml"), MATRIX % "s")
    assert every_driver(projects)[0] == sorted([f"build:{small}", f"measure:{small}", f"smoke:{small}", "report"])

    tools = root / "bin"                                          # the smoke's program appears
    write(tools / "sk-parity-smoke", '#!/bin/sh\nexec "$1" --version\n')
    os.chmod(tools / "sk-parity-smoke", 0o755)
    env["PATH"] = f"{tools}{os.pathsep}{env['PATH']}"
    ran_now, table = every_driver(projects)
    assert ran_now == sorted([*smokes, "report"])
    assert all(c["smoke"]["ok"] is True for c in table.values()), table

    env["SIZEKIT_TEST_MODEL_SALT"] = "a new model"                # a new UPX-size model
    ran_now, _ = every_driver(projects)
    assert set(measures) <= set(ran_now) and not [n for n in ran_now if n.startswith(("build:", "post:", "smoke:"))]
    assert every_driver(projects)[0] == []
    print(f"parity: {time.monotonic() - started:.1f} s")
