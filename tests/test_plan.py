"""Cells, shared builds, step sharing, task names, the exact cargo command lines, the plan as
nodes (what every driver translates) and `sizekit plan`."""
import json
import os
import subprocess
import sys

import pytest

from sizekit.stages import cargo
from sizekit.config.load import load_matrix
from sizekit.plan.cells import make_plan
from sizekit.plan.toolchains import ToolchainInfo

from conftest import ROOT, TINY, sizekit, write

HOST = "x86_64-unknown-linux-gnu"


def fake_toolchains(**extra):
    """Toolchain facts as a probe would report them (the plan only reads these)."""
    base = dict(cargo="/tc/bin/cargo", rustc="/tc/bin/rustc", rustc_version="rustc 1.95.0",
                cargo_version="cargo 1.95.0", host=HOST, release=(1, 95, 0), targets=[HOST])
    infos = {None: ToolchainInfo(name=None, **base),
             "stable": ToolchainInfo(name="stable", **base),
             "nightly": ToolchainInfo(name="nightly", **{**base, "cargo": "/n/bin/cargo", "rustc": "/n/bin/rustc",
                                                         "rustc_version": "rustc 1.97.0-nightly"},
                                      nightly=True, rust_src=extra.get("rust_src", False)),
             "debian": ToolchainInfo(name="debian", **{**base, "cargo": "/usr/bin/cargo", "rustc": "/usr/bin/rustc",
                                                       "cargo_version": "cargo 1.65.0",
                                                       "targets": [HOST, "armv7-unknown-linux-gnueabihf"]},
                                     sysroot="/sys/root", rust_src=extra.get("debian_src") is not None,
                                     rust_src_root=extra.get("debian_src"))}
    return infos


def plan_for(path, **extra):
    m = load_matrix(path, host=HOST)
    return make_plan(m, toolchains=fake_toolchains(**extra))


def test_example_matrix_shares_builds():
    plan = plan_for(os.path.join(ROOT, "matrix.yaml"))
    # hello-hyper: the 12 Tiny Rocket rows on stable; hello-hyper-arm: 7 rows x 2 targets on Debian's;
    # gst-rsidentity: 10 rows x 2 targets (8 cargo builds each); the two HTTP clients: 5 rows each.
    # The fleets' crates on Debian's, x 2 targets: http-ureq-arm 5 rows, multicall 4, gst-rscount 5,
    # gst-rscombined 4. (The image's four programs have a dynamic-std row: the prefer-dynamic
    # alternative.)
    assert len(plan.cells) == 12 + 7 * 2 + 10 * 2 + 5 + 5 + (5 + 4 + 5 + 4) * 2
    assert len([b for b in plan.builds if b.crate.name == "hello-hyper"]) == 8
    assert len([b for b in plan.builds if b.crate.name == "gst-rsidentity"]) == 8 * 2
    assert len(plan.builds) == 8 + 3 * 2 + 8 * 2 + 3 * 2 + (3 + 2 + 3 + 2) * 2
    assert {b.name for b in plan.builds if b.dynamic_std} == {
        f"{c}/{t}/dynamic-std" for c in ("hello-hyper-arm", "http-ureq-arm", "gst-rsidentity", "gst-rscount")
        for t in (HOST, "armv7-unknown-linux-gnueabihf")}
    assert [len(f.alternatives) for f in plan.matrix.fleets.values()] == [4, 4]
    names = {b.name: b.variants for b in plan.builds}
    assert names["hello-hyper/x86_64-unknown-linux-gnu/all-above"] == ["all-above", "all-stripped", "everything-upx"]
    # all-stripped and everything-upx share the strip of the all-above build.
    strips = [s for s in plan.steps if s.kind == "strip" and s.build.variants[0] == "all-above"
              and s.build.crate.name == "hello-hyper"]
    assert len(strips) == 1 and strips[0].variants == ["all-stripped", "everything-upx"]
    # The build-std rows run on Debian's rustc (RUSTC_BOOTSTRAP=1), with std's sources from its sysroot.
    build_std = [b for b in plan.builds if b.variants == ["build-std"]]
    assert {(b.crate.name, b.target, b.toolchain) for b in build_std} == {
        ("hello-hyper", HOST, "debian"), ("hello-hyper-arm", HOST, "debian"),
        ("hello-hyper-arm", "armv7-unknown-linux-gnueabihf", "debian")}
    sysroot = os.path.join(ROOT, ".sizekit", "sysroot")
    assert {b.problem for b in build_std} == {
        f"rust-src is not installed for toolchain 'debian', which build-std needs; fix: put std's sources "
        f"and their Cargo.lock in {sysroot}/lib/rustlib/src/rust (scripts/install does it for "
        f"Debian's rustc: its rust-src package and a pinned lockfile)"}
    prepared = plan_for(os.path.join(ROOT, "matrix.yaml"), debian_src="/sys/root/lib/rustlib/src/rust")
    assert [b.problem for b in prepared.builds if b.variants == ["build-std"]] == [None] * 3


