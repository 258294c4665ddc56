"""Hostile files handed to sizekit: matrices and results.json.

Whatever the bytes, sizekit exits 2 with one line on stderr naming the file and the problem, in
under 2 s and 200 MB, with no traceback, and writes nothing. The static hostile matrices are in
tests/bad_matrices/ (34- onwards); here are the cases that are generated at test time (huge or
sparse files, FIFOs, folders, devices), the time and memory measurements, and results.json.
"""
import json
import os
import textwrap
from collections import namedtuple

import pytest

from bounded import run_sizekit
from conftest import ROOT, TINY
from sizekit.cli.main import main
from sizekit.config.load import load_matrix
from sizekit.report.budget import check_report
from sizekit.report.cell_tables import diff_markdown
from sizekit.report.publish import write_reports
from sizekit.report.page import render_html
from sizekit.results.budget import budget_rows
from sizekit.results.cell_diff import diff_results
from sizekit.results.results_file import load_results
from sizekit.utils.errors import ResultsError, SizekitError

SECONDS = 2.0
MEGABYTES = 200
BAD = os.path.join(ROOT, "tests", "bad_matrices")
GOLDEN = os.path.join(ROOT, "tests", "golden")
X86 = "x86_64-unknown-linux-gnu"

Run = namedtuple("Run", "status stdout stderr seconds megabytes")


def sizekit(*args, cwd):
    """Run `python -m sizekit ARGS` under prlimit; its CPU time and its own peak RSS (tests/bounded.py)."""
    return run_sizekit(*args, cwd=cwd, seconds=SECONDS)


def assert_refused(run, message):
    assert (run.status, run.stderr, run.stdout) == (2, message + "\n", "")
    assert run.seconds < SECONDS, f"took {run.seconds:.2f} s"
    assert run.megabytes < MEGABYTES, f"peak RSS {run.megabytes:.0f} MB"


# ---------------------------------------------------------------- matrices

def expected_messages():
    with open(os.path.join(BAD, "expected.tsv")) as f:
        return dict(line.rstrip("\n").split("\t") for line in f)


@pytest.mark.parametrize("name", ["34-alias-bomb.yaml", "35-deep-list.yaml", "36-deep-mapping.yaml",
                                  "37-deep-block-mapping.yaml", "38-recursive-alias.yaml",
                                  "39-too-many-aliases.yaml", "40-long-value.yaml", "41-not-utf8.yaml"])
def test_hostile_corpus_matrix_is_refused_fast_and_small(name):
    assert_refused(sizekit("run", name, cwd=BAD), expected_messages()[name])
    assert not os.path.exists(os.path.join(BAD, "out"))


HEAD = f"version: 1\ncrates:\n  tiny: {{path: {TINY}}}\nvariants: [{{name: release}}]\n"
MIB = 1 << 20
TOO_BIG = "is larger than 1 MiB, the limit for a matrix file; check that this is the right file"
SPECIAL = "not a regular file; save the contents to a file and pass that"


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)


