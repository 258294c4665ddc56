"""Incremental skipping: which doit tasks run after touches, identical relinks and real edits."""
import json
import os
import time

import pytest

from sizekit.drivers.doit.uptodate import ContentHashChecker

from conftest import doit, ran, tiny_project

# Builds real crates with cargo (and strip, UPX, qemu): deselect with -m "not slow".
pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path):
    tiny_project(tmp_path, """
        version: 1
        crates:
          tiny: {path: tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
        variants:
          - {name: release}
          - {name: release-stripped, from: release, post: [strip]}
    """)
    doit(tmp_path)
    return tmp_path


def kinds(names):
    return sorted({n.split(":")[0] for n in names})


def later():
    # mtimes must move even on coarse-timestamp filesystems
    time.sleep(0.01)
    t = time.time() + 5
    return (t, t)


def test_touching_artifacts_reruns_nothing(project):
    results = json.load(open(project / "out" / "results.json"))
    for cell in results["cells"]:
        for stage in cell["stages"]:
            os.utime(project / stage["path"], later())
    target_dir = project / "out" / "target" / "default"
    for dirpath, _, files in os.walk(target_dir):
        for f in files:
            if f == "tiny":
                os.utime(os.path.join(dirpath, f), later())
    assert ran(doit(project)) == []


def test_touched_source_reruns_cargo_only(project):
    os.utime(project / "tiny" / "src" / "main.rs", later())
    assert kinds(ran(doit(project))) == ["build", "report"]


def test_comment_change_reruns_cargo_but_not_strip_measure_or_smoke(project):
    with open(project / "tiny" / "src" / "main.rs", "a") as f:
        f.write("\n// a comment that changes no byte of the binary\n")
    names = ran(doit(project))
    assert "build:tiny/x86_64-unknown-linux-gnu/release" in names
    assert not any(n.startswith(("post:", "measure:", "smoke:")) for n in names), names


def test_real_change_reruns_downstream(project):
    main = project / "tiny" / "src" / "main.rs"
    main.write_text(main.read_text().replace("hello from tiny", "hello from tiny, changed"))
    assert kinds(ran(doit(project))) == ["build", "measure", "post", "report", "smoke"]


def test_checker_uses_content_not_mtime(tmp_path):
    checker = ContentHashChecker()
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 1000)
    state = checker.get_state(str(path), None)
    os.utime(path, later())
    assert checker.check_modified(str(path), os.stat(path), state) is False
    path.write_bytes(b"abd" * 1000)  # same size, other bytes
    os.utime(path, later())
    assert checker.check_modified(str(path), os.stat(path), state) is True
    assert checker.get_state(str(path), state) != state
