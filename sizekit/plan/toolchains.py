"""Find each toolchain's cargo/rustc, its version, sysroot, targets and rust-src.

Probing runs rustc, so results are cached in the output folder, keyed by the
binaries' paths, sizes and mtimes: a no-op `doit` then costs a few stat calls.
"""
import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, field

from typing import Optional

from ..utils.fsutil import atomic_write_text

CACHE_VERSION = 4


@dataclass
class ToolchainInfo:
    name: str
    cargo: Optional[str] = None
    rustc: Optional[str] = None
    sysroot: Optional[str] = None            # explicit --sysroot for target std, if any
    rustc_version: Optional[str] = None      # `rustc -V`
    cargo_version: Optional[str] = None      # `cargo -V`
    host: Optional[str] = None
    release: tuple = (0, 0, 0)     # rustc's (major, minor, patch)
    nightly: bool = False
    targets: list = field(default_factory=list)   # triples with a std to link against
    rust_src: bool = False
    # The folder holding std's sources and their Cargo.lock when they come from the explicit
    # sysroot (cargo looks only in rustc's own sysroot, so it is told this one).
    rust_src_root: Optional[str] = None
    own_sysroot: Optional[str] = None        # `rustc --print sysroot`
    problem: Optional[str] = None            # why this toolchain cannot be used, with the fix

    def has_std(self, triple):
        return triple in self.targets

    def std_library(self, triple):
        """The target's shared std (lib/rustlib/<triple>/lib/libstd-*.so, what `-C prefer-dynamic`
        links against), or None."""
        root = self.sysroot or self.own_sysroot
        if not root:
            return None
        folder = os.path.join(root, "lib", "rustlib", triple, "lib")
        try:
            names = sorted(n for n in os.listdir(folder) if n.startswith("libstd-") and n.endswith(".so"))
        except OSError:
            return None
        return os.path.join(folder, names[0]) if names else None

    def lock_version_ok(self, version):
        """Whether this cargo reads a Cargo.lock of the given format version."""
        cargo_minor = _parse_release(self.cargo_version or "")[1]
        needs = {3: 53, 4: 78}.get(version, 0)
        return cargo_minor >= needs


def rust_src_fix(spec, name):
    """How to get rust-src for a toolchain: rustup adds it; a sysroot gets it from scripts/install."""
    if spec is not None and spec.rustup:
        return f"rustup component add rust-src --toolchain {spec.rustup}"
    if spec is None:
        return "rustup component add rust-src --toolchain nightly, and name that toolchain on the row"
    if spec.sysroot:
        return (f"put std's sources and their Cargo.lock in {spec.sysroot}/lib/rustlib/src/rust "
                f"(scripts/install does it for Debian's rustc: its rust-src package and a pinned lockfile)")
    return (f"toolchain {name!r} has neither rustup nor a sysroot; give it a sysroot: that holds "
            f"std's sources with a Cargo.lock (lib/rustlib/src/rust), or use a rustup nightly with rust-src")


def std_source(sysroot):
    """The folder under a sysroot that holds std's sources with their Cargo.lock, or None.

    cargo's -Z build-std reads lib/rustlib/src/rust/Cargo.lock (releases before std had its
    own workspace, such as 1.63) or lib/rustlib/src/rust/library/Cargo.lock (later ones)."""
    rust = os.path.join(sysroot, "lib", "rustlib", "src", "rust")
    if not os.path.isfile(os.path.join(rust, "library", "std", "Cargo.toml")):
        return None
    for folder in (os.path.join(rust, "library"), rust):
        if os.path.isfile(os.path.join(folder, "Cargo.lock")):
            return folder
    return None


def _parse_release(text):
    for word in text.split():
        parts = word.split("-")[0].split(".")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            return tuple(int(p) for p in parts)
    return (0, 0, 0)


def _run(cmd, env=None):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if out.returncode != 0:
        return None, (out.stderr or out.stdout).strip().splitlines()[-1:] or ["failed"]
    return out.stdout, None


def _stamp(path):
    try:
        st = os.stat(path)
        return [path, st.st_size, st.st_mtime_ns]
    except OSError:
        return [path, None, None]


def locate(spec):
    """(cargo, rustc, problem) for a matrix Toolchain, or None spec for the PATH's tools."""
    if spec is None:
        cargo, rustc = shutil.which("cargo"), shutil.which("rustc")
        if not cargo or not rustc:
            return cargo, rustc, "no cargo/rustc on PATH; install Rust (https://rustup.rs) or name a toolchain"
        return cargo, rustc, None
    if spec.rustup:
        rustup = shutil.which("rustup")
        if not rustup:
            return None, None, f"toolchain {spec.name!r} needs rustup, which is not on PATH"
        paths = []
        for tool in ("cargo", "rustc"):
            out, err = _run([rustup, "which", "--toolchain", spec.rustup, tool])
            if out is None:
                return None, None, (f"rustup toolchain {spec.rustup!r} is not installed; "
                                    f"fix: rustup toolchain install {spec.rustup}")
            paths.append(out.strip())
        return paths[0], paths[1], None
    cargo = shutil.which(spec.cargo) if spec.cargo else None
    rustc = shutil.which(spec.rustc) if spec.rustc else None
    if spec.cargo and not cargo:
        return None, None, f"cargo {spec.cargo!r} of toolchain {spec.name!r} not found"
    if spec.rustc and not rustc:
        return None, None, f"rustc {spec.rustc!r} of toolchain {spec.name!r} not found"
    if not rustc and cargo:
        # A cargo without a named rustc uses the rustc beside it.
        beside = os.path.join(os.path.dirname(cargo), "rustc")
        rustc = beside if os.path.exists(beside) else shutil.which("rustc")
    return cargo, rustc, None


