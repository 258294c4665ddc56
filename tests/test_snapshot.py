"""Snapshots and the symbol-level diff, without cargo: round trips, hostile files, matching passes,
thresholds, --cells, check --max-growth and the comment size limit."""
import json
import os
import subprocess
import sys

import pytest
import zstandard

from sizekit.report.comment import comment_markdown
from sizekit.report.comment_limit import GITHUB_LIMIT
from sizekit.results import snapshot as sn
from sizekit.results.snapshot_write import write_snapshot
from sizekit.results.compare import compare
from sizekit.results.symbols import SymbolTable
from sizekit.results.symdiff import diff_tables, match, no_generics, no_hash
from sizekit.results.threshold import parse_threshold
from sizekit.utils.errors import UsageError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
X86 = "x86_64-unknown-linux-gnu"


def run(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "sizekit", *map(str, args)], capture_output=True, text=True, env=env)


def table(rows, unknown=None):
    """rows: (raw, name, crate, section, size)."""
    rows = sorted(rows, key=lambda r: (-r[4], r[0]))
    t = SymbolTable(raw=[r[0] for r in rows], name=[r[1] for r in rows], crate=[r[2] for r in rows],
                    section=[r[3] for r in rows], size=[r[4] for r in rows], unknown=unknown or {},
                    demangler="pyderust")
    t.sections = {s: sum(r[4] for r in rows if r[3] == s) + (unknown or {}).get(s, 0) for s in {r[3] for r in rows}}
    return t


