"""Builds and collects the files that calibrate and test sizekit's UPX size estimate.

    python benchmarks/estimate_corpus.py [--cache DIR] [--fresh] [--debian N] [--libs N]

Three sources, each file tagged with its class (executable or shared library; x86_64, armv7
or aarch64; stripped or not):
- the four crates under benchmarks/corpus_crates (skbin and skcdylib on std alone, skdeps and
  skdepslib with clap, regex, serde_json, miniz_oxide, sha2 and base64 from Debian's crate
  sources) and examples/hello-hyper (hyper + tokio, without jemalloc), built with Debian's
  /usr/bin/cargo and the project's sysroot for all three
  targets as dev, release and "small" (opt-level z + fat LTO + panic abort), each kept as
  built and stripped;
- Debian's own programs and libraries for x86_64 (/usr/bin, /usr/lib/x86_64-linux-gnu);
- the cross packages' ARM libraries (/usr/arm-linux-gnueabihf/lib, /usr/aarch64-linux-gnu/lib)
  and the armhf GStreamer programs and libraries that scripts/install unpacks.

Files are copied into DIR/files (default ~/.cache/sizekit/estimate-corpus) and listed in
DIR/manifest.json. Builds are incremental (cargo's own cache), so a rerun is quick.

`--fresh` collects a second set that no fit or model choice has seen (default
~/.cache/sizekit/estimate-fresh): the same crates built as "size" (opt-level s, thin LTO, 16
codegen units), a build the corpus does not have, and programs and libraries spaced the
same way over those the corpus did not pick, leaving out any file whose bytes are in it.
`estimate_split.py --cache` and `bench_estimate.py --cache` take its folder beside the corpus's.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CRATES = os.path.join(HERE, "corpus_crates")
SYSROOT = os.path.join(ROOT, ".sizekit", "sysroot")
DEFAULT_CACHE = os.path.expanduser("~/.cache/sizekit/estimate-corpus")
FRESH_CACHE = os.path.expanduser("~/.cache/sizekit/estimate-fresh")

TARGETS = {
    "x86_64": {"triple": "x86_64-unknown-linux-gnu", "linker": "gcc", "strip": "strip",
               "machine": 62},
    "armv7": {"triple": "armv7-unknown-linux-gnueabihf", "linker": "arm-linux-gnueabihf-gcc",
              "strip": "arm-linux-gnueabihf-strip", "machine": 40},
    "aarch64": {"triple": "aarch64-unknown-linux-gnu", "linker": "aarch64-linux-gnu-gcc",
                "strip": "aarch64-linux-gnu-strip", "machine": 183},
}
MACHINES = {t["machine"]: name for name, t in TARGETS.items()}
# Cargo profile settings per build variant, passed as CARGO_PROFILE_* variables.
VARIANTS = {
    "dev": ("dev", {}),
    "release": ("release", {}),
    "small": ("release", {"OPT_LEVEL": "z", "LTO": "fat", "CODEGEN_UNITS": "1",
                          "PANIC": "abort"}),
}
# the fresh set's build: settings none of VARIANTS has
FRESH_VARIANTS = {
    "size": ("release", {"OPT_LEVEL": "s", "LTO": "thin", "CODEGEN_UNITS": "16"}),
}
ARTIFACTS = {"skbin": "skbin", "skcdylib": "libskcdylib.so", "skdeps": "skdeps",
             "skdepslib": "libskdepslib.so", "hello-hyper": "hello-hyper"}
# Crates from elsewhere in the repository (the rest are under corpus_crates), and their flags:
# the example's hyper + tokio server, without jemalloc's C build.
SOURCES = {"hello-hyper": os.path.join(ROOT, "examples", "hello-hyper")}
CARGO_FLAGS = {"hello-hyper": ["--no-default-features"]}
ARM_LIB_DIRS = {"armv7": "/usr/arm-linux-gnueabihf/lib", "aarch64": "/usr/aarch64-linux-gnu/lib"}
# armhf GStreamer as scripts/install unpacks it: real ARM programs and bigger libraries
ARMHF_GST = "/usr/arm-linux-gnueabihf/usr"


def elf_class(path):
    """(kind, arch, stripped) of an ELF file sizekit can classify, or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    if len(head) < 64 or head[:4] != b"\x7fELF" or head[5] != 1:
        return None
    etype = int.from_bytes(head[16:18], "little")
    machine = int.from_bytes(head[18:20], "little")
    arch = MACHINES.get(machine)
    if arch is None or etype not in (2, 3):
        return None
    kind = "exec"
    if etype == 3:
        # as UPX sees it: an ET_DYN file is a program only with DF_1_PIE
        kind = "exec" if _is_pie(path) else "shlib"
    return kind, arch, not _has_symtab(path)