GENERATED = {
    # name: (make it at this path, the message)
    "big.yaml": (lambda p: _write(p, HEAD + ("# padding" + "." * 90 + "\n") * (MIB // 100 + 1)),
                 f"big.yaml: {TOO_BIG}"),
    "sparse.yaml": (lambda p: _sparse(p, 8 << 30), f"sparse.yaml: {TOO_BIG}"),
    "many.yaml": (lambda p: _write(p, "[" + "1, " * 300_000 + "1]\n"),
                  "many.yaml:1: more than 20,000 values; a matrix has a few hundred, so check that this is "
                  "the right file"),
    "long.yaml": (lambda p: _write(p, "version: " + "9" * (MIB - 20) + "\n"),
                  f"long.yaml:1: a value of {MIB - 20:,} characters is over the 4,096-character limit; shorten it"),
    "comments.yaml": (lambda p: _write(p, ("#" + "x" * 98 + "\n") * (MIB // 100)),
                      "comments.yaml:1: (top level): the file is empty; a matrix needs at least version, crates "
                      "and variants"),
    "dashes.yaml": (lambda p: _write(p, "- " * 5000 + "x\n"),
                    "dashes.yaml:1: lists and mappings nest more than 64 levels deep; a matrix needs fewer than "
                    "10, so flatten it"),
    "fifo.yaml": (os.mkfifo, f"fifo.yaml: is a named pipe (FIFO), {SPECIAL}"),
    "zero.yaml": (lambda p: os.symlink("/dev/zero", p), f"zero.yaml: is a character device, {SPECIAL}"),
    "folder": (os.mkdir, "folder: is a directory; pass the matrix file, e.g. folder/matrix.yaml"),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_hostile_matrix_is_refused(tmp_path, name):
    make, message = GENERATED[name]
    make(str(tmp_path / name))
    assert_refused(sizekit("run", name, cwd=tmp_path), message)
    assert sorted(os.listdir(tmp_path)) == [name]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_the_matrix_does_not_hang(tmp_path, device):
    assert_refused(sizekit("run", device, cwd=tmp_path), f"{device}: is a character device, {SPECIAL}")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", [["doctor"], ["check", "--matrix"]])
def test_other_commands_refuse_a_fifo_matrix_too(tmp_path, command):
    os.mkfifo(tmp_path / "m.yaml")
    assert_refused(sizekit(*command, "m.yaml", cwd=tmp_path), f"sizekit: m.yaml: is a named pipe (FIFO), {SPECIAL}")


def test_merge_keys_share_settings(tmp_path):
    path = tmp_path / "matrix.yaml"
    _write(path, textwrap.dedent(f"""\
        version: 1
        crates:
          tiny: {{path: {TINY}}}
        variants:
          - &rel {{name: release, profile: release, cargo: &small {{opt-level: z, lto: true}}}}
          - <<: *rel
            name: small
            cargo: {{<<: *small, lto: thin}}
          - {{<<: [{{name: x, profile: dev}}, *rel], cargo: {{codegen-units: 1}}}}
        """))
    variants = {v.name: v.settings for v in load_matrix(str(path), host=X86).variants}
    assert variants == {"release": {"profile": "release", "cargo": {"opt-level": "z", "lto": True}},
                        "small": {"profile": "release", "cargo": {"opt-level": "z", "lto": "thin"}},
                        "x": {"profile": "dev", "cargo": {"codegen-units": 1}}}


# ---------------------------------------------------------------- results.json

GOOD = {"version": 1, "matrix": "matrix.yaml", "baseline": "release", "variants": ["release"], "cells": [
    {"crate": "app", "target": X86, "variant": "release", "label": "none", "status": "ok", "reason": None,
     "final_bytes": 1000, "stages": [{"step": "build", "path": "out/app", "bytes": 1000, "sections": {".text": 900}}],
     "crates": {"std": 500}, "smoke": {"ok": True, "detail": "exit 0"}, "build": {"key": "k1"}}]}
FOREIGN = "not a results.json as sizekit writes it"


def _bytes(data):
    def make(path):
        with open(path, "wb") as f:
            f.write(data)
    return make


FILES = {
    # name: (make it at this path, the message after "sizekit: ")
    "open-brace": (_bytes(b"{"), "bad.json: not valid JSON (Expecting property name enclosed in double quotes: "
                                 "line 1 column 2 (char 1))"),
    "truncated": (_bytes(json.dumps(GOOD).encode()[:60]),
                  "bad.json: not valid JSON (Unterminated string starting at: line 1 column 53 (char 52))"),
    "empty": (_bytes(b""), "bad.json: not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    "list": (_bytes(b"[]"), "bad.json: not a sizekit results.json of version 1"),
    "foreign": (_bytes(b'{"name": "left-pad", "version": "1.3.0"}'), "bad.json: not a sizekit results.json of version 1"),
    "deep": (_bytes(b"[" * 100_000), "bad.json: not valid JSON (lists and objects nest too deeply)"),
    "deep-closed": (_bytes(b"[" * 5000 + b"]" * 5000), "bad.json: not valid JSON (lists and objects nest too deeply)"),
    "latin1": (_bytes(b'{"version": 1,\n "matrix": "caf\xe9"}'),
               "bad.json:2: byte 0xe9 at offset 30 is not UTF-8; save the file as UTF-8 text"),
    "nul": (_bytes(b'{"version": 1,\n\0}'),
            "bad.json:2: NUL byte at offset 15: this is a binary file, not text; pass the right file"),
    "sparse": (lambda p: _sparse(p, 1 << 30),
               "bad.json: is larger than 32 MiB, the limit for a results.json; check that this is the right file"),
    "many-values": (_bytes(b"[" + b"0," * 2_000_000 + b"{}]"),
                    "bad.json: holds more than 1,000,000 values, the limit for a results.json (about 7,000 cells); "
                    "check that this is the right file"),
    "folder": (os.mkdir, "bad.json: is a directory; pass the results.json file"),
    "fifo": (os.mkfifo, f"bad.json: is a named pipe (FIFO), {SPECIAL}"),
    "zero": (lambda p: os.symlink("/dev/zero", p), f"bad.json: is a character device, {SPECIAL}"),
}


@pytest.fixture
def good(tmp_path):
    _write(tmp_path / "good.json", json.dumps(GOOD))
    return tmp_path


@pytest.mark.parametrize("command", [["report"], ["diff", "good.json"], ["check"]])
@pytest.mark.parametrize("case", sorted(FILES))
def test_hostile_results_file_is_refused(good, case, command):
    make, message = FILES[case]
    make(str(good / "bad.json"))
    assert_refused(sizekit(*command, "bad.json", cwd=good), f"sizekit: {message}")
    assert sorted(os.listdir(good)) == ["bad.json", "good.json"]


def test_hostile_old_side_of_a_diff_is_refused(good):
    os.mkfifo(good / "bad.json")
    assert_refused(sizekit("diff", "bad.json", "good.json", cwd=good),
                   f"sizekit: bad.json: is a named pipe (FIFO), {SPECIAL}")


def _edit(cell=None, stage=None, **top):
    data = json.loads(json.dumps(GOOD))
    data.update(top)
    data["cells"][0]["stages"][0].update(stage or {})
    data["cells"][0].update(cell or {})
    return data


WRONG = [  # (results, where and what, a ContentsError)
    (_edit({"final_bytes": "1000"}), "cells[0].final_bytes: expected a byte count or null, got a string"),
    (_edit({"final_bytes": -5}), "cells[0].final_bytes: expected a byte count or null, got -5"),
    (_edit({"final_bytes": 1 << 70}), "cells[0].final_bytes: expected a byte count or null, got 1180591620717411303424"),
    (_edit({"final_bytes": True}), "cells[0].final_bytes: expected a byte count or null, got true"),
    (_edit({"status": 7}), "cells[0].status: expected a string, got 7"),
    (_edit({"stages": {"step": "build"}}), "cells[0].stages: expected a list, got an object"),
    (_edit({"stages": [1]}), "cells[0].stages[0]: expected an object, got 1"),
    (_edit(stage={"sections": [1, 2]}), "cells[0].stages[0].sections: expected an object or null, got a list"),
    (_edit(stage={"sections": {".text": "big"}}),
     "cells[0].stages[0].sections['.text']: expected a byte count, got a string"),
    (_edit(stage={"step": None}), "cells[0].stages[0].step: expected a string, got null"),
    (_edit({"crates": {"std": 1.5}}), "cells[0].crates['std']: expected a byte count, got 1.5"),
    (_edit({"smoke": "yes"}), "cells[0].smoke: expected an object or null, got a string"),
    (_edit({"smoke": {"ok": False}}), "cells[0].smoke.detail is missing"),
    (_edit({"build": {"key": [1]}}), "cells[0].build.key: expected a string or null, got a list"),
    (_edit({"build": {"key": "k", "cache": {"used": True, "languages": [1]}}}),
     "cells[0].build.cache.languages: expected an object or null, got a list"),
    (_edit({"build": {"key": "k", "cache": {"used": True, "languages": {"C/C++": 3}}}}),
     "cells[0].build.cache.languages.C/C++: expected an object, got 3"),
    (_edit({"build": {"key": "k", "cache": {"used": True, "languages": {"Rust": {"hits": "9"}}}}}),
     "cells[0].build.cache.languages.Rust.hits: expected a byte count or null, got a string"),
    (_edit({"upx_estimate_other_bytes": "65536"}),
     "cells[0].upx_estimate_other_bytes: expected a byte count or null, got a string"),
    (_edit(matrix=5), "matrix: expected a string or null, got 5"),
    (_edit(baseline=[]), "baseline: expected a string or null, got a list"),
    (_edit(variants=[1]), "variants[0]: expected a string, got 1"),
    (_edit(references="x"), "references: expected a list, got a string"),
    (_edit(references=[{"crate": "app"}]), "references[0].target is missing"),
]


def _run_main(args, capsys):
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("data,problem", WRONG, ids=[p.split(":")[0].split(" ")[0] + f"-{i}"
                                                     for i, (_, p) in enumerate(WRONG)])
def test_structurally_wrong_results_are_refused_naming_the_field(good, monkeypatch, capsys, data, problem):
    _write(good / "bad.json", json.dumps(data))
    monkeypatch.chdir(good)
    message = f"bad.json: {problem}; {FOREIGN}"
    assert _run_main(["report", "bad.json"], capsys) == (2, "", f"sizekit: {message}\n")
    assert _run_main(["check", "bad.json"], capsys) == (2, "", f"sizekit: {message}\n")
    assert _run_main(["diff", "good.json", "bad.json"], capsys) == (
        2, "", f"sizekit: good.json or bad.json: unexpected cell contents ({message})\n")
    assert sorted(os.listdir(good)) == ["bad.json", "good.json"]


def test_a_lone_surrogate_is_refused(good, monkeypatch, capsys):
    _write(good / "bad.json", json.dumps(GOOD).replace('"app"', '"\\ud800app"'))
    monkeypatch.chdir(good)
    message = "sizekit: bad.json: a string holds a lone UTF-16 surrogate (\\ud800 to \\udfff); " + FOREIGN + "\n"
    for args in (["report", "bad.json"], ["check", "bad.json"], ["diff", "good.json", "bad.json"]):
        assert _run_main(args, capsys) == (2, "", message)


def test_a_surrogate_pair_is_fine(good):
    _write(good / "pair.json", json.dumps(_edit({"label": "\U0001F680"})))
    assert load_results(str(good / "pair.json"))["cells"][0]["label"] == "\U0001F680"


# ---------------------------------------------------------------- every accepted file works

ODD_VALUES = [None, "", "x", "../../etc", 0, -1, 1.5, True, 1 << 70, [], [1], {}, {"a": 1}, {"a": "b"}]


def _mutants(data):
    """(what, results) with one field set to an odd value (or removed) in every object of its kind."""
    def objects(kind, d):
        cells = d["cells"]
        return {"top": [d], "cell": cells, "stage": [s for c in cells for s in c.get("stages") or []],
                "smoke": [c["smoke"] for c in cells if isinstance(c.get("smoke"), dict)],
                "build": [c["build"] for c in cells if isinstance(c.get("build"), dict)],
                "sizes": [m for c in cells for m in [c.get("crates")] + [s.get("sections") for s in c.get("stages") or []]
                          if isinstance(m, dict)],
                "reference": d.get("references") or []}[kind]
    kinds = {kind: sorted({k for o in objects(kind, data) for k in o}) for kind in
             ("top", "cell", "stage", "smoke", "build", "sizes", "reference")}
    for kind, keys in kinds.items():
        for key in keys:
            for value in ODD_VALUES + ["<removed>"]:
                d = json.loads(json.dumps(data))
                for o in objects(kind, d):
                    if value == "<removed>":
                        o.pop(key, None)
                    else:
                        o[key] = value
                yield f"{kind}.{key}={value!r}", d


MATRIX = """\
version: 1
crates:
  app: {{path: {tiny}, budget: 1MiB}}
  http-ureq: {{path: {tiny}, budget: {{max: 1MiB, targets: {{{x86}: 900KiB}}}}}}
  http-reqwest: {{path: {tiny}, budget: {{variants: {{release: 2MiB}}}}}}
variants: [{{name: dev}}, {{name: release}}, {{name: release-stripped}}, {{name: upx}}, {{name: bstd}}]
"""


@pytest.mark.parametrize("golden", ["results_small.json", "results_crates.json"])
def test_every_results_file_load_results_accepts_reports_diffs_and_checks(tmp_path, golden):
    """Odd values in every field: load_results refuses the file, or report, diff and check all work."""
    matrix_path = tmp_path / "matrix.yaml"
    _write(matrix_path, MATRIX.format(tiny=TINY, x86=X86))
    matrix = load_matrix(str(matrix_path), host=X86)
    good = load_results(os.path.join(GOLDEN, golden))
    path = str(tmp_path / "results.json")
    accepted = refused = 0
    for what, data in _mutants(good):
        _write(path, json.dumps(data))
        try:
            results = load_results(path)
        except ResultsError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(path + ": "), what
            refused += 1
            continue
        accepted += 1
        try:
            write_reports(str(tmp_path / "out"), results)
            render_html(results, charts={})
            diff_markdown(diff_results(good, results))
            diff_markdown(diff_results(results, good))
            check_report(budget_rows(matrix, results), "matrix.yaml", "results.json", strict=True)
        except SizekitError:
            pass  # a clean refusal, e.g. a crate name that cannot name a report file
        except Exception as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{what}: {type(exc).__name__}: {exc}")
    assert accepted > 50 and refused > 50
