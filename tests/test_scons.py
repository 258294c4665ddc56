"""The SCons driver on real builds of the tiny crate: cold, no-op, touch, edit, post-step change,
-c, -n, --debug=explain, failures, bad matrices, aliases, shards, the tool shims, the
firmware-scons example, and the same table as doit's.

Each test runs the real `scons` (SCons 4, as `python -m SCons` so it sees this sizekit) in a
user's project under tmp_path: copies of the tiny crate, a matrix and a two-line SConstruct.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import FIRMWARE_TOOL_MATRIX, ROOT, TWO_ROWS, copy_tiny, doit, require_tool, tiny_project, write

# Builds real crates with cargo (and strip): deselect with -m "not slow".
pytestmark = pytest.mark.slow

SCONSTRUCT = """\
import sizekit.scons
env = Environment(tools=["default", sizekit.scons.tool])
env.SizeMatrix("matrix.yaml"{extra})
"""

SMOKED = """
    version: 1
    crates:
      tiny: {path: tiny, artifact: bin:tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
    variants:
      - {name: release}
      - {name: release-stripped, from: release, post: [strip]}
"""

HOST = "x86_64-unknown-linux-gnu"
JOB = re.compile(r"^sizekit (build|post|measure|smoke|reference):(\S+)$|^sizekit (report)$")


def scons_project(folder, matrix_text, crate_dirs=("tiny",), extra=""):
    """A user's project: tiny crate copies, the matrix and an SConstruct declaring it."""
    require_tool("scons")
    tiny_project(folder, matrix_text, crate_dirs)
    write(os.path.join(str(folder), "SConstruct"), SCONSTRUCT.format(extra=extra))
    return folder


def scons(folder, *args, check=True, timeout=900):
    """Run `python -m SCons -Q ARGS` in folder; raise with its output when check and it fails."""
    proc = subprocess.run([sys.executable, "-m", "SCons", "-Q", *args], cwd=folder, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"scons {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def ran(proc):
    """What the nodes SCons ran did: 'build:NAME', 'post:NAME', ..., 'report'."""
    jobs = []
    for line in proc.stdout.splitlines():
        m = JOB.match(line)
        if m:
            jobs.append(f"{m.group(1)}:{m.group(2)}" if m.group(1) else "report")
    return jobs


def kinds(jobs):
    return sorted({j.split(":")[0] for j in jobs})


def later():
    time.sleep(0.01)
    t = time.time() + 5
    return (t, t)


def state_mtimes(folder):
    """mtime of every file sizekit wrote under out/ (not cargo's target folder)."""
    out = os.path.join(str(folder), "out")
    found = {}
    for dirpath, dirnames, files in os.walk(out):
        if dirpath == out and "target" in dirnames:
            dirnames.remove("target")
        for f in files:
            path = os.path.join(dirpath, f)
            found[path] = os.stat(path).st_mtime_ns
    return found


@pytest.fixture
def built(tmp_path):
    scons_project(tmp_path, SMOKED)
    proc = scons(tmp_path)
    assert kinds(ran(proc)) == ["build", "measure", "post", "report", "smoke"], proc.stdout
    return tmp_path


def test_progress_lines_count_builds_steps_and_cells(tmp_path):
    """The progress words doit's reporter prints (sizekit.drivers.progress), from SCons: a cold
    run counts up to every build, step and cell; after an edit to the stripped row's settings only
    its step and cell run, and the build it shares counts as done (up to date) before they start."""
    scons_project(tmp_path, SMOKED)
    proc = scons(tmp_path)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert lines[0].startswith(f"[builds 0/1, steps 0/1, cells 0/2] build:tiny/{HOST}/release started "
                               "(elapsed 0:00, ETA --)"), proc.stderr
    assert any(line.startswith(f"[builds 1/1, steps 0/1, cells 0/2] post:tiny/{HOST}/release-stripped/strip1 "
                               "started") for line in lines), proc.stderr
    assert re.match(r"\[builds 1/1, steps 1/1, cells 2/2\] finished in \d+:\d\d \(7 run, 0 up to date\)$",
                    lines[-1]), proc.stderr
    write(tmp_path / "matrix.yaml", SMOKED.replace("post: [strip]", "post: [{strip: {args: [--strip-debug]}}]"))
    proc = scons(tmp_path)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("[")]
    assert lines[0].startswith(f"[builds 1/1, steps 0/1, cells 0/2] post:tiny/{HOST}/release-stripped/strip1 "
                               "started"), proc.stderr
    assert re.match(r"\[builds 1/1, steps 1/1, cells 2/2\] finished in .* up to date\)$", lines[-1]), proc.stderr


def test_an_image_depends_on_one_shipped_cell(tmp_path):
    """env.SizeArtifact is a source like any other: building the image builds that cell's build and
    strip and nothing else; the copy is rewritten only when its bytes change."""
    scons_project(tmp_path, SMOKED)
    image_rule = ('art = env.SizeArtifact("tiny", "%s", "release-stripped")\n'
                  'env.Command("rootfs/usr/bin/tiny", art, Copy("$TARGET", "$SOURCE"))\n' % HOST)
    write(tmp_path / "SConstruct", SCONSTRUCT.format(extra="") + image_rule)
    proc = scons(tmp_path, "rootfs/usr/bin/tiny")
    assert sorted(ran(proc)) == [f"build:tiny/{HOST}/release", f"post:tiny/{HOST}/release-stripped/strip1"]
    assert f"sizekit ship:tiny/{HOST}/release-stripped" in proc.stdout
    shipped = tmp_path / "out" / "ship" / "tiny" / HOST / "release-stripped" / "tiny"
    image = tmp_path / "rootfs" / "usr" / "bin" / "tiny"
    assert image.read_bytes() == shipped.read_bytes()
    assert not os.path.exists(tmp_path / "out" / "results.json")      # no measure, smoke or report ran
    assert subprocess.run([str(image), "--version"], capture_output=True, text=True).stdout.strip() == "tiny 0.1.0"
    stamp = shipped.stat().st_mtime_ns
    assert ran(scons(tmp_path, "rootfs/usr/bin/tiny")) == []            # up to date
    # A row the image does not use changes: the image is left alone.
    write(tmp_path / "matrix.yaml", SMOKED + "      - {name: release-z, from: release, cargo: {opt-level: z}}\n")
    proc = scons(tmp_path, "rootfs/usr/bin/tiny")
    assert ran(proc) == [] and "sizekit ship" not in proc.stdout and shipped.stat().st_mtime_ns == stamp
    # A source edit that changes the program: that cell's build and strip run, and the image changes.
    main = tmp_path / "tiny" / "src" / "main.rs"
    main.write_text(main.read_text().replace("hello from tiny", "hello from the image"))
    proc = scons(tmp_path, "rootfs/usr/bin/tiny")
    assert sorted(ran(proc)) == [f"build:tiny/{HOST}/release", f"post:tiny/{HOST}/release-stripped/strip1"]
    assert subprocess.run([str(image)], capture_output=True, text=True).stdout.strip() == "hello from the image"
    # An unknown cell is one clear error.
    write(tmp_path / "SConstruct", SCONSTRUCT.format(extra="") + 'env.SizeArtifact("tiny", "nowhere", "release")\n')
    proc = scons(tmp_path, check=False)
    assert proc.returncode != 0 and "SizeArtifact: no cell tiny/nowhere/release" in proc.stderr


def test_cold_build_then_nothing_runs(built):
    results = json.load(open(built / "out" / "results.json"))
    assert [(c["variant"], c["status"], c["smoke"]["ok"]) for c in results["cells"]] == [
        ("release", "ok", True), ("release-stripped", "ok", True)]
    assert results["cells"][1]["final_bytes"] < results["cells"][0]["final_bytes"]
    before = state_mtimes(built)
    proc = scons(built)
    assert ran(proc) == []
    assert "scons: `.' is up to date." in proc.stdout
    assert "cargo build" not in proc.stderr
    assert state_mtimes(built) == before


def test_dry_run_shows_what_would_run_and_runs_nothing(tmp_path):
    scons_project(tmp_path, SMOKED)
    proc = scons(tmp_path, "-n")
    assert sorted(ran(proc)) == sorted([
        f"build:tiny/{HOST}/release", f"post:tiny/{HOST}/release-stripped/strip1",
        f"measure:tiny/{HOST}/release", f"measure:tiny/{HOST}/release-stripped",
        f"smoke:tiny/{HOST}/release", f"smoke:tiny/{HOST}/release-stripped", "report"])
    assert "cargo build" not in proc.stderr
    assert not os.path.exists(tmp_path / "out" / "results.json")
    assert not os.path.exists(tmp_path / "out" / "target")


def test_touching_a_source_runs_nothing(built):
    os.utime(built / "tiny" / "src" / "main.rs", later())
    os.utime(built / "tiny" / "Cargo.toml", later())
    proc = scons(built)
    assert ran(proc) == [] and "cargo build" not in proc.stderr, proc.stdout + proc.stderr
    assert ran(scons(built)) == []


def test_comment_edit_runs_cargo_but_nothing_after_it(built):
    with open(built / "tiny" / "src" / "main.rs", "a") as f:
        f.write("\n// a comment that changes no byte of the binary\n")
    names = ran(scons(built))
    # The build meta (cargo's seconds) changed, so the report is written again; the binary did not.
    assert names == [f"build:tiny/{HOST}/release", "report"]
    assert ran(scons(built)) == []


def test_editing_one_crate_rebuilds_only_its_cells(tmp_path):
    scons_project(tmp_path, """
        version: 1
        crates:
          tiny: {path: tiny, artifact: bin:tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
          other: {path: other, artifact: bin:tiny, smoke: {args: [--version], expect: "tiny 0.1.0"}}
        variants:
          - {name: release}
          - {name: release-stripped, from: release, post: [strip]}
    """, crate_dirs=("tiny", "other"))
    scons(tmp_path, "-j2")
    main = tmp_path / "other" / "src" / "main.rs"
    main.write_text(main.read_text().replace("hello from tiny", "hello from the other tiny"))
    names = ran(scons(tmp_path, "-j2"))
    assert sorted(names) == sorted([
        f"build:other/{HOST}/release", f"post:other/{HOST}/release-stripped/strip1",
        f"measure:other/{HOST}/release", f"measure:other/{HOST}/release-stripped",
        f"smoke:other/{HOST}/release", f"smoke:other/{HOST}/release-stripped", "report"])
    assert ran(scons(tmp_path)) == []


def test_explain_says_why_a_cell_rebuilds(built):
    main = built / "tiny" / "src" / "main.rs"
    main.write_text(main.read_text().replace("hello from tiny", "hello from an explained tiny"))
    proc = scons(built, "--debug=explain")
    assert (f"sizekit: build:tiny/{HOST}/release: tiny/src/main.rs changed since cargo last built it"
            in proc.stderr)
    assert (f"because `cargo's sources and last outcome of build:tiny/{HOST}/release in out' changed"
            in proc.stdout)
    cell = f"out/.sizekit/cells/tiny__{HOST}__release.json"
    assert re.search(rf"rebuilding `{re.escape(cell)}' because `out/\.sizekit/stages/\w+\.json' changed",
                     proc.stdout), proc.stdout


def test_a_post_step_change_reruns_that_step_only(built):
    record = next(built.glob("out/.sizekit/stages/*.json"))
    strip = [p for p in built.glob("out/.sizekit/stages/*.json") if json.load(open(p))["step"] == "strip"][0]
    # Its record gone: the step runs again, makes the same bytes, and nothing after it runs.
    strip.unlink()
    assert ran(scons(built)) == [f"post:tiny/{HOST}/release-stripped/strip1"]
    # Other strip options: no cargo; the step, then that cell's measure and smoke, then the report.
    write(built / "matrix.yaml", SMOKED.replace("post: [strip]", "post: [{strip: {args: [--strip-debug]}}]"))
    names = ran(scons(built))
    assert names[0] == f"post:tiny/{HOST}/release-stripped/strip1"
    assert sorted(names[1:]) == sorted([f"measure:tiny/{HOST}/release-stripped",
                                        f"smoke:tiny/{HOST}/release-stripped", "report"])
    assert json.load(open(record))["status"] == "ok"


def test_clean_removes_what_the_matrix_built_but_not_cargos_target(built):
    out = built / "out"
    proc = scons(built, "-c")
    assert "Removed out/results.json" in proc.stdout
    left = [os.path.relpath(p, out) for p in state_mtimes(built)]
    assert not [p for p in left if p.startswith((".sizekit/stages", ".sizekit/cells", ".sizekit/smoke",
                                                 ".sizekit/builds", "build/", "post/", "reports",
                                                 "results.json", "snapshot", "logs/"))], left
    assert (out / "target" / "default").is_dir()
    assert (built / "tiny" / "src" / "main.rs").is_file()
    # The next build asks cargo, which has its target folder still.
    assert kinds(ran(scons(built))) == ["build", "measure", "post", "report", "smoke"]
    scons(built, "-c", "--clean-cargo")
    assert not (out / "target" / "default").exists()
    assert (built / "tiny" / "src" / "main.rs").is_file()


def test_a_failing_cell_does_not_stop_the_others_and_is_retried(tmp_path):
    scons_project(tmp_path, """
        version: 1
        crates:
          tiny: {path: tiny, artifact: bin:tiny}
        variants:
          - {name: release}
          - {name: broken, from: release, rustflags: ["-C", "no-such-codegen-option=1"]}
          - {name: release-stripped, from: release, post: [strip]}
    """)
    proc = scons(tmp_path, "-j2", check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert (f"scons: *** [out/results.json] 1 cell(s) failed:\n  tiny/{HOST}/broken: "
            f"cargo build failed (exit status 101)") in proc.stderr
    cells = {c["variant"]: c for c in json.load(open(tmp_path / "out" / "results.json"))["cells"]}
    assert (cells["release"]["status"], cells["release-stripped"]["status"]) == ("ok", "ok")
    assert cells["broken"]["status"] == "failed"
    # The failed build is tried again (as doit does); the others stay up to date.
    again = scons(tmp_path, check=False)
    assert again.returncode != 0
    assert ran(again) == [f"build:tiny/{HOST}/broken", "report"]


@pytest.mark.parametrize("index", [0, 9, 16])
def test_bad_matrix_gives_doits_message(tmp_path, index):
    require_tool("scons")
    folder = os.path.join(ROOT, "tests", "bad_matrices")
    with open(os.path.join(folder, "expected.tsv")) as f:
        name, message = list(f)[index].rstrip("\n").split("\t")
    message = message.replace("{tests}", os.path.join(ROOT, "tests"))
    sconstruct = write(tmp_path / "SConstruct", SCONSTRUCT.format(extra="").replace('"matrix.yaml"', repr(name)))
    proc = subprocess.run([sys.executable, "-m", "SCons", "-Q", "-f", sconstruct], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (2, message + "\n")
    assert "Traceback" not in proc.stdout
    assert not os.path.exists(os.path.join(folder, "out"))
    assert not os.path.exists(os.path.join(folder, ".sconsign.dblite"))


def test_bad_shard_and_output(tmp_path):
    scons_project(tmp_path, TWO_ROWS, extra=", shard=ARGUMENTS.get('shard'), output=ARGUMENTS.get('out')")
    proc = scons(tmp_path, "-n", "shard=3/2", check=False)
    assert (proc.returncode, proc.stderr) == (
        2, "sizekit: shard=3/2: not a shard; write K/N with 1 <= K <= N, e.g. 1/2 for the first of two shards\n")
    proc = scons(tmp_path, "-n", "out=tiny", check=False)
    assert proc.returncode == 2
    assert proc.stderr.endswith("the output folder would contain the crate tiny's sources; "
                                "choose a separate folder such as out\n")


def test_shards_and_output_folder(tmp_path):
    scons_project(tmp_path, TWO_ROWS + "      - {name: release-z, from: release, cargo: {opt-level: z}}\n",
                  extra=", shard=ARGUMENTS.get('shard'), output='elsewhere'")
    one, two = (ran(scons(tmp_path, "-n", f"shard={k}/2", "sizes")) for k in (1, 2))
    builds = sorted(n for n in one + two if n.startswith("build:"))
    assert builds == [f"build:tiny/{HOST}/release", f"build:tiny/{HOST}/release-z"]
    assert len([n for n in one if n.startswith("build:")]) == 1
    scons(tmp_path, "shard=1/2")
    results = json.load(open(tmp_path / "elsewhere" / "results.json"))
    assert (results["shard"]["index"], results["shard"]["count"]) == (1, 2)
    assert len(results["shard"]["matrix_cells"]) == 3
    assert not os.path.exists(tmp_path / "out")


def test_aliases(built):
    # -n lists what is out of date now; what comes after a build runs only if the build makes
    # other bytes, which -n cannot know. After -c every node is out of date.
    scons(built, "-c")
    crate = ran(scons(built, "-n", "tiny"))   # the crate's cells; tiny/ is also a folder here
    assert "report" not in crate and kinds(crate) == ["build", "measure", "post", "smoke"]
    assert "report" in ran(scons(built, "-n", "sizes"))
    proc = scons(built, "size-report")
    assert "# tiny\n" in proc.stdout and "| release-stripped | stripped |" in proc.stdout
    assert ran(scons(built, "sizes")) == []


def test_the_tool_loads_from_site_tools_and_toolpath(tmp_path):
    scons_project(tmp_path, TWO_ROWS)
    shim = os.path.join(ROOT, "sizekit", "drivers", "scons", "site_tools", "sizematrix.py")
    os.makedirs(tmp_path / "site_scons" / "site_tools")
    shutil.copy(shim, tmp_path / "site_scons" / "site_tools" / "sizematrix.py")
    write(tmp_path / "SConstruct", """
        env = Environment(tools=["default", "sizematrix"])
        Environment(tools=["sizematrix"])
        import sizekit.api   # the package is still the package after SCons loaded the tool
        env.SizeMatrix("matrix.yaml")
    """)
    assert "report" in ran(scons(tmp_path, "-n"))
    shutil.rmtree(tmp_path / "site_scons")
    write(tmp_path / "SConstruct", f"""
        env = Environment(tools=["default", "sizematrix"], toolpath=[{os.path.dirname(shim)!r}])
        env.SizeMatrix("matrix.yaml")
    """)
    assert "report" in ran(scons(tmp_path, "-n"))


def test_doit_and_scons_give_the_same_table(tmp_path):
    matrix = TWO_ROWS + "      - {name: release-z, from: release, cargo: {opt-level: z}}\n"
    # Two folders with names of one length: every path cargo sees has the same length too.
    a, b = tmp_path / "a", tmp_path / "b"
    tiny_project(a, matrix)
    scons_project(b, matrix)
    doit(a)
    scons(b, "-j2")
    by_doit, by_scons = (json.load(open(p / "out" / "results.json")) for p in (a, b))

    def sizes(results):
        return {(c["crate"], c["target"], c["variant"]): (c["status"], c["final_bytes"]) for c in results["cells"]}

    assert sizes(by_doit) == sizes(by_scons)
    assert len(sizes(by_scons)) == 3

    def rows(folder):
        return [line for line in open(folder / "out" / "reports" / "tiny.md") if line.startswith("|")]

    assert rows(a) == rows(b) and rows(b)


@pytest.fixture
def firmware(tmp_path):
    for tool in ("scons", "cargo", "strip", "gcc"):
        require_tool(tool)
    for example in ("firmware", "firmware-scons"):
        shutil.copytree(os.path.join(ROOT, "examples", example), tmp_path / "examples" / example,
                        ignore=shutil.ignore_patterns("out", ".sconsign.dblite"))
    copy_tiny(tmp_path / "tests" / "fixtures" / "tiny")
    # The firmware's host tool instead of the image's armv7 server (tests/test_firmware_image.py
    # builds the image): the size targets of the SConstruct, in seconds.
    (tmp_path / "examples" / "firmware-scons" / "tool.yaml").write_text(FIRMWARE_TOOL_MATRIX.format(output="out/tool"))
    return tmp_path / "examples" / "firmware-scons"


def test_firmware_example(firmware):
    proc = scons(firmware, "size-check", "matrix=tool.yaml")
    ok = [line.split() for line in proc.stdout.splitlines() if line.startswith("tiny ")]
    assert len(ok) == 1 and ok[0][2] == "release-stripped" and ok[0][-1] == "OK"
    assert "1 within budget, 0 over (tool.yaml against out/tool/results.json)" in proc.stdout
    assert ran(scons(firmware, "sizes", "matrix=tool.yaml")) == []
    tight = scons(firmware, "size-check", "matrix=../firmware/matrix-tight.yaml", check=False)
    assert tight.returncode != 0
    over = [line.split() for line in tight.stdout.splitlines() if line.startswith("tiny ")]
    assert len(over) == 1 and over[0][-1] == "OVER"
    assert ("0 within budget, 1 over (../firmware/matrix-tight.yaml against ../firmware/out/tight/results.json)"
            in tight.stdout)
    assert "scons: *** [size-check] Error 1" in tight.stderr
