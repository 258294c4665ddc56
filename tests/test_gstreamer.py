"""examples/gst-rsidentity: a real GStreamer plugin, built through sizekit, loaded by real GStreamer.

The plugin is built by sizekit from a small matrix in tmp_path (cargo works in sizekit's
overlay, never in examples/), then gst-inspect-1.0 lists it and gst-launch-1.0 runs a
pipeline through it; the C twin (the crate's reference:) is loaded the same way. The armv7
test builds it with Debian's toolchain and runs the armhf gst-launch-1.0 under qemu-arm.
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, require_tool, write

# Builds real crates with cargo: deselect with -m "not slow".
pytestmark = pytest.mark.slow

EXAMPLE = os.path.join(ROOT, "examples", "gst-rsidentity")
ARM = "armv7-unknown-linux-gnueabihf"
ARM_PREFIX = "/usr/arm-linux-gnueabihf"
PIPELINE = ["fakesrc", "num-buffers=100", "!", "rsidentity", "!", "fakesink"]
SMOKE = """
    smoke:
      command: [gst-launch-1.0, fakesrc, num-buffers=100, "!", rsidentity, "!", fakesink]
      env: {{GST_PLUGIN_PATH: "{{artifact_dir}}", GST_REGISTRY_1_0: "{{tmp}}/registry.bin"}}
      expect: Got EOS
      timeout: 120
