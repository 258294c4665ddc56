"""Failure isolation, reference builds and source-level safety rules."""
import ast
import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, doit, skip_no_file, skip_no_tool, tiny_project, write

# Builds real crates with cargo (and strip, UPX, qemu): deselect with -m "not slow".
pytestmark = pytest.mark.slow


def test_compile_error_missing_linker_and_failing_smoke_leave_the_rest_built(tmp_path):
    tiny_project(tmp_path, """
        version: 1
        targets:
          aarch64-unknown-linux-gnu:
            linker: sizekit-no-such-gcc
        crates:
          good: {path: good, artifact: bin:tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
          broken: {path: broken, artifact: bin:tiny}
          liar: {path: good, artifact: bin:tiny, smoke: {args: [--version], expect: "tiny 9.9"}}
          cross: {path: good, artifact: bin:tiny, targets: [aarch64-unknown-linux-gnu]}
        variants:
          - {name: release}
          - {name: release-stripped, from: release, post: [strip]}
    """, crate_dirs=("good", "broken"))
    with open(tmp_path / "broken" / "src" / "main.rs", "a") as f:
        f.write("\nfn broken( {\n")
    proc = doit(tmp_path, check=False)
    assert proc.returncode != 0
    cells = {(c["crate"], c["variant"]): c for c in json.load(open(tmp_path / "out" / "results.json"))["cells"]}
    assert cells[("good", "release")]["status"] == "ok" and cells[("good", "release")]["smoke"]["ok"]
    assert cells[("good", "release-stripped")]["status"] == "ok"
    broken = cells[("broken", "release")]
    assert (broken["status"], broken["reason"]) == ("failed", "cargo build failed (exit status 101)")
    assert os.path.exists(tmp_path / broken["log"])
    liar = cells[("liar", "release")]
    assert liar["status"] == "ok"
    assert liar["smoke"]["ok"] is False
    assert liar["smoke"]["detail"] == "output lacks 'tiny 9.9': 'tiny 0.1.0'"
    assert os.path.exists(tmp_path / liar["smoke"]["log"])
    cross = cells[("cross", "release")]
    assert cross["status"] == "unavailable"
    # Which reason is right depends on one fact, read here: has the default rustc aarch64's std?
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True).stdout.strip()
    if os.path.isdir(os.path.join(sysroot, "lib", "rustlib", "aarch64-unknown-linux-gnu", "lib")):
        assert cross["reason"].startswith("linker 'sizekit-no-such-gcc' for aarch64-unknown-linux-gnu not found")
    else:
        assert "has no std for aarch64-unknown-linux-gnu" in cross["reason"]
    out = proc.stdout + proc.stderr
    assert "broken/x86_64-unknown-linux-gnu/release: cargo build failed (exit status 101)" in out
    assert "liar/x86_64-unknown-linux-gnu/release: smoke test failed: output lacks 'tiny 9.9'" in out
    md = open(tmp_path / "out" / "reports" / "liar.md").read()
    assert "| output lacks 'tiny 9.9': 'tiny 0.1.0' |" in md


def test_missing_linker_is_unavailable_with_the_fix(tmp_path):
    sysroot = os.path.join(ROOT, ".sizekit", "sysroot")
    for path in ("/usr/bin/cargo", os.path.join(sysroot, "lib", "rustlib", "aarch64-unknown-linux-gnu")):
        if not os.path.exists(path):
            skip_no_file(path)
    tiny_project(tmp_path, f"""
        version: 1
        toolchains:
          debian: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: {sysroot}}}
        targets:
          aarch64-unknown-linux-gnu: {{linker: sizekit-no-such-gcc}}
        crates:
          tiny: {{path: tiny, toolchain: debian, targets: [x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu]}}
        variants: [{{name: release}}]
    """)
    proc = doit(tmp_path, check=False)
    assert proc.returncode == 0  # unavailable is not a failure
    cells = {c["target"]: c for c in json.load(open(tmp_path / "out" / "results.json"))["cells"]}
    assert cells["x86_64-unknown-linux-gnu"]["status"] == "ok"
    assert cells["aarch64-unknown-linux-gnu"]["reason"] == (
        "linker 'sizekit-no-such-gcc' for aarch64-unknown-linux-gnu not found on PATH; "
        "fix: install it (e.g. apt-get install gcc-<triple>)")