def probe(name, spec):
    """Run the toolchain's binaries once and describe it."""
    info = ToolchainInfo(name=name)
    info.cargo, info.rustc, info.problem = locate(spec)
    if info.problem:
        return info
    info.sysroot = spec.sysroot if spec is not None else None
    out, err = _run([info.rustc, "-vV"])
    if out is None:
        info.problem = f"{info.rustc} -vV failed: {err}"
        return info
    fields = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    info.rustc_version = out.splitlines()[0].strip()
    info.host = fields.get("host")
    info.release = _parse_release(fields.get("release", ""))
    info.nightly = "nightly" in fields.get("release", "") or "dev" in fields.get("release", "")
    cout, err = _run([info.cargo, "-V"])
    if cout is None:
        info.problem = f"{info.cargo} -V failed: {err}"
        return info
    info.cargo_version = cout.strip()
    sout, _ = _run([info.rustc, "--print", "sysroot"])
    own_sysroot = sout.strip() if sout else None
    info.own_sysroot = own_sysroot
    roots = [r for r in (info.sysroot, own_sysroot) if r]
    if info.sysroot and not os.path.isdir(info.sysroot):
        info.problem = (f"sysroot {info.sysroot} of toolchain {name!r} does not exist; "
                        f"fix: run scripts/install (it unpacks Debian's target std there)")
        return info
    targets = set()
    # With an explicit --sysroot, rustc looks only there for target std.
    for root in roots[:1]:
        base = os.path.join(root, "lib", "rustlib")
        for triple in (os.listdir(base) if os.path.isdir(base) else []):
            libdir = os.path.join(base, triple, "lib")
            if os.path.isdir(libdir) and any(f.startswith("libstd-") for f in os.listdir(libdir)):
                targets.add(triple)
    info.targets = sorted(targets)
    if info.sysroot:
        info.rust_src_root = std_source(info.sysroot)
        info.rust_src = info.rust_src_root is not None
    if own_sysroot and not info.rust_src:
        info.rust_src = os.path.isdir(os.path.join(own_sysroot, "lib", "rustlib", "src", "rust", "library"))
    return info


def probe_all(matrix, cache_dir=None):
    """ToolchainInfo for every toolchain of the matrix, plus key None for the PATH tools."""
    specs = {None: None, **{n: t for n, t in matrix.toolchains.items()}}
    cache_path = os.path.join(cache_dir, "toolchains.json") if cache_dir else None
    cache = {}
    if cache_path and os.path.exists(cache_path):
        try:
            with open(cache_path) as f:
                cache = json.load(f)
            if cache.get("version") != CACHE_VERSION:
                cache = {}
        except (OSError, ValueError):
            cache = {}
    entries = cache.get("entries", {})
    result, changed = {}, False
    for name, spec in specs.items():
        key = json.dumps([name, asdict(spec) if spec else None], sort_keys=True)
        hit = entries.get(key)
        if hit and hit["info"]["problem"] is None and all(_stamp(s[0]) == s for s in hit["stamps"]):
            info = ToolchainInfo(**{**hit["info"], "release": tuple(hit["info"]["release"])})
        else:
            info = probe(name, spec)
            stamps = [_stamp(p) for p in (info.cargo, info.rustc, info.sysroot) if p]
            if info.rustc and not info.problem:
                # rust-src and target std appear inside the sysroot folder.
                sysroot = os.path.dirname(os.path.dirname(os.path.realpath(info.rustc)))
                stamps.append(_stamp(os.path.join(sysroot, "lib", "rustlib")))
                if info.sysroot:
                    stamps.append(_stamp(os.path.join(info.sysroot, "lib", "rustlib")))
                    stamps.append(_stamp(os.path.join(info.sysroot, "lib", "rustlib", "src", "rust")))
            entries[key] = {"info": asdict(info), "stamps": stamps}
            changed = True
        result[name] = info
    if cache_path and changed:
        try:
            os.makedirs(cache_dir, exist_ok=True)
            atomic_write_text(cache_path, json.dumps({"version": CACHE_VERSION, "entries": entries}, indent=1))
        except OSError:
            pass  # only a cache (a full disk, say): the next run probes again
    return result
