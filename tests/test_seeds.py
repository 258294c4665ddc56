"""seeds/: the articles' own programs from crates.io, built as a fresh clone would build them.

seeds/gst-tutorial (gstreamer-rs 0.19 from crates.io, its Cargo.lock committed) is copied into
tmp_path with the C reference the matrix names, and one cell, x86_64 release-stripped, is shipped
through the matrix (Debian's cargo 1.65 reaching crates.io's sparse index): GStreamer then loads the
file and runs a pipeline through rsidentity. scripts/seeds builds every row for both targets.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, require_tool, skip_no_file

# A real cargo build of the gstreamer-rs bindings: deselect with -m "not slow".
pytestmark = pytest.mark.slow

CELL = "gst-tutorial/x86_64-unknown-linux-gnu/release-stripped"


def test_the_tutorial_plugin_builds_from_crates_io_and_runs(tmp_path):
    for tool in ("/usr/bin/cargo", "gst-launch-1.0", "gst-inspect-1.0", "pkg-config", "strip"):
        require_tool(tool)
    sysroot = os.path.join(ROOT, ".sizekit", "sysroot")
    if not os.path.isdir(sysroot):
        skip_no_file(sysroot)
    shutil.copytree(os.path.join(ROOT, "seeds"), tmp_path / "seeds", ignore=shutil.ignore_patterns("out", "target"))
    shutil.copytree(os.path.join(ROOT, "examples", "gst-rsidentity", "c"), tmp_path / "examples" / "gst-rsidentity" / "c")
    matrix = tmp_path / "seeds" / "matrix.yaml"
    matrix.write_text(matrix.read_text().replace("sysroot: ../.sizekit/sysroot", f"sysroot: {sysroot}"))
    lock = (tmp_path / "seeds" / "gst-tutorial" / "Cargo.lock").read_text()
    assert lock.splitlines()[2] == "version = 3"          # what Debian's cargo 1.65 reads
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-m", "sizekit", "ship", "matrix.yaml", CELL], cwd=str(tmp_path / "seeds"),
                       capture_output=True, text=True, env=env, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    shipped = tmp_path / "seeds" / r.stdout.strip().splitlines()[-1]
    assert shipped.name == "libgstrsidentity.so" and shipped.is_file()
    # The lockfile pinned every version: cargo did not have to change it.
    assert (tmp_path / "seeds" / "gst-tutorial" / "Cargo.lock").read_text() == lock
    gst_env = dict(os.environ, GST_PLUGIN_PATH=str(shipped.parent), GST_REGISTRY_1_0=str(tmp_path / "registry.bin"))
    inspect = subprocess.run(["gst-inspect-1.0", "rsidentity"], capture_output=True, text=True, env=gst_env)
    assert "Passes every buffer through unchanged" in inspect.stdout, inspect.stderr
    launch = subprocess.run(["gst-launch-1.0", "fakesrc", "num-buffers=100", "!", "rsidentity", "!", "fakesink"],
                            capture_output=True, text=True, env=gst_env, timeout=60)
    assert "Got EOS" in launch.stdout, launch.stdout + launch.stderr
    # Its bytes are the bindings' as much as std's: the crates the GStreamer article's table named.
    bloat = subprocess.run([sys.executable, "-m", "sizekit", "bloat", "--json",
                            str(next((tmp_path / "seeds" / "out" / "build").rglob("libgstrsidentity.so")))],
                           capture_output=True, text=True, env=env)
    crates = json.loads(bloat.stdout)["crates"]
    assert crates.get("gstreamer", 0) > 10_000 and crates.get("gstreamer_base", 0) > 10_000, crates