def test_reference_plugin_in_c_is_built_and_compared(tmp_path):
    for tool in ("make", "cc", "strip", "cargo"):
        if shutil.which(tool) is None:
            skip_no_tool(tool)
    # The same tiny C-ABI library twice: a Rust cdylib and its C reference, built by make.
    write(tmp_path / "twin" / "Cargo.toml", """
        [package]
        name = "twin"
        version = "0.1.0"
        edition = "2021"

        [lib]
        crate-type = ["cdylib"]
    """)
    write(tmp_path / "twin" / "src" / "lib.rs", """
        #[no_mangle]
        pub extern "C" fn twin_add(a: u32, b: u32) -> u32 {
            a.wrapping_add(b)
        }
    """)
    write(tmp_path / "twin" / "c" / "twin.c", "unsigned twin_add(unsigned a, unsigned b) { return a + b; }\n")
    write(tmp_path / "twin" / "c" / "Makefile", "CC ?= cc\nOUT ?= libctwin.so\n"
                                                "$(OUT): twin.c\n\t$(CC) -O2 -fPIC -shared -o $@ twin.c\n")
    write(tmp_path / "dodo.py", "from sizekit.tasks import matrix_tasks\nglobals().update(matrix_tasks('m.yaml'))\n")
    write(tmp_path / "m.yaml", """
        version: 1
        crates:
          twin:
            path: twin
            artifact: cdylib:twin
            reference: {name: C, make: twin/c, artifact: libctwin.so}
        variants:
          - {name: release}
          - {name: release-stripped, from: release, post: [strip]}
    """)
    doit(tmp_path)
    results = json.load(open(tmp_path / "out" / "results.json"))
    ref = results["references"][0]
    assert ref["status"] == "ok" and 0 < ref["stripped_bytes"] <= ref["bytes"]
    assert os.path.getsize(tmp_path / ref["path"]) == ref["bytes"]
    rust = [c for c in results["cells"] if c["variant"] == "release-stripped"][0]["final_bytes"]
    md = open(tmp_path / "out" / "reports" / "twin.md").read()
    assert f"| {rust - ref['stripped_bytes']:+,} | {rust / ref['stripped_bytes']:.1f}x |" in md


def test_no_shell_and_no_unsafe_yaml_in_sizekit():
    folder = os.path.join(ROOT, "sizekit")
    for name in os.listdir(folder):
        if not name.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(folder, name)).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "shell":
                assert not (isinstance(node.value, ast.Constant) and node.value.value is True), name
            if isinstance(node, ast.Attribute) and (node.attr in ("unsafe_load", "full_load") or (
                    node.attr in ("system", "popen") and getattr(node.value, "id", "") == "os")):
                raise AssertionError(f"{name}: uses {node.attr}")
            if isinstance(node, ast.Attribute) and node.attr == "load" and getattr(node.value, "id", "") == "yaml":
                raise AssertionError(f"{name}: yaml.load without the safe loader")


def test_missing_toolchain_is_unavailable_with_the_fix_not_a_failure(tmp_path):
    tiny_project(tmp_path, """
        version: 1
        toolchains:
          gone: {rustup: sizekit-no-such-toolchain}
        crates:
          tiny: {path: tiny, toolchain: gone}
        variants: [{name: release}, {name: stripped, from: release, post: [strip]}]
    """)
    proc = doit(tmp_path, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # unavailable is not a failure
    cells = json.load(open(tmp_path / "out" / "results.json"))["cells"]
    assert {(c["status"], c["reason"]) for c in cells} == {(
        "unavailable", "rustup toolchain 'sizekit-no-such-toolchain' is not installed; "
                       "fix: rustup toolchain install sizekit-no-such-toolchain")}
