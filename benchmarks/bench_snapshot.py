"""Snapshots and symbol diffs: `sizekit snapshot` and `sizekit diff` against the hand-made peer,
`nm -S --size-sort FILE | c++filt` on both binaries plus a join by name.

    python benchmarks/bench_snapshot.py [--runs 5] [--out OUT_DIR] [--old ELF --new ELF] [--json PATH]

1. The snapshot of the example matrix (OUT_DIR, default out/): the command end to end (a fresh
   Python, imports included) and in process; its size against the largest unstripped artifact
   (the limit is 10%) and the time to load it (the limit is "well under a second").
2. The diff of two snapshots of the 21 MB dev build (hello-hyper's largest build under
   out/build): each side is a one-cell snapshot; the diff is `sizekit diff --format json` end to
   end. Two pairs: the build against itself (every symbol matches exactly) and the dev build
   against the release build (a big change: most symbols move, many only match past their hash).
   The peer is what a careful human scripts with the tools a Rust machine already has (cargo
   keeps no symbol history): `nm -S --size-sort OLD | c++filt` and the same for NEW, then a dict
   join by demangled name into added, removed and changed, in process.
Times are medians of N runs after one warm-up. Targets: each sizekit command under 2 s.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from sizekit import api  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchjson  # noqa: E402
from bench_bloat import median_time  # noqa: E402  (one warm-up, then the median of N)

LIMIT_S = 2.0


def sizekit_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "sizekit", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise SystemExit(f"sizekit {' '.join(map(str, args))} failed: {proc.stderr}")
    return proc.stdout


def hyper_builds(out):
    found = glob.glob(os.path.join(out, "build", "hello-hyper", "x86_64-unknown-linux-gnu", "*", "hello-hyper"))
    return sorted(found, key=os.path.getsize, reverse=True)


def one_cell_snapshot(elf, path):
    """A snapshot whose only cell is `elf` (its build stage), written to path. A snapshot reads
    no file outside the folder of its results, so the ELF is copied in beside it first."""
    folder = os.path.dirname(path)
    local = path + ".elf"
    shutil.copyfile(elf, local)
    size = os.path.getsize(elf)
    results = {"version": 1, "matrix": "matrix.yaml", "baseline": "dev", "cells": [
        {"crate": "hello-hyper", "target": "x86_64-unknown-linux-gnu", "variant": "dev", "label": "none",
         "status": "ok", "final_bytes": size,
         "stages": [{"step": "build", "path": os.path.basename(local), "bytes": size}]}]}
    api.write_snapshot(path, api.take_snapshot(results, os.path.join(folder, "results.json"), root=folder, git=False))


def nm_symbols(elf):
    nm = subprocess.Popen(["nm", "-S", "--size-sort", elf], stdout=subprocess.PIPE)
    text = subprocess.run(["c++filt"], stdin=nm.stdout, capture_output=True, text=True, check=True).stdout
    nm.stdout.close()
    nm.wait()
    sizes = {}
    for line in text.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4:
            sizes[parts[3]] = sizes.get(parts[3], 0) + int(parts[1], 16)
    return sizes


def peer_diff(old_elf, new_elf):
    a, b = nm_symbols(old_elf), nm_symbols(new_elf)
    added = [n for n in b if n not in a]
    removed = [n for n in a if n not in b]
    changed = [(n, a[n], b[n]) for n in a if n in b and a[n] != b[n]]
    return added, removed, changed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(ROOT, "out"), help="the example matrix's output folder")
    ap.add_argument("--old", help="old ELF for the diff (default: hello-hyper's largest build)")
    ap.add_argument("--new", help="new ELF for the big-change pair (default: hello-hyper's release build)")
    ap.add_argument("--json", help="write the settings and figures here "
                                   "(benchmarks/results/snapshot.json is what the README and docs/SNAPSHOTS.md quote)")
    args = ap.parse_args(argv)
    if not os.path.isfile(os.path.join(args.out, "results.json")):
        print(f"no {args.out}/results.json; build the example matrix first (sizekit run)")
        return 2
    builds = hyper_builds(args.out)
    dev = args.old or (builds[0] if builds else None)
    other = args.new or next((b for b in builds[1:] if os.path.getsize(b) < os.path.getsize(dev) // 4), None)
    if dev is None or other is None:
        print("no hello-hyper builds under out/build; build the example matrix first")
        return 2
    ok = True
    t_py = median_time(lambda: sizekit_cli("--help"), args.runs)
    print(f"python -m sizekit --help (Python's start and sizekit's imports, in every command below): "
          f"{t_py * 1000:.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        # 1. the matrix's snapshot
        snap_file = os.path.join(tmp, "matrix.sksnap.zst")
        t_cli = median_time(lambda: sizekit_cli("snapshot", args.out, "-o", snap_file), args.runs)
        t_in = median_time(lambda: api.write_snapshot(snap_file, api.snapshot_of(args.out)), args.runs)
        t_load = median_time(lambda: api.load_snapshot(snap_file), args.runs)
        snap = api.load_snapshot(snap_file)
        largest = max(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(args.out, "build"))
                      for f in fs)
        size = os.path.getsize(snap_file)
        print(f"snapshot of {args.out}: {len(snap.results['cells'])} cells, {len(snap.tables)} artifacts, "
              f"{sum(len(t) for t in snap.tables):,} symbols")
        print(f"  sizekit snapshot (command, end to end): {t_cli * 1000:8.1f} ms   in process: {t_in * 1000:8.1f} ms"
              f"   load: {t_load * 1000:6.1f} ms   (median of {args.runs})")
        print(f"  file: {size:,} bytes = {size * 100 / largest:.1f}% of the largest unstripped artifact "
              f"({largest:,} bytes; limit 10%)")
        ok &= t_cli < LIMIT_S and size <= largest / 10 and t_load < 0.5
        figures = {"python_start_seconds": t_py, "snapshot": {
            "cells": len(snap.results["cells"]), "artifacts": len(snap.tables),
            "symbols": sum(len(t) for t in snap.tables), "command_seconds": t_cli, "in_process_seconds": t_in,
            "load_seconds": t_load, "bytes": size, "largest_artifact_bytes": largest, "share": size / largest},
            "diffs": {}}

        # 2. diffs of the dev build
        a, b, c = (os.path.join(tmp, n) for n in ("dev-a.snap", "dev-b.snap", "other.snap"))
        one_cell_snapshot(dev, a)
        one_cell_snapshot(dev, b)
        one_cell_snapshot(other, c)
        for label, (old_elf, new_elf, old_snap, new_snap) in (
                ("same build", (dev, dev, a, b)), ("dev -> release", (dev, other, a, c))):
            t_sk = median_time(lambda: sizekit_cli("diff", "--format", "json", old_snap, new_snap), args.runs)
            t_md = median_time(lambda: sizekit_cli("diff", old_snap, new_snap), args.runs)
            t_peer = median_time(lambda: peer_diff(old_elf, new_elf), args.runs)
            data = json.loads(sizekit_cli("diff", "--format", "json", old_snap, new_snap))
            sym = data["cells"][0].get("symbols") or {}
            added, removed, changed = peer_diff(old_elf, new_elf)
            print(f"diff, {label}: {os.path.basename(os.path.dirname(old_elf))} "
                  f"({os.path.getsize(old_elf):,} B) -> {os.path.basename(os.path.dirname(new_elf))} "
                  f"({os.path.getsize(new_elf):,} B)")
            print(f"  sizekit diff --format json: {t_sk * 1000:8.1f} ms   markdown: {t_md * 1000:8.1f} ms   "
                  f"matched {sym.get('matched')}, {sym.get('added')} added, {sym.get('removed')} removed")
            print(f"  nm -S --size-sort | c++filt x2 + join: {t_peer * 1000:8.1f} ms   "
                  f"{len(added)} added, {len(removed)} removed, {len(changed)} changed (by name only)")
            print(f"  ratio peer/sizekit (json): {t_peer / t_sk:.2f}x")
            ok &= max(t_sk, t_md) < LIMIT_S
            figures["diffs"]["same" if old_elf == new_elf else "dev_release"] = {
                "old": os.path.relpath(old_elf, ROOT), "new": os.path.relpath(new_elf, ROOT),
                "old_bytes": os.path.getsize(old_elf), "new_bytes": os.path.getsize(new_elf),
                "json_seconds": t_sk, "markdown_seconds": t_md, "peer_seconds": t_peer, "peer_ratio": t_peer / t_sk,
                "matched": sym.get("matched"), "added": sym.get("added"), "removed": sym.get("removed"),
                "peer_added": len(added), "peer_removed": len(removed), "peer_changed": len(changed)}
    print(f"\ntargets (each command < {LIMIT_S:.0f} s, file <= 10%, load < 0.5 s): {'PASS' if ok else 'FAIL'}")
    if args.json:
        benchjson.write(args.json, "bench_snapshot", {"out": os.path.relpath(args.out, ROOT), "runs": args.runs}, {
            **figures, "targets": {"command_seconds": LIMIT_S, "share": 0.1, "load_seconds": 0.5}, "met": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
