"""The command form of smoke: (a program that loads the artifact, e.g. gst-launch-1.0 for a plugin).

Quick tests: the matrix checker, placeholders, per-target overrides, where the program is looked
up (the host's PATH, or the runner's sysroot for a foreign target), and real runs of small
programs. tests/test_gstreamer.py runs the real thing on a built plugin.
"""
import os
import sys
import types

import pytest

from conftest import ROOT, write
from sizekit.config.matrix import parse_matrix
from sizekit.plan.availability import runner_sysroot, smoke_command_problem, smoke_program
from sizekit.stages.smoke import expand, for_target, run_smoke, wants_smoke
from sizekit.utils.errors import MatrixError

TINY = os.path.join(ROOT, "tests", "fixtures", "tiny")
HOST = "x86_64-unknown-linux-gnu"
ARM = "armv7-unknown-linux-gnueabihf"


def parse(smoke, targets="", crate_targets=""):
    text = f"""version: 1
targets:
  {ARM}: {{linker: arm-linux-gnueabihf-gcc, runner: [qemu-arm, -L, /usr/arm-linux-gnueabihf]}}
{targets}crates:
  plug:
    path: {TINY}
    artifact: cdylib:plug
    smoke: {smoke}
{crate_targets}variants: [{{name: release}}]
"""
    return parse_matrix(text, "m.yaml", ROOT, host=HOST).crates["plug"].smoke


def problems(smoke, **kw):
    with pytest.raises(MatrixError) as info:
        parse(smoke, **kw)
    return info.value.problems


def test_command_form_is_parsed_with_its_env_and_overrides():
    smoke = parse('{command: [gst-launch-1.0, fakesrc, "!", rsidentity, "!", fakesink], '
                  'env: {GST_PLUGIN_PATH: "{artifact_dir}"}, expect: Got EOS, timeout: 30, '
                  f'targets: {{{ARM}: {{env: {{X: "1"}}, timeout: 90}}}}}}',
                  crate_targets=f"    targets: [{HOST}, {ARM}]\n")
    assert smoke == {"command": ["gst-launch-1.0", "fakesrc", "!", "rsidentity", "!", "fakesink"],
                     "expect": "Got EOS", "timeout": 30, "env": {"GST_PLUGIN_PATH": "{artifact_dir}"},
                     "exit": 0, "targets": {ARM: {"env": {"X": "1"}, "timeout": 90}}}
    assert for_target(smoke, ARM)["env"] == {"GST_PLUGIN_PATH": "{artifact_dir}", "X": "1"}
    assert for_target(smoke, ARM)["timeout"] == 90 and "targets" not in for_target(smoke, ARM)
    assert for_target(smoke, HOST) == {k: v for k, v in smoke.items() if k != "targets"}


def test_the_older_forms_parse_as_before():
    assert parse("{args: [--version], expect: x}") == {"args": ["--version"], "expect": "x", "timeout": 10,
                                                       "env": {}, "exit": 0}
    assert "targets" not in parse("{http: {path: /}}")


def test_placeholder_errors_name_the_key_and_the_fix():
    assert problems('{command: [run, "{artefact}"]}') == [
        "m.yaml:8: crates.plug.smoke.command[1]: unknown placeholder {artefact} (did you mean \"artifact\"?); "
        "use {artifact}, {artifact_dir} or {tmp} (write {{ or }} for a literal brace)"]
    assert problems('{command: [run], env: {A: "{artifact_dir"}}') == [
        "m.yaml:8: crates.plug.smoke.env.A: cannot read the placeholders in '{artifact_dir' "
        "(expected '}' before end of string); write {{ or }} for a literal brace"]
    assert problems('{command: [run, "{artifact!r}"]}') == [
        "m.yaml:8: crates.plug.smoke.command[1]: placeholder {artifact} takes no format or conversion; "
        "write {artifact}"]
    # attribute and index lookups are not placeholders either
    assert "unknown placeholder {artifact.__class__}" in problems('{command: [run, "{artifact.__class__}"]}')[0]
    # literal braces are fine
    assert parse('{command: [run, "{{x}}", "{tmp}/r"]}')["command"] == ["run", "{{x}}", "{tmp}/r"]


