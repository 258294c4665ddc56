"""Splits the UPX estimate's files into fit, validation and a sealed test set, by group.

    python benchmarks/estimate_split.py [--cache DIR]... [--reseal]   # after estimate_corpus.py

The pool is every file of benchmarks/estimate_corpus.py's cache (--cache, repeatable, names
others, such as its --fresh folder), each file once (by sha256). Files are grouped before they are split, so that
no group has a file on both sides:
- by build: a stripped file goes with the file it was stripped from (`strip -s` leaves the
  loaded segments byte for byte, and the fit works per UPX block);
- by source: a crate's builds for every target and profile go together, and so do crates
  that share dependencies (skdeps and skdepslib: clap, regex, serde_json, miniz_oxide); a
  Debian file goes with the other files of its Debian source package (dpkg's answer, a cross
  package read as the source it is built from: cross-toolchain-base is glibc) and with the
  files of the same library name on the other architectures.
Groups are the connected parts of those links. Within each stratum (Rust builds, Debian
x86_64 files, ARM files) the groups are taken in the order of sha256(group name) and each
goes to the part furthest below its share of the stratum's files: sealed 1/3, validation
1/6, fit 1/2. Once benchmarks/estimate_sealed.json exists its files stay sealed, with their
whole groups (`--reseal` draws the split again, for a new corpus and a new model release).

Writes benchmarks/estimate_split.json (every file: name, sha256, class, group, part) and
benchmarks/estimate_sealed.json (the sealed files with their sha256). The fit
(benchmarks/estimate_fit.py) takes its files from fit_files() and refuses a sealed one;
tests/test_estimate_split.py checks both on the committed lists.
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SPLIT = os.path.join(HERE, "estimate_split.json")
SEALED = os.path.join(HERE, "estimate_sealed.json")
CACHES = (os.path.expanduser("~/.cache/sizekit/estimate-corpus"),)
PARTS = (("sealed", 1 / 3), ("validation", 1 / 6), ("fit", 1 / 2))
# crates built from the same dependencies (benchmarks/corpus_crates/*/Cargo.toml)
CRATE_SOURCE = {"skdepslib": "skdeps"}
# Debian cross packages are built from these sources
CROSS_SOURCE = {"cross-toolchain-base": "glibc", "cross-toolchain-base-ports": "glibc"}
# files dpkg does not know (scripts/install unpacks armhf debs) and no amd64 package names:
# their Debian source
STEM_SOURCE = {"libunwind-arm": "libunwind"}
# estimate_corpus.py's names: a prefix for where the file came from, then its file name
PREFIX = re.compile(r"^(debian-bin-|debian-lib-|cross-(armv7|aarch64)-|armhf-gst-(bin|lib)-)")
RUST = re.compile(r"^rust-(?P<crate>.+)-(?P<arch>x86_64|armv7|aarch64)-(?P<variant>[a-z]+)"
                  r"(?P<stripped>-stripped)?$")


def model_digest():
    """sha256 (16 hex digits) of the model's sources: csrc/*.c, csrc/*.h and tables.json, less
    names.c and names.h (symbol names, no part of the estimate)."""
    h = hashlib.sha256()
    for p in sorted(glob.glob(os.path.join(ROOT, "csrc", "*.[ch]")) +
                    [os.path.join(ROOT, "csrc", "tables.json")]):
        if os.path.basename(p) in ("names.c", "names.h"):
            continue
        with open(p, "rb") as f:
            h.update(os.path.basename(p).encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def stem(base):
    """A library's or program's name without its version: libgstnet-1.0.so.0.2200.0 ->
    libgstnet, libstdc++.so.6.0.30 -> libstdc++, ld-linux-armhf.so.3 -> ld-linux."""
    s = base.split(".so")[0]
    s = re.sub(r"-\d+(\.\d+)*$", "", s)
    s = re.sub(r"(armhf|aarch64|x86-64)$", "", s).rstrip("-_")
    return s or base


def debian_source(path):
    """The Debian source package a file comes from (dpkg's database; usr-merged paths and,
    for files unpacked by scripts/install, the same file name in another package), or None."""
    base = os.path.basename(path)
    tries = [path, re.sub(r"^/usr/", "/", path), f"*/{base}"]
    for t in tries:
        r = subprocess.run(["dpkg-query", "-S", t], capture_output=True, text=True)
        if r.returncode != 0:
            continue
        for line in r.stdout.splitlines():
            pkg, _, found = line.partition(": ")
            if not t.startswith("*") or os.path.basename(found.strip()) == base:
                pkg = pkg.split(",")[0].strip()
                q = subprocess.run(["dpkg-query", "-W", "-f=${source:Package}", pkg],
                                   capture_output=True, text=True)
                src = q.stdout.strip().split()[0] if q.returncode == 0 and q.stdout.strip() else pkg
                src = CROSS_SOURCE.get(src, src)
                return re.sub(r"-cross$", "", src)
    return None


def origin(entry):
    """(stratum, [keys]) of a file: files sharing a key share a group."""
    name = entry["name"]
    m = RUST.match(name)
    if m:
        crate = m.group("crate")
        build = f"build:{crate}-{m.group('arch')}-{m.group('variant')}"
        return "rust", [build, f"crate:{CRATE_SOURCE.get(crate, crate)}"]
    keys = [f"name:{stem(PREFIX.sub('', name))}"]
    src = entry.get("debian_source") or STEM_SOURCE.get(stem(PREFIX.sub("", name)))
    if src:
        keys.append(f"src:{src}")
    stratum = "debian-x86_64" if entry["arch"] == "x86_64" else "arm"
    return stratum, keys


NAMING = ("crate:", "src:", "name:", "build:")  # a group is named by its first key of these kinds


def _rank(key):
    return NAMING.index(key.split(":")[0] + ":"), key


def groups(entries):
    """{sha256: (stratum, group name)}: the connected parts of the files' shared keys, each
    named by its source (the crate or Debian source package) where it has one, in the
    stratum most of its files are in (the first by name on a tie)."""
    parent = {}

    def find(k):
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    keys = {}
    for e in entries:
        stratum, ks = origin(e)
        keys[e["sha256"]] = (stratum, ks)
        for k in ks[1:]:
            a, b = find(ks[0]), find(k)
            if a != b:
                parent[max(a, b, key=_rank)] = min(a, b, key=_rank)
    votes = {}
    for stratum, ks in keys.values():
        votes.setdefault(find(ks[0]), []).append(stratum)
    strata = {g: min(set(v), key=lambda s: (-v.count(s), s)) for g, v in votes.items()}
    return {sha: (strata[find(ks[0])], find(ks[0])) for sha, (_, ks) in keys.items()}


def split(entries, sealed=()):
    """{sha256: (group, part)}: the rule above. sealed: sha256s that stay in the sealed part
    (with their groups)."""
    of = groups(entries)
    sealed = set(sealed)
    members = {}
    for e in entries:
        members.setdefault(of[e["sha256"]], []).append(e["sha256"])
    part_of = {g: "sealed" for g, shas in members.items() if sealed & set(shas)}
    for stratum in sorted({s for s, _ in members}):
        mine = sorted((g for g in members if g[0] == stratum),
                      key=lambda g: hashlib.sha256(g[1].encode()).hexdigest())
        have = {p: 0 for p, _ in PARTS}
        total = 0
        for g in mine:
            total += len(members[g])
            if g not in part_of:
                part_of[g] = max(PARTS, key=lambda p: p[1] * total - have[p[0]])[0]
            have[part_of[g]] += len(members[g])
    return {sha: (g[1], part_of[g]) for g, shas in members.items() for sha in shas}


def load_split(path=SPLIT):
    """The committed split: {"files": [...]}, each with name, sha256, group and part."""
    with open(path) as f:
        return json.load(f)


def load_sealed(path=SEALED):
    """sha256s of the sealed test files (benchmarks/estimate_sealed.json)."""
    with open(path) as f:
        return {e["sha256"] for e in json.load(f)["files"]}


def part_of(entries, split_doc=None):
    """{sha256: part} for these entries from the committed split; a file it does not list is
    "unsplit" (never fitted on: run estimate_split.py to place it)."""
    split_doc = split_doc or load_split()
    parts = {e["sha256"]: e["part"] for e in split_doc["files"]}
    return {e["sha256"]: parts.get(e["sha256"], "unsplit") for e in entries}


def fit_files(entries, split_doc=None, sealed=None):
    """The entries the fit may use: those of the fit part, none of them sealed or in a group
    that holds a sealed file."""
    split_doc = split_doc or load_split()
    sealed = load_sealed() if sealed is None else set(sealed)
    sealed_groups = {e["group"] for e in split_doc["files"] if e["sha256"] in sealed}
    info = {e["sha256"]: e for e in split_doc["files"]}
    out = []
    for e in entries:
        s = info.get(e["sha256"])
        if s and s["part"] == "fit" and e["sha256"] not in sealed and s["group"] not in sealed_groups:
            out.append(e)
    return out


def read_caches(caches=CACHES):
    """Every file of the caches' manifests (estimate_corpus.py's), once by sha256; a missing
    manifest stops with the command that makes it."""
    out, seen = [], set()
    for cache in caches:
        manifest = os.path.join(cache, "manifest.json")
        if not os.path.exists(manifest):
            raise SystemExit(f"{manifest}: no corpus; run benchmarks/estimate_corpus.py"
                             + (" --fresh" if "fresh" in cache else "") + " first")
        with open(manifest) as f:
            for e in json.load(f):
                if e["sha256"] not in seen:
                    seen.add(e["sha256"])
                    out.append({k: v for k, v in e.items() if k != "set"})
    return out


def pool(caches=CACHES):
    """read_caches() with each Debian file's source package."""
    out = read_caches(caches)
    for e in out:
        if not e["name"].startswith("rust-"):
            e["debian_source"] = debian_source(e["source"])
    return out


