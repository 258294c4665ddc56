"""doit over a real matrix of the tiny crate: sizes, sharing, no-op reruns, failures."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import DODO, copy_tiny, doit, ran, skip_no_tool, tiny_project, write

# Builds real crates with cargo (and strip, UPX, qemu): deselect with -m "not slow".
pytestmark = pytest.mark.slow
HOST = "x86_64-unknown-linux-gnu"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A user's project: a two-line dodo.py, a matrix over a copy of the tiny crate, built once."""
    if shutil.which("cargo") is None:
        skip_no_tool("cargo", "these machines come with rustup's cargo")
    root = tmp_path_factory.mktemp("proj")
    copy_tiny(root / "tiny")
    write(root / "dodo.py", DODO)
    upx = shutil.which("upx") is not None
    write(root / "matrix.yaml", f"""
        version: 1
        crates:
          tiny: {{path: tiny, artifact: bin:tiny, budget: 2MiB, smoke: {{args: [--version], expect: "tiny 0.1.0"}}}}
        variants:
          - {{name: dev, profile: dev}}
          - {{name: dev-stripped, from: dev, post: [strip]}}
          - {{name: release, profile: release}}
          - {{name: release-stripped, from: release, post: [strip]}}
          - {{name: release-extra, from: release, features: [extra]}}
          - {{name: release-z, from: release, cargo: {{opt-level: z, panic: abort}}}}
          - {{name: all, from: [release-extra, release-z], post: [strip]}}
          - {{name: all-upx, from: all, post: [strip, {{upx: {{level: 1}}}}], only: {{crates: {['tiny'] if upx else ['none']}}}}}
    """.replace("['tiny']", "[tiny]").replace("['none']", "[]"))
    first = doit(root, "-n", "2")
    second = doit(root)
    results = json.load(open(root / "out" / "results.json"))
    return {"root": root, "first": first, "second": second, "results": results, "upx": upx}


def reference_size(crate, target_dir, profile, cfg=None, features=None, strip=False):
    """One plain cargo build of the same settings, measured with os.stat."""
    env = dict(os.environ)
    prof = "DEV" if profile == "dev" else "RELEASE"
    for key, value in (cfg or {}).items():
        env[f"CARGO_PROFILE_{prof}_{key.upper().replace('-', '_')}"] = str(value)
    argv = ["cargo", "build", "--target", HOST, "--target-dir", str(target_dir)]
    if profile == "release":
        argv.append("--release")
    if features:
        argv += ["--features", ",".join(features)]
    subprocess.run(argv, cwd=crate, check=True, capture_output=True, env=env, timeout=600)
    binary = os.path.join(target_dir, HOST, "debug" if profile == "dev" else "release", "tiny")
    if strip:
        out = str(binary) + ".stripped"
        subprocess.run(["strip", "-o", out, binary], check=True)
        binary = out
    return os.stat(binary).st_size


def cells(results):
    return {c["variant"]: c for c in results["cells"]}


def test_every_size_matches_an_independent_cargo_build(project, tmp_path):
    crate = str(project["root"] / "tiny")
    got = cells(project["results"])
    expected = {
        "dev": reference_size(crate, tmp_path / "t", "dev"),
        "dev-stripped": reference_size(crate, tmp_path / "t", "dev", strip=True),
        "release": reference_size(crate, tmp_path / "t", "release"),
        "release-stripped": reference_size(crate, tmp_path / "t", "release", strip=True),
        "release-extra": reference_size(crate, tmp_path / "t2", "release", features=["extra"]),
        "release-z": reference_size(crate, tmp_path / "t3", "release", cfg={"opt-level": "z", "panic": "abort"}),
        "all": reference_size(crate, tmp_path / "t4", "release", cfg={"opt-level": "z", "panic": "abort"},
                              features=["extra"], strip=True),
    }
    for variant, size in expected.items():
        assert got[variant]["status"] == "ok", got[variant]
        assert got[variant]["final_bytes"] == size, variant
        assert got[variant]["stages"][-1]["bytes"] == os.stat(project["root"] / got[variant]["stages"][-1]["path"]).st_size
    assert got["release-extra"]["final_bytes"] > got["release"]["final_bytes"]


def test_results_json_shape_and_change_column(project):
    res = project["results"]
    assert res["version"] == 1 and res["baseline"] == "release"
    c = cells(res)
    base = c["release"]["final_bytes"]
    assert c["release"]["change_pct"] == 0
    assert c["release-stripped"]["change_pct"] == round((c["release-stripped"]["final_bytes"] - base) * 100 / base, 1)
    assert c["release-stripped"]["change_pct"] < 0
    assert c["all"]["label"] == "opt-level z + panic abort + features extra + stripped"
    assert c["dev"]["stages"][0]["sections"][".text"] > 0
    assert c["release"]["build"]["key"] == c["release-stripped"]["build"]["key"]
    assert c["release"]["toolchain"]["rustc"].startswith("rustc ")
    assert c["release"]["upx_estimate_bytes"] < c["release"]["final_bytes"]
    assert isinstance(c["release"]["build"]["seconds"], float)
    for cell in c.values():
        assert cell["smoke"]["ok"] is True, cell
        assert cell["smoke"]["detail"] == "exit 0, output has 'tiny 0.1.0'"


