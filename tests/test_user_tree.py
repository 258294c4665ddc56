"""The user's crate folder is never changed: not by a finished run, not by kill -9 at any point,
and not while the user's own cargo builds in it."""
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, copy_tiny, skip_no_file, skip_no_tool, write

pytestmark = pytest.mark.slow

SYSROOT = os.path.join(ROOT, ".sizekit", "sysroot")
V4_LOCK = "# written by a newer cargo\nversion = 4\n\n[[package]]\nname = \"tiny\"\nversion = \"0.1.0\"\n"


def snapshot(folder):
    """{relative path: sha256} of every file and symlink under folder."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                out[rel] = "link:" + os.readlink(path)
            elif os.path.isfile(path):
                out[rel] = hashlib.sha256(open(path, "rb").read()).hexdigest()
            else:
                out[rel] = "dir"
    return out


@pytest.fixture
def project(tmp_path):
    for tool in ("/usr/bin/cargo", "/usr/bin/rustc"):
        if not os.path.exists(tool):
            skip_no_file(tool, "scripts/install installs Debian's rustc and cargo")
    copy_tiny(tmp_path / "locked")
    (tmp_path / "locked" / "Cargo.lock").write_text(V4_LOCK)
    copy_tiny(tmp_path / "unlocked")
    write(tmp_path / "matrix.yaml", f"""
        version: 1
        toolchains:
          debian: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: {SYSROOT}}}
        crates:
          locked: {{path: locked, artifact: bin:tiny, toolchain: debian}}
          unlocked: {{path: unlocked, artifact: bin:tiny, toolchain: debian}}
        variants:
          - {{name: release}}
          - {{name: release-stripped, from: release, post: [strip]}}
          - {{name: lto, from: release, cargo: {{lto: fat}}}}
    """)
    return tmp_path


def start(folder):
    return subprocess.Popen([sys.executable, "-m", "sizekit", "run", "matrix.yaml"], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def rustc_running(folder):
    """True while a rustc compiles out of this project's overlay (cargo is mid-build)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"rustc" in cmd and str(folder).encode() in cmd:
            return True
    return False


def wait_for(predicate, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def kill9(proc):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_kill_9_at_every_point_leaves_the_crate_folders_byte_for_byte(project):
    before = {name: snapshot(project / name) for name in ("locked", "unlocked")}
    stages = project / "out" / ".sizekit" / "stages"
    points = {
        "at start, before cargo": lambda: True,
        "while rustc compiles": lambda: rustc_running(project),
        "after a build, during post steps": lambda: len(glob.glob(str(stages / "*.json"))) >= 1,
    }
    for point, ready in points.items():
        proc = start(project)
        assert wait_for(ready), f"never reached: {point}"
        kill9(proc)
        for name, files in before.items():
            assert snapshot(project / name) == files, f"{name} changed after kill -9 {point}"
        assert not (project / "unlocked" / "Cargo.lock").exists()
    # The run after the kills finishes the matrix and still leaves the folders alone.
    done = subprocess.run([sys.executable, "-m", "sizekit", "run", "matrix.yaml"], cwd=project,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    for name, files in before.items():
        assert snapshot(project / name) == files
    assert (project / "locked" / "Cargo.lock").read_text() == V4_LOCK
    own = project / "out" / ".sizekit" / "overlay" / "locked" / "debian" / "Cargo.lock"
    assert "version = 3" in own.read_text()  # Debian's cargo wrote its own lockfile, privately


def test_users_own_cargo_build_beside_sizekit_keeps_its_lockfile(project):
    if shutil.which("cargo") is None:
        skip_no_tool("cargo", "these machines come with rustup's cargo")
    proc = start(project)
    assert wait_for(lambda: rustc_running(project))
    user = subprocess.run(["cargo", "build", "--offline", "-q"], cwd=project / "unlocked",
                          capture_output=True, text=True, timeout=600)
    assert user.returncode == 0, user.stderr
    users_lock = (project / "unlocked" / "Cargo.lock").read_bytes()
    assert proc.wait(timeout=900) == 0
    # The user's cargo wrote its lockfile; sizekit (Debian's cargo) neither replaced nor removed it.
    assert (project / "unlocked" / "Cargo.lock").read_bytes() == users_lock
    assert b"version = 3" not in users_lock