"""


def example_files():
    """Every path under examples/gst-rsidentity, to show a build leaves nothing there."""
    out = []
    for folder, dirs, files in os.walk(EXAMPLE):
        out += [os.path.relpath(os.path.join(folder, f), EXAMPLE) for f in dirs + files]
    return sorted(out)


def run_matrix(root, text):
    matrix = write(root / "matrix.yaml", text)
    env = dict(os.environ, SIZEKIT_JOBS="2")
    proc = subprocess.run([sys.executable, "-m", "doit", "-n", "1", "-f", os.path.join(ROOT, "dodo.py"),
                           f"matrix={matrix}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.load(open(root / "out" / "results.json"))


def gst(tool, *args, registry, **env):
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, GST_REGISTRY_1_0=str(registry), **env))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    for tool in ("gst-inspect-1.0", "gst-launch-1.0", "pkg-config", "make", "cc"):
        require_tool(tool)
    root = tmp_path_factory.mktemp("gst")
    before = example_files()
    results = run_matrix(root, f"""
        version: 1
        crates:
          gst-rsidentity:
            path: {EXAMPLE}
            artifact: cdylib:gstrsidentity
            reference: {{name: C, make: {EXAMPLE}/c, artifact: libgstcidentity.so}}
    """ + SMOKE.replace("\n    ", "\n            ").format() + """
        variants:
          - {name: release}
          - {name: release-stripped, from: release, post: [strip]}
    """)
    return root, results, before


def test_the_plugin_builds_and_its_smoke_ran_a_pipeline(built):
    root, results, before = built
    cells = {c["variant"]: c for c in results["cells"]}
    assert [cells[v]["status"] for v in ("release", "release-stripped")] == ["ok", "ok"]
    for cell in cells.values():
        assert cell["smoke"]["ok"] is True, cell["smoke"]
        assert cell["smoke"]["detail"] == "exit 0, output has 'Got EOS'"
        log = open(root / cell["smoke"]["log"]).read()
        assert "gst-launch-1.0 fakesrc num-buffers=100 ! rsidentity ! fakesink" in log.splitlines()[0]
        assert 'Got EOS from element "pipeline0"' in log
    assert cells["release-stripped"]["final_bytes"] < cells["release"]["final_bytes"]
    assert example_files() == before  # cargo wrote nothing into examples/


def test_gst_inspect_lists_the_element_and_gst_launch_runs_it(built, tmp_path):
    root, results, _ = built
    stripped = [c for c in results["cells"] if c["variant"] == "release-stripped"][0]
    plugin = str(root / stripped["stages"][-1]["path"])
    assert os.path.basename(plugin) == "libgstrsidentity.so"
    inspect = gst("gst-inspect-1.0", plugin, registry=tmp_path / "r.bin")
    assert inspect.returncode == 0, inspect.stderr
    assert "Name                     rsidentity" in inspect.stdout
    assert "rsidentity: Identity (Rust)" in inspect.stdout
    element = gst("gst-inspect-1.0", "rsidentity", registry=tmp_path / "r.bin",
                  GST_PLUGIN_PATH=os.path.dirname(plugin))
    assert element.returncode == 0, element.stderr
    assert "+----GstBaseTransform\n                         +----GstRsIdentity" in element.stdout
    launch = gst("gst-launch-1.0", *PIPELINE, registry=tmp_path / "r.bin", GST_PLUGIN_PATH=os.path.dirname(plugin))
    assert launch.returncode == 0, launch.stdout + launch.stderr
    assert 'Got EOS from element "pipeline0"' in launch.stdout


def test_the_c_twin_is_built_as_the_reference_and_loads_the_same_way(built, tmp_path):
    root, results, _ = built
    ref = results["references"][0]
    assert (ref["crate"], ref["name"], ref["status"]) == ("gst-rsidentity", "C", "ok")
    plugin = str(root / ref["path"])
    inspect = gst("gst-inspect-1.0", plugin, registry=tmp_path / "r.bin")
    assert inspect.returncode == 0, inspect.stderr
    assert "Name                     cidentity" in inspect.stdout
    assert "rsidentity: Identity (C)" in inspect.stdout
    launch = gst("gst-launch-1.0", *PIPELINE, registry=tmp_path / "r.bin", GST_PLUGIN_PATH=os.path.dirname(plugin))
    assert launch.returncode == 0, launch.stdout + launch.stderr
    assert 'Got EOS from element "pipeline0"' in launch.stdout
    rust = [c for c in results["cells"] if c["variant"] == "release-stripped"][0]["final_bytes"]
    assert ref["stripped_bytes"] < rust  # the seed's point: the C twin is far smaller


def test_armv7_plugin_runs_in_the_armhf_gst_launch_under_qemu(tmp_path):
    for tool in ("arm-linux-gnueabihf-gcc", "qemu-arm", "pkg-config", "make"):
        require_tool(tool)
    sysroot = os.path.join(ROOT, ".sizekit", "sysroot")
    results = run_matrix(tmp_path, f"""
        version: 1
        toolchains:
          debian: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: {sysroot}}}
        targets:
          {ARM}:
            linker: arm-linux-gnueabihf-gcc
            strip: arm-linux-gnueabihf-strip
            runner: [qemu-arm, -L, {ARM_PREFIX}]
        crates:
          gst-rsidentity:
            path: {EXAMPLE}
            artifact: cdylib:gstrsidentity
            toolchain: debian
            targets: [{ARM}]
            env:
              PKG_CONFIG_ALLOW_CROSS_armv7_unknown_linux_gnueabihf: "1"
              PKG_CONFIG_SYSROOT_DIR_armv7_unknown_linux_gnueabihf: {ARM_PREFIX}
              PKG_CONFIG_LIBDIR_armv7_unknown_linux_gnueabihf: {ARM_PREFIX}/usr/lib/arm-linux-gnueabihf/pkgconfig
            reference: {{name: C, make: {EXAMPLE}/c, artifact: libgstcidentity.so}}
    """ + SMOKE.replace("\n    ", "\n            ").format() + f"""
              targets:
                {ARM}:
                  env: {{GST_PLUGIN_SYSTEM_PATH_1_0: {ARM_PREFIX}/usr/lib/arm-linux-gnueabihf/gstreamer-1.0,
                        GST_REGISTRY_FORK: "no"}}
        variants:
          - {{name: release-stripped, post: [strip]}}
    """)
    cell = results["cells"][0]
    assert (cell["target"], cell["status"]) == (ARM, "ok"), cell
    assert cell["smoke"]["ok"] is True, cell["smoke"]
    log = open(tmp_path / cell["smoke"]["log"]).read()
    assert log.splitlines()[0].split()[-10:-7] == ["qemu-arm", "-L", ARM_PREFIX]
    assert f"{ARM_PREFIX}/usr/bin/gst-launch-1.0" in log.splitlines()[0]
    assert 'Got EOS from element "pipeline0"' in log and "plugin loader failed" not in log
    plugin = tmp_path / cell["stages"][-1]["path"]
    assert open(plugin, "rb").read(20)[18] == 40  # e_machine EM_ARM
    ref = results["references"][0]
    assert (ref["target"], ref["status"]) == (ARM, "ok"), ref