def cell(variant, final, crate="app", target=X86, status="ok"):
    return {"crate": crate, "target": target, "variant": variant, "label": variant, "status": status,
            "reason": None, "final_bytes": final if status == "ok" else None,
            "stages": [{"step": "build", "path": f"out/build/{crate}/{variant}", "bytes": final,
                        "sections": {".text": final // 2}}] if status == "ok" else []}


OLD_SYMS = [
    ("_ZN3app4main17h0000000000000001E", "app::main", "app", ".text", 400),
    ("_ZN3app5TABLE17h0000000000000002E", "app::TABLE", "app", ".rodata", 256),
    ("_ZN4itoa6Buffer6format17h0000000000000003E", "itoa::Buffer::format", "itoa", ".text", 300),
    ("_ZN4core3fmt5write17h00000000000000aaE", "core::fmt::write", "std", ".text", 1000),
    ("_ZN4core3ptr13drop_in_place17h00000000000000bbE.llvm.1111", "core::ptr::drop_in_place", "std", ".text", 40),
    ("_RINvNtCs1_4core3ptr8read_oneINtNtCs2_5alloc3vec3VechEEB4_", "core::ptr::read_one::<alloc::vec::Vec<u8>>",
     "std", ".text", 64),
    ("memcpy", "memcpy", "[C/C++]", ".text", 100),
]
NEW_SYMS = [
    ("_ZN3app4main17h1000000000000001E", "app::main", "app", ".text", 420),          # hash changed, grew
    ("_ZN3app5TABLE17h1000000000000002E", "app::TABLE", "app", ".rodata", 1024),     # grew
    ("_ZN3app5added17h1000000000000009E", "app::added", "app", ".text", 96),         # added
    ("_ZN4core3fmt5write17h00000000000000aaE", "core::fmt::write", "std", ".text", 1000),
    ("_ZN4core3ptr13drop_in_place17h00000000000000bbE.llvm.2222", "core::ptr::drop_in_place", "std", ".text", 40),
    ("_RINvNtCs1_4core3ptr8read_oneINtNtCs2_5alloc3vec3VecmEEB4_", "core::ptr::read_one::<alloc::vec::Vec<u16>>",
     "std", ".text", 48),
    ("memcpy", "memcpy", "[C/C++]", ".text", 100),
]


def snapshot(cells, tables, rev="1111111"):
    snap = sn.Snapshot(results={"version": 1, "matrix": "matrix.yaml", "baseline": "release", "cells": cells},
                       tables=tables, artifacts=[{"path": f"a{i}", "bytes": 1, "error": None} for i in range(len(tables))],
                       cell_artifacts=[0 if i == 0 and tables else None for i in range(len(cells))],
                       git={"revision": rev, "date": "2026-01-01T00:00:00+00:00", "subject": "x"},
                       created="2026-01-01T00:00:00+00:00", source="out/results.json")
    return snap


@pytest.fixture
def pair(tmp_path):
    old = snapshot([cell("release", 10000), cell("dev", 50000)], [table(OLD_SYMS, {".text": 16})])
    new = snapshot([cell("release", 10500), cell("dev", 50000)], [table(NEW_SYMS, {".text": 40})], rev="2222222")
    paths = []
    for name, snap in (("old", old), ("new", new)):
        p = tmp_path / f"{name}.bin"        # no telling extension: detected by content
        write_snapshot(str(p), snap)
        paths.append(p)
    return paths


# ---------------------------------------------------------------- the file

def test_round_trip(tmp_path):
    t = table(OLD_SYMS + [("ünïcödé", "ünïcödé", "[C/C++]", ".data", 7)], {".text": 3, ".rodata": 5})
    snap = snapshot([cell("release", 10000), cell("x", None, status="failed")], [t, table([])])
    snap.cell_artifacts = [0, None]
    p = str(tmp_path / "s.sksnap.zst")
    write_snapshot(p, snap)
    back = sn.load_snapshot(p)
    assert back.results == snap.results
    assert back.git == snap.git and back.created == snap.created and back.source == snap.source
    assert back.cell_artifacts == [0, None]
    for a, b in zip(back.tables, snap.tables):
        assert (a.raw, a.name, a.crate, a.section, a.size, a.unknown, a.sections) == \
            (b.raw, b.name, b.crate, b.section, b.size, b.unknown, b.sections)
    assert back.table_of(0).crates() == t.crates() and back.table_of(1) is None
    # One standard zstd frame: any zstd reader opens it.
    with open(p, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x28\xb5\x2f\xfd"
    assert zstandard.ZstdDecompressor().decompress(data).startswith(b"SKSNAP\0\1")


def _corrupt_cases(good):
    data = good.read_bytes()
    payload = zstandard.ZstdDecompressor().decompress(data)
    z = zstandard.ZstdCompressor()
    yield "truncated", data[:len(data) // 2], "not a sizekit snapshot"
    yield "flipped", data[:20] + bytes(b ^ 0xFF for b in data[20:60]) + data[60:], "not a sizekit snapshot"
    yield "foreign zstd", z.compress(b"hello, world\n" * 100), "a zstd file, but not a sizekit snapshot"
    yield "bad header", z.compress(payload[:8] + b"\xff\xff\xff\x7f" + payload[12:]), "truncated header"
    yield "header not json", z.compress(payload[:12] + b"#" + payload[13:]), "header is not JSON"
    yield "short payload", z.compress(payload[:-4]), "do not match"
    # A frame that claims 100 GB: refused from its header, nothing is allocated.
    yield "huge claim", b"\x28\xb5\x2f\xfd" + bytes([0xE4]) + (100 << 30).to_bytes(8, "little") + b"\0" * 16, \
        "not a sizekit snapshot"
    yield "magic only", b"\x28\xb5\x2f\xfd", "not a sizekit snapshot"


@pytest.mark.parametrize("case", ["truncated", "flipped", "foreign zstd", "bad header", "header not json",
                                  "short payload", "huge claim", "magic only"])
def test_corrupt_snapshot_is_exit_2_with_one_line(pair, tmp_path, case):
    good = pair[0]
    _, data, words = next(c for c in _corrupt_cases(good) if c[0] == case)
    bad = tmp_path / "bad.sksnap.zst"
    bad.write_bytes(data)
    for args in (("diff", good, bad), ("diff", bad, good), ("check", "--max-growth", "1%", "--base", bad, good)):
        r = run(*args)
        assert r.returncode == 2, (case, r.stdout, r.stderr)
        assert r.stdout == ""
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        assert r.stderr.startswith(f"sizekit: {bad}: ") and words in r.stderr, r.stderr


def test_bad_indices_and_bad_results_inside(tmp_path, pair):
    payload = zstandard.ZstdDecompressor().decompress(pair[0].read_bytes())
    z = zstandard.ZstdCompressor()
    # A crate index past the string pool.
    broken = bytearray(payload)
    n = len(OLD_SYMS)
    crate_col = len(payload) - 3 * 4 * n
    broken[crate_col:crate_col + 4] = (10 ** 6).to_bytes(4, "little")
    bad = tmp_path / "idx"
    bad.write_bytes(z.compress(bytes(broken)))
    r = run("diff", bad, pair[1])
    assert r.returncode == 2 and "a symbol names a string past the pool" in r.stderr
    # A results part with a wrong field type.
    hlen = int.from_bytes(payload[8:12], "little")
    header = json.loads(payload[12:12 + hlen])
    header["results"]["cells"][0]["final_bytes"] = "big"
    head = json.dumps(header).encode()
    bad.write_bytes(z.compress(payload[:8] + len(head).to_bytes(4, "little") + head + payload[12 + hlen:]))
    r = run("diff", bad, pair[1])
    assert r.returncode == 2 and r.stderr.startswith(f"sizekit: {bad}: cells[0].final_bytes: expected")


def test_empty_file_and_folder(tmp_path, pair):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    r = run("diff", empty, pair[1])
    assert r.returncode == 2 and r.stderr.startswith(f"sizekit: {empty}: ") and r.stderr.count("\n") == 1
    r = run("diff", tmp_path / "nothing-here", pair[1])
    assert r.returncode == 2 and "not found" in r.stderr


# ---------------------------------------------------------------- matching

def test_loose_names():
    assert no_hash("a::b::h0123456789abcdef") == "a::b"
    assert no_hash("foo.llvm.123456") == "foo" and no_hash("bar.constprop.0.isra.1") == "bar"
    assert no_hash("my[1a2b]::foo") == "my::foo"
    assert no_generics("core::ptr::drop_in_place::<alloc::vec::Vec<u8>>") == "core::ptr::drop_in_place"
    assert no_generics("<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop") == \
        "<alloc::vec::Vec as core::ops::drop::Drop>::drop"
    assert no_generics("std::rt::lang_start::<()>::{{closure}}") == "std::rt::lang_start::{{closure}}"


def test_match_in_passes():
    old, new = table(OLD_SYMS), table(NEW_SYMS)
    pairs, gone, born = match(old, new)
    how = {new.name[j]: p for _, j, p in pairs}
    assert how["core::fmt::write"] == "exact" and how["memcpy"] == "exact"
    assert how["app::main"] == "no-hash" and how["app::TABLE"] == "no-hash"
    assert how["core::ptr::drop_in_place"] == "no-hash"            # only the .llvm.N suffix differs
    assert how["core::ptr::read_one::<alloc::vec::Vec<u16>>"] == "no-generics"
    assert [old.name[i] for i in gone] == ["itoa::Buffer::format"]
    assert [new.name[j] for j in born] == ["app::added"]


def test_diff_tables_by_crate_with_overhead():
    d = diff_tables(table(OLD_SYMS, {".text": 16}), table(NEW_SYMS, {".text": 40}))
    by = {e["crate"]: e for e in d["crates"]}
    assert list(by) == ["app", "itoa", "std"]
    app = by["app"]
    assert (app["old"], app["new"], app["delta"], app["change"]) == (656, 1540, 884, "grew")
    assert [r["name"] for r in app["added"]] == ["app::added"]
    assert [(r["name"], r["old"], r["new"], r["match"]) for r in app["grown"]] == [
        ("app::TABLE", 256, 1024, "no-hash"), ("app::main", 400, 420, "no-hash")]
    assert [r["name"] for r in by["itoa"]["removed"]] == ["itoa::Buffer::format"] and by["itoa"]["new"] == 0
    assert [(r["name"], r["delta"]) for r in by["std"]["shrunk"]] == [
        ("core::ptr::read_one::<alloc::vec::Vec<u16>>", -16)]
    assert d["overhead"] == {"old": 16, "new": 40, "delta": 24}
    assert (d["added"], d["removed"]) == (1, 1)


def test_threshold_folds_rows():
    d = diff_tables(table(OLD_SYMS), table(NEW_SYMS), parse_threshold("100"))
    app = {e["crate"]: e for e in d["crates"]}["app"]
    assert [r["name"] for r in app["grown"]] == ["app::TABLE"]
    assert app["folded"] == {"added": {"count": 1, "delta": 96}, "grown": {"count": 1, "delta": 20}}
    pct = diff_tables(table(OLD_SYMS), table(NEW_SYMS), parse_threshold("1%"), whole=10000)
    assert [r["name"] for r in {e["crate"]: e for e in pct["crates"]}["app"]["grown"]] == ["app::TABLE"]


@pytest.mark.parametrize("text,nbytes,pct", [("500", 500, None), ("4KiB", 4096, None), ("1.5%", 0, 1.5),
                                             (" 2 % ", 0, 2.0)])
def test_parse_threshold(text, nbytes, pct):
    t = parse_threshold(text)
    assert (t.nbytes, t.pct) == (nbytes, pct)


def test_bad_threshold_is_usage_error(pair):
    with pytest.raises(UsageError):
        parse_threshold("lots")
    r = run("diff", "--threshold", "-3%", *pair)
    assert r.returncode == 2 and "--threshold" in r.stderr


# ---------------------------------------------------------------- the command

def test_cli_markdown_and_json(pair):
    r = run("diff", *pair)
    assert r.returncode == 0, r.stderr
    md = r.stdout
    assert "- **app**: grew +500 B (+5.0%) over 1 of 2 cells · `size/large`" in md
    assert "Revisions `1111111` → `2222222`" in md
    assert "| added | `app::added` | .text | - | 96 | +96 B |" in md
    assert "| grown (no-hash) | `app::TABLE` | .rodata | 256 | 1,024 | +768 B |" in md
    assert "| removed | `itoa::Buffer::format` | .text | 300 | - | -300 B |" in md
    assert "| overhead (padding, alignment, anonymous data) | 16 | 40 | +24 B | - |" in md
    assert md.count("<details>") == md.count("</details>") == 2
    r = run("diff", "--format", "json", "--threshold", "1%", *pair)
    data = json.loads(r.stdout)
    rel = data["cells"][0]
    assert rel["over_threshold"] and rel["symbols"]["matched"]["no-hash"] == 3
    assert data["verdicts"][0]["label"] == "size/large" and data["threshold"] == {"pct": 1.0}


def test_threshold_labels_small(pair):
    md = run("diff", "--threshold", "10%", *pair).stdout
    assert "· `size/small`" in md and "No cell changed by 10% or more." in md


def test_cells_glob(pair):
    data = json.loads(run("diff", "--format", "json", "--cells", "app/*/dev", *pair).stdout)
    assert [c["variant"] for c in data["cells"]] == ["dev"]
    data = json.loads(run("diff", "--format", "json", "--cells", "rel*", *pair).stdout)
    assert [c["variant"] for c in data["cells"]] == ["release"]


def test_results_json_and_snapshot_mix(pair, tmp_path):
    """A results.json on one side: cells compare, symbols only where both sides have them."""
    snap = sn.load_snapshot(str(pair[0]))
    results = tmp_path / "results.zst"          # a misleading name: still read as JSON
    results.write_text(json.dumps(snap.results))
    r = run("diff", "--format", "json", results, pair[1])
    assert r.returncode == 0, r.stderr
    assert "symbols" not in json.loads(r.stdout)["cells"][0]


def test_check_max_growth(pair):
    r = run("check", "--max-growth", "1%", "--base", *pair)
    assert r.returncode == 1, r.stderr
    assert "OVER" in r.stdout and "1 of 2 cells grew by more than 1%" in r.stdout
    assert run("check", "--max-growth", "10%", "--base", *pair).returncode == 0
    assert run("check", "--max-growth", "500", "--base", *pair).returncode == 0
    assert run("check", "--max-growth", "499", "--base", *pair).returncode == 1
    assert run("check", "--max-growth", "1%", "--base", pair[0], "--cells", "dev", pair[1]).returncode == 0
    r = run("check", "--max-growth", "1%", pair[1])
    assert r.returncode == 2 and "--base" in r.stderr


# ---------------------------------------------------------------- the comment limit

def test_markdown_limit_on_huge_diff():
    cells_old, cells_new, old_tables, new_tables = [], [], [], []
    for k in range(400):
        cells_old.append(cell(f"v{k}", 100000))
        cells_new.append(cell(f"v{k}", 100000 + 1000 * (k + 1)))
        old_tables.append(table([(f"o{k}_{i}", f"crate{i % 7}::sym_{'x' * 40}_{k}_{i}", f"crate{i % 7}", ".text", 50)
                                 for i in range(300)]))
        new_tables.append(table([(f"n{k}_{i}", f"crate{i % 7}::sym|`{'y' * 40}`\n_{k}_{i}", f"crate{i % 7}", ".text",
                                  60) for i in range(300)]))
    old = snapshot(cells_old, old_tables)
    new = snapshot(cells_new, new_tables)
    old.cell_artifacts = new.cell_artifacts = list(range(400))
    diff = compare(old, new)
    md = comment_markdown(diff)
    assert len(md) < GITHUB_LIMIT
    assert "**Truncated:**" in md and "sizekit diff --format json" in md
    assert md.count("<details>") == md.count("</details>")
    assert "\n_" not in md                     # a newline in a name never breaks a table row
    # The verdicts and the over-threshold table come first and survive.
    assert md.startswith("## Binary size diff") and "- **app**: grew" in md
    # A single enormous name is cut, too.
    new_tables[0].name[0] = "z" * 200000
    md = comment_markdown(compare(old, new))
    assert len(md) < GITHUB_LIMIT and "z" * 200 not in md


def test_huge_and_special_files_named_as_snapshots(tmp_path, pair):
    huge = tmp_path / "huge.sksnap.zst"
    with open(huge, "wb") as f:
        f.write(b"\x28\xb5\x2f\xfd")
        f.truncate(1 << 30)                      # sparse: costs no disk
    r = run("diff", huge, pair[1])
    assert r.returncode == 2 and r.stderr == f"sizekit: {huge}: is larger than 64 MiB, the limit for a snapshot; " \
                                              "check that this is the right file\n"
    fifo = tmp_path / "fifo.sksnap.zst"
    os.mkfifo(fifo)
    r = run("diff", pair[0], fifo)
    assert r.returncode == 2 and r.stderr.startswith(f"sizekit: {fifo}: is a named pipe (FIFO)")


def test_a_bomb_is_refused_by_what_it_decompresses_to(monkeypatch):
    from sizekit.utils import limits
    monkeypatch.setattr(limits, "SNAPSHOT_PAYLOAD", limits.Limit(1 << 20, "bytes", "snapshot", "decompressed"))
    # A header that claims a string pool of 8 MiB, in a frame that declares no size.
    head = json.dumps({"format": sn.FORMAT, "version": 1, "strings": 1, "string_bytes": 8 << 20,
                       "symbols": 0}).encode()
    payload = sn.MAGIC + len(head).to_bytes(4, "little") + head + b"a" * (8 << 20)
    bomb = zstandard.ZstdCompressor(write_content_size=False).compress(payload)
    with pytest.raises(sn.ResultsError, match=r"^bomb: not a sizekit snapshot \(decompresses to more than 1 MiB"):
        sn.decode(bomb, "bomb")
    claim = zstandard.ZstdCompressor().compress(b"\0" * (2 << 20))
    with pytest.raises(sn.ResultsError, match=r"its frame claims 2,097,152 bytes, over the limit of 1 MiB"):
        sn.decode(claim, "claim")


# ---------------------------------------------------------------- files beside the cells (a firmware image)

def test_files_round_trip_and_diff(tmp_path):
    old = snapshot([cell("release", 10000)], [])
    old.files = [{"name": "firmware", "bytes": 790_528}, {"name": "rootfs", "bytes": 1_400_000}]
    new = snapshot([cell("release", 10000)], [], rev="2222222")
    new.files = [{"name": "firmware", "bytes": 794_624}, {"name": "initramfs", "bytes": 4096}]
    paths = []
    for name, snap in (("old", old), ("new", new)):
        paths.append(tmp_path / f"{name}.zst")
        write_snapshot(str(paths[-1]), snap)
    assert sn.load_snapshot(str(paths[0])).files == old.files
    assert sn.load_snapshot(str(paths[1]), symbols=False).files == new.files
    data = json.loads(run("diff", "--format", "json", *paths).stdout)
    assert data["files"] == [
        {"name": "firmware", "old_bytes": 790_528, "new_bytes": 794_624, "delta_bytes": 4096, "change": "grew"},
        {"name": "initramfs", "old_bytes": None, "new_bytes": 4096, "delta_bytes": None, "change": "added"},
        {"name": "rootfs", "old_bytes": 1_400_000, "new_bytes": None, "delta_bytes": None, "change": "removed"}]
    md = run("diff", *paths).stdout
    assert "### Files" in md and "| `firmware` | 790,528 | 794,624 | +4,096 B (+4.0K) (+0.5%) | grew |" in md
    assert "| `rootfs` | 1,400,000 | - | - | removed |" in md
    # Without files on either side, the comment has no such section.
    assert "### Files" not in comment_markdown(compare(snapshot([cell("release", 1)], []),
                                                       snapshot([cell("release", 2)], [])))


def test_snapshot_file_option(tmp_path):
    """`sizekit snapshot --file NAME=PATH`: a file's bytes, or a folder's regular files once each."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text(json.dumps({"version": 1, "matrix": "matrix.yaml", "baseline": "release",
                                                   "cells": [cell("release", 10)]}))
    image = tmp_path / "firmware.img"
    image.write_bytes(b"x" * 5000)
    rootfs = tmp_path / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "bin" / "server").write_bytes(b"y" * 300)
    os.link(rootfs / "bin" / "server", rootfs / "bin" / "server-link")     # counted once
    os.symlink("server", rootfs / "bin" / "alias")                          # not followed
    r = run("snapshot", out, "-o", tmp_path / "s.zst", "--file", f"firmware={image}", "--file", f"rootfs={rootfs}")
    assert r.returncode == 0, r.stderr
    assert "firmware 4.9K, rootfs 300B" in r.stderr
    assert sn.load_snapshot(str(tmp_path / "s.zst")).files == [{"name": "firmware", "bytes": 5000},
                                                               {"name": "rootfs", "bytes": 300}]
    for spec, words in ((f"{image}", "expected NAME=PATH"), (f"a/b={image}", "the name 'a/b' may only use"),
                        (f"x={tmp_path / 'none'}", "not found; build it first"),
                        (f"x={image}&x={image}", "the name 'x' is given twice")):
        r = run("snapshot", out, "-o", tmp_path / "bad.zst", *[a for s in spec.split("&") for a in ("--file", s)])
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path / "bad.zst").exists()
