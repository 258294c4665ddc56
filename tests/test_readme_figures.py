"""Every measured figure in README.md and docs/*.md is rendered by a script, and drift fails here.

scripts/readme_figures.py renders the size tables from the demo run's stored results.json
(docs/figures/results.json); scripts/bench_figures.py fills the benchmark figures from
benchmarks/results/*.json. Each test below that reads the repository's own files is the check CI
runs: a table or figure that differs from its source fails the suite."""
import importlib.util
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, write


def _script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "scripts", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rf = _script("readme_figures")
bf = _script("bench_figures")
GOLDEN = os.path.join(ROOT, "tests", "golden", "results_small.json")
README = """
    # demo

    <!-- figures: out/reports/app.md#x86_64-unknown-linux-gnu -->
    | build | size (bytes) |
    | --- | --- |
    | release | 999 |
    <!-- /figures -->

    prose
"""


def _documents():
    names = ["README.md"] + sorted(os.path.join("docs", n) for n in os.listdir(os.path.join(ROOT, "docs"))
                                   if n.endswith(".md"))
    return {n: open(os.path.join(ROOT, n), encoding="utf-8").read() for n in names}


def test_the_size_tables_are_the_stored_results(capsys):
    assert rf.main(["--check"]) == 0, capsys.readouterr().out
    assert "every table equals" in capsys.readouterr().out


def test_the_benchmark_figures_are_the_benchmarks_json(capsys):
    assert bf.main(["--check"]) == 0, capsys.readouterr().out


def test_every_benchmark_result_is_quoted_and_names_its_settings():
    data = bf.load(ROOT)
    quoted = "".join(m.group("template") for text in _documents().values() for m in bf.BLOCK.finditer(text))
    for name, figures in data.items():
        assert f"{{{name}." in quoted, f"benchmarks/results/{name}.json is quoted nowhere"
        assert figures["date"]
        if "benchmark" in figures:   # written by benchmarks/benchjson.py (the estimate writes its own)
            assert figures["settings"] and figures["machine"]["cpus"]


