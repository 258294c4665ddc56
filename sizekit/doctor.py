"""`sizekit doctor`: what this machine can build for a matrix, and the fixes for what it cannot."""
import re
import shutil

from .matrix import load_matrix
from .procs import run_capture
from .steps import upx_binary
from .toolchain import probe_all, rust_src_fix

UPX_MIN_SAFE = (3, 96)


def upx_version():
    """(path, (major, minor, patch) or None, problem or None)."""
    path = shutil.which(upx_binary())
    if not path:
        return None, None, "upx not found; fix: scripts/install builds UPX 4.2.4 (Debian bookworm has none)"
    try:
        code, out = run_capture([path, "--version"], timeout=30)
    except Exception as exc:  # a broken binary must not stop the doctor
        return path, None, f"{path} --version failed: {exc}"
    m = re.search(r"upx (\d+)\.(\d+)(?:\.(\d+))?", out)
    if not m:
        return path, None, f"cannot read the version of {path}"
    version = tuple(int(x or 0) for x in m.groups())
    if version[:2] < UPX_MIN_SAFE:
        return path, version, (f"UPX {'.'.join(map(str, version))} is older than 3.96: its packed output "
                               f"of modern (PIE, new linker layout) binaries crashes with SIGSEGV at start")
    return path, version, None


def doctor(matrix_path, out):
    matrix = load_matrix(matrix_path)
    infos = probe_all(matrix)
    problems = 0
    out.write("toolchains:\n")
    for name, info in infos.items():
        label = name or "(PATH)"
        if info.problem:
            problems += 1
            out.write(f"  {label}: UNAVAILABLE: {info.problem}\n")
            continue
        out.write(f"  {label}: {info.rustc_version}; {info.cargo_version}\n")
        out.write(f"    cargo {info.cargo}\n    rustc {info.rustc}\n")
        if info.sysroot:
            out.write(f"    sysroot {info.sysroot}\n")
        out.write(f"    targets with std: {', '.join(info.targets) or 'none'}\n")
        out.write(f"    rust-src: {'yes' if info.rust_src else 'no'}"
                  + ("" if info.rust_src else f" (build-std needs it; fix: "
                                               f"{rust_src_fix(matrix.toolchains.get(name), name)})") + "\n")
    host = infos[None].host
    out.write("targets:\n")
    triples = list(dict.fromkeys([host] + [t for c in matrix.crates.values() for t in (c.targets or [host])]
                                 + list(matrix.targets)))
    for triple in triples:
        spec = matrix.targets.get(triple)
        out.write(f"  {triple}{' (host)' if triple == host else ''}:\n")
        tools = {"linker": spec.linker if spec else None,
                 "strip": (spec.strip if spec and spec.strip else ("strip" if triple == host else None)),
                 "runner": spec.runner[0] if spec and spec.runner else None}
        for role, tool in tools.items():
            if tool is None:
                needed = triple != host and role != "runner"
                out.write(f"    {role}: {'MISSING (set targets.' + triple + '.' + role + ')' if needed else 'default'}\n")
                problems += needed
            elif shutil.which(tool):
                out.write(f"    {role}: {shutil.which(tool)}\n")
            else:
                out.write(f"    {role}: MISSING {tool} (not on PATH)\n")
                problems += 1
    path, version, problem = upx_version()
    if problem:
        problems += 1
        out.write(f"upx: {'WARNING ' if version else ''}{problem}\n")
    else:
        out.write(f"upx: {path} {'.'.join(map(str, version))}\n")
    out.write(f"{problems} problem(s) found\n" if problems else "everything needed is present\n")
    return 1 if problems else 0
