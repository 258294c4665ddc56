"""Interruptions and concurrent runs: kill -9 mid-matrix, Ctrl-C, two doit runs at once."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import doit, ran, tiny_project

# Builds real crates with cargo (and strip, UPX, qemu): deselect with -m "not slow".
pytestmark = pytest.mark.slow

BUILD_RS = r'''
use std::{path::Path, thread, time::Duration};
fn main() {
    println!("cargo:rerun-if-env-changed=TINY_HOLD");
    // While the hold file exists, this build script waits: a build we can interrupt.
    if let Ok(hold) = std::env::var("TINY_HOLD") {
        for _ in 0..600 {
            if !Path::new(&hold).exists() { break; }
            thread::sleep(Duration::from_millis(100));
        }
    }
}
'''


@pytest.fixture
def project(tmp_path):
    hold = tmp_path / "hold"
    tiny_project(tmp_path, f"""
        version: 1
        crates:
          tiny: {{path: tiny}}
        variants:
          - {{name: release}}
          - {{name: small, from: release, cargo: {{opt-level: z}}}}
          - {{name: held, from: release, env: {{TINY_HOLD: "{hold}"}}, post: [strip]}}
    """)
    (tmp_path / "tiny" / "build.rs").write_text(BUILD_RS)
    return tmp_path, hold


def start(folder):
    return subprocess.Popen([sys.executable, "-m", "doit"], cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def wait_for(predicate, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def leftovers(folder):
    out = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True).stdout.split()
    return [p for p in out if int(p) != os.getpid()]


def test_kill_9_mid_matrix_loses_nothing_finished(project):
    folder, hold = project
    doit(folder)  # a complete first run, so results.json exists
    first = json.load(open(folder / "out" / "results.json"))
    # Change every build, then kill the second run while the held build is running.
    main_rs = folder / "tiny" / "src" / "main.rs"
    main_rs.write_text(main_rs.read_text().replace("hello from tiny", "hello again"))
    with open(folder / "tiny" / "build.rs", "a") as f:
        f.write("// edited: every build script runs again\n")
    hold.write_text("")
    seen, stop = [], threading.Event()

    def watch_results():
        while not stop.is_set():
            with open(folder / "out" / "results.json", "rb") as f:
                seen.append(json.loads(f.read())["version"])  # must parse every single time

    watcher = threading.Thread(target=watch_results)
    watcher.start()
    proc = start(folder)
    try:
        wait_for(lambda: _held_started(folder))
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        stop.set()
        watcher.join()
    assert seen and set(seen) == {1}
    assert json.load(open(folder / "out" / "results.json")) == first  # untouched, never half-written
    hold.unlink()
    again = ran(doit(folder))
    builds = [n for n in again if n.startswith("build:")]
    assert builds == ["build:tiny/x86_64-unknown-linux-gnu/held"], again
    cells = {c["variant"]: c for c in json.load(open(folder / "out" / "results.json"))["cells"]}
    assert all(c["status"] == "ok" for c in cells.values())


def _held_started(folder):
    # The held variant's build runs cargo with TINY_HOLD set; its build script is waiting.
    out = subprocess.run(["pgrep", "-af", "build-script-build"], capture_output=True, text=True).stdout
    return str(folder) in out


def test_ctrl_c_stops_children(project):
    folder, hold = project
    hold.write_text("")
    proc = start(folder)
    try:
        wait_for(lambda: _held_started(folder))
        os.kill(proc.pid, signal.SIGINT)
        proc.communicate(timeout=60)   # reads doit's output as it waits: a full pipe never holds it
    finally:
        hold.unlink()
    time.sleep(0.5)
    assert leftovers(folder) == []
    assert proc.returncode != 0


def test_two_runs_are_serialized(project):
    folder, hold = project
    hold.write_text("")
    first = start(folder)
    try:
        wait_for(lambda: _held_started(folder))
        second = subprocess.Popen([sys.executable, "-m", "doit", "-n", "2"], cwd=folder, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        assert second.poll() is None  # waiting for the lock, not building
    finally:
        hold.unlink()
    out, err = second.communicate(timeout=300)
    first.communicate(timeout=300)
    assert f"sizekit: out is in use by doit (pid {first.pid}); waiting for it to finish" in err
    assert second.returncode == 0 and first.returncode == 0
    assert ran_lines(out) == []  # the first run did everything
    results = json.load(open(folder / "out" / "results.json"))
    assert all(c["status"] == "ok" for c in results["cells"])


def ran_lines(stdout):
    return [l for l in stdout.splitlines() if l.startswith(".  ")]