def test_command_form_shape_errors():
    assert problems("{command: []}") == [
        "m.yaml:8: crates.plug.smoke.command: expected [program, arguments...], got an empty list"]
    assert problems("{command: [run], args: [-v]}") == [
        "m.yaml:8: crates.plug.smoke: give either command: or args:, not both"]
    assert problems(f"{{args: [-v], targets: {{{ARM}: {{command: [x]}}}}}}",
                    crate_targets=f"    targets: [{ARM}]\n") == [
        f"m.yaml:8: crates.plug.smoke.targets.{ARM}.command: a target's command: needs the command form "
        f"(smoke.command)"]
    assert problems("{command: [run], targets: {aarch64-unknown-linux-gnu: {timeout: 5}}}",
                    crate_targets=f"    targets: [{HOST}, {ARM}]\n") == [
        "m.yaml:8: crates.plug.smoke.targets.aarch64-unknown-linux-gnu: 'aarch64-unknown-linux-gnu' is not one "
        f"of the crate's targets; use one of: {HOST}, {ARM}"]
    assert problems(f"{{command: [run], targets: {{{ARM}: {{path: x}}}}}}",
                    crate_targets=f"    targets: [{ARM}]\n") == [
        f"m.yaml:8: crates.plug.smoke.targets.{ARM}.path: unknown key; allowed: command, env, expect, timeout, exit"]


def test_expand_fills_only_known_names():
    values = {"artifact": "/o/libx.so", "artifact_dir": "/o", "tmp": "/t"}
    assert expand("{artifact_dir}:{{literal}}:{tmp}/reg", values) == "/o:{literal}:/t/reg"
    assert expand("plain", values) == "plain"


def test_wants_smoke_runs_a_cdylib_only_through_a_command():
    def cell(kind, smoke):
        return types.SimpleNamespace(crate=types.SimpleNamespace(kind=kind, smoke=smoke))
    assert wants_smoke(cell("cdylib", {"command": ["x"]}))
    assert not wants_smoke(cell("cdylib", {"args": []}))
    assert wants_smoke(cell("bin", {"args": []}))
    assert not wants_smoke(cell("bin", None))


def test_program_lookup_host_path_and_runner_sysroot(tmp_path):
    matrix = types.SimpleNamespace(root=str(tmp_path))
    runner = ["qemu-arm", "-L", str(tmp_path / "sysroot")]
    assert runner_sysroot(runner) == str(tmp_path / "sysroot")
    assert runner_sysroot(["qemu-arm"], {"QEMU_LD_PREFIX": "/p"}) == "/p"
    assert runner_sysroot(["valgrind"]) is None
    # the host: PATH (of the smoke's own env when it sets one)
    path, problem = smoke_program(matrix, "sh", HOST, HOST)
    assert problem is None and os.path.basename(path) == "sh" and os.path.isabs(path)
    assert smoke_program(matrix, "sizekit-no-such-tool", HOST, HOST) == (None, (
        "smoke command 'sizekit-no-such-tool' not found on PATH; fix: install it, or give its path in "
        "smoke.command"))
    os.chmod(write(tmp_path / "bin" / "tool", "#!/bin/sh\n"), 0o755)
    assert smoke_program(matrix, "tool", HOST, HOST, env={"PATH": str(tmp_path / "bin")}) == \
        (str(tmp_path / "bin" / "tool"), None)
    # a path: relative to the matrix's folder
    assert smoke_program(matrix, "bin/tool", HOST, HOST) == (str(tmp_path / "bin" / "tool"), None)
    # a foreign target under qemu -L: the target's build of the program, in the sysroot
    assert smoke_program(matrix, "gst-launch-1.0", ARM, HOST, runner) == (None, (
        f"smoke command 'gst-launch-1.0' for {ARM} not found in the runner's sysroot {tmp_path / 'sysroot'} "
        f"(looked in usr/bin, bin, usr/local/bin); fix: install the {ARM} build of it there "
        f"(scripts/install unpacks armhf GStreamer's tools into /usr/arm-linux-gnueabihf)"))
    write(tmp_path / "sysroot" / "usr" / "bin" / "gst-launch-1.0", "")
    assert smoke_program(matrix, "gst-launch-1.0", ARM, HOST, runner) == \
        (str(tmp_path / "sysroot" / "usr" / "bin" / "gst-launch-1.0"), None)


