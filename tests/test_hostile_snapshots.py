"""Hostile snapshots handed to `sizekit diff`, `check --base`, `report --base` and `history`.

Whatever the bytes, sizekit exits 2 with one line on stderr naming the file, the field and the
limit, with no traceback, in under 10 s and 500 MB (tests/bounded.py runs it under prlimit);
the README's supported size (2M symbols a snapshot, 7,000 cells) diffs in 2 s and 200 MB.
Every file is made here, at test time: payloads are built as bytes and compressed with zstandard.
"""
import json
import os
import random
import struct
import subprocess
import sys
from array import array

import pytest
import zstandard

from bounded import LIMIT_MB, LIMIT_SECONDS, SUPPORTED_MB, SUPPORTED_SECONDS, assert_bounded, assert_refused, \
    run_sizekit
from sizekit.results import snapshot as sn
from sizekit.utils import limits

X86 = "x86_64-unknown-linux-gnu"
LIMIT = {name: getattr(limits, name).value for name in limits.ALL}


# ---------------------------------------------------------------- making snapshots

def cell(crate, variant, final, target=X86):
    return {"crate": crate, "target": target, "variant": variant, "label": variant, "status": "ok",
            "reason": None, "final_bytes": final,
            "stages": [{"step": "build", "path": f"out/{crate}/{variant}", "bytes": final, "sections": {".text": 1}}]}


def results(cells):
    return {"version": 1, "matrix": "matrix.yaml", "baseline": "release", "cells": cells}


def header(res, artifacts, strings, string_bytes, symbols, cell_artifacts=None, **extra):
    return {"format": sn.FORMAT, "version": sn.VERSION, "created": "2026-01-01T00:00:00+00:00",
            "source": "out/results.json",
            "git": {"revision": "1" * 40, "date": "2026-01-01T00:00:00+00:00", "subject": "x"},
            "results": res, "artifacts": artifacts,
            "cell_artifacts": cell_artifacts if cell_artifacts is not None else
            [0 if artifacts else None] + [None] * (len(res["cells"]) - 1),
            "skipped": [], "strings": strings, "string_bytes": string_bytes, "symbols": symbols, **extra}


def payload(head, pool=b"", columns=b""):
    """The bytes inside the zstd frame: magic, header length and JSON, pool, columns."""
    text = head if isinstance(head, bytes) else json.dumps(head, separators=(",", ":")).encode()
    return sn.MAGIC + struct.pack("<I", len(text)) + text + pool + columns


def frame(data, declare=True):
    return zstandard.ZstdCompressor(level=1, write_content_size=declare).compress(data)


def write(path, data):
    path.write_bytes(data)
    return path


def snapshot_file(path, res, pool, tables, cell_artifacts=None, **extra):
    """A snapshot of the given pool (strings) and tables: [(raw, name, crate, section, size) u32 arrays]."""
    strings = "\0".join(pool).encode("utf-8", "surrogatepass") + (b"\0" if pool else b"")
    cols = [array("I") for _ in range(5)]
    artifacts = []
    for table in tables:
        artifacts.append({"path": f"a{len(artifacts)}", "bytes": 1, "error": None, "start": len(cols[4]),
                          "count": len(table[4]), "sections": {".text": sum(table[4])}, "unknown": {},
                          "demangler": "pyderust"})
        for col, part in zip(cols, table):
            col.extend(part)
    head = header(res, artifacts, len(pool), len(strings), len(cols[4]), cell_artifacts)
    head.update(extra)
    return write(path, frame(payload(head, strings, b"".join(c.tobytes() for c in cols))))


def one_symbol(path, raw="main", name=None, **extra):
    """A small good snapshot: one cell, one artifact, one symbol."""
    pool = [raw, "app", ".text"] + ([name] if name else [])
    table = (array("I", [0]), array("I", [3 if name else sn.NAME_IS_RAW]), array("I", [1]), array("I", [2]),
             array("I", [100]))
    return snapshot_file(path, results([cell("app", "release", 1000)]), pool, [table], **extra)


@pytest.fixture
def good(tmp_path):
    return one_symbol(tmp_path / "good.zst")


# ---------------------------------------------------------------- realistic and worst-case matrices