def test_builds_with_equal_profile_settings_share_one_profile():
    plan = plan_for(os.path.join(ROOT, "matrix.yaml"))
    by = {(b.crate.name, b.target, b.variants[0]): b for b in plan.builds}
    release = by["hello-hyper", HOST, "release"]
    # release-malloc changes only the crate's features: one profile, so cargo builds the
    # dependencies the two share once; the builds (and their files) stay two.
    malloc = by["hello-hyper", HOST, "release-malloc"]
    assert malloc.key != release.key and malloc.profile == release.profile
    assert malloc.profile.startswith("sk-") and len(malloc.profile) == len("sk-") + 8
    # Another crate with the same settings shares it too; another target is another cargo folder.
    client = [b for b in plan.builds if b.crate.name == "http-ureq" and b.variants[0] == "release"][0]
    assert client.profile == release.profile
    # A profile key, rustflags, the toolchain or build-std each make another profile.
    for name in ("release-lto", "release-abort", "all-above"):
        other = [b for b in plan.builds if b.crate.name == "hello-hyper" and name in b.variants]
        assert other and other[0].profile != release.profile, name
    assert by["hello-hyper", HOST, "build-std"].profile not in {b.profile for b in plan.builds
                                                                 if b.toolchain != "debian"}
    argv, _ = cargo.command(plan, malloc)
    assert argv[argv.index("--profile") + 1] == release.profile
    assert "--no-default-features" in argv and "--no-default-features" not in cargo.command(plan, release)[0]


def test_rustflags_make_another_profile(tmp_path):
    plan = plan_for(tiny_matrix(tmp_path, [
        "- {name: a}",
        "- {name: b, features: [extra]}",
        "- {name: c, rustflags: [-Ctarget-cpu=native]}",
        "- {name: d, env: {FOO: '1'}}"]))
    profiles = {b.variants[0]: b.profile for b in plan.builds}
    assert profiles["a"] == profiles["b"]
    assert len({profiles["a"], profiles["c"], profiles["d"]}) == 3


def tiny_matrix(tmp_path, variants, extra=""):
    return write(tmp_path / "m.yaml", f"""
        version: 1
        toolchains:
          nightly: {{rustup: nightly}}
          debian: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: /sys/root}}
        targets:
          armv7-unknown-linux-gnueabihf:
            linker: sh
            strip: arm-linux-gnueabihf-strip
        crates:
          tiny: {{path: {TINY}, artifact: bin:tiny}}
        variants:
""" + "\n".join("          " + v for v in variants) + "\n" + extra)


def test_release_lto_command_line(tmp_path):
    plan = plan_for(tiny_matrix(tmp_path, [
        "- {name: lto, cargo: {lto: fat, codegen-units: 1, opt-level: z}, default-features: false, features: [extra]}"]))
    build = plan.builds[0]
    argv, env = cargo.command(plan, build)
    p = build.profile
    # cargo builds a private view of the crate folder, so it never writes the user's Cargo.lock.
    overlay = tmp_path / "out" / ".sizekit" / "overlay" / "tiny" / "default"
    remap = f"--remap-path-prefix={overlay}={os.path.realpath(TINY)}"
    assert argv == ["/tc/bin/cargo", "rustc", "--manifest-path", str(overlay / "Cargo.toml"),
                    "--target", HOST, "--profile", p,
                    "--target-dir", str(tmp_path / "out" / "target" / "default"),
                    "--message-format=json-render-diagnostics",
                    "--config", f'profile.{p}.inherits="release"',
                    "--config", f"profile.{p}.codegen-units=1",
                    "--config", f'profile.{p}.lto="fat"',
                    "--config", f'profile.{p}.opt-level="z"',
                    "--no-default-features", "--features", "extra", "--bin", "tiny",
                    # only the crate itself is remapped: its dependencies' command lines stay the
                    # same on every machine, so a shared compile cache can serve them
                    "--", remap]
    assert env == {"RUSTC": "/tc/bin/rustc", "CARGO_TERM_COLOR": "never"}