def test_rows_differing_only_in_post_share_one_cargo_build(project):
    builds = [t for t in ran(project["first"]) if t.startswith("build:")]
    # 8 rows, 5 distinct build settings (dev, release, extra, z, extra+z)
    assert len(builds) == 5
    assert len(project["results"]["cells"]) == 8 - (0 if project["upx"] else 1)


def test_second_run_runs_nothing(project):
    assert ran(project["second"]) == []


def test_upx_row(project):
    if not project["upx"]:
        skip_no_tool("upx", "scripts/install builds UPX 4.2.4")
    c = cells(project["results"])
    assert c["all-upx"]["status"] == "ok"
    assert c["all-upx"]["final_bytes"] < c["all"]["final_bytes"]
    packed = project["root"] / c["all-upx"]["stages"][-1]["path"]
    out = subprocess.run([str(packed), "--version"], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "tiny 0.1.0"


def test_reports_match_results(project):
    root = project["root"]
    md = open(root / "out" / "reports" / "tiny.md").read()
    c = cells(project["results"])
    assert "| build | modifications | size (bytes) | size (human) | % change | UPX (est.) | runs |" in md
    assert f"| release-stripped | stripped | {c['release-stripped']['final_bytes']:,} |" in md
    csv_text = open(root / "out" / "reports" / "sizes.csv").read().splitlines()
    assert csv_text[0].startswith("crate,target,variant,label,status,final_bytes")
    assert len(csv_text) == 1 + len(c)


def test_sizekit_report_regenerates_reports(project, tmp_path):
    root = project["root"]
    before = open(root / "out" / "reports" / "tiny.md").read()
    out = tmp_path / "again"
    subprocess.run([sys.executable, "-m", "sizekit", "report", str(root / "out" / "results.json"),
                    "--output", str(out)], check=True, capture_output=True)
    assert open(out / "reports" / "tiny.md").read() == before


def test_doit_list_shows_readable_names(project):
    proc = doit(project["root"], "list", "--all")
    names = proc.stdout.split()
    assert "build:tiny/x86_64-unknown-linux-gnu/release" in names
    assert "post:tiny/x86_64-unknown-linux-gnu/release-stripped/strip1" in names
    assert "report" in names


def test_bad_matrix_exits_2_and_builds_nothing(tmp_path):
    write(tmp_path / "dodo.py", DODO)
    write(tmp_path / "matrix.yaml", """
        version: 1
        crates:
          app: {path: missing}
        variants: [{name: release}]
    """)
    proc = doit(tmp_path, check=False)
    assert proc.returncode == 2
    assert "matrix.yaml:3: crates.app.path: crate folder 'missing' does not exist" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_one_failing_crate_does_not_stop_the_others(tmp_path):
    tiny_project(tmp_path, """
        version: 1
        crates:
          good: {path: good, artifact: bin:tiny}
          bad: {path: bad, artifact: bin:tiny}
        variants:
          - {name: release}
          - {name: release-stripped, from: release, post: [strip]}
    """, crate_dirs=("good", "bad"))
    with open(tmp_path / "bad" / "src" / "main.rs", "a") as f:
        f.write("\nfn broken( {\n")
    proc = doit(tmp_path, check=False)
    assert proc.returncode != 0
    res = json.load(open(tmp_path / "out" / "results.json"))
    status = {(c["crate"], c["variant"]): c for c in res["cells"]}
    assert status[("good", "release")]["status"] == "ok"
    assert status[("good", "release-stripped")]["status"] == "ok"
    bad = status[("bad", "release-stripped")]
    assert bad["status"] == "failed"
    assert bad["reason"] == "cargo build failed (exit status 101)"
    assert "error" in bad["tail"]
    assert os.path.exists(tmp_path / bad["log"])
    assert "1 cell(s) failed" not in proc.stderr and "2 cell(s) failed" in (proc.stdout + proc.stderr)
    md = open(tmp_path / "out" / "reports" / "bad.md").read()
    assert "- `release` failed: cargo build failed (exit status 101)" in md


def test_doit_clean_removes_outputs_and_forget_works(tmp_path):
    tiny_project(tmp_path, """
        version: 1
        crates:
          tiny: {path: tiny}
        variants:
          - {name: release}
          - {name: s, from: release, post: [strip]}
    """)
    doit(tmp_path)
    built = json.load(open(tmp_path / "out" / "results.json"))
    paths = [tmp_path / st["path"] for c in built["cells"] for st in c["stages"]]
    assert all(p.exists() for p in paths)
    doit(tmp_path, "clean")
    assert not any(p.exists() for p in paths)
    assert not (tmp_path / "out" / "results.json").exists()
    again = doit(tmp_path)
    assert "build:tiny/x86_64-unknown-linux-gnu/release" in ran(again)
    doit(tmp_path, "forget", "report")
    assert ran(doit(tmp_path)) == ["report"]
    info = doit(tmp_path, "info", "build:tiny/x86_64-unknown-linux-gnu/release")
    assert "up-to-date" in info.stdout
