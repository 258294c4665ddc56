"""scripts/readme_figures.py copies report sections into README blocks, and --check notices drift."""
import importlib.util
import os
import re

from conftest import ROOT, write

spec = importlib.util.spec_from_file_location("readme_figures", os.path.join(ROOT, "scripts", "readme_figures.py"))
rf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rf)

REPORT = """
    # tiny

    ## x86_64-unknown-linux-gnu

    | build | size (bytes) |
    | --- | --- |
    | release | 1,000 |

    ## Biggest crates

    | crate | bytes |
"""
README = """
    # demo

    <!-- figures: out/reports/tiny.md#x86_64-unknown-linux-gnu -->
    | build | size (bytes) |
    | --- | --- |
    | release | 999 |
    <!-- /figures -->

    prose
"""


def test_check_finds_the_drift_and_write_fixes_it(tmp_path, capsys):
    write(tmp_path / "out" / "reports" / "tiny.md", REPORT)
    write(tmp_path / "README.md", README)
    assert rf.main(["--check", "--root", str(tmp_path)]) == 1
    assert "differs from out/reports/tiny.md#x86_64-unknown-linux-gnu" in capsys.readouterr().out
    assert rf.main(["--write", "--root", str(tmp_path)]) == 0
    text = (tmp_path / "README.md").read_text()
    assert "| release | 1,000 |\n<!-- /figures -->\n\nprose" in text
    assert "Biggest" not in text
    assert rf.main(["--check", "--root", str(tmp_path)]) == 0


def test_missing_report_or_section_is_exit_2(tmp_path, capsys):
    write(tmp_path / "README.md", README)
    assert rf.main(["--check", "--root", str(tmp_path)]) == 2
    assert "out/reports/tiny.md: not found; run scripts/demo first" in capsys.readouterr().err
    write(tmp_path / "out" / "reports" / "tiny.md", "# tiny\n")
    assert rf.main(["--check", "--root", str(tmp_path)]) == 2
    assert "no section '## x86_64-unknown-linux-gnu'" in capsys.readouterr().err


def test_every_measured_table_in_the_readme_has_a_source():
    # A table with byte counts outside a figures block is a figure no command produces.
    readme = open(os.path.join(ROOT, "README.md")).read()
    outside = re.sub(r"<!-- figures: .*?<!-- /figures -->", "", readme, flags=re.S)
    # The limits table is rendered from sizekit/utils/limits.py (tests/test_readme_limits.py).
    outside = re.sub(r"<!-- limits -->.*?<!-- /limits -->", "", outside, flags=re.S)
    measured = [line for line in outside.splitlines() if line.startswith("|") and re.search(r"\d,\d{3},\d{3}", line)]
    assert measured == []
