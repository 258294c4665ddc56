"""make/sizekit.mk through examples/firmware's Makefile: real builds of the tiny crate with cargo.

The example is copied into tmp_path with the same layout (make/, examples/firmware/,
tests/fixtures/tiny/), so its relative paths hold and nothing is written into the repo. Its
matrix.yaml (the image's armv7 server, tests/test_firmware_image.py) is replaced by the firmware's
host tool, tiny, so these tests of the fragment build in seconds; matrix-tight.yaml is the example's.
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import FIRMWARE_TOOL_MATRIX, ROOT, TWO_ROWS, copy_tiny, require_tool

# Builds real crates with cargo (and strip, UPX, qemu): deselect with -m "not slow".
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def firmware(tmp_path_factory):
    for tool in ("make", "cargo", "strip"):
        require_tool(tool)
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(os.path.join(ROOT, "make"), root / "make")
    shutil.copytree(os.path.join(ROOT, "examples", "firmware"), root / "examples" / "firmware",
                    ignore=shutil.ignore_patterns("out"))
    copy_tiny(root / "tests" / "fixtures" / "tiny")
    (root / "examples" / "firmware" / "matrix.yaml").write_text(FIRMWARE_TOOL_MATRIX.format(output="out"))
    return str(root / "examples" / "firmware")



def make(folder, *args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MAKEFLAGS", None)
    return subprocess.run(["make", "-C", folder, f"PYTHON={sys.executable}", *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_size_check_within_budget_exits_0(firmware):
    r = make(firmware, "size-check")
    assert r.returncode == 0, r.stdout + r.stderr
    ok = [line.split() for line in r.stdout.splitlines() if line.startswith("tiny ")]
    assert len(ok) == 1
    assert ok[0][2] == "release-stripped" and ok[0][-1] == "OK"
    assert "1 within budget, 0 over (matrix.yaml against out/results.json)" in r.stdout
    assert os.path.isfile(os.path.join(firmware, "out", "results.json"))


def test_second_run_builds_nothing(firmware):
    r = make(firmware, "sizes")
    assert r.returncode == 0, r.stdout + r.stderr
    tasks = [line for line in r.stdout.splitlines() if line.startswith((".  ", "-- "))]
    assert tasks and all(line.startswith("-- ") for line in tasks), r.stdout


def test_size_check_over_budget_fails(firmware):
    r = make(firmware, "size-check", "SIZEKIT_MATRIX=matrix-tight.yaml")
    assert r.returncode != 0
    over = [line.split() for line in r.stdout.splitlines() if line.startswith("tiny ")]
    assert len(over) == 1 and over[0][-1] == "OVER"
    assert "0 within budget, 1 over (matrix-tight.yaml against out/tight/results.json)" in r.stdout
    assert "size-check] Error 1" in r.stderr
    # The tight matrix keeps its own output and doit state.
    assert os.path.isfile(os.path.join(firmware, "out", "tight", "results.json"))


def test_size_report_prints_the_markdown(firmware):
    r = make(firmware, "-s", "size-report")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "# tiny\n" in r.stdout
    assert "| release-stripped | stripped |" in r.stdout


def test_variables_override_the_defaults(firmware):
    r = make(firmware, "-n", "size-check", "SIZEKIT_RESULTS=elsewhere/results.json", "SIZEKIT=sk",
             "SIZEKIT_DOIT_ARGS=-n 2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:3] == ["sk run matrix.yaml -n 2",
                                          "sk check --matrix matrix.yaml elsewhere/results.json"]


def test_shard_variable_builds_one_shard(firmware):
    r = make(firmware, "-n", "sizes", "SIZEKIT=sk", "SIZEKIT_SHARD=2/4")
    assert r.returncode == 0, r.stderr
    assert "sk run matrix.yaml --shard 2/4" in r.stdout.splitlines()


def test_targets_are_phony(firmware):
    # A file named like a target must not make it "up to date".
    open(os.path.join(firmware, "size-check"), "w").close()
    try:
        r = make(firmware, "-n", "size-check", "SIZEKIT=sk")
        assert "sk check" in r.stdout
    finally:
        os.unlink(os.path.join(firmware, "size-check"))


def test_size_report_asks_sizekit_plan_for_the_results_path(firmware):
    # The fragment reads paths from `sizekit plan`, never from sizekit's modules.
    r = make(firmware, "-n", "size-report", "SIZEKIT=sk")
    assert r.returncode == 0, r.stderr
    assert "$(sk plan 'matrix.yaml' --get results_json)" in r.stdout
    assert "from sizekit" not in open(os.path.join(firmware, "..", "..", "make", "sizekit.mk")).read()


# ---------------------------------------------------------------- one cell's artifact as a file target

IMAGE_MAKEFILE = """\
include {root}/make/sizekit.mk
HOST := {host}
rootfs/usr/bin/tiny: $(call sizekit_artifact,tiny,$(HOST),release-stripped)
\tinstall -D -m 755 $< $@
rootfs/usr/bin/tiny-full: $(call sizekit_artifact,tiny,$(HOST),release)
\tinstall -D -m 755 $< $@
rootfs: rootfs/usr/bin/tiny rootfs/usr/bin/tiny-full
.PHONY: rootfs
wrong: $(call sizekit_artifact,tiny,$(HOST),no-such-row)
"""
IMAGE_MATRIX = textwrap.dedent(TWO_ROWS) + "  - {name: release-z, from: release, cargo: {opt-level: z}}\n"


def test_a_cell_artifact_is_a_make_target(tmp_path):
    """$(call sizekit_artifact,...) names a file that `sizekit ship` makes: the cells the rule needs
    and nothing else, with make -j2; make -q and -n answer as make users expect; a source edit makes
    exactly those cells again and the installed programs change."""
    for tool in ("make", "cargo", "strip"):
        require_tool(tool)
    host = "x86_64-unknown-linux-gnu"
    copy_tiny(tmp_path / "tiny")
    (tmp_path / "matrix.yaml").write_text(IMAGE_MATRIX)
    (tmp_path / "Makefile").write_text(IMAGE_MAKEFILE.format(root=ROOT, host=host))
    r = make(str(tmp_path), "-j2", "rootfs")
    assert r.returncode == 0, r.stdout + r.stderr
    run = lambda name: subprocess.run([str(tmp_path / "rootfs" / "usr" / "bin" / name)], capture_output=True,  # noqa: E731
                                      text=True).stdout.strip()
    assert run("tiny") == run("tiny-full") == "hello from tiny"
    assert "release-z" not in r.stdout + r.stderr                       # a row no rule needs is not built
    assert not (tmp_path / "out" / "results.json").exists()              # nor measured or reported
    shipped = tmp_path / "out" / "ship" / "tiny" / host / "release-stripped" / "tiny"
    assert (tmp_path / "rootfs" / "usr" / "bin" / "tiny").read_bytes() == shipped.read_bytes()
    assert make(str(tmp_path), "-q", "rootfs/usr/bin/tiny", "rootfs/usr/bin/tiny-full").returncode == 0
    n = make(str(tmp_path), "-n", "rootfs/usr/bin/tiny")
    assert n.returncode == 0 and "up to date" in n.stdout and "sizekit ship" not in n.stdout
    main = tmp_path / "tiny" / "src" / "main.rs"
    main.write_text(main.read_text().replace("hello from tiny", "hello from the image"))
    assert make(str(tmp_path), "-q", "rootfs/usr/bin/tiny").returncode == 1
    n = make(str(tmp_path), "-n", "rootfs/usr/bin/tiny")
    assert "sizekit ship" in n.stdout and "install" in n.stdout and run("tiny") == "hello from tiny"   # -n ran nothing
    r = make(str(tmp_path), "-j2", "rootfs")
    assert r.returncode == 0, r.stdout + r.stderr
    assert run("tiny") == run("tiny-full") == "hello from the image"
    assert make(str(tmp_path), "-q", "rootfs/usr/bin/tiny", "rootfs/usr/bin/tiny-full").returncode == 0
    r = make(str(tmp_path), "wrong")
    assert r.returncode != 0 and f"sizekit_artifact: no cell tiny/{host}/no-such-row" in r.stderr
