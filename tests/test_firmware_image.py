"""The firmware examples end to end: an armv7 root file system with sizekit's shipped cell, packed
into a squashfs image, checked against a flash budget and booted under qemu-arm.

examples/firmware (make) and examples/firmware-scons (SCons) are copied into tmp_path with the
repository's layout (make/, examples/, tests/fixtures/), so their relative paths hold and nothing
is written into the repo. Their matrix ships hello-hyper; these tests swap in tests/fixtures/
tiny-server (std only, answers HTTP the same way) through the same matrix file, so each build
takes seconds. test_real_example builds the example as it is, hello-hyper and all.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, require_tool, skip_no_file

# Real cross builds with cargo, strip, UPX, mksquashfs and qemu-arm: deselect with -m "not slow".
pytestmark = pytest.mark.slow

TOOLS = ("make", "cargo", "arm-linux-gnueabihf-gcc", "arm-linux-gnueabihf-strip", "qemu-arm", "mksquashfs",
         "unsquashfs", "upx")
SYSROOT = os.path.join(ROOT, ".sizekit", "sysroot")
CELL = ("server", "armv7-unknown-linux-gnueabihf", "everything-upx")


def repo_copy(root, server="tiny-server"):
    """make/, both firmware examples and the server crate under root; the matrix made to build it."""
    for tool in TOOLS:
        require_tool(tool)
    if not os.path.isdir(os.path.join(SYSROOT, "lib", "rustlib", CELL[1])):
        skip_no_file(SYSROOT + f"/lib/rustlib/{CELL[1]}")
    shutil.copytree(os.path.join(ROOT, "make"), root / "make")
    for example in ("firmware", "firmware-scons"):
        shutil.copytree(os.path.join(ROOT, "examples", example), root / "examples" / example,
                        ignore=shutil.ignore_patterns("out", ".sconsign.dblite"))
    matrix = root / "examples" / "firmware" / "matrix.yaml"
    text = matrix.read_text().replace("sysroot: ../../.sizekit/sysroot", f"sysroot: {SYSROOT}")
    if server == "tiny-server":
        shutil.copytree(os.path.join(ROOT, "tests", "fixtures", "tiny-server"), root / "tests" / "fixtures" / "tiny-server",
                        ignore=shutil.ignore_patterns("target", "Cargo.lock"))
        text = (text.replace("path: ../hello-hyper", "path: ../../tests/fixtures/tiny-server")
                    .replace("artifact: bin:hello-hyper", "artifact: bin:tiny-server"))
    else:
        shutil.copytree(os.path.join(ROOT, "examples", "hello-hyper"), root / "examples" / "hello-hyper",
                        ignore=shutil.ignore_patterns("target", "Cargo.lock"))
        shutil.copytree(os.path.join(ROOT, "examples", ".cargo"), root / "examples" / ".cargo")
    assert "tiny-server" in text or server != "tiny-server"
    matrix.write_text(text)
    return root


def make(folder, *args, timeout=900):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MAKEFLAGS", None)
    return subprocess.run(["make", "-C", str(folder), f"PYTHON={sys.executable}", *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


def scons(folder, *args, timeout=900):
    require_tool("scons")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "SCons", "-Q", *args], cwd=str(folder), capture_output=True,
                          text=True, env=env, timeout=timeout)


def built(output):
    """The nodes a run executed: build:..., post:..., from the engine's lines."""
    return re.findall(r"^(?:\.  |sizekit )((?:build|post|measure|smoke|ship):\S+)", output, re.M)


def image_files(image, dest):
    subprocess.run(["unsquashfs", "-no-progress", "-quiet", "-d", str(dest), str(image)], check=True,
                   capture_output=True)
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())


def edit_greeting(root, text):
    main = root / "tests" / "fixtures" / "tiny-server" / "src" / "main.rs"
    main.write_text(re.sub(r'const GREETING: &str = "[^"]*";', f'const GREETING: &str = "{text}";', main.read_text()))


def edit_unused_row(matrix):
    """A matrix edit that touches only the release row, which the image does not use (each call
    another opt-level)."""
    text = matrix.read_text()
    level = re.search(r"- \{name: release, profile: release(?:, cargo: \{opt-level: (\d)\})?\}", text)
    assert level, text
    new = f"- {{name: release, profile: release, cargo: {{opt-level: {int(level.group(1) or 3) - 1}}}}}"
    matrix.write_text(text.replace(level.group(0), new))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return repo_copy(tmp_path_factory.mktemp("repo"))


