"""Reports: golden markdown and CSV, figures checked by independent arithmetic, the table models and their writers."""
import html
import os
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from sizekit.report import tables
from sizekit.report.markdown import crate_markdown, sizes_csv, table_markdown
from sizekit.report.publish import write_reports
from sizekit.report.page import render_html, table_html
from sizekit.report.terminal import table_text
from sizekit.utils.errors import ResultsError
from sizekit.results.results_file import load_results
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


def test_a_crate_without_the_baseline_row_shows_its_last_row_with_a_stripped_twin():
    """Published plugins built only with the final settings still get a line, named by their row."""
    from sizekit.report.markdown import crates_markdown
    results = load_results(os.path.join(GOLDEN, "results_crates.json"))
    built, stripped = [c for c in results["cells"] if c["crate"] == "http-ureq"]
    plugin = [dict(built, crate="plugin", variant="final"), dict(stripped, crate="plugin", variant="final-stripped")]
    text = crates_markdown({**results, "cells": results["cells"] + plugin})
    assert f"| plugin `final` | {built['final_bytes']:,} | " in text
    assert text.count(f"| {stripped['final_bytes']:,} |") == 2          # http-ureq's line and the plugin's
    assert "| http-ureq | " in text                                       # the baseline's crates as before


def test_multi_crate_results_also_write_crates_md(tmp_path):
    results = load_results(os.path.join(GOLDEN, "results_crates.json"))
    paths = write_reports(str(tmp_path), results)
    assert sorted(os.path.basename(p) for p in paths) == ["crates.md", "http-reqwest.md", "http-ureq.md", "sizes.csv"]


def test_reference_overhead_section_matches_golden():
    results = load_results(os.path.join(GOLDEN, "results_crates.json"))
    assert crate_markdown(results, "http-ureq") == golden("http-ureq.md")


# ---------------------------------------------------------------- derived figures come from the bytes

def _pct_by_hand(value, base):
    """Percent change to one decimal, half away from zero, in exact decimal arithmetic (not sizekit's)."""
    exact = Decimal(value - base) * 100 / Decimal(base)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _md_rows(markdown, heading):
    """The body rows of the markdown table under `## heading`, as lists of cell texts."""
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]


def test_golden_percent_column_is_independent_arithmetic():
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    x86 = [c for c in results["cells"] if c["target"] == "x86_64-unknown-linux-gnu"]
    base = next(c["final_bytes"] for c in x86 if c["variant"] == "release")
    printed = {r[0]: r for r in _md_rows(crate_markdown(results, "app"), "x86_64-unknown-linux-gnu")}
    checked = 0
    for c in x86:
        row = printed[c["variant"]]
        if c["status"] != "ok":
            assert row[4] == "-"
            continue
        want = _pct_by_hand(c["final_bytes"], base)
        assert row[4] == ("0%" if want == 0 else f"{want:+}%"), c["variant"]
        assert row[2] == f"{c['final_bytes']:,}"
        # The golden file itself must agree with its own bytes (it once said 500.8 for 500.70).
        assert Decimal(str(c["change_pct"])) == want, c["variant"]
        checked += 1
    assert checked == 4
    assert printed["dev"][4] == "+500.7%"


def test_reports_never_print_a_stored_derived_figure():
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    for c in results["cells"]:
        c["change_pct"] = 999.9
    assert crate_markdown(results, "app") == golden("app.md")
    assert sizes_csv(results) == golden("sizes.csv")
    assert "999.9" not in render_html(results, charts={})


# ---------------------------------------------------------------- table models

def test_seed_table_model_keeps_raw_figures():
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    cells = [c for c in results["cells"] if c["target"] == "x86_64-unknown-linux-gnu"]
    table = tables.seed_table(results, cells)
    assert [c.title for c in table.columns] == ["build", "modifications", "size (bytes)", "size (human)",
                                               "% change", "UPX (est.)", "runs"]
    assert [c.numeric for c in table.columns] == [False, False, True, True, True, True, False]
    dev, release, stripped, upx, bstd = table.rows
    assert (dev.cells[2].value, dev.cells[4].value, dev.cells[4].text) == (6400000, 500.7, "+500.7%")
    assert release.kind == "baseline" and release.cells[4].text == "0%"
    assert stripped.cells[4].value == round((898944 - 1065432) * 100 / 1065432, 1)
    assert upx.cells[6].text == "SIGSEGV" and upx.failure is None
    assert bstd.failure.status == "unavailable" and bstd.failure.reason.startswith("rust-src is not installed")
    assert [c.text for c in bstd.cells[2:6]] == ["unavailable", "-", "-", "-"]
    assert table.failure_span == (2, 6)


