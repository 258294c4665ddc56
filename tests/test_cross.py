"""Debian's toolchain (rustc 1.63 + unpacked ARM std), per-toolchain lockfiles, armv7/aarch64 under qemu."""
import json
import os
import shutil

import pytest

from conftest import skip_no_file, DODO, ROOT, copy_tiny, doit, skip_no_tool, write

# Builds real crates with cargo (and strip, UPX, qemu): deselect with -m "not slow".
pytestmark = pytest.mark.slow

SYSROOT = os.path.join(ROOT, ".sizekit", "sysroot")


def need(*tools):
    for tool in tools:
        if shutil.which(tool) is None:
            skip_no_tool(tool)
    std = os.path.join(SYSROOT, "lib", "rustlib", "armv7-unknown-linux-gnueabihf")
    if not os.path.isdir(std):
        skip_no_file(std, "scripts/install unpacks Debian's ARM std there")


@pytest.fixture(scope="module")
def cross(tmp_path_factory):
    need("/usr/bin/cargo", "arm-linux-gnueabihf-gcc", "qemu-arm", "aarch64-linux-gnu-gcc", "qemu-aarch64")
    root = tmp_path_factory.mktemp("cross")
    copy_tiny(root / "tiny")
    # A v4 lockfile, as rustup's cargo writes it; cargo 1.65 cannot read it.
    lock = "# generated\nversion = 4\n\n[[package]]\nname = \"tiny\"\nversion = \"0.1.0\"\n"
    (root / "tiny" / "Cargo.lock").write_text(lock)
    write(root / "dodo.py", DODO)
    write(root / "matrix.yaml", f"""
        version: 1
        toolchains:
          stable: {{rustup: stable}}
          debian: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: {SYSROOT}}}
        targets:
          armv7-unknown-linux-gnueabihf:
            linker: arm-linux-gnueabihf-gcc
            strip: arm-linux-gnueabihf-strip
            runner: [qemu-arm, -L, /usr/arm-linux-gnueabihf]
          aarch64-unknown-linux-gnu:
            linker: aarch64-linux-gnu-gcc
            strip: aarch64-linux-gnu-strip
            runner: [qemu-aarch64, -L, /usr/aarch64-linux-gnu]
          mips-unknown-linux-gnu:
            linker: mips-linux-gnu-gcc
        crates:
          tiny:
            path: tiny
            toolchain: debian
            targets: [x86_64-unknown-linux-gnu, armv7-unknown-linux-gnueabihf, aarch64-unknown-linux-gnu,
                      mips-unknown-linux-gnu]
            smoke: {{args: [--version], expect: "tiny 0.1.0", timeout: 30}}
        variants:
          - {{name: release}}
          - {{name: release-stripped, from: release, post: [strip]}}
          - {{name: stable, from: release, toolchain: stable, only: {{targets: [x86_64-unknown-linux-gnu]}}}}
    """)
    proc = doit(root, "-n", "2", check=False)
    results = json.load(open(root / "out" / "results.json"))
    return root, proc, {(c["target"], c["variant"]): c for c in results["cells"]}, lock


def test_arm_cells_build_strip_and_run_under_qemu(cross):
    _, proc, cells, _ = cross
    for target in ("x86_64-unknown-linux-gnu", "armv7-unknown-linux-gnueabihf", "aarch64-unknown-linux-gnu"):
        for variant in ("release", "release-stripped"):
            cell = cells[(target, variant)]
            assert cell["status"] == "ok", cell
            assert cell["smoke"]["ok"] is True, cell["smoke"]
            assert cell["toolchain"]["rustc"].startswith("rustc 1.63")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    arm = cells[("armv7-unknown-linux-gnueabihf", "release-stripped")]
    assert arm["final_bytes"] < cells[("armv7-unknown-linux-gnueabihf", "release")]["final_bytes"]


def test_target_without_std_is_unavailable_with_a_reason(cross):
    _, _, cells, _ = cross
    mips = cells[("mips-unknown-linux-gnu", "release")]
    assert mips["status"] == "unavailable"
    assert mips["reason"].startswith("toolchain 'debian' (rustc 1.63")
    assert "has no std for mips-unknown-linux-gnu (it has: aarch64-unknown-linux-gnu, " \
           "armv7-unknown-linux-gnueabihf, x86_64-unknown-linux-gnu)" in mips["reason"]


def test_each_toolchain_keeps_its_own_lockfile(cross):
    root, _, cells, lock = cross
    assert cells[("x86_64-unknown-linux-gnu", "stable")]["status"] == "ok"
    assert (root / "tiny" / "Cargo.lock").read_text() == lock
    overlays = root / "out" / ".sizekit" / "overlay" / "tiny"
    assert "version = 3" in (overlays / "debian" / "Cargo.lock").read_text()
    assert "version = 4" in (overlays / "stable" / "Cargo.lock").read_text()


def test_report_compares_targets(cross):
    root, _, cells, _ = cross
    md = open(root / "out" / "reports" / "tiny.md").read()
    assert "## Targets compared" in md
    arm = cells[("armv7-unknown-linux-gnueabihf", "release")]["final_bytes"]
    x86 = cells[("x86_64-unknown-linux-gnu", "release")]["final_bytes"]
    assert f"| {arm / x86:.2f} |" in md