def test_build_std_and_nightly_flags_command_line(tmp_path):
    plan = plan_for(tiny_matrix(tmp_path, [
        "- name: bs",
        "  toolchain: nightly",
        "  cargo: {panic: abort, opt-level: 3}",
        "  build-std: {crates: [std], features: [optimize_for_size]}",
        "  nightly: [location-detail=none, -Zfmt-debug=none]"]), rust_src=True)
    build = plan.builds[0]
    assert build.problem is None
    argv, env = cargo.command(plan, build)
    p = build.profile
    overlay = tmp_path / "out" / ".sizekit" / "overlay" / "tiny" / "nightly"
    assert argv[0] == "/n/bin/cargo"
    assert argv[argv.index("--config"):] == [
        "--config", f'profile.{p}.inherits="release"',
        "--config", f"profile.{p}.opt-level=3",
        "--config", f'profile.{p}.panic="abort"',
        "--bin", "tiny",
        "-Z", "build-std=std,panic_abort", "-Z", "build-std-features=optimize_for_size",
        "--", f"--remap-path-prefix={overlay}={os.path.realpath(TINY)}"]
    assert env["CARGO_ENCODED_RUSTFLAGS"] == "-Zlocation-detail=none\x1f-Zfmt-debug=none"


def test_cross_target_with_debian_sysroot(tmp_path):
    path = tiny_matrix(tmp_path, ["- {name: r, toolchain: debian}"])
    text = open(path).read().replace("artifact: bin:tiny}", "artifact: bin:tiny, targets: [armv7-unknown-linux-gnueabihf]}")
    open(path, "w").write(text)
    plan = plan_for(path)
    build = plan.builds[0]
    assert build.problem is None
    argv, env = cargo.command(plan, build)
    overlay = tmp_path / "out" / ".sizekit" / "overlay" / "tiny" / "debian"
    assert argv[:6] == ["/usr/bin/cargo", "rustc", "--manifest-path", str(overlay / "Cargo.toml"),
                        "--target", "armv7-unknown-linux-gnueabihf"]
    assert argv[-2:] == ["--", f"--remap-path-prefix={overlay}={os.path.realpath(TINY)}"]
    assert env == {"RUSTC": "/usr/bin/rustc", "CARGO_TERM_COLOR": "never",
                   "CARGO_ENCODED_RUSTFLAGS": "--sysroot=/sys/root",
                   "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER": "sh"}


def test_unavailable_reasons(tmp_path):
    plan = plan_for(tiny_matrix(tmp_path, [
        "- {name: r}",
        "- {name: z, nightly: [location-detail=none]}",
        "- {name: bs, toolchain: nightly, build-std: {crates: [std]}}",
    ]))
    problems = {b.variants[0]: b.problem for b in plan.builds}
    assert problems == {
        "r": None,
        "z": "the cargo on PATH (rustc 1.95.0) is not a nightly, which build-std and -Z flags need; "
             "fix: set toolchain: nightly on this row, or env: {RUSTC_BOOTSTRAP: \"1\"}",
        "bs": "rust-src is not installed for toolchain 'nightly', which build-std needs; "
              "fix: rustup component add rust-src --toolchain nightly",
    }


def test_build_std_from_a_prepared_sysroot(tmp_path):
    """A stable toolchain with std's sources in its sysroot: RUSTC_BOOTSTRAP=1 on the row lets it take
    -Z build-std, and cargo is told where the sources are (it looks only in rustc's own sysroot)."""
    rows = ["- {name: bs, toolchain: debian, build-std: {crates: [std]}, cargo: {panic: abort}, "
            "env: {RUSTC_BOOTSTRAP: '1'}}",
            "- {name: nb, toolchain: debian, build-std: {crates: [std]}}"]
    plan = plan_for(tiny_matrix(tmp_path, rows), debian_src="/sys/root/lib/rustlib/src/rust")
    problems = {b.variants[0]: b.problem for b in plan.builds}
    assert problems["bs"] is None
    assert problems["nb"].startswith("toolchain 'debian' (rustc 1.95.0) is not a nightly")
    build = [b for b in plan.builds if b.variants == ["bs"]][0]
    argv, env = cargo.command(plan, build)
    assert argv[argv.index("-Z") + 1] == "build-std=std,panic_abort"
    assert env[cargo.STD_SOURCE_ENV] == "/sys/root/lib/rustlib/src/rust"
    # std's paths are named as rustc's own std names them, not by the checkout's folder.
    assert env["CARGO_ENCODED_RUSTFLAGS"] == "--sysroot=/sys/root\x1f--remap-path-prefix=/sys/root/lib/rustlib/src=/rustc/1.95.0"
    # Without build-std the variable is not set: an ordinary build never reads std's sources.
    plain = plan_for(tiny_matrix(tmp_path, ["- {name: r, toolchain: debian}"]), debian_src="/sys/root/x")
    assert cargo.STD_SOURCE_ENV not in cargo.command(plain, plain.builds[0])[1]


