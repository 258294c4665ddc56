"""A private view of the user's crate folder that cargo is pointed at.

cargo writes Cargo.lock next to the manifest it is given. Pointing it at the user's own
Cargo.toml would let it rewrite the user's lockfile (Debian's cargo 1.65 cannot even read the
version-4 files newer cargo writes), and any swap-and-restore scheme leaves the wrong file
behind when the build is killed, or races the user's own `cargo build`. So each
(crate, toolchain) gets a folder under sizekit's state: a symlink to every entry of the crate
folder, a copy of Cargo.toml made its own workspace root, and that toolchain's own Cargo.lock.
Nothing is ever written into the user's folder, whenever the process dies.
"""
import os
import re

from ..utils.fsutil import atomic_write_bytes

SKIP = {"Cargo.lock", "Cargo.toml", "target"}
WORKSPACE_RE = re.compile(rb"^\s*\[workspace\]", re.M)
LOCK_VERSION_RE = re.compile(rb"^version\s*=\s*(\d+)", re.M)


def manifest_path(layout, build):
    """Where cargo's --manifest-path points for this build (the overlay's Cargo.toml)."""
    return os.path.join(layout.overlay(build.crate, build.toolchain), "Cargo.toml")


def lock_version(data):
    m = LOCK_VERSION_RE.search(data)
    return int(m.group(1)) if m else 1


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _link(target, link):
    """Make link a symlink to target, replacing whatever is there, atomically."""
    try:
        if os.readlink(link) == target:
            return
    except OSError:
        pass
    tmp = link + ".sk-tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def prepare(layout, build, info):
    """Bring the overlay up to date with the crate folder. Returns its manifest path."""
    crate_dir = os.path.realpath(build.crate.path)
    folder = layout.overlay(build.crate, build.toolchain)
    os.makedirs(folder, exist_ok=True)
    wanted = set(os.listdir(crate_dir)) - SKIP
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name not in wanted and name not in ("Cargo.toml", "Cargo.lock") and os.path.islink(path):
            os.unlink(path)
    for name in sorted(wanted):
        _link(os.path.join(crate_dir, name), os.path.join(folder, name))
    manifest = _read(os.path.join(crate_dir, "Cargo.toml")) or b""
    if not WORKSPACE_RE.search(manifest):
        # Its own workspace root, so cargo does not adopt a workspace above the output folder.
        manifest = manifest.rstrip(b"\n") + b"\n\n# added by sizekit: this copy is its own workspace\n[workspace]\n"
    dest = os.path.join(folder, "Cargo.toml")
    if _read(dest) != manifest:
        atomic_write_bytes(dest, manifest)
    lock = os.path.join(folder, "Cargo.lock")
    if not os.path.exists(lock):
        seed = _read(layout.lockfile(build.crate, build.toolchain))  # kept by older sizekits
        if seed is None:
            seed = _read(os.path.join(crate_dir, "Cargo.lock"))
            if seed is not None and not info.lock_version_ok(lock_version(seed)):
                seed = None
        if seed is not None:
            atomic_write_bytes(lock, seed)
    return dest