def _is_pie(path):
    from elftools.elf.elffile import ELFFile  # lazy: pyelftools is slow to import
    with open(path, "rb") as f:
        dyn = ELFFile(f).get_section_by_name(".dynamic")
        if dyn is None:
            return False
        return any(t.entry.d_tag == "DT_FLAGS_1" and t.entry.d_val & 0x08000000
                   for t in dyn.iter_tags())


def _has_symtab(path):
    from elftools.elf.elffile import ELFFile  # lazy: pyelftools is slow to import
    with open(path, "rb") as f:
        return ELFFile(f).get_section_by_name(".symtab") is not None


def build_crates(cache, log, variants=VARIANTS):
    """cargo builds of the corpus crates; yields (name, path) of each artifact and its strip."""
    work = os.path.join(cache, "crates")
    os.makedirs(os.path.join(work, ".cargo"), exist_ok=True)
    shutil.copyfile(os.path.join(CRATES, ".cargo", "config.toml"),
                    os.path.join(work, ".cargo", "config.toml"))
    for crate in ARTIFACTS:
        dst = os.path.join(work, crate)
        origin = SOURCES.get(crate, os.path.join(CRATES, crate))
        if not os.path.isdir(dst):
            shutil.copytree(origin, dst, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
        else:
            for sub in ("src", "Cargo.toml"):
                src = os.path.join(origin, sub)
                if os.path.isdir(src):
                    shutil.rmtree(os.path.join(dst, sub))
                    shutil.copytree(src, os.path.join(dst, sub))
                else:
                    shutil.copyfile(src, os.path.join(dst, sub))
    for arch, t in TARGETS.items():
        for variant, (profile, settings) in variants.items():
            env = dict(os.environ, RUSTC="/usr/bin/rustc",
                       RUSTFLAGS=f"--sysroot={SYSROOT}",
                       CARGO_TARGET_DIR=os.path.join(cache, "target", variant))
            env[f"CARGO_TARGET_{t['triple'].upper().replace('-', '_')}_LINKER"] = t["linker"]
            pname = "DEV" if profile == "dev" else "RELEASE"
            for k, v in settings.items():
                env[f"CARGO_PROFILE_{pname}_{k}"] = v
            for crate, art in ARTIFACTS.items():
                cmd = ["nice", "-n", "10", "/usr/bin/cargo", "build", "-j2", "--offline",
                       "--target", t["triple"]] + (["--release"] if profile == "release" else []) + \
                    CARGO_FLAGS.get(crate, [])
                r = subprocess.run(cmd, cwd=os.path.join(work, crate), env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                log.write(r.stdout)
                if r.returncode != 0:
                    print(f"build failed: {crate} {arch} {variant}\n{r.stdout[-1500:]}",
                          file=sys.stderr)
                    continue
                built = os.path.join(cache, "target", variant, t["triple"],
                                     "debug" if profile == "dev" else "release", art)
                yield f"rust-{crate}-{arch}-{variant}", built, t["strip"]


def spaced(cands, want, fresh):
    """Evenly spaced picks of (size, path) by size; fresh: the same from those not picked."""
    cands = sorted(cands)
    step = max(1, len(cands) // max(want, 1))
    picks = cands[::step][:want]
    if fresh:
        rest = [c for c in cands if c not in picks]
        picks = rest[::max(1, len(rest) // max(want, 1))][:want]
    return [p for _, p in picks]


def debian_files(n_bins, n_libs, fresh=False):
    """Evenly spaced picks by size of Debian's x86_64 programs and libraries."""
    def spread(paths, want, lo, hi):
        cands = []
        for p in paths:
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            size = os.path.getsize(p)
            if lo <= size <= hi and elf_class(p):
                cands.append((size, p))
        return spaced(cands, want, fresh)
    bins = spread(sorted(glob.glob("/usr/bin/*")), n_bins, 20_000, 6_000_000)
    libs = spread(sorted(glob.glob("/usr/lib/x86_64-linux-gnu/*.so*")), n_libs, 20_000,
                  6_000_000)
    return [(f"debian-bin-{os.path.basename(p)}", p) for p in bins] + \
        [(f"debian-lib-{os.path.basename(p)}", p) for p in libs]


def arm_libs(n_each, fresh=False):
    out = []
    for arch, d in ARM_LIB_DIRS.items():
        cands = []
        for p in sorted(glob.glob(os.path.join(d, "*.so*"))):
            if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) < 8_000:
                continue
            if elf_class(p):
                cands.append((os.path.getsize(p), p))
        out += [(f"cross-{arch}-{os.path.basename(p)}", p) for p in spaced(cands, n_each, fresh)]
    return out


def armhf_gstreamer(n_bins, n_libs, fresh=False):
    """ARM programs and libraries from the armhf GStreamer that scripts/install unpacks."""
    def elves(pattern, kind, want):
        cands = []
        for p in sorted(glob.glob(os.path.join(ARMHF_GST, pattern), recursive=True)):
            if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) < 8_000:
                continue
            c = elf_class(p)
            if c and c[0] == kind:
                cands.append((os.path.getsize(p), p))
        return spaced(cands, want, fresh)
    return [(f"armhf-gst-bin-{os.path.basename(p)}", p)
            for p in elves("**/bin/*", "exec", n_bins) + elves("lib/**/gstreamer*/*", "exec", 4)] + \
        [(f"armhf-gst-lib-{os.path.basename(p)}", p) for p in elves("lib/**/*.so*", "shlib", n_libs)]


def add(files_dir, manifest, name, src, known=(), label=None):
    """Copies src in as name unless its bytes are already there (or in known, a set of
    sha256 digests); label sets the entry's "set" (the fresh set's)."""
    dst = os.path.join(files_dir, name)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755)  # upx packs only executable files
    c = elf_class(dst)
    if c is None:
        os.unlink(dst)
        return None
    with open(dst, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest in known or any(m["sha256"] == digest for m in manifest):
        os.unlink(dst)  # the same bytes under another name (strip of a stripped file)
        return None
    kind, arch, stripped = c
    entry = {"name": name, "path": dst, "bytes": os.path.getsize(dst), "kind": kind,
             "arch": arch, "stripped": stripped, "sha256": digest, "source": src}
    if label:
        entry["set"] = label
    manifest.append(entry)
    return entry


def collect(cache, n_bins=16, n_libs=10, n_arm=12, crates=True, fresh=False):
    """Builds and copies the files; fresh: the fresh set, leaving out the corpus's bytes."""
    known, label = set(), None
    if fresh:
        label = "fresh"
        corpus = os.path.join(DEFAULT_CACHE, "manifest.json")
        if os.path.exists(corpus):
            with open(corpus) as f:
                known = {e["sha256"] for e in json.load(f)}
    final_dir = os.path.join(cache, "files")
    # filled beside the old folder and swapped in at the end, so readers never see half
    files_dir = final_dir + ".new"
    if os.path.isdir(files_dir):
        shutil.rmtree(files_dir)
    os.makedirs(files_dir)
    manifest = []
    with open(os.path.join(cache, "build.log"), "w") as log:
        if crates:
            for name, path, strip in build_crates(cache, log,
                                                  FRESH_VARIANTS if fresh else VARIANTS):
                e = add(files_dir, manifest, name, path, known, label)
                if e is None:
                    continue
                tmp = os.path.join(cache, "strip.tmp")
                shutil.copyfile(path, tmp)
                subprocess.run([strip, "-s", tmp], check=True)
                add(files_dir, manifest, name + "-stripped", tmp, known, label)
                os.unlink(tmp)
    for name, src in debian_files(n_bins, n_libs, fresh) + arm_libs(n_arm, fresh) + \
            armhf_gstreamer(8, n_arm, fresh):
        add(files_dir, manifest, name, src, known, label)
    if os.path.isdir(final_dir):
        shutil.rmtree(final_dir)
    os.rename(files_dir, final_dir)
    for e in manifest:
        e["path"] = os.path.join(final_dir, e["name"])
    with open(os.path.join(cache, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", help=f"default {DEFAULT_CACHE} ({FRESH_CACHE} with --fresh)")
    ap.add_argument("--fresh", action="store_true",
                    help="collect the fresh set instead (files no fit has seen)")
    ap.add_argument("--debian", type=int, default=16, help="Debian programs to take")
    ap.add_argument("--libs", type=int, default=10, help="Debian x86_64 libraries to take")
    ap.add_argument("--arm", type=int, default=12, help="libraries per ARM target")
    ap.add_argument("--no-crates", action="store_true", help="skip the cargo builds")
    args = ap.parse_args(argv)
    cache = args.cache or (FRESH_CACHE if args.fresh else DEFAULT_CACHE)
    os.makedirs(cache, exist_ok=True)
    m = collect(cache, args.debian, args.libs, args.arm, not args.no_crates, args.fresh)
    counts = {}
    for e in m:
        k = (e["kind"], e["arch"], "stripped" if e["stripped"] else "unstripped")
        counts[k] = counts.get(k, 0) + 1
    print(f"{len(m)} files in {os.path.join(cache, 'files')}")
    for k in sorted(counts):
        print(f"  {' '.join(k):<32} {counts[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
