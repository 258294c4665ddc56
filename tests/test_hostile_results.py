"""results.json files and output folders from a fork's CI job: merge, report, check and snapshot.

Every case runs `python -m sizekit` in a child under prlimit (tests/bounded.py). What is checked:
no file outside the output folder is opened or shown, no hang, bounded time and memory, one
line and exit 2 for bad input, and nothing written before every input and the output location
were checked. The files are generated here, none committed.
"""
import hashlib
import json
import os
import shutil

import pytest

from bounded import (SUPPORTED_MB, SUPPORTED_SECONDS, assert_bounded, assert_refused, run_sizekit)
from conftest import TINY, write
from sizekit.utils import limits
from sizekit.utils.fsutil import remove_inside

X86 = "x86_64-unknown-linux-gnu"
ARM = "armv7-unknown-linux-gnueabihf"
FOREIGN = "not a results.json as sizekit writes it"


def cell(crate="app", target=X86, variant="release", n=1000, path=None):
    return {"crate": crate, "target": target, "variant": variant, "label": "none", "status": "ok", "reason": None,
            "final_bytes": n, "upx_estimate_bytes": n // 3,
            "stages": [{"step": "build", "path": path or f"out/build/{crate}/{variant}", "bytes": n,
                        "sections": {".text": n // 2}}],
            "crates": {"std": n // 2}, "smoke": {"ok": True, "detail": "exit 0"}, "build": {"key": "k1"}}


def results(cells, **top):
    return {"version": 1, "matrix": "matrix.yaml", "baseline": "release",
            "variants": list(dict.fromkeys(c["variant"] for c in cells)), "cells": cells, **top}


def many(ncrates, nvariants, ntargets=2):
    """A matrix's worth of cells: ncrates x ntargets x nvariants."""
    return [cell(f"crate{c}", (X86, ARM)[t], f"v{v}" if v else "release", 100_000 + c * 97 + v)
            for c in range(ncrates) for t in range(ntargets) for v in range(nvariants)]


def save(path, data):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    return str(path)


def tree(folder):
    """{relative path: sha256} of every file under folder, to show nothing changed."""
    out = {}
    for here, _, files in os.walk(folder):
        for name in files:
            full = os.path.join(here, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


# ---------------------------------------------------------------- files named by results.json

SECRET = "the-secret-line-of-a-file-outside"


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\nroot:x:0:0\n")
    return str(path)


@pytest.mark.parametrize("name", ["/etc/passwd", "../../../../../../../etc/passwd", "SECRET", "../secret.txt"])
def test_check_never_reads_the_matrix_a_results_field_names(tmp_path, secret, name):
    project = tmp_path / "p"
    save(project / "out" / "results.json", results([cell()], matrix=secret if name == "SECRET" else name))
    run = run_sizekit("check", "out/results.json", cwd=project)
    assert_refused(run, "out/results.json: no matrix.yaml in", "pass --matrix PATH")
    assert SECRET not in run.stderr and "root:" not in run.stderr


def test_check_quotes_no_file_it_found_on_its_own(tmp_path):
    # A matrix.yaml above the results that is not a matrix (here a copy of some other file):
    # named, never shown.
    (tmp_path / "matrix.yaml").write_text(SECRET + ": [\n")
    save(tmp_path / "out" / "results.json", results([cell()]))
    run = run_sizekit("check", "out/results.json", cwd=tmp_path)
    assert_refused(run, "sizekit: out/results.json: matrix.yaml above it is not a valid matrix; "
                        "run `sizekit check --matrix matrix.yaml` to see why")
    assert SECRET not in run.stderr


@pytest.mark.parametrize("where", ["absolute", "dotdot", "symlink", "fifo", "device"])
def test_report_and_snapshot_open_no_stage_path_outside_the_output(tmp_path, secret, where):
    out = tmp_path / "p" / "out"
    out.mkdir(parents=True)
    path = {"absolute": secret, "dotdot": "../../secret.txt", "symlink": "out/link",
            "fifo": "out/fifo", "device": "out/zero"}[where]
    if where == "symlink":
        os.symlink(secret, out / "link")
    elif where == "fifo":
        os.mkfifo(out / "fifo")
    elif where == "device":
        os.symlink("/dev/zero", out / "zero")
    save(out / "results.json", results([cell(path=path)]))
    for args in (["report", "out/results.json"], ["snapshot", "out", "-o", "s.zst"]):
        run = run_sizekit(*args, cwd=tmp_path / "p")
        assert run.status == 0, run.stderr
        assert_bounded(run)
        assert SECRET not in run.stderr + run.stdout
    page = (out / "reports" / "index.html").read_text()
    assert SECRET not in page
    # The artifact is skipped with the reason, so the snapshot has no symbols.
    run = run_sizekit("snapshot", "out", "-o", "s.zst", cwd=tmp_path / "p")
    assert "0 artifacts, 0 symbols" in run.stderr
    assert "no symbols for" in run.stderr


# ---------------------------------------------------------------- values past the limits

@pytest.mark.parametrize("value,problem", [
    (10 ** 400, "cells[0].final_bytes: expected a byte count or null, got " + str(10 ** 400)[:30]),
    ((1 << 48) + 1, "cells[0].final_bytes: expected a byte count or null, got 281474976710657"),
    (10 ** 15, "cells[0].final_bytes: expected a byte count or null, got 1000000000000000"),
])
def test_sizes_past_2_48_are_refused(tmp_path, value, problem):
    data = results([cell()])
    data["cells"][0]["final_bytes"] = value
    save(tmp_path / "out" / "results.json", data)
    for args in (["report", "out/results.json"], ["diff", "out/results.json", "out/results.json"]):
        assert_refused(run_sizekit(*args, cwd=tmp_path), f"out/results.json: {problem}; {FOREIGN}")
    assert not (tmp_path / "out" / "reports").exists()


def test_the_largest_size_charts_in_bounded_time(tmp_path):
    cells = [cell(n=limits.SIZE_MAX.value), cell(variant="small", n=1)]
    save(tmp_path / "out" / "results.json", results(cells))
    run = run_sizekit("report", "out/results.json", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert_bounded(run, SUPPORTED_SECONDS, SUPPORTED_MB)
    page = (tmp_path / "out" / "reports" / "index.html").read_text()
    assert page.count("<line") < 20   # ticks are capped, whatever the size


@pytest.mark.parametrize("key,value,problem", [
    ("build", {"key": "k", "seconds": 10 ** 30}, "cells[0].build.seconds: a number of 31 digits, outside 64 bits"),
    ("reason", "x" * (limits.TEXT_CHARS.value + 1), "cells[0].reason: a string of 65,537 characters, over the "
                                                     "limit of 65,536"),
    ("variant", "v" * 300, "cells[0].variant: a variant name of 300 characters, over the limit of 256"),
    ("crate", "../escape", "cells[0].crate: crate name '../escape' cannot name a report file"),
    ("crate", "crates", "cells[0].crate: crate name 'crates' is the all-crates table's (crates.md)"),
])
def test_bounded_strings_numbers_and_names(tmp_path, key, value, problem):
    data = results([cell(), cell(crate="other")])
    data["cells"][0][key] = value
    save(tmp_path / "r.json", data)
    run = run_sizekit("report", "r.json", "--output", "o", cwd=tmp_path)
    assert_refused(run, f"sizekit: r.json: {problem}")
    assert not (tmp_path / "o").exists()


def test_an_astral_character_in_the_largest_file_stays_in_bounds(tmp_path):
    data = results([cell()])
    data["x"] = "a" * (limits.RESULTS_BYTES.value - 1000) + "\U0001F600"
    with open(tmp_path / "r.json", "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    assert os.path.getsize(tmp_path / "r.json") <= limits.RESULTS_BYTES.value
    assert_refused(run_sizekit("report", "r.json", "--output", "o", cwd=tmp_path), "sizekit: r.json: x: a string of")


def test_too_many_cells_are_refused(tmp_path):
    cells = many(limits.CELLS.value // 2 + 1, 1)
    save(tmp_path / "r.json", results(cells))
    assert_refused(run_sizekit("report", "r.json", "--output", "o", cwd=tmp_path),
                   f"sizekit: r.json: holds {len(cells):,} cells, over the limit of 10,000 for a results.json")


# ---------------------------------------------------------------- duplicated cells

def test_a_duplicated_cell_is_refused_naming_both(tmp_path):
    data = results([cell(n=1), cell(variant="release-stripped", n=500), cell(n=481_624)])
    save(tmp_path / "old.json", results([cell(n=1)]))
    save(tmp_path / "new.json", data)
    message = ("new.json: cells[0] and cells[2] are both app/x86_64-unknown-linux-gnu/release; a cell "
               "appears once, so this file was edited or joined by hand")
    for args in (["diff", "old.json", "new.json"], ["check", "--max-growth", "1%", "--base", "old.json", "new.json"],
                 ["report", "new.json", "--output", "o"], ["merge", "new.json", "-o", "m"]):
        run = run_sizekit(*args, cwd=tmp_path)
        assert run.status == 2 and run.stdout == "", (args, run)
        assert message in run.stderr, (args, run.stderr)
    assert sorted(os.listdir(tmp_path)) == ["new.json", "old.json"]


# ---------------------------------------------------------------- time and memory

def test_merge_of_the_largest_shards_is_bounded(tmp_path):
    # Four shards that together hold the most cells a results.json may: linear, not a list scan.
    cells = many(limits.CELLS.value // 20, 10)
    names = [f"{c['crate']}/{c['target']}/{c['variant']}" for c in cells]
    paths = []
    for k in range(4):
        part = cells[k::4]
        shard = {"index": k + 1, "count": 4, "matrix_cells": names}
        paths.append(save(tmp_path / f"s{k}" / "results.json", results(part, shard=shard)))
    run = run_sizekit("merge", *paths, "-o", "m", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert_bounded(run)
    assert len(json.load(open(tmp_path / "m" / "results.json"))["cells"]) == limits.CELLS.value


def test_merge_past_the_cell_limit_is_refused(tmp_path):
    names = [f"c{i}/{X86}/release" for i in range(limits.CELLS.value + 1)]
    shard = {"index": 1, "count": 1, "matrix_cells": names}
    save(tmp_path / "s.json", results([cell()], shard=shard))
    assert_refused(run_sizekit("merge", "s.json", "-o", "m", "--partial", cwd=tmp_path),
                   "these shards hold 10,001 cells, over the limit of 10,000")


def test_a_malformed_shard_cell_name_is_refused(tmp_path):
    shard = {"index": 1, "count": 1, "matrix_cells": [f"app/{X86}/release", "no-slashes"]}
    save(tmp_path / "s.json", results([cell()], shard=shard))
    assert_refused(run_sizekit("merge", "s.json", "-o", "m", "--partial", cwd=tmp_path),
                   "sizekit: s.json: shard.matrix_cells names 'no-slashes', not crate/target/variant")


def test_report_of_2000_rows_of_one_crate_is_bounded(tmp_path):
    save(tmp_path / "r.json", results([cell(variant=f"v{i}" if i else "release", n=1000 + i) for i in range(2000)]))
    run = run_sizekit("report", "r.json", "--output", "o", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert_bounded(run, SUPPORTED_SECONDS, SUPPORTED_MB)


@pytest.mark.parametrize("command", ["report", "check", "merge", "diff"])
def test_the_supported_size_takes_under_2_s_and_200_mb(tmp_path, command):
    cells = many(350, 10)     # 7,000 cells: 350 crates on two targets, ten rows each
    assert len(cells) == 7000
    path = save(tmp_path / "out" / "results.json", results(cells))
    write(tmp_path / "matrix.yaml", "version: 1\ncrates:\n  tiny: {path: %s}\nvariants:\n  - {name: release}\n"
          % TINY)
    args = {"report": ["report", path], "check": ["check", path], "merge": ["merge", path, "-o", "m"],
            "diff": ["diff", path, path]}[command]
    run = run_sizekit(*args, cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert_bounded(run, SUPPORTED_SECONDS, SUPPORTED_MB)


# ---------------------------------------------------------------- validate, then write

def test_a_bad_second_shard_leaves_the_earlier_merge_as_it_was(tmp_path):
    good = save(tmp_path / "a" / "results.json", results([cell(), cell(crate="b")]))
    assert run_sizekit("merge", good, "-o", "m", cwd=tmp_path).status == 0
    before = tree(tmp_path / "m")
    assert {"results.json", "reports/app.md", "reports/b.md", "reports/index.html"} <= set(before)
    bad = results([cell(crate="c")])
    bad["cells"][0]["crate"] = "../c"
    save(tmp_path / "b" / "results.json", bad)
    run = run_sizekit("merge", good, str(tmp_path / "b" / "results.json"), "-o", "m", cwd=tmp_path)
    assert run.status == 2 and "cannot name a report file" in run.stderr
    assert tree(tmp_path / "m") == before
    assert sorted(os.listdir(tmp_path / "m")) == ["reports", "results.json"]


def test_a_bad_crate_leaves_the_earlier_reports_as_they_were(tmp_path):
    path = save(tmp_path / "out" / "results.json", results([cell(), cell(crate="b")]))
    assert run_sizekit("report", path, cwd=tmp_path).status == 0
    before = tree(tmp_path / "out")
    data = results([cell(), cell(crate="b")])
    data["cells"][1]["status"] = 7
    save(path, data)
    run = run_sizekit("report", path, cwd=tmp_path)
    assert_refused(run, "cells[1].status: expected a string, got 7")
    after = tree(tmp_path / "out")
    assert {k: v for k, v in after.items() if k != "results.json"} == \
        {k: v for k, v in before.items() if k != "results.json"}


@pytest.mark.parametrize("case,message", [
    ("reports-file", "sizekit: o/reports: is a file, where sizekit keeps its reports folder; move it away"),
    ("index-folder", "sizekit: o/reports/index.html: is a folder, where sizekit writes a file; move it away"),
    ("results-folder", "sizekit: o/results.json: is a folder, where sizekit writes a file; move it away"),
    ("state-file", "sizekit: o/.sizekit: is a file, where sizekit keeps its state folder; move it away"),
    ("output-file", "sizekit: o: is a file; the output is a folder that gets results.json and reports/, so pass a "
                    "folder"),
    ("reports-link", "sizekit: o/reports: is a symlink (to ../victim); sizekit writes reports only into a real "
                     "folder inside the output folder, so remove the link"),
])
def test_a_wrong_output_location_is_refused_before_anything_is_written(tmp_path, case, message):
    save(tmp_path / "r.json", results([cell()]))
    (tmp_path / "victim").mkdir()
    if case == "output-file":
        (tmp_path / "o").write_text("")
    else:
        (tmp_path / "o").mkdir()
    if case == "reports-file":
        (tmp_path / "o" / "reports").write_text("")
    elif case == "index-folder":
        (tmp_path / "o" / "reports" / "index.html").mkdir(parents=True)
    elif case == "results-folder":
        (tmp_path / "o" / "results.json").mkdir()
    elif case == "state-file":
        (tmp_path / "o" / ".sizekit").write_text("")
    elif case == "reports-link":
        os.symlink("../victim", tmp_path / "o" / "reports")
    before = tree(tmp_path)
    assert_refused(run_sizekit("merge", "r.json", "-o", "o", cwd=tmp_path), message)
    if case != "results-folder":
        assert_refused(run_sizekit("report", "r.json", "--output", "o", cwd=tmp_path), message)
    assert tree(tmp_path) == before
    assert os.listdir(tmp_path / "victim") == []


@pytest.mark.parametrize("args,message", [
    (["snapshot", "out", "-o", "folder"], "sizekit: folder: is a folder; the snapshot is a file, so pass a file name "
                                          "such as folder/out"),
    (["snapshot", "out", "-o", "nowhere/s.zst"], "sizekit: nowhere/s.zst: its folder"),
    (["history", "out/results.json", "-o", "folder"], "sizekit: folder: is a folder; the history page is a file"),
])
def test_a_wrong_output_file_is_refused(tmp_path, args, message):
    save(tmp_path / "out" / "results.json", results([cell()]))
    (tmp_path / "folder").mkdir()
    assert_refused(run_sizekit(*args, cwd=tmp_path), message)
    assert os.listdir(tmp_path / "folder") == [] and not (tmp_path / "nowhere").exists()


def test_no_traceback_for_a_matrix_whose_variants_are_strings(tmp_path):
    write(tmp_path / "m.yaml", f"version: 1\ncrates:\n  a: {{path: {TINY}}}\nvariants: [release, dev]\n"
                               "baseline: relase\n")
    run = run_sizekit("doctor", "m.yaml", cwd=tmp_path)
    assert run.status == 2 and "Traceback" not in run.stderr
    assert "m.yaml:4: variants[0]: expected a mapping, got 'release' (str)" in run.stderr


# ---------------------------------------------------------------- clean

def test_clean_removes_recorded_files_only_inside_the_output_and_never_through_a_symlink(tmp_path):
    out, victim = tmp_path / "out", tmp_path / "victim"
    (out / "build" / "app").mkdir(parents=True)
    victim.mkdir()
    (victim / "keep.md").write_text("someone's file")
    (out / "build" / "app" / "tiny").write_text("artifact")
    (out / "build" / "app" / "mine.txt").write_text("not recorded")
    os.symlink(str(victim), out / "reports")
    os.symlink(str(victim / "keep.md"), out / "link.md")
    skipped = remove_inside(str(out), [str(out / "build" / "app" / "tiny"), str(out / "reports" / "keep.md"),
                                       str(out / "link.md"), str(tmp_path / "victim" / "keep.md"), "/etc/passwd"])
    assert skipped == [str(out / "reports" / "keep.md"), str(tmp_path / "victim" / "keep.md"), "/etc/passwd"]
    assert (victim / "keep.md").read_text() == "someone's file"
    assert not os.path.lexists(out / "link.md")          # the link, not its target
    assert not (out / "build" / "app" / "tiny").exists()
    assert (out / "build" / "app" / "mine.txt").exists()  # not recorded: stays, and so does its folder


def test_doctor_says_where_an_outside_output_folder_is(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(TINY, project / "tiny", ignore=shutil.ignore_patterns("target"))
    (tmp_path / "elsewhere").mkdir()
    write(project / "matrix.yaml", f"version: 1\noutput: {tmp_path / 'elsewhere'}\ncrates:\n  tiny: {{path: tiny}}\n"
                                   "variants:\n  - {name: release}\n")
    run = run_sizekit("doctor", "matrix.yaml", cwd=project)
    assert f"output: the output folder {tmp_path / 'elsewhere'} is outside the matrix's folder {project}" \
        in run.stdout


# ---------------------------------------------------------------- the drivers (real cargo builds)

@pytest.mark.slow
def test_a_run_whose_reports_folder_is_a_symlink_writes_nothing_through_it(tmp_path):
    from conftest import TWO_ROWS, doit, tiny_project
    tiny_project(tmp_path, TWO_ROWS)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "tiny.md").write_text("someone's file")
    (tmp_path / "out").mkdir()
    os.symlink(str(victim), tmp_path / "out" / "reports")
    proc = doit(tmp_path, check=False)
    assert proc.returncode != 0
    assert "out/reports: is a symlink" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert os.listdir(victim) == ["tiny.md"] and (victim / "tiny.md").read_text() == "someone's file"
    # doit clean goes through no symlink either: the victim's file stays, sizekit's own go.
    built = [p for p in (tmp_path / "out" / ".sizekit" / "stages").iterdir()]
    assert built
    doit(tmp_path, "clean")
    assert (victim / "tiny.md").read_text() == "someone's file"
    assert not any(p.exists() for p in built)


@pytest.mark.parametrize("command", ["report", "check", "merge", "diff"])
def test_the_largest_results_within_the_limits_take_under_10_s_and_500_mb(tmp_path, command):
    # 10,000 cells (the cell limit) whose stages carry sections up to the value limit.
    cells = many(500, 10)
    sections = {f".s{i}": i for i in range(72)}
    for c in cells:
        for stage in c["stages"]:
            stage["sections"] = sections
    path = save(tmp_path / "out" / "results.json", results(cells))
    text = open(path).read()
    assert len(cells) == limits.CELLS.value
    assert 0.9 * limits.RESULTS_VALUES.value < text.count(",") + text.count("[") + text.count("{") \
        <= limits.RESULTS_VALUES.value
    write(tmp_path / "matrix.yaml", "version: 1\ncrates:\n  tiny: {path: %s}\nvariants:\n  - {name: release}\n"
          % TINY)
    args = {"report": ["report", path], "check": ["check", path], "merge": ["merge", path, "-o", "m"],
            "diff": ["diff", path, path]}[command]
    run = run_sizekit(*args, cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert_bounded(run)


def test_a_snapshot_reads_at_most_its_limit_of_artifacts(tmp_path):
    """A results folder naming more artifacts than a snapshot may hold: the rest are skipped with
    the reason, and the run stays bounded whatever the folder holds."""
    import subprocess as sp
    src = tmp_path / "small.c"
    src.write_text("int f(int x) { return x * 3; }\nint main(void) { return f(2); }\n")
    if sp.run(["gcc", "-O1", "-o", str(tmp_path / "small"), str(src)]).returncode != 0:
        pytest.fail("gcc could not build a small program")
    out = tmp_path / "out"
    n = limits.SNAPSHOT_ARTIFACTS.value + 5
    cells = []
    for i in range(n):
        os.makedirs(out / "build" / f"c{i}", exist_ok=True)
        os.link(tmp_path / "small", out / "build" / f"c{i}" / "app")
        cells.append(cell(f"c{i}", path=f"out/build/c{i}/app"))
    save(out / "results.json", results(cells))
    run = run_sizekit("snapshot", "out", "-o", "s.zst", cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert_bounded(run)
    assert f", {limits.SNAPSHOT_ARTIFACTS.value} artifacts," in run.stderr.splitlines()[0]
    assert run.stderr.count("not read: the snapshot has read its limit of 4,000 artifacts") == 5
