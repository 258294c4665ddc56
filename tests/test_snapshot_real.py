"""Snapshots of real builds (cargo): a two-revision change of a crate gives exactly its symbols in the
diff, the report task writes out/snapshot.sksnap.zst, and the file is small and quick to load."""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import DODO, ROOT, doit, sizekit, skip_no_tool, write

from sizekit.results.snapshot import load_snapshot

WITHDEPS = os.path.join(ROOT, "tests", "fixtures", "withdeps")
MATRIX = """
    version: 1
    crates:
      withdeps: {path: withdeps, artifact: bin:withdeps}
    variants:
      - {name: dev, profile: dev}
      - {name: dev-stripped, from: dev, post: [strip]}
"""

# Revision A: memchr and itoa, a 16-entry table.
MAIN_A = """
pub static TABLE: [u32; 16] = [7; 16];

fn main() {
    let text: String = std::env::args().skip(1).collect::<Vec<_>>().join("\\n");
    let lines = memchr::memchr_iter(b'\\n', text.as_bytes()).count() + 1;
    let pick = TABLE[lines % TABLE.len()];
    let mut buf = itoa::Buffer::new();
    println!("withdeps 0.1.0: {} lines {}", buf.format(lines), pick);
}
"""
# Revision B: a new function, an 8192-entry table, no itoa.
MAIN_B = """
pub static TABLE: [u32; 8192] = [7; 8192];

#[inline(never)]
fn sizekit_added_function(n: usize) -> usize {
    n ^ 0x5bd1_e995
}

fn main() {
    let text: String = std::env::args().skip(1).collect::<Vec<_>>().join("\\n");
    let lines = memchr::memchr_iter(b'\\n', text.as_bytes()).count() + 1;
    let pick = TABLE[lines % TABLE.len()];
    println!("withdeps 0.1.0: {} lines {} {}", lines, pick, sizekit_added_function(lines));
}
"""


def _project(folder):
    if shutil.which("cargo") is None:
        skip_no_tool("cargo", "these machines come with rustup's cargo")
    shutil.copytree(WITHDEPS, folder / "withdeps", ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    write(folder / "dodo.py", DODO)
    write(folder / "matrix.yaml", MATRIX)
    write(folder / "withdeps" / "src" / "main.rs", MAIN_A)


@pytest.mark.slow
def test_two_revisions_give_exactly_those_symbols(tmp_path):
    proj = tmp_path / "proj"
    _project(proj)
    git = ["git", "-c", "user.name=sizekit", "-c", "user.email=sizekit@example.invalid"]
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    subprocess.run(git + ["-C", str(proj), "add", "-A"], check=True)
    subprocess.run(git + ["-C", str(proj), "commit", "-q", "-m", "revision A"], check=True)
    head = subprocess.run(["git", "-C", str(proj), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    doit(proj)
    snap_a = proj / "out" / "snapshot.sksnap.zst"
    assert snap_a.is_file(), "the report task writes the snapshot"
    shutil.copy(snap_a, tmp_path / "a.snap")

    # The file: a small fraction of the unstripped artifact, and quick to load.
    artifact = max((os.path.join(d, f) for d, _, fs in os.walk(proj / "out" / "build") for f in fs),
                   key=os.path.getsize)
    assert os.path.getsize(snap_a) <= 0.10 * os.path.getsize(artifact)
    start = time.monotonic()
    snap = load_snapshot(str(snap_a))
    assert time.monotonic() - start < 0.5
    assert len(snap.tables) == 1 and snap.cell_artifacts == [0, 0]
    assert snap.git["revision"] == head and snap.git["subject"] == "revision A" and snap.git["date"]
    table = snap.tables[0]
    crates = dict(table.crates(), **({"[Unknown]": table.overhead} if table.overhead else {}))
    assert crates == snap.results["cells"][0]["crates"], "symbols add up to the cell's crates"

    # Revision B: edit the source and the manifest, build again.
    write(proj / "withdeps" / "src" / "main.rs", MAIN_B)
    cargo = (proj / "withdeps" / "Cargo.toml").read_text()
    (proj / "withdeps" / "Cargo.toml").write_text(cargo.replace('itoa = "1"\n', ""))
    doit(proj)
    r = sizekit("snapshot", proj / "out", "-o", tmp_path / "b.snap")
    assert r.returncode == 0, r.stderr

    r = sizekit("diff", "--format", "json", "--cells", "*/*/dev", tmp_path / "a.snap", tmp_path / "b.snap")
    assert r.returncode == 0, r.stderr
    diff = json.loads(r.stdout)
    (dev,) = diff["cells"]
    sym = dev["symbols"]
    by = {e["crate"]: e for e in sym["crates"]}
    changed = {(kind, e["crate"], s["name"]) for e in sym["crates"] for kind in ("added", "removed", "grown", "shrunk")
               for s in e[kind]}
    itoa_removed = {c for c in changed if c[1] == "itoa"}
    assert itoa_removed and all(kind == "removed" for kind, _, _ in itoa_removed)
    assert by["itoa"]["new"] == 0, "every itoa symbol is gone"
    # In withdeps itself: the new function, the grown table and main (its body changed); nothing else.
    assert {c for c in changed if c[1] == "withdeps"} == {
        ("added", "withdeps", "withdeps::sizekit_added_function"),
        ("grown", "withdeps", "withdeps::TABLE"),
        (next(k for k, c, n in changed if n == "withdeps::main"), "withdeps", "withdeps::main")}
    table_row = next(s for s in by["withdeps"]["grown"] if s["name"] == "withdeps::TABLE")
    assert (table_row["old"], table_row["new"], table_row["section"]) == (16 * 4, 8192 * 4, ".rodata")
    # The crate hash changed with the dependency list: the symbols matched past their hashes.
    assert sym["matched"]["no-hash"] >= 2
    # Outside the two crates, only code that itoa's use instantiated in std can change.
    others = {c for c in changed if c[1] not in ("itoa", "withdeps")}
    assert all(c[1] == "std" and c[0] == "removed" for c in others), others

    # The PR comment names the same symbols, and check --max-growth catches the growth.
    md = sizekit("diff", tmp_path / "a.snap", tmp_path / "b.snap").stdout
    assert "`withdeps::sizekit_added_function`" in md and "`withdeps::TABLE`" in md
    grew = dev["new_bytes"] - dev["old_bytes"]
    assert grew > 0, "the table's 32 KB outweigh itoa"
    r = sizekit("check", "--max-growth", str(grew - 1), "--base", tmp_path / "a.snap", "--cells", "dev",
                proj / "out" / "results.json")
    assert r.returncode == 1 and "OVER" in r.stdout, r.stdout + r.stderr
    assert sizekit("check", "--max-growth", str(grew), "--base", tmp_path / "a.snap", "--cells", "dev",
                   tmp_path / "b.snap").returncode == 0