def test_only_restricts_cells_and_names_are_readable(tmp_path):
    plan = plan_for(tiny_matrix(tmp_path, [
        "- {name: r}",
        "- {name: s, from: r, post: [strip], only: {targets: [armv7-unknown-linux-gnueabihf]}}",
    ]))
    assert [c.name for c in plan.cells] == ["tiny/x86_64-unknown-linux-gnu/r"]


def test_lockfile_version_support():
    info = fake_toolchains()["debian"]
    assert info.lock_version_ok(3) and not info.lock_version_ok(4)
    assert fake_toolchains()["stable"].lock_version_ok(4)


def _immediate_abort_argv(tmp_path, release, variant):
    plan = plan_for(tiny_matrix(tmp_path, [variant]), rust_src=True)
    plan.toolchains["nightly"].release = release
    build = plan.builds[0]
    argv, _ = cargo.command(plan, build)
    argv = argv[:argv.index("--")]  # the crate's own remap argument follows "--"
    return argv[argv.index("--message-format=json-render-diagnostics") + 1:], build.profile


def test_immediate_abort_as_a_new_nightly_spells_it(tmp_path):
    variant = ("- {name: ia, toolchain: nightly, cargo: {panic: immediate-abort, opt-level: z},"
               " build-std: {crates: [std], features: [optimize_for_size]}}")
    argv, p = _immediate_abort_argv(tmp_path, (1, 97, 0), variant)
    assert argv == ["--config", f'profile.{p}.inherits="release"',
                    "-Z", "panic-immediate-abort",
                    "--config", f'profile.{p}.opt-level="z"',
                    "--config", f'profile.{p}.panic="immediate-abort"',
                    "--bin", "tiny",
                    "-Z", "build-std=std,panic_abort", "-Z", "build-std-features=optimize_for_size"]


def test_immediate_abort_as_an_old_nightly_spells_it(tmp_path):
    # The same row, written the xargo way, for a 2024 nightly.
    variant = ("- {name: ia, toolchain: nightly, cargo: {panic: abort},"
               " xargo: {dependencies: {std: {features: [panic_immediate_abort]}}}}")
    argv, p = _immediate_abort_argv(tmp_path, (1, 85, 0), variant)
    assert argv == ["--config", f'profile.{p}.inherits="release"',
                    "--config", f'profile.{p}.panic="abort"',
                    "--bin", "tiny",
                    "-Z", "build-std=std,panic_abort", "-Z", "build-std-features=panic_immediate_abort"]
    # and the new spelling of the same request on the old nightly
    variant = "- {name: ia, toolchain: nightly, cargo: {panic: immediate-abort}, build-std: {crates: [std]}}"
    argv, p = _immediate_abort_argv(tmp_path, (1, 85, 0), variant)
    assert argv[-4:] == ["-Z", "build-std=std,panic_abort", "-Z", "build-std-features=panic_immediate_abort"]
    assert f'profile.{p}.panic="abort"' in argv


# --- the plan as nodes, and `sizekit plan` ----------------------------------------------------

GONE = f"""
    version: 1
    toolchains:
      gone: {{cargo: /nonexistent/bin/cargo, rustc: /nonexistent/bin/rustc}}
    crates:
      tiny: {{path: {TINY}, artifact: bin:tiny, toolchain: gone,
              smoke: {{command: [no-such-smoke-program, "{{artifact}}"], expect: "tiny"}}}}
    variants:
      - {{name: release}}
      - {{name: release-stripped, from: release, post: [strip]}}
      - {{name: small, cargo: {{opt-level: z}}}}
"""


def test_every_driver_takes_its_signatures_from_the_nodes(tmp_path):
    # doit's config_changed and SCons's settings Value hold the node's signature, nothing else:
    # so the smoke command's problem (a program found missing) reaches both.
    from doit.tools import config_changed
    from sizekit.drivers.doit.tasks import generate
    from sizekit.drivers.nodes import load_plan, plan_nodes
    plan = load_plan(write(tmp_path / "m.yaml", GONE), cache=False)
    nodes = {n.id: n for n in plan_nodes(plan)}
    smoke = nodes[f"smoke:tiny/{HOST}/release"]
    assert smoke.signature["command"].startswith("smoke command 'no-such-smoke-program' not found on PATH")
    for task in generate(plan):
        node = nodes[f"{task['basename']}:{task['name']}" if "name" in task else task["basename"]]
        changed = [u for u in task["uptodate"] if isinstance(u, config_changed)]
        assert changed[0].config == node.signature and task["targets"] == list(node.outputs)
    scons = pytest.importorskip("SCons.Environment")
    from sizekit.drivers.scons.nodes import Nodes
    declared = Nodes(scons.Environment(tools=[]), plan)
    assert json.dumps(smoke.signature, sort_keys=True) in str(declared.settings(smoke).value)


