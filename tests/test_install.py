"""A plain `pip install .` (not editable, no extras) into a fresh virtualenv runs a matrix
through to the HTML report, with the C module built during the install."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, copy_tiny, write

pytestmark = pytest.mark.slow


def test_plain_install_in_a_fresh_venv_runs_a_matrix_to_the_html_report(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", ROOT],
                         capture_output=True, text=True, timeout=1200)
    assert pip.returncode == 0, pip.stderr[-3000:]
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import sizekit.elf.native as n, sizekit; print(n.BACKEND, sizekit.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert probe.returncode == 0, probe.stderr
    backend, where = probe.stdout.split()
    assert backend == "c" and where.startswith(str(venv))  # the installed copy, with its C module
    project = tmp_path / "proj"
    copy_tiny(project / "tiny")
    write(project / "matrix.yaml", """
        version: 1
        crates:
          tiny: {path: tiny, artifact: bin:tiny}
        variants:
          - {name: release}
          - {name: release-stripped, from: release, post: [strip]}
    """)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    run = subprocess.run([str(venv / "bin" / "sizekit"), "run", "matrix.yaml"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.load(open(project / "out" / "results.json"))
    assert [c["status"] for c in results["cells"]] == ["ok", "ok"]
    assert "<svg" in (project / "out" / "reports" / "index.html").read_text()
    # The pure-Python twin serves when asked, from the same install.
    est = subprocess.run([str(venv / "bin" / "sizekit"), "estimate", "--json",
                          results["cells"][1]["stages"][-1]["path"]], cwd=project, capture_output=True, text=True,
                         env=dict(env, SIZEKIT_BACKEND="python"), timeout=600)
    assert est.returncode == 0, est.stderr
    assert json.loads(est.stdout)["bytes"] == results["cells"][1]["final_bytes"]