def test_make_image_ships_one_cell_fits_the_budget_and_boots(repo, tmp_path):
    fw = repo / "examples" / "firmware"
    r = make(fw, "image-check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "build:server/armv7-unknown-linux-gnueabihf/small" in built(r.stdout)
    assert not any("/release" in node for node in built(r.stdout)), r.stdout   # rows the image does not ship
    assert not (fw / "out" / "results.json").exists()                          # nor measured
    image = fw / "out" / "firmware.squashfs"
    assert image.read_bytes()[:4] == b"hsqs"                                   # a squashfs superblock
    files = image_files(image, tmp_path / "root")
    assert files == ["etc/default/server", "etc/hostname", "etc/init.d/S50server", "lib/ld-linux-armhf.so.3",
                     "lib/libc.so.6", "lib/libgcc_s.so.1", "usr/bin/server"]
    shipped = fw / "out" / "ship" / "/".join(CELL) / "tiny-server"
    assert (tmp_path / "root" / "usr" / "bin" / "server").read_bytes() == shipped.read_bytes()
    assert b"UPX!" in shipped.read_bytes()                                     # the everything-upx row
    row = [line.split() for line in r.stdout.splitlines() if line.startswith("firmware ")]
    assert row and row[0][-1] == "OK" and int(row[0][3].replace(",", "")) == image.stat().st_size
    assert re.search(r"boot-check: out/firmware.squashfs: /usr/bin/server answered 'Hello, world!'", r.stdout)
    # Right after a build make has nothing to do, and says so.
    assert make(fw, "-q", "image").returncode == 0


def test_a_partition_too_small_fails_the_image_check(repo):
    fw = repo / "examples" / "firmware"
    r = make(fw, "image-check", "FLASH_BUDGET=64KiB")
    assert r.returncode != 0
    row = [line.split() for line in r.stdout.splitlines() if line.startswith("firmware ")]
    assert row and row[0][-1] == "OVER", r.stdout
    assert "0 within budget, 1 over (--budget 64KiB against out/firmware.squashfs)" in r.stdout
    assert "boot-check" not in r.stdout                                        # make stopped at the budget


def test_a_boot_that_does_not_answer_fails_the_image_check(repo, tmp_path):
    # An image whose server cannot start (its C library left out) fails the boot check, not the build.
    fw = repo / "examples" / "firmware"
    bad = tmp_path / "bad.squashfs"
    rootfs = tmp_path / "rootfs"
    shutil.copytree(fw / "out" / "rootfs", rootfs)
    (rootfs / "lib" / "libc.so.6").unlink()
    subprocess.run(["mksquashfs", str(rootfs), str(bad), "-noappend", "-quiet", "-no-progress"], check=True)
    r = subprocess.run([sys.executable, str(fw / "boot_check.py"), str(bad), "--timeout", "10"], capture_output=True,
                       text=True)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "/usr/bin/server exited with status" in r.stderr and "libc.so.6" in r.stderr
    missing = subprocess.run([sys.executable, str(fw / "boot_check.py"), str(tmp_path / "none.squashfs")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "no such image (make image builds it)" in missing.stderr


def test_make_source_edit_rebuilds_the_image_cells_and_a_matrix_edit_elsewhere_does_not(repo):
    fw = repo / "examples" / "firmware"
    image = fw / "out" / "firmware.squashfs"
    assert make(fw, "image").returncode == 0
    before, stamp = image.read_bytes(), image.stat().st_mtime_ns
    # A row the image does not use: the image is left alone, nothing is built.
    edit_unused_row(fw / "matrix.yaml")
    r = make(fw, "image")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(node.startswith(("build:", "post:")) for node in built(r.stdout)), r.stdout
    assert image.stat().st_mtime_ns == stamp and image.read_bytes() == before
    assert make(fw, "-q", "image").returncode == 0
    # A source edit: make -q says so, and exactly the image's build and its post steps run again.
    edit_greeting(repo, "Hello, world! (firmware 2)")
    assert make(fw, "-q", "image").returncode == 1
    r = make(fw, "image-check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(built(r.stdout)) == ["build:server/armv7-unknown-linux-gnueabihf/small",
                                       "post:server/armv7-unknown-linux-gnueabihf/everything-upx/upx2",
                                       "post:server/armv7-unknown-linux-gnueabihf/small-stripped/strip1"], r.stdout
    assert image.read_bytes() != before
    assert "answered 'Hello, world! (firmware 2)'" in r.stdout


def test_the_image_bytes_go_into_snapshots_and_the_diff(repo, tmp_path):
    """make size-snapshot: every cell and the image's bytes; sizekit diff shows the image moving."""
    fw = repo / "examples" / "firmware"
    image = fw / "out" / "firmware.squashfs"
    r = make(fw, "size-snapshot", f"SIZEKIT_SNAPSHOT={tmp_path / 'old.zst'}")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    old_bytes = image.stat().st_size
    # Text that compresses badly, so the image (whose size squashfs rounds to 4 KiB) grows.
    edit_greeting(repo, "Hello, world! " + os.urandom(12_000).hex())
    r = make(fw, "size-snapshot", f"SIZEKIT_SNAPSHOT={tmp_path / 'new.zst'}")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    new_bytes = image.stat().st_size
    assert new_bytes != old_bytes
    diff = subprocess.run([sys.executable, "-m", "sizekit", "diff", "--format", "json", str(tmp_path / "old.zst"),
                           str(tmp_path / "new.zst")], capture_output=True, text=True, cwd=str(fw))
    assert diff.returncode == 0, diff.stderr
    data = json.loads(diff.stdout)
    assert data["files"] == [{"name": "firmware", "old_bytes": old_bytes, "new_bytes": new_bytes,
                              "delta_bytes": new_bytes - old_bytes, "change": "grew" if new_bytes > old_bytes
                              else "shrank"}]
    assert {c["variant"] for c in data["cells"]} == {"release", "small", "small-stripped", "everything-upx"}
    md = subprocess.run([sys.executable, "-m", "sizekit", "diff", str(tmp_path / "old.zst"), str(tmp_path / "new.zst")],
                        capture_output=True, text=True, cwd=str(fw)).stdout
    assert f"| `firmware` | {old_bytes:,} | {new_bytes:,} |" in md


def test_make_clean_removes_what_the_example_wrote(repo):
    fw = repo / "examples" / "firmware-clean"
    shutil.copytree(repo / "examples" / "firmware", fw, ignore=shutil.ignore_patterns("out"))
    (fw / "out").mkdir()
    (fw / "out" / "firmware.squashfs").write_bytes(b"x")
    r = make(fw, "clean")
    assert r.returncode == 0 and not (fw / "out").exists()


def test_scons_image_ships_one_cell_and_rebuilds_only_on_a_change_it_uses(repo, tmp_path):
    sc = repo / "examples" / "firmware-scons"
    matrix = str(repo / "examples" / "firmware" / "matrix.yaml")
    r = scons(sc, "image-check", f"matrix={matrix}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any("/release" in node for node in built(r.stdout)), r.stdout
    image = sc / "out" / "firmware.squashfs"
    files = image_files(image, tmp_path / "root")
    assert "usr/bin/server" in files and "usr/bin/firmware" in files and "lib/libc.so.6" in files
    assert "boot-check: out/firmware.squashfs: /usr/bin/server answered" in r.stdout
    firmware = subprocess.run(["qemu-arm", "-L", str(tmp_path / "root"), str(tmp_path / "root" / "usr" / "bin" / "firmware")],
                              capture_output=True, text=True)
    assert firmware.stdout.startswith("firmware: led"), firmware.stderr
    before, stamp = image.read_bytes(), image.stat().st_mtime_ns
    up_to_date = scons(sc, "image", f"matrix={matrix}")
    assert "mksquashfs" not in up_to_date.stdout and image.stat().st_mtime_ns == stamp
    edit_unused_row(repo / "examples" / "firmware" / "matrix.yaml")
    r = scons(sc, "image", f"matrix={matrix}")
    assert r.returncode == 0 and "mksquashfs" not in r.stdout, r.stdout + r.stderr
    assert not any(node.startswith(("build:", "post:")) for node in built(r.stdout)), r.stdout
    edit_greeting(repo, "Hello, world! (scons 2)")
    r = scons(sc, "image-check", f"matrix={matrix}", "flash_budget=8MiB")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "build:server/armv7-unknown-linux-gnueabihf/small" in built(r.stdout)
    assert image.read_bytes() != before and "answered 'Hello, world! (scons 2)'" in r.stdout
    over = scons(sc, "image-check", f"matrix={matrix}", "flash_budget=64KiB")
    assert over.returncode != 0 and "0 within budget, 1 over" in over.stdout


def test_real_example(tmp_path):
    """examples/firmware as shipped: hello-hyper for armv7, everything-upx, in an 8 MiB partition."""
    fw = repo_copy(tmp_path, server="hello-hyper") / "examples" / "firmware"
    r = make(fw, "image-check", timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "boot-check: out/firmware.squashfs: /usr/bin/server answered 'Hello, world!'" in r.stdout
    assert (fw / "out" / "firmware.squashfs").stat().st_size < 8 << 20
