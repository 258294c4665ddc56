"""Report formatting: golden markdown and CSV, human sizes, % change."""
import re
import os

import pytest

from sizekit.utils.errors import ResultsError
from sizekit.report.markdown import crate_markdown, sizes_csv, write_reports
from sizekit.results.format import load_results
from sizekit.utils.units import human, pct_change

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")


def golden(name):
    with open(os.path.join(GOLDEN, name)) as f:
        return f.read()


def test_markdown_matches_golden():
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    assert crate_markdown(results, "app") == golden("app.md")


def test_csv_matches_golden():
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    assert sizes_csv(results) == golden("sizes.csv")


def test_write_reports_writes_one_file_per_crate_and_csv(tmp_path):
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    paths = write_reports(str(tmp_path), results)
    assert sorted(os.path.basename(p) for p in paths) == ["app.md", "sizes.csv"]
    assert open(tmp_path / "reports" / "app.md").read() == golden("app.md")


@pytest.mark.parametrize("n,text", [(0, "0B"), (1023, "1023B"), (1024, "1.0K"), (248832, "243K"),
                                    (6710886, "6.4M"), (2831155, "2.7M"), (15360, "15K"), (None, "-")])
def test_human(n, text):
    assert human(n) == text


def test_pct_change():
    assert pct_change(243 * 1024, 6.4 * 1024 * 1024) == -96.3
    assert pct_change(5, 0) is None
    assert pct_change(None, 5) is None


@pytest.mark.parametrize("content,message", [
    ("{", "not valid JSON"),
    ('{"version": 2, "cells": []}', "not a sizekit results.json of version 1"),
    ('{"version": 1, "cells": [{"crate": "a"}]}', "cells[0] lacks crate/target/variant/status"),
])
def test_bad_results_files(tmp_path, content, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(ResultsError, match=re.escape(message)):
        load_results(str(path))


def test_missing_results_file(tmp_path):
    with pytest.raises(ResultsError, match="not found; run doit first to build the matrix"):
        load_results(str(tmp_path / "results.json"))


def test_all_crates_table_matches_golden():
    from sizekit.report.markdown import crates_markdown
    results = load_results(os.path.join(GOLDEN, "results_crates.json"))
    assert crates_markdown(results) == golden("crates.md")


def test_multi_crate_results_also_write_crates_md(tmp_path):
    results = load_results(os.path.join(GOLDEN, "results_crates.json"))
    paths = write_reports(str(tmp_path), results)
    assert sorted(os.path.basename(p) for p in paths) == ["crates.md", "http-reqwest.md", "http-ureq.md", "sizes.csv"]


def test_reference_overhead_section_matches_golden():
    results = load_results(os.path.join(GOLDEN, "results_crates.json"))
    assert crate_markdown(results, "http-ureq") == golden("http-ureq.md")
