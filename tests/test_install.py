"""A plain `pip install .` (not editable, no extras) into a fresh virtualenv runs a matrix
through to the HTML report, with the C module built during the install."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, TWO_ROWS, copy_tiny, write

pytestmark = pytest.mark.slow


def clean_source(tmp_path):
    """The checkout as a fresh clone has it: no build/ folder or in-place C module to reuse."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", "out", "*.egg-info", "_native*.so", "target", ".sizekit", "__pycache__", ".pytest_cache"))
    return str(src)


def test_plain_install_in_a_fresh_venv_runs_a_matrix_to_the_html_report(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                          clean_source(tmp_path)],
                         capture_output=True, text=True, timeout=1200)
    assert pip.returncode == 0, pip.stderr[-3000:]
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import sizekit.elf.engine as n, sizekit; print(n.BACKEND, sizekit.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert probe.returncode == 0, probe.stderr
    backend, where = probe.stdout.split()
    assert backend == "c" and where.startswith(str(venv))  # the installed copy, with its C module
    project = tmp_path / "proj"
    copy_tiny(project / "tiny")
    write(project / "matrix.yaml", TWO_ROWS)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    run = subprocess.run([str(venv / "bin" / "sizekit"), "run", "matrix.yaml"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.load(open(project / "out" / "results.json"))
    assert [c["status"] for c in results["cells"]] == ["ok", "ok"]
    assert "<svg" in (project / "out" / "reports" / "index.html").read_text()
    # The Python port serves when asked, from the same install.
    est = subprocess.run([str(venv / "bin" / "sizekit"), "estimate", "--json",
                          results["cells"][1]["stages"][-1]["path"]], cwd=project, capture_output=True, text=True,
                         env=dict(env, SIZEKIT_BACKEND="python"), timeout=600)
    assert est.returncode == 0, est.stderr
    assert json.loads(est.stdout)["bytes"] == results["cells"][1]["final_bytes"]


def test_without_a_c_compiler_the_install_works_and_the_python_backend_runs(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # No C compiler: CC names one that does not exist (a machine without gcc fails the same way).
    env = dict(os.environ, CC=str(tmp_path / "no-such-cc"), LDSHARED=str(tmp_path / "no-such-cc") + " -shared")
    env.pop("SIZEKIT_REQUIRE_C", None)
    src = clean_source(tmp_path)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", src],
                         capture_output=True, text=True, timeout=1200, env=env)
    assert pip.returncode == 0, pip.stderr[-3000:]
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import sizekit.elf.engine as n; print(n.BACKEND)"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
    # Without the C module sizekit still runs, and says on stderr that it is the slow backend.
    assert probe.returncode == 0 and probe.stdout.split() == ["python"], probe.stderr
    assert "failed to load" in probe.stderr and "SIZEKIT_BACKEND=python" in probe.stderr
    quiet = subprocess.run([python, "-c", "import sizekit.elf.engine as n; print(n.BACKEND)"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120,
                           env=dict(os.environ, SIZEKIT_BACKEND="python"))
    assert (quiet.returncode, quiet.stdout.split(), quiet.stderr) == (0, ["python"], "")
    est = subprocess.run([str(venv / "bin" / "sizekit"), "estimate", "--json", "/bin/true"], cwd=tmp_path,
                         capture_output=True, text=True, env=dict(os.environ, SIZEKIT_BACKEND="python"), timeout=600)
    assert est.returncode == 0, est.stderr
    assert json.loads(est.stdout)["bytes"] == os.path.getsize("/bin/true")
    # With SIZEKIT_REQUIRE_C=1 the same install fails instead.
    strict = subprocess.run([str(venv / "bin" / "pip"), "install", "--disable-pip-version-check",
                             "--force-reinstall", "--no-deps", src],
                            capture_output=True, text=True, timeout=1200, env=dict(env, SIZEKIT_REQUIRE_C="1"))
    assert strict.returncode != 0