PRINTER = """
import os, sys
print("args", sys.argv[1:])
print("dir", os.environ["PLUGIN_DIR"])
print("tmp exists", os.path.isdir(os.environ["SCRATCH"]))
print("runner", os.environ.get("VIA_RUNNER", "none"))
"""


def spec(**kw):
    return {"timeout": 20, "env": {}, "exit": 0, **kw}


def test_command_runs_with_placeholders_filled(tmp_path):
    artifact = write(tmp_path / "out" / "libplug.so", "not really a library")
    script = write(tmp_path / "printer.py", PRINTER)
    s = spec(command=[sys.executable, script, "--load={artifact}", "{{kept}}"],
             env={"PLUGIN_DIR": "{artifact_dir}", "SCRATCH": "{tmp}"}, expect="tmp exists True")
    log = str(tmp_path / "logs" / "smoke.log")
    assert run_smoke(s, artifact, log_path=log) == {"ok": True, "detail": "exit 0, output has 'tmp exists True'"}
    text = open(log).read()
    assert f"args ['--load={artifact}', '{{kept}}']" in text
    assert f"dir {tmp_path / 'out'}" in text
    assert text.splitlines()[0].startswith(f"$ PLUGIN_DIR={tmp_path / 'out'} SCRATCH=")
    # the folder for {tmp} is gone afterwards
    scratch = text.splitlines()[0].split("SCRATCH=")[1].split()[0]
    assert scratch.startswith("/") and not os.path.exists(scratch)


def test_command_runs_under_the_runner_and_reports_failures(tmp_path):
    artifact = write(tmp_path / "libplug.so", "")
    script = write(tmp_path / "printer.py", PRINTER)
    env = {"PLUGIN_DIR": "{artifact_dir}", "SCRATCH": "{tmp}"}
    log = str(tmp_path / "smoke.log")
    runner = ["env", "VIA_RUNNER=yes"]
    assert run_smoke(spec(command=[sys.executable, script], env=env, expect="runner yes"), artifact,
                     runner, log)["ok"] is True
    assert open(log).readline().split()[-3:] == ["VIA_RUNNER=yes", sys.executable, script]
    assert run_smoke(spec(command=[sys.executable, "-c", "import sys; sys.exit(3)"]), artifact,
                     log_path=log) == {"ok": False, "detail": "exit 3"}
    assert run_smoke(spec(command=[sys.executable, script], env=env, expect="Got EOS"), artifact,
                     log_path=log)["detail"].startswith("output lacks 'Got EOS'")


def test_command_whose_program_is_missing_is_unavailable_not_failed(tmp_path):
    artifact = write(tmp_path / "libplug.so", "")
    matrix = types.SimpleNamespace(root=str(tmp_path))

    def find(program, env):
        return smoke_program(matrix, program, HOST, HOST, None, env)

    result = run_smoke(spec(command=["sizekit-no-such-tool", "{artifact}"]), artifact,
                       log_path=str(tmp_path / "s.log"), find_program=find)
    assert result == {"ok": None, "detail": "unavailable: smoke command 'sizekit-no-such-tool' not found on PATH; "
                                            "fix: install it, or give its path in smoke.command"}


def test_command_problem_for_the_drivers_up_to_date_checks(tmp_path):
    runner = ["sh", "-L", str(tmp_path / "sysroot")]
    matrix = types.SimpleNamespace(root=str(tmp_path), targets={ARM: types.SimpleNamespace(runner=runner)})
    smoke = {"command": ["gst-launch-1.0", "x"], "env": {}, "targets": {ARM: {"env": {"A": "1"}}}}
    assert smoke_command_problem(matrix, smoke, ARM, HOST).startswith(
        f"smoke command 'gst-launch-1.0' for {ARM} not found in the runner's sysroot")
    write(tmp_path / "sysroot" / "usr" / "bin" / "gst-launch-1.0", "")
    assert smoke_command_problem(matrix, smoke, ARM, HOST) is None
    assert smoke_command_problem(matrix, {"command": ["{artifact}"]}, ARM, HOST) is None
    assert smoke_command_problem(matrix, {"args": []}, ARM, HOST) is None