def test_check_finds_the_drift_and_write_takes_the_run(tmp_path, capsys):
    write(tmp_path / "README.md", README)
    write(tmp_path / "docs" / "OTHER.md", "no blocks\n")
    assert rf.main(["--check", "--results", GOLDEN, "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"README.md:3: the block differs from out/reports/app.md#x86_64-unknown-linux-gnu from {GOLDEN}" in out
    assert "-| release | 999 |" in out and "+| release | none | 1,065,432 | 1.0M | 0% | 391K | ok |" in out
    assert f"To take this run's figures: python3 scripts/readme_figures.py --write --results {GOLDEN}" in out
    assert rf.main(["--write", "--results", GOLDEN, "--root", str(tmp_path)]) == 0
    stored = tmp_path / "docs" / "figures" / "results.json"
    assert stored.read_text() == open(GOLDEN).read()
    golden_md = open(os.path.join(ROOT, "tests", "golden", "app.md")).read()
    section = rf.section_of(golden_md, "x86_64-unknown-linux-gnu", "app.md")
    assert f"-->\n{section}<!-- /figures -->\n\nprose" in (tmp_path / "README.md").read_text()
    assert rf.main(["--check", "--root", str(tmp_path)]) == 0      # the stored results, as the suite runs it


def test_check_against_the_stored_results_says_how_to_render(tmp_path, capsys):
    write(tmp_path / "README.md", README)
    os.makedirs(tmp_path / "docs" / "figures")
    shutil.copyfile(GOLDEN, tmp_path / "docs" / "figures" / "results.json")
    assert rf.main(["--check", "--root", str(tmp_path)]) == 1
    assert "1 block(s) differ; they are not the stored runs' (docs/figures/results.json, docs/figures/seeds.json); " \
           "render them: python3 scripts/readme_figures.py --write" in capsys.readouterr().out


def test_a_seeds_block_is_rendered_from_the_seeds_run(tmp_path, capsys):
    """Blocks under seeds/out/ come from docs/figures/seeds.json, the others from results.json, and
    --results seeds/out/results.json checks and takes only the seeds' blocks."""
    write(tmp_path / "README.md", README + README.replace("out/reports/app.md", "seeds/out/reports/app.md")
          .replace("# demo", "# seeds"))
    os.makedirs(tmp_path / "docs" / "figures")
    shutil.copyfile(GOLDEN, tmp_path / "docs" / "figures" / "results.json")
    assert rf.main(["--write", "--root", str(tmp_path)]) == 2     # no seeds run stored yet: said, not a traceback
    assert "docs/figures/seeds.json: not found" in capsys.readouterr().err
    os.makedirs(tmp_path / "seeds" / "out")
    seeds = json.load(open(GOLDEN))
    seeds["cells"] = [c for c in seeds["cells"] if c["variant"] != "release-stripped"]
    with open(tmp_path / "seeds" / "out" / "results.json", "w") as f:
        json.dump(seeds, f)
    run = str(tmp_path / "seeds" / "out" / "results.json")
    assert rf.main(["--write", "--results", run, "--root", str(tmp_path)]) == 0
    assert os.path.isfile(tmp_path / "docs" / "figures" / "seeds.json")
    text = (tmp_path / "README.md").read_text()
    main_block, seeds_block = text.split("# seeds")
    assert "| release-stripped |" in main_block and "| release-stripped |" not in seeds_block
    assert rf.main(["--check", "--root", str(tmp_path)]) == 0
    assert rf.main(["--check", "--results", run, "--root", str(tmp_path)]) == 0


def test_toolchains_line_names_each_rustc(tmp_path):
    results = json.load(open(GOLDEN))
    results["cells"][0]["toolchain"] = {"name": "stable", "rustc": "rustc 1.95.0 (abc 2026-04-14)"}
    results["cells"][1]["toolchain"] = {"name": "nightly", "rustc": "rustc 1.97.0-nightly"}
    results["cells"][4]["toolchain"] = {"name": "nightly", "rustc": "rustc 1.97.0-nightly"}  # unavailable
    assert results["cells"][4]["status"] == "unavailable"
    assert rf.toolchains(results) == ("- rustc 1.95.0 (abc 2026-04-14), toolchain `stable`: app\n"
                                      "- rustc 1.97.0-nightly, toolchain `nightly`: app\n")


def test_missing_results_or_section_is_exit_2(tmp_path, capsys):
    write(tmp_path / "README.md", README)
    assert rf.main(["--check", "--root", str(tmp_path)]) == 2
    assert "docs/figures/results.json: not found" in capsys.readouterr().err
    write(tmp_path / "README.md", README.replace("#x86_64-unknown-linux-gnu", "#riscv64gc-unknown-linux-gnu"))
    assert rf.main(["--check", "--results", GOLDEN, "--root", str(tmp_path)]) == 2
    assert "no section '## riscv64gc-unknown-linux-gnu'" in capsys.readouterr().err


def test_every_measured_table_in_the_docs_has_a_source():
    # A table with byte counts outside a block is a figure no command produces.
    for name, text in _documents().items():
        outside = re.sub(r"<!-- figures: .*?<!-- /figures -->", "", text, flags=re.S)
        outside = bf.BLOCK.sub("", outside)
        # The limits table is rendered from sizekit/utils/limits.py (tests/test_readme_limits.py).
        outside = re.sub(r"<!-- limits -->.*?<!-- /limits -->", "", outside, flags=re.S)
        measured = [line for line in outside.splitlines() if line.startswith("|") and re.search(r"\d,\d{3},\d{3}", line)]
        assert measured == [], name


def _fake_demo(tmp_path, doit, figures):
    """scripts/demo in a copy of its folder, with install, doit and the figures check stubbed."""
    os.makedirs(tmp_path / "scripts")
    shutil.copy(os.path.join(ROOT, "scripts", "demo"), tmp_path / "scripts" / "demo")
    write(tmp_path / "scripts" / "install", "exit 0\n")
    fake = write(tmp_path / "bin" / "python3", f"""
        #!/bin/bash
        if [ "$1 $2" = "-m doit" ]; then exit {doit}; fi
        if [ "$1" = scripts/readme_figures.py ]; then echo "checked: $*"; exit {figures}; fi
        exit 99
    """)
    os.chmod(fake, 0o755)
    env = dict(os.environ, PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    return subprocess.run(["bash", str(tmp_path / "scripts" / "demo")], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("doit,figures,status", [(0, 0, 0), (0, 1, 1), (2, 1, 2), (1, 0, 1)])
def test_the_demo_fails_when_its_figures_check_fails(tmp_path, doit, figures, status):
    proc = _fake_demo(tmp_path, doit, figures)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert "checked: scripts/readme_figures.py --check --results out/results.json" in proc.stdout


def test_the_readme_says_what_the_demo_checks():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    demo = open(os.path.join(ROOT, "scripts", "demo"), encoding="utf-8").read()
    quoted = re.search(r"the demo ends by checking\s+them: `(python3 scripts/readme_figures\.py [^`]+)`", readme)
    assert quoted and quoted.group(1) in demo
    assert "|| true" not in demo


def test_bench_fill_reads_keys_indexes_and_specs():
    data = {"noop": {"doit": {"median": 0.2134}, "met": True, "files": [{"bytes": 704_321}], "n": 1234567,
                     "rows": ["release", "release-lto"]}}
    assert bf.fill("{noop.doit.median:.2f} s, {noop.met:met/missed}, {noop.files[0].bytes:KB}, {noop.n:,}, "
                   "{noop.doit.median:ms}, {noop.rows:join}", data) == \
        "0.21 s, met, 704 KB, 1,234,567, 213 ms, release, release-lto"
    with pytest.raises(bf.FiguresError, match=r"\{noop\.doit\.mean\}: benchmarks/results/noop\.doit has no 'mean' "
                                              r"\(it has: median\)"):
        bf.fill("{noop.doit.mean}", data)
    with pytest.raises(bf.FiguresError, match="no 'scale'"):
        bf.fill("{scale.ratio}", data)


def test_bench_check_names_the_block_and_write_fills_it(tmp_path, capsys):
    write(tmp_path / "benchmarks" / "results" / "noop.json", '{"doit": {"median": 0.21}}')
    block = "<!-- bench:\nno-op doit {noop.doit.median:.2f} s\n-->\nno-op doit 0.30 s\n<!-- /bench -->\n"
    write(tmp_path / "README.md", "# x\n\n" + block)
    write(tmp_path / "docs" / "A.md", "text\n\n" + block)
    assert bf.main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "README.md:3: the block differs from its figures in benchmarks/results/" in out and "docs/A.md:3:" in out
    assert "+no-op doit 0.21 s" in out and "2 block(s) differ; refresh them with python3 scripts/bench_figures.py " \
                                          "--write" in out
    assert bf.main(["--write", "--root", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").read_text() == "# x\n\n" + block.replace("0.30", "0.21")
    assert bf.main(["--check", "--root", str(tmp_path)]) == 0


def test_the_estimate_band_the_readme_names_is_the_models():
    """The README names EST_BAND's value in prose: it is the one csrc/tables.json holds."""
    from sizekit.elf.pyport.tables import EST_BAND
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = " ".join(f.read().split())
    found = re.search(r"`EST_BAND` in `csrc/tables\.json`, (\d+) per mille: (\d+(?:\.\d+)?)%", text)
    assert found, "the README no longer names EST_BAND's value where this test looks"
    assert int(found.group(1)) == EST_BAND and float(found.group(2)) == EST_BAND / 10