def test_crates_table_model_rest_and_total():
    crates = {f"c{i}": 1000 - i for i in range(13)}
    table = tables.crates_table(crates, top=10)
    assert [r.kind for r in table.rows] == [""] * 10 + ["rest", "total"]
    rest, total = table.rows[-2:]
    assert rest.cells[1].value == 990 + 989 + 988 and rest.cells[3].text == "and 3 more crates"
    assert total.cells[1].value == sum(crates.values()) and total.cells[0].text == "100%"
    shares = [r.cells[0].value for r in table.rows[:-1]]
    assert sum(shares) == pytest.approx(100, abs=0.1)


def test_targets_and_overhead_ratios_come_from_the_bytes():
    results = load_results(os.path.join(GOLDEN, "results_crates.json"))
    ureq = [c for c in results["cells"] if c["crate"] == "http-ureq"]
    refs = [r for r in results["references"] if r["crate"] == "http-ureq"]
    row = tables.overhead_table(results, ureq, refs).rows[0]
    assert row.cells[1].value == 1500000 and row.cells[1].code == "release"
    assert row.cells[2].value == 1100000 and row.cells[2].code == "release-stripped"
    assert row.cells[5].value == 1100000 - 14400
    assert row.cells[6].value == 1100000 / 14400 and row.cells[6].text == f"{1100000 / 14400:.1f}x"
    cells = [dict(c, target="aarch64-unknown-linux-gnu", final_bytes=c["final_bytes"] // 2) for c in ureq]
    table = tables.targets_table(ureq + cells, ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"])
    assert table.columns[-1].title == "aarch64 / x86_64"
    assert [r.cells[-1].text for r in table.rows] == ["0.50", "0.50"]


def test_every_writer_shows_the_same_cell_texts():
    results = load_results(os.path.join(GOLDEN, "results_crates.json"))
    ureq = [c for c in results["cells"] if c["crate"] == "http-ureq"]
    table = tables.overhead_table(results, ureq, [r for r in results["references"] if r["crate"] == "http-ureq"])
    want = [[c.plain() for c in row.cells] for row in table.rows]
    md = [[c.strip().replace("`", "") for c in line.strip("|").split(" | ")]
          for line in table_markdown(table).splitlines()[2:]]
    assert md == want
    page = table_html(table)
    got = [[html.unescape(re.sub(r"<[^>]+>", "", td)) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
           for tr in re.findall(r"<tbody>(.*)</tbody>", page)[0].split("</tr>") if tr]
    assert got == want
    text = table_text(table).splitlines()
    assert text[1] == "  ".join("-" * len(x) for x in text[1].split("  "))
    for line, row in zip(text[2:], want):
        for value in row:
            assert value in line


def test_terminal_writer_aligns_figures_right_and_words_left():
    t = tables.Table("t", tables.columns(("name", "name"), ("bytes", "bytes")))
    t.add(["a", tables.Cell("1,000", 1000)])
    t.add(["longer", tables.Cell("5", 5)])
    assert table_text(t) == "name    bytes\n------  -----\na       1,000\nlonger      5"
    assert table_text(t, rule=False).splitlines()[1] == "a       1,000"


def test_cell_text_is_never_parsed_back_as_markdown():
    # A label with markdown in it stays literal in HTML: the page draws the model, not the markdown.
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    results["cells"][0]["label"] = "a `b` | c"
    assert "\\|" in crate_markdown(results, "app")
    page = render_html(results, charts={})
    assert "a `b` | c" in html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "<code>b</code>" not in page


def test_report_modules_stay_small():
    folder = os.path.dirname(tables.__file__)
    for name in os.listdir(folder):
        if name.endswith(".py"):
            with open(os.path.join(folder, name)) as f:
                assert sum(1 for _ in f) <= 450, name


def test_a_crate_name_that_is_no_file_name_is_refused(tmp_path):
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    for c in results["cells"]:
        c["crate"] = "../escape"
    with pytest.raises(ResultsError, match=r"^results.json: crate name '../escape' cannot name a report file"):
        write_reports(str(tmp_path), results)
    assert not os.path.exists(tmp_path / "escape.md")


def test_a_failed_estimate_or_attribution_shows_its_reason():
    """No quiet "-": the row says why its estimate failed, the crates section why it is empty."""
    results = load_results(os.path.join(GOLDEN, "results_small.json"))
    base = next(c for c in results["cells"] if c["variant"] == results["baseline"] and c["status"] == "ok")
    base.pop("upx_estimate_bytes", None)
    base["upx_estimate_error"] = "packed-size estimate failed (error 9)\nsecond line"
    base["crates"] = None
    base["crates_error"] = "x.elf: no symbol table (the file is stripped); attribute the unstripped build artifact"
    md = crate_markdown(results, base["crate"])
    row = next(line for line in md.splitlines() if line.startswith(f"| {base['variant']} |"))
    assert "| estimate failed: packed-size estimate failed (error 9) |" in row
    assert (f"Crate attribution of `{base['variant']}` failed: x.elf: no symbol table (the file is stripped); "
            f"attribute the unstripped build artifact.") in md
    page = render_html(results)
    assert "estimate failed: packed-size estimate failed (error 9)" in page
    assert "failed: x.elf: no symbol table" in page