def realistic(path, seed, crates=20, per_artifact=50_000, shared=60_000, own=10_000, cells=7000, change=0.0):
    """40 artifacts of 50K symbols (20 crates, dev and release), drawn from 60K dependency symbols
    every crate shares and 10K of each crate's own that its dev and release builds share. With
    change, the next revision: that share of symbols changes its crate hash (the no-hash pass
    pairs it), that share grows by 8 bytes, and half that share is renamed (one removed, one added)."""
    rnd, chg = random.Random(seed), random.Random(seed + 1)    # chg: what changes, apart from the picks
    pool, index = [], {}

    def sid(s):
        i = index.get(s)
        if i is None:
            i = index[s] = len(pool)
            pool.append(s)
        return i

    def symbol(scope, k):
        path_ = f"{scope}::module{k % 97}::item_{k}" + ("_v2" if chg.random() < change / 2 else "")
        generic = f"<alloc::vec::Vec<{scope}::T{k % 7}>>" if k % 5 == 0 else ""
        hashed = k if chg.random() >= change else k + 10 ** 9      # a changed crate hash: no-hash pass
        raw = "_ZN" + "".join(f"{len(p)}{p}" for p in path_.split("::")) + f"17h{hashed:016x}E"
        return sid(raw), sid(path_ + generic)

    sections = [sid(".text"), sid(".rodata")]
    deps = [symbol(f"dep{k % 40}", k) for k in range(shared)]
    tables = []
    for c in range(crates):
        mine = [symbol(f"crate{c}", k) for k in range(own)]
        crate_id = sid(f"crate{c}")
        dep_ids = [sid(f"dep{k}") for k in range(40)]
        for variant in range(2):
            picks = rnd.sample(range(shared), per_artifact - own * 8 // 10)
            rows = [(deps[k], dep_ids[k % 40], 16 + (k * 7919 + variant) % 4000) for k in picks]
            rows += [(mine[k], crate_id, 16 + (k * 104729 + variant) % 9000) for k in range(own * 8 // 10)]
            if change:
                rows = [(r, cr, size + (chg.random() < change) * 8) for r, cr, size in rows]
            rows.sort(key=lambda r: -r[2])
            tables.append((array("I", [r[0][0] for r in rows]), array("I", [r[0][1] for r in rows]),
                           array("I", [r[1] for r in rows]),
                           array("I", [sections[k % 2] for k in range(len(rows))]),
                           array("I", [r[2] for r in rows])))
    cell_list = [cell(f"crate{k % crates}", f"v{k // crates}", 100_000 + k + int(change * 1000))
                 for k in range(cells)]
    return snapshot_file(path, results(cell_list), pool, tables,
                         cell_artifacts=[k % len(tables) for k in range(cells)])


def bare(symbols=0, strings=3, pool=b"main\0app\0.text\0", artifacts=None, declare=True, **extra):
    """The bytes of a snapshot with a one-cell results and the given counts, not checked against its parts.
    Compressed a megabyte at a time: a big test process would inflate its children's peak RSS
    (on Linux a child's ru_maxrss counts what it shared with its parent at fork)."""
    art = artifacts if artifacts is not None else [{"path": "a", "bytes": 1, "error": None, "start": 0,
                                                   "count": symbols, "sections": {}, "unknown": {}}]
    head = header(results([cell("app", "release", 1000)]), art, strings, len(pool), symbols, **extra)
    z = zstandard.ZstdCompressor(level=1, write_content_size=False).compressobj()
    out = [z.compress(payload(head, pool))]
    for value in (0, sn.NAME_IS_RAW, 1, 2, 100):
        word, left = struct.pack("<I", value), symbols
        while left:
            n = min(left, 1 << 18)
            out.append(z.compress(word * n))
            left -= n
    data = b"".join(out) + z.flush()
    if declare:
        data = frame(zstandard.ZstdDecompressor().decompressobj().decompress(data))
    return data


def refused(tmp_path, good, bad, *fragments, commands=("diff",)):
    """Every command that reads a snapshot refuses bad with one line naming it and the fragments."""
    for command in commands:
        args = {"diff": ("diff", good, bad), "check": ("check", "--max-growth", "1%", "--base", bad, good),
                "history": ("history", good, bad, "-o", tmp_path / "h.html")}[command]
        assert_refused(run_sizekit(*args, cwd=tmp_path), f"sizekit: {bad}: ", *fragments)
    assert not (tmp_path / "h.html").exists()


# ---------------------------------------------------------------- the review's cases

def test_a_long_run_of_llvm_suffixes_is_linear(tmp_path):
    """'.llvm' repeated took the clone regex seconds (quadratic backtracking): now linear."""
    name = "f" + ".llvm" * ((LIMIT["SYMBOL_NAME_BYTES"] - 1) // 5)          # as long as a name may be
    old = one_symbol(tmp_path / "old.zst", raw="a", name=name)
    new = one_symbol(tmp_path / "new.zst", raw="b", name=name)              # matched by the no-hash pass
    run = run_sizekit("diff", "--format", "json", old, new, cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert json.loads(run.stdout)["cells"][0]["symbols"]["matched"]["no-hash"] == 1
    assert_bounded(run, SUPPORTED_SECONDS, SUPPORTED_MB)


def test_a_1mb_symbol_name_is_refused(tmp_path, good):
    name = "f" + ".llvm" * 200_000
    bad = one_symbol(tmp_path / "bad.zst", raw="a", name=name)
    refused(tmp_path, good, bad, f"not a sizekit snapshot ({len(name):,} bytes in one string of the pool, "
                                 f"over the limit of {limits.value_text(limits.SYMBOL_NAME_BYTES)})",
            commands=("diff", "check", "history"))


def test_20000_cells_diff_is_bounded(tmp_path):
    """A membership test in a list per cell made this minutes; results.json may refuse it as too many cells."""
    for name, final in (("old.json", 1000), ("new.json", 1001)):
        cells = [cell(f"c{k}", "release", final) for k in range(20_000)]
        (tmp_path / name).write_text(json.dumps(results(cells)))
    run = run_sizekit("diff", "old.json", "new.json", cwd=tmp_path)
    assert run.status in (0, 2), run.stderr
    assert_bounded(run, SUPPORTED_SECONDS * 2, SUPPORTED_MB)


def test_1m_symbols_in_3kb_is_bounded(tmp_path, good):
    """One symbol repeated a million times: within the limits, so it loads and diffs, quickly."""
    per = LIMIT["ARTIFACT_SYMBOLS"]
    arts = [{"path": f"a{k}", "bytes": 1, "error": None, "start": start, "count": min(per, 1_000_000 - start)}
            for k, start in enumerate(range(0, 1_000_000, per))]
    bad = write(tmp_path / "many.zst", bare(1_000_000, artifacts=arts))
    assert bad.stat().st_size < 4096
    run = run_sizekit("diff", "--format", "json", good, bad, cwd=tmp_path)
    assert run.status == 0, run.stderr
    assert_bounded(run)


def test_10m_symbols_in_30kb_is_refused(tmp_path, good):
    bad = write(tmp_path / "many.zst", bare(10_000_000, declare=False))
    refused(tmp_path, good, bad, "(10,000,000 symbols, over the limit of "
                                 f"{LIMIT['SNAPSHOT_SYMBOLS']:,})", commands=("diff", "check", "history"))


def test_a_zstd_bomb_is_refused_within_memory(tmp_path, good):
    """A frame that declares nothing and decompresses forever: stopped at the payload limit."""
    head = json.dumps(header(results([cell("app", "release", 1)]), [], 0, 0, 0)).encode()
    z = zstandard.ZstdCompressor(level=19, write_content_size=False).compressobj()
    data = z.compress(payload(head))
    chunk = b"\0" * (1 << 20)
    data += b"".join(z.compress(chunk) for _ in range(LIMIT["SNAPSHOT_PAYLOAD"] >> 20)) + z.flush()
    bad = write(tmp_path / "bomb.zst", data)
    assert bad.stat().st_size < 64 * 1024
    refused(tmp_path, good, bad, "not a sizekit snapshot (the sizes in its header do not match its contents "
                                 "(more data follows))")


def test_a_bomb_that_claims_the_most_is_refused_within_memory(tmp_path, good):
    """Header counts at their limits, contents that decompress to more than the payload limit."""
    n = LIMIT["SNAPSHOT_SYMBOLS"]
    sbytes = min(LIMIT["SNAPSHOT_STRING_BYTES"], LIMIT["SNAPSHOT_PAYLOAD"] - 20 * n + 1)
    head = json.dumps(header(results([cell("app", "release", 1)]), [], 1, sbytes, n)).encode()
    z = zstandard.ZstdCompressor(level=3, write_content_size=False).compressobj()
    data = z.compress(payload(head))
    for _ in range((sbytes + 20 * n) // (1 << 20) + 1):
        data += z.compress(b"a" * (1 << 20))
    bad = write(tmp_path / "bomb.zst", data + z.flush())
    run = run_sizekit("diff", good, bad, cwd=tmp_path)
    assert_refused(run, f"sizekit: {bad}: not a sizekit snapshot (")


def test_a_header_of_many_values_is_refused(tmp_path, good):
    """63M JSON values in a 40 KB file took 12 s and 761 MB: counted before json sees them."""
    head = b'{"format":"sizekit-snapshot","version":1,"results":[' + b"0," * (LIMIT["RESULTS_VALUES"]) + b"0]}"
    bad = write(tmp_path / "values.zst", frame(payload(head), declare=False))
    refused(tmp_path, good, bad, f"its header holds more than {LIMIT['RESULTS_VALUES']:,} JSON values",
            commands=("diff", "history"))


def test_lone_surrogate_in_the_pool_is_refused(tmp_path, good):
    bad = one_symbol(tmp_path / "bad.zst", raw="a\ud800b")
    refused(tmp_path, good, bad, "string pool is not UTF-8: byte 0xed at offset 1",
            commands=("diff", "check", "history"))


def test_lone_surrogate_in_the_header_is_refused(tmp_path, good):
    bad = one_symbol(tmp_path / "bad.zst", git={"revision": "1" * 40, "date": "2026-01-01", "subject": "\ud800"})
    refused(tmp_path, good, bad, "a string of its header holds a lone UTF-16 surrogate",
            commands=("diff", "check", "history"))


@pytest.mark.parametrize("where", ["pool", "header"])
def test_lone_surrogate_is_refused_by_report_base(tmp_path, where):
    bad = (one_symbol(tmp_path / "bad.zst", raw="a\udfffb") if where == "pool" else
           one_symbol(tmp_path / "bad.zst", source="\udfff"))
    (tmp_path / "results.json").write_text(json.dumps(results([cell("app", "release", 1000)])))
    run = run_sizekit("report", "results.json", "--base", bad, cwd=tmp_path)
    assert_refused(run, f"sizekit: {bad}: not a sizekit snapshot (")


@pytest.mark.parametrize("value,words", [(20260101, "git.date is not a string"),
                                         (["2026"], "git.date is not a string"),
                                         ("x" * (LIMIT["TEXT_CHARS"] + 1), "characters in its header's git.date")])
def test_git_date_of_the_wrong_type_is_refused_by_history(tmp_path, good, value, words):
    bad = one_symbol(tmp_path / "bad.zst", git={"revision": "2" * 40, "date": value, "subject": "y"})
    refused(tmp_path, good, bad, words, commands=("history", "diff"))


@pytest.mark.parametrize("field,value,words", [
    ("created", 5, "its header's created is not a string"),
    ("source", {"a": 1}, "its header's source is not a string"),
    ("git", [1], "its header's git is not an object"),
    ("strings", -1, "its header's strings is not a whole number"),
    ("symbols", True, "its header's symbols is not a whole number"),
    ("files", {"a": 1}, "its header's files is not a list"),
    ("files", [{"name": "image"}], "its header's files[0] is not an object of name and bytes"),
    ("files", [{"name": "image", "bytes": -1}], "its header's files[0].bytes is not a byte count"),
    ("files", [{"name": 5, "bytes": 1}], "its header's files[0].name is not a string"),
    ("files", [{"name": "a", "bytes": 1}, {"name": "a", "bytes": 2}], "its header's files[1].name is given twice"),
    ("files", [{"name": f"f{i}", "bytes": 1} for i in range(LIMIT["SNAPSHOT_FILES"] + 1)],
     f"{LIMIT['SNAPSHOT_FILES'] + 1:,} files, over the limit"),
])
def test_header_fields_of_the_wrong_type_are_refused(tmp_path, good, field, value, words):
    bad = one_symbol(tmp_path / "bad.zst", **{field: value})
    refused(tmp_path, good, bad, words, commands=("history",))


def test_overlapping_artifacts_are_refused(tmp_path, good):
    """Two artifacts over the same symbols would let a small file stand for many copies of them."""
    art = {"path": "a", "bytes": 1, "error": None, "start": 0, "count": 1, "sections": {}, "unknown": {}}
    bad = write(tmp_path / "bad.zst", bare(1, artifacts=[art, art], cell_artifacts=[0]))
    refused(tmp_path, good, bad, "artifacts[1] starts at symbol 0, not where the one before ends (1)")


def test_duplicated_cells_are_refused(tmp_path, good):
    """A cell given twice made the diff report the wrong delta: the results checks refuse it
    (sizekit.results.results_file.check_results, naming both places)."""
    cells = [cell("app", "release", 1), cell("app", "release", 481_624)]
    bad = snapshot_file(tmp_path / "bad.zst", results(cells), [], [], cell_artifacts=[None, None])
    refused(tmp_path, good, bad, "cells[1]", commands=("diff", "check"))


def test_history_into_a_folder_is_one_line(tmp_path, good):
    (tmp_path / "out").mkdir()
    run = run_sizekit("history", good, "-o", tmp_path / "out", cwd=tmp_path)
    assert_refused(run, f"sizekit: {tmp_path / 'out'}: is a folder; the history page is a file")
    run = run_sizekit("history", good, "-o", tmp_path / "nowhere" / "h.html", cwd=tmp_path)
    assert_refused(run, "does not exist; create it first or pass another path")


# ---------------------------------------------------------------- every limit, +1

def test_file_size_limit(tmp_path, good):
    bad = tmp_path / "huge.zst"
    with open(bad, "wb") as f:
        f.write(sn.ZSTD_MAGIC)
        f.truncate(LIMIT["SNAPSHOT_BYTES"] + 1)                  # sparse: costs no disk
    refused(tmp_path, good, bad, f"is larger than {limits.value_text(limits.SNAPSHOT_BYTES)}, the limit for a "
                                 "snapshot")


def test_declared_payload_limit(tmp_path, good):
    n = LIMIT["SNAPSHOT_PAYLOAD"] + 1
    bad = write(tmp_path / "claim.zst", sn.ZSTD_MAGIC + bytes([0xE4]) + n.to_bytes(8, "little") + b"\0" * 16)
    refused(tmp_path, good, bad, f"its frame claims {n:,} bytes, over the limit of "
                                 f"{limits.value_text(limits.SNAPSHOT_PAYLOAD)} decompressed")


def test_payload_limit_while_decompressing(tmp_path, good):
    """Counts each within its limit, together over the payload limit: refused before the columns
    are read. A valid pool at its byte limit, and a header (whitespace up to its own limit) make
    up what the columns leave."""
    n, sbytes, name = LIMIT["SNAPSHOT_SYMBOLS"], LIMIT["SNAPSHOT_STRING_BYTES"], LIMIT["SYMBOL_NAME_BYTES"]
    pool = (b"a" * (name - 1) + b"\0") * (sbytes // name)
    head = json.dumps(header(results([cell("app", "release", 1)]), [], sbytes // name, sbytes, n)).encode()
    # The last of the five columns (4 bytes a symbol each) is what crosses the limit.
    pad = LIMIT["SNAPSHOT_PAYLOAD"] - 20 * n - sbytes - len(head) - 12 + 1
    assert 0 <= pad and len(head) + pad <= LIMIT["SNAPSHOT_HEADER"], "the limits no longer allow this case"
    bad = write(tmp_path / "big.zst", frame(payload(head + b" " * pad, pool, bytes(16 * n)), declare=False))
    refused(tmp_path, good, bad, f"decompresses to more than {limits.value_text(limits.SNAPSHOT_PAYLOAD)}")


def test_header_limit(tmp_path, good):
    n = LIMIT["SNAPSHOT_HEADER"] + 1
    bad = write(tmp_path / "head.zst", frame(sn.MAGIC + struct.pack("<I", n) + b" " * 64, declare=False))
    refused(tmp_path, good, bad, f"({n:,} bytes of header, over the limit of "
                                 f"{limits.value_text(limits.SNAPSHOT_HEADER)})")


@pytest.mark.parametrize("name,field,what", [("SNAPSHOT_SYMBOLS", "symbols", "symbols"),
                                             ("SNAPSHOT_STRINGS", "strings", "strings"),
                                             ("SNAPSHOT_STRING_BYTES", "string_bytes", "bytes of strings")])
def test_header_count_limits(tmp_path, good, name, field, what):
    n = LIMIT[name] + 1
    head = header(results([cell("app", "release", 1)]), [], 0, 0, 0)
    head[field] = n
    bad = write(tmp_path / "count.zst", frame(payload(head), declare=False))
    refused(tmp_path, good, bad, f"not a sizekit snapshot ({n:,} {what}, over the limit of "
                                 f"{limits.value_text(getattr(limits, name))})")


def test_artifact_symbols_limit(tmp_path, good):
    n = LIMIT["ARTIFACT_SYMBOLS"] + 1
    bad = write(tmp_path / "art.zst", bare(n))
    refused(tmp_path, good, bad, f"({n:,} symbols in artifacts[0], over the limit of "
                                 f"{LIMIT['ARTIFACT_SYMBOLS']:,})")


def test_symbol_name_limit(tmp_path, good):
    n = LIMIT["SYMBOL_NAME_BYTES"] + 1
    bad = one_symbol(tmp_path / "long.zst", raw="é" * (n // 2) + "x" * (n % 2))
    refused(tmp_path, good, bad, f"({n:,} bytes in one string of the pool, over the limit of "
                                 f"{limits.value_text(limits.SYMBOL_NAME_BYTES)})")
    ok = one_symbol(tmp_path / "ok.zst", raw="x" * (n - 1))
    assert run_sizekit("diff", good, ok, cwd=tmp_path).status == 0


# ---------------------------------------------------------------- the largest and the supported size

def largest(path, seed):
    """At every symbol and string limit: artifacts of ARTIFACT_SYMBOLS, one distinct generic name per
    symbol (so every pass looks at every name and nothing pairs), the pool at its byte limit."""
    n, per = LIMIT["SNAPSHOT_SYMBOLS"], LIMIT["ARTIFACT_SYMBOLS"]
    nstr = min(n, LIMIT["SNAPSHOT_STRINGS"]) - 2
    width = LIMIT["SNAPSHOT_STRING_BYTES"] // (nstr + 2) - 1
    pool = [(f"s{seed}::f{k}<T{k % 9}>::h" + "0123456789abcdef" * 8)[:width].ljust(width, "x") for k in range(nstr)]
    pool += ["app", ".text"]
    tables = []
    for start in range(0, n, per):
        ids = array("I", (k % nstr for k in range(start, min(n, start + per))))
        m = len(ids)
        tables.append((ids, array("I", [sn.NAME_IS_RAW]) * m, array("I", [nstr]) * m, array("I", [nstr + 1]) * m,
                       array("I", [1 << 20]) * m))
    return snapshot_file(path, results([cell("app", "release", 1000)]), pool, tables)


def made(tmp_path, maker, *calls):
    """Files made by maker in a child process, so that this process stays small (see bare)."""
    code = "import sys, pathlib, test_hostile_snapshots as t\n" + "".join(
        f"t.{maker}(pathlib.Path({str(tmp_path / name)!r}), **{kwargs!r})\n" for name, kwargs in calls)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(__file__)] + sys.path))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return [tmp_path / name for name, _ in calls]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["diff", "diff --format json", "history"])
def test_supported_size(tmp_path, command):
    """2M symbols a side in 40 artifacts that share names as real builds do, 7,000 cells: the
    PR comment, the JSON diff (every cell, every listed symbol) and the history page of both."""
    old, new = made(tmp_path, "realistic", ("old.zst", {"seed": 1}), ("new.zst", {"seed": 1, "change": 0.01}))
    args = {"diff": ["diff", old, new], "diff --format json": ["diff", "--format", "json", old, new],
            "history": ["history", old, new, "-o", "h.html"]}[command]
    run = run_sizekit(*args, cwd=tmp_path)
    assert run.status == 0, run.stderr
    print(f"{command}, supported size: {run.seconds:.2f} s CPU, {run.megabytes:.0f} MB")
    assert_bounded(run, SUPPORTED_SECONDS, SUPPORTED_MB)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_largest_input_within_the_limits(tmp_path, fmt):
    old, new = made(tmp_path, "largest", ("old.zst", {"seed": 1}), ("new.zst", {"seed": 2}))
    run = run_sizekit("diff", "--format", fmt, old, new, cwd=tmp_path)
    assert run.status == 0, run.stderr
    print(f"largest, {fmt}: {run.seconds:.2f} s CPU, {run.megabytes:.0f} MB")
    assert_bounded(run, LIMIT_SECONDS, LIMIT_MB)


@pytest.mark.slow
def test_supported_size_growth_check_reads_no_symbols(tmp_path):
    """check --max-growth compares cells: it reads only the snapshots' headers."""
    old, new = made(tmp_path, "realistic", ("old.zst", {"seed": 1}), ("new.zst", {"seed": 1, "change": 0.01}))
    run = run_sizekit("check", "--max-growth", "50%", "--base", old, new, cwd=tmp_path)
    assert run.status == 0, run.stderr
    print(f"check --max-growth, supported size: {run.seconds:.2f} s CPU, {run.megabytes:.0f} MB")
    assert_bounded(run, SUPPORTED_SECONDS, SUPPORTED_MB)