FIELDS = ("name", "sha256", "bytes", "kind", "arch", "stripped")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", action="append",
                    help=f"a corpus folder (repeatable; default {CACHES[0]})")
    ap.add_argument("--reseal", action="store_true",
                    help="draw the split again, ignoring the committed sealed files")
    args = ap.parse_args(argv)
    entries = pool(args.cache or CACHES)
    sealed = set() if args.reseal or not os.path.exists(SEALED) else load_sealed()
    parts = split(entries, sealed)
    files = []
    for e in sorted(entries, key=lambda e: e["name"]):
        g, p = parts[e["sha256"]]
        files.append({**{k: e[k] for k in FIELDS}, "debian_source": e.get("debian_source"),
                      "group": g, "part": p})
    with open(SPLIT, "w") as f:
        json.dump({"about": "benchmarks/estimate_split.py's split of the estimate's files "
                            "(see its docstring for the rule)", "files": files}, f, indent=1)
        f.write("\n")
    test = [{k: e[k] for k in FIELDS + ("group",)} for e in files if e["part"] == "sealed"]
    if sealed:
        with open(SEALED) as f:
            old = json.load(f)
        stamp = {k: old[k] for k in ("sealed_on", "model_at_sealing")}
    else:
        stamp = {"sealed_on": datetime.date.today().isoformat(), "model_at_sealing": model_digest()}
    with open(SEALED, "w") as f:
        json.dump({"about": "The UPX estimate's sealed test files (benchmarks/estimate_split.py): "
                            "no fit reads them; bench_estimate.py --set sealed measures them once "
                            "per model release", **stamp, "files": test}, f, indent=1)
        f.write("\n")
    counts = {}
    for e in files:
        counts.setdefault(e["part"], [0, set()])
        counts[e["part"]][0] += 1
        counts[e["part"]][1].add(e["group"])
    for p, (n, gs) in sorted(counts.items()):
        print(f"{p:<10} {n:>4} files in {len(gs):>3} groups")
    print(f"wrote {os.path.relpath(SPLIT)} and {os.path.relpath(SEALED)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
