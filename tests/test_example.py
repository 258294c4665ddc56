"""Integration test on the real example: hello-hyper (hyper 0.14 + tokio) through doit."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, skip_no_package, write

# Builds real crates with cargo (and strip, UPX, qemu): deselect with -m "not slow".
pytestmark = pytest.mark.slow

EXAMPLE = os.path.join(ROOT, "examples", "hello-hyper")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not os.path.isdir("/usr/share/cargo/registry/hyper-0.14.19"):
        skip_no_package("librust-hyper-dev")
    root = tmp_path_factory.mktemp("hyper")
    matrix = write(root / "matrix.yaml", f"""
        version: 1
        toolchains:
          stable: {{rustup: stable}}
        crates:
          hello-hyper:
            path: {EXAMPLE}
            artifact: bin:hello-hyper
            toolchain: stable
            smoke: {{http: {{path: /, expect: "Hello, world!"}}}}
        variants:
          - {{name: release, profile: release}}
          - {{name: release-stripped, from: release, post: [strip]}}
          - {{name: release-malloc, from: release, default-features: false}}
          - {{name: malloc-stripped, from: release-malloc, post: [strip]}}
    """)
    before = {name: _read(os.path.join(EXAMPLE, name)) for name in ("Cargo.toml", "Cargo.lock")}
    proc = subprocess.run([sys.executable, "-m", "doit", "-f", os.path.join(ROOT, "dodo.py"), f"matrix={matrix}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = {name: _read(os.path.join(EXAMPLE, name)) for name in ("Cargo.toml", "Cargo.lock")}
    return root, json.load(open(root / "out" / "results.json")), before, after


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def test_hello_hyper_rows_build_shrink_and_serve(built):
    root, results, _, _ = built
    c = {x["variant"]: x for x in results["cells"]}
    assert [x["status"] for x in c.values()] == ["ok"] * 4
    for cell in c.values():
        final = root / cell["stages"][-1]["path"]
        assert os.stat(final).st_size == cell["final_bytes"]
        assert cell["smoke"]["ok"] is True, cell["smoke"]
        assert cell["smoke"]["detail"] == "HTTP 200 'Hello, world!'"
    assert c["release-stripped"]["final_bytes"] < c["release"]["final_bytes"]
    # Dropping jemalloc (the seed's "release malloc" row) makes the binary smaller.
    assert c["release-malloc"]["final_bytes"] < c["release"]["final_bytes"]
    assert c["malloc-stripped"]["final_bytes"] < c["release-stripped"]["final_bytes"]
    assert c["release"]["build"]["key"] == c["release-stripped"]["build"]["key"]
    assert c["release"]["change_pct"] == 0


def test_hello_hyper_report_table(built):
    root, results, _, _ = built
    md = open(root / "out" / "reports" / "hello-hyper.md").read()
    assert "## x86_64-unknown-linux-gnu" in md
    assert "| release-malloc | no default features |" in md
    assert md.count("| ok |") == 4


def test_users_crate_is_untouched(built):
    # sizekit never edits Cargo.toml and leaves the crate's Cargo.lock as it found it.
    _, _, before, after = built
    assert before == after