def test_plan_json_names_cells_builds_nodes_outputs_and_shards(tmp_path):
    path = write(tmp_path / "m.yaml", GONE)
    run = sizekit("plan", path, "--json", "--shards", "2", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    out = str(tmp_path / "out")
    assert not os.path.exists(out)    # planning builds and writes nothing
    assert data["outputs"]["results_json"] == os.path.join(out, "results.json")
    assert data["outputs"]["snapshot"] == os.path.join(out, "snapshot.sksnap.zst")
    assert data["outputs"]["reports"] == [os.path.join(out, "reports", n) for n in ("tiny.md", "sizes.csv", "index.html")]
    cells = {c["variant"]: c for c in data["cells"]}
    assert cells["release-stripped"]["build"] == cells["release"]["build"] != cells["small"]["build"]
    assert cells["release"]["artifact"] == os.path.join(out, "build", "tiny", HOST, cells["release"]["build"], "tiny")
    assert cells["release-stripped"]["artifact"].startswith(os.path.join(out, "post", "tiny", HOST, ""))
    assert data["outputs"]["artifacts"] == [c["artifact"] for c in data["cells"]]
    builds = {b["key"]: b for b in data["builds"]}
    assert sorted(b["shard"] for b in builds.values()) == [1, 2]
    assert all(c["shard"] == builds[c["build"]]["shard"] for c in data["cells"])
    assert all(b["problem"].startswith("cargo '/nonexistent/bin/cargo'") for b in builds.values())
    kinds = [n["kind"] for n in data["nodes"]]
    assert kinds == ["build"] * 2 + ["post"] + ["measure"] * 3 + ["smoke"] * 3 + ["report"]
    measure = next(n for n in data["nodes"] if n["kind"] == "measure")
    assert measure["signature"]["estimator"].startswith("the UPX-size model's fingerprint")
    report = data["nodes"][-1]
    assert report["id"] == "report" and report["outputs"] == [data["outputs"]["results_json"], *data["outputs"]["reports"]]


def test_plan_get_prints_one_path_and_loads_no_driver_native_module_or_zstandard(tmp_path):
    path = write(tmp_path / "m.yaml", GONE)
    run = sizekit("plan", path, "--get", "results_json", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout == str(tmp_path / "out" / "results.json") + "\n", run.stderr
    code = ("import argparse; from sizekit.cli import plan; "
            f"plan.cmd_plan(argparse.Namespace(matrix={path!r}, shards=1, get=None, json=True, make=False))")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and json.loads(proc.stdout)["cells"], proc.stderr
    loaded = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}
    heavy = {m for m in loaded if m.split(".")[0] in ("doit", "SCons", "zstandard") or m == "sizekit.elf.engine"}
    assert not heavy


def test_plan_refuses_a_bad_shard_count(tmp_path):
    run = sizekit("plan", write(tmp_path / "m.yaml", GONE), "--shards", "0", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr == "sizekit: --shards 0: give a number of shards of at least 1\n"


def test_prefer_dynamic_is_read_from_the_rustflags():
    from sizekit.plan.cells import prefers_dynamic
    assert prefers_dynamic(["-C", "prefer-dynamic"]) and prefers_dynamic(["-Cprefer-dynamic=yes"])
    assert not prefers_dynamic(["-Cprefer-dynamic", "-C", "prefer-dynamic=no"])   # the last one wins
    assert not prefers_dynamic(["prefer-dynamic"]) and not prefers_dynamic(["-C", "opt-level=z"])


def test_prefer_dynamic_needs_the_toolchains_shared_std(tmp_path):
    plan = plan_for(tiny_matrix(tmp_path, ["- {name: dyn, rustflags: [-C, prefer-dynamic]}"]))
    (build,) = plan.builds
    assert build.dynamic_std
    assert build.problem == ("the cargo on PATH has no shared std (lib/rustlib/x86_64-unknown-linux-gnu/lib/"
                             "libstd-*.so) for -C prefer-dynamic; fix: drop prefer-dynamic from this row, or use a "
                             "toolchain that ships it")
