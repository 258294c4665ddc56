"""A full disk under out/: a clear message and a non-zero exit, results.json never invalid, and the
rerun after space is freed completes the matrix. out/ is a small tmpfs (mounting needs root)."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import TWO_ROWS, doit, skip_refused, tiny_project

pytestmark = pytest.mark.slow

MATRIX = TWO_ROWS
# The whole output of this matrix takes about 1.4 MB; the disk is 8 MB. Each amount of free space
# stops the run at another point: the run lock, cargo, doit's state, the artifact copy, strip.
FREE_KIB = [0, 100, 200, 400, 700, 1300]
CLEAR = ("no space left on device", "No space left on device")


@pytest.fixture
def small_disk(tmp_path):
    if shutil.which("mount") is None or os.geteuid() != 0:
        skip_refused("mounting a tmpfs", "needs root and mount")
    tiny_project(tmp_path, MATRIX)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(out)], capture_output=True, text=True)
    if proc.returncode != 0:
        skip_refused("mounting a tmpfs", proc.stderr.strip())
    try:
        yield tmp_path
    finally:
        if subprocess.run(["umount", str(out)]).returncode != 0:
            subprocess.run(["umount", "-l", str(out)], check=True)  # still busy: detach it anyway


def fill(out, free_kib):
    """Leave free_kib KiB free on the disk holding out/."""
    avail = os.statvfs(out).f_bavail * os.statvfs(out).f_frsize
    want = avail - free_kib * 1024
    with open(out / "filler", "wb") as f:
        try:
            f.write(b"\0" * max(want, 0))
        except OSError:
            pass


def empty(out):
    for name in os.listdir(out):
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()


@pytest.mark.parametrize("free_kib", FREE_KIB)
def test_full_disk_fails_clearly_and_the_rerun_completes(small_disk, free_kib):
    out = small_disk / "out"
    empty(out)
    fill(out, free_kib)
    proc = doit(small_disk, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert any(c in text for c in CLEAR), text[-2000:]
    assert "Traceback" not in text, text[-3000:]
    results = out / "results.json"
    if results.exists():
        data = json.loads(results.read_text())
        assert data["version"] == 1
    (out / "filler").unlink()
    again = doit(small_disk)
    data = json.loads(results.read_text())
    assert [(c["variant"], c["status"]) for c in data["cells"]] == [("release", "ok"), ("release-stripped", "ok")]
    assert "Traceback" not in again.stdout + again.stderr
