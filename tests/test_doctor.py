"""`sizekit doctor` on this machine's real toolchains and tools."""
import os
import shutil
import subprocess
import sys


from conftest import ROOT, skip_no_file, skip_no_tool, write


def doctor(tmp_path, text):
    write(tmp_path / "m.yaml", text)
    return subprocess.run([sys.executable, "-m", "sizekit", "doctor", str(tmp_path / "m.yaml")],
                          capture_output=True, text=True, timeout=120)


def test_doctor_lists_toolchains_targets_and_tools(tmp_path):
    if shutil.which("rustup") is None:
        skip_no_tool("rustup", "these machines come with rustup")
    proc = doctor(tmp_path, f"""
        version: 1
        toolchains:
          stable: {{rustup: stable}}
          missing: {{rustup: sizekit-no-such-toolchain}}
        targets:
          armv7-unknown-linux-gnueabihf:
            linker: arm-linux-gnueabihf-gcc
            strip: arm-linux-gnueabihf-strip
            runner: [qemu-arm-not-installed, -L, /usr/arm-linux-gnueabihf]
        crates:
          tiny: {{path: {ROOT}/tests/fixtures/tiny}}
        variants: [{{name: release}}]
    """)
    out = proc.stdout
    version = subprocess.run(["rustup", "run", "stable", "rustc", "-V"], capture_output=True, text=True).stdout.strip()
    assert f"  stable: {version};" in out
    assert "    targets with std: x86_64-unknown-linux-gnu" in out
    assert ("    rust-src: no (build-std needs it; fix: rustup component add rust-src --toolchain stable)" in out
            or "    rust-src: yes" in out)
    assert ("  missing: UNAVAILABLE: rustup toolchain 'sizekit-no-such-toolchain' is not installed; "
            "fix: rustup toolchain install sizekit-no-such-toolchain") in out
    assert "    runner: MISSING qemu-arm-not-installed (not on PATH)" in out
    assert "  x86_64-unknown-linux-gnu (host):" in out
    upx = shutil.which("upx")
    if upx:
        assert f"upx: {upx} " in out
    assert proc.returncode == 1
    assert out.splitlines()[-1].endswith("problem(s) found")


def test_doctor_debian_toolchain_with_sysroot(tmp_path):
    sysroot = os.path.join(ROOT, ".sizekit", "sysroot")
    for path in ("/usr/bin/cargo", sysroot):
        if not os.path.exists(path):
            skip_no_file(path)
    out = doctor(tmp_path, f"""
        version: 1
        toolchains:
          debian: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: {sysroot}}}
        crates:
          tiny: {{path: {ROOT}/tests/fixtures/tiny}}
        variants: [{{name: release}}]
    """).stdout
    assert "  debian: rustc 1.63" in out
    assert ("    targets with std: aarch64-unknown-linux-gnu, armv7-unknown-linux-gnueabihf, "
            "x86_64-unknown-linux-gnu") in out
    # scripts/install puts std's sources for -Z build-std, with a pinned Cargo.lock, in the sysroot.
    assert f"    rust-src: yes ({sysroot}/lib/rustlib/src/rust, with its Cargo.lock)\n" in out


def test_doctor_rust_src_in_a_sysroot_needs_its_lockfile(tmp_path):
    """std's sources in a toolchain's sysroot count only with the Cargo.lock cargo's build-std reads:
    in rust/ (std 1.63's layout) or in rust/library/ (later releases)."""
    if not os.path.exists("/usr/bin/rustc"):
        skip_no_file("/usr/bin/rustc")
    sysroot = tmp_path / "sysroot"
    rust = sysroot / "lib" / "rustlib" / "src" / "rust"
    (rust / "library" / "std").mkdir(parents=True)
    (rust / "library" / "std" / "Cargo.toml").write_text("[package]\nname = 'std'\n")
    text = f"""
        version: 1
        toolchains:
          deb: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: {sysroot}}}
        crates:
          tiny: {{path: {ROOT}/tests/fixtures/tiny}}
        variants: [{{name: release}}]
    """
    out = doctor(tmp_path, text).stdout
    assert (f"    rust-src: no (build-std needs it; fix: put std's sources and their Cargo.lock in "
            f"{sysroot}/lib/rustlib/src/rust (scripts/install does it for Debian's rustc: its rust-src "
            f"package and a pinned lockfile))") in out
    for folder in (rust, rust / "library"):
        (folder / "Cargo.lock").write_text("version = 3\n")
        assert f"    rust-src: yes ({folder}, with its Cargo.lock)" in doctor(tmp_path, text).stdout
