"""-Z build-std on Debian's rustc 1.63: std's sources, its crates (path dependencies) and its
lockfile from the sysroot that scripts/install prepares, under the examples' offline crate source."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import DODO, ROOT, copy_tiny, doit, skip_no_file, skip_no_tool, write

# Builds std from source with cargo for two targets: deselect with -m "not slow".
pytestmark = pytest.mark.slow

SYSROOT = os.path.join(ROOT, ".sizekit", "sysroot")
STD_SRC = os.path.join(SYSROOT, "lib", "rustlib", "src")
HOST = "x86_64-unknown-linux-gnu"
ARM = "armv7-unknown-linux-gnueabihf"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    for tool in ("/usr/bin/cargo", "arm-linux-gnueabihf-gcc", "qemu-arm"):
        if shutil.which(tool) is None:
            skip_no_tool(tool)
    for path in (os.path.join(STD_SRC, "rust", "Cargo.lock"), os.path.join(STD_SRC, "vendor")):
        if not os.path.exists(path):
            skip_no_file(path, "scripts/install prepares std's sources and crates for build-std there")
    root = tmp_path_factory.mktemp("bstd")
    copy_tiny(root / "tiny")
    # As under examples/: no crates.io, only Debian's directory source, which has none of std's
    # crates at the versions std 1.63 needs; the sysroot's vendored copies are path dependencies.
    write(root / ".cargo" / "config.toml", """
        [source.crates-io]
        replace-with = "debian"
        [source.debian]
        directory = "/usr/share/cargo/registry"
        [net]
        offline = true
    """)
    write(root / "dodo.py", DODO)
    write(root / "matrix.yaml", f"""
        version: 1
        toolchains:
          debian: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: {SYSROOT}}}
        targets:
          {ARM}:
            linker: arm-linux-gnueabihf-gcc
            strip: arm-linux-gnueabihf-strip
            runner: [qemu-arm, -L, /usr/arm-linux-gnueabihf]
        crates:
          tiny:
            path: tiny
            toolchain: debian
            targets: [{HOST}, {ARM}]
            smoke: {{args: [--version], expect: "tiny 0.1.0", timeout: 60}}
        variants:
          - {{name: small, cargo: {{panic: abort, lto: fat, codegen-units: 1, opt-level: z}}, post: [strip]}}
          - name: build-std
            from: small
            env: {{RUSTC_BOOTSTRAP: "1"}}
            build-std: {{crates: [std, panic_abort], features: [panic_immediate_abort]}}
          # Panics that print where they happened keep std's source paths in the bytes.
          - {{name: build-std-located, from: small, env: {{RUSTC_BOOTSTRAP: "1"}},
             build-std: {{crates: [std, panic_abort]}}, only: {{targets: [{HOST}]}}}}
    """)
    proc = doit(root, "-n", "1", check=False, timeout=1800)
    results = json.load(open(root / "out" / "results.json"))
    return root, proc, {(c["target"], c["variant"]): c for c in results["cells"]}


def test_build_std_rows_build_and_run_on_both_targets(built):
    root, proc, cells = built
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for target in (HOST, ARM):
        small, bstd = cells[(target, "small")], cells[(target, "build-std")]
        for cell in (small, bstd):
            assert cell["status"] == "ok", cell
            assert cell["smoke"]["ok"] is True, cell["smoke"]   # armv7 under qemu-arm
            assert cell["toolchain"]["rustc"].startswith("rustc 1.63")
        # std rebuilt with the row's settings and without panic formatting: smaller.
        assert bstd["final_bytes"] < 0.8 * small["final_bytes"], (target, small["final_bytes"], bstd["final_bytes"])


def test_panic_immediate_abort_reached_std(built):
    """The std feature took effect: a panic aborts with no message; the twin prints one first."""
    root, _, cells = built
    outputs = {}
    for variant in ("small", "build-std"):
        binary = root / cells[(HOST, variant)]["stages"][-1]["path"]
        outputs[variant] = subprocess.run([str(binary), "--panic"], capture_output=True, text=True, timeout=30)
    assert outputs["small"].returncode != 0 and "panicked" in outputs["small"].stderr
    assert outputs["build-std"].returncode != 0 and outputs["build-std"].stderr == ""


def test_bytes_do_not_name_the_checkout(built):
    """std is compiled from the checkout's .sizekit/sysroot, but its paths are remapped as rustc's own
    std names them, so the bytes are the same wherever the checkout is."""
    root, _, cells = built
    for target, variant in ((HOST, "build-std"), (ARM, "build-std"), (HOST, "build-std-located")):
        assert cells[(target, variant)]["status"] == "ok", cells[(target, variant)]
        unstripped = (root / cells[(target, variant)]["stages"][0]["path"]).read_bytes()
        assert STD_SRC.encode() not in unstripped and b"/.sizekit/" not in unstripped
    located = (root / cells[(HOST, "build-std-located")]["stages"][0]["path"]).read_bytes()
    assert b"/rustc/1.63.0/rust/library/std/src/" in located


def test_std_sources_are_read_from_the_sysroot_not_usr(built):
    """cargo compiled core from the sysroot's copy (the one with the lockfile), and /usr is untouched."""
    root, _, _ = built
    assert not os.path.exists("/usr/lib/rustlib/src/rust/Cargo.lock")
    paths = [os.path.join(d, f) for d, _, files in os.walk(root / "out") for f in files if f.endswith(".d")]
    core_deps = [p for p in paths if os.path.basename(p).startswith("core-")]
    assert core_deps, "no dep-info file for core: std was not built from source"
    text = open(core_deps[0]).read()
    assert os.path.join(SYSROOT, "lib", "rustlib", "src", "rust", "library", "core", "src", "lib.rs") in text
