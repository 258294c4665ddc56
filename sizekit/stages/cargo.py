"""Drive cargo: one custom profile per set of profile settings, artifacts from JSON messages.

The user's Cargo.toml is never edited: settings reach cargo as `--config
profile.sk-<key>.<k>=<v>` on a profile that inherits dev or release. Builds that differ only in
the crate's features share the profile (Build.profile), so cargo builds their common
dependencies once; they also share the folder cargo copies the final file into, so a build
holds that folder's lock from cargo's start until its file is copied away (`locked`).
"""
import contextlib
import hashlib
import json
import os
import re
import time

from ..utils.fsutil import file_lock
from ..utils.procs import run_logged
from . import overlay
from ..plan.availability import c_compiler, sccache_binary
from .sccache import Session

def profile_name(build):
    return build.profile


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))


def target_dir(plan, build):
    return plan.layout.cargo_target(build.toolchain)


def env_name(triple):
    return triple.upper().replace("-", "_").replace(".", "_")


def build_std_crates(settings):
    crates = list(settings["build-std"]["crates"])
    # With panic=abort, std must be rebuilt together with panic_abort.
    if settings["cargo"].get("panic") in ("abort", "immediate-abort") and "std" in crates \
            and "panic_abort" not in crates:
        crates.append("panic_abort")
    return crates


# Nightlies from 1.93 spell "abort without any panic machinery" as a panic strategy
# (profile panic = "immediate-abort" behind cargo's -Z panic-immediate-abort);
# older ones as the std feature panic_immediate_abort on top of panic = "abort".
IMMEDIATE_ABORT_STRATEGY_SINCE = (1, 93, 0)
IMMEDIATE_FEATURE = "panic_immediate_abort"
STD_SOURCE_ENV = "__CARGO_TESTS_ONLY_SRC_ROOT"


def panic_settings(settings, info):
    """(cargo profile map, build-std features, extra cargo -Z flags) for this toolchain.

    A row may ask for immediate abort either way; it is written the way the
    toolchain understands it.
    """
    cargo_map = dict(settings["cargo"])
    bstd = settings["build-std"] or {}
    features = list(bstd.get("features", []))
    wants = cargo_map.get("panic") == "immediate-abort" or IMMEDIATE_FEATURE in features
    if not wants:
        return cargo_map, features, []
    if tuple(info.release) >= IMMEDIATE_ABORT_STRATEGY_SINCE:
        cargo_map["panic"] = "immediate-abort"
        return cargo_map, [f for f in features if f != IMMEDIATE_FEATURE], ["panic-immediate-abort"]
    cargo_map["panic"] = "abort"
    if IMMEDIATE_FEATURE not in features:
        features.append(IMMEDIATE_FEATURE)
    return cargo_map, features, []


def rustflags(plan, build):
    info = plan.toolchains[build.toolchain]
    target = plan.matrix.targets.get(build.target)
    flags = list(target.rustflags) if target else []
    flags += build.settings["rustflags"]
    flags += [f"-Z{flag}" for flag in build.settings["nightly"]]
    if info.sysroot:
        flags.append(f"--sysroot={info.sysroot}")
    if build.settings["build-std"] and info.rust_src_root:
        # std's sources (and the crates vendored beside them) are compiled from the sysroot, which
        # lives in the user's checkout: name them as rustc's own std does, so bytes do not depend
        # on where the checkout is.
        src = os.path.join(info.sysroot, "lib", "rustlib", "src")
        flags.append(f"--remap-path-prefix={src}=/rustc/{'.'.join(map(str, info.release))}")
    return flags


def remap_args(plan, build):
    """rustc arguments for the crate itself (after `cargo rustc --`): paths compiled into the binary
    (debug info, panic locations) name the user's folder, not the overlay, so every byte matches a
    plain cargo build there. Only the final crate gets them, so its dependencies' command lines
    stay the same on every machine and a shared compile cache can serve them."""
    overlay_dir = os.path.dirname(overlay.manifest_path(plan.layout, build))
    return [f"--remap-path-prefix={overlay_dir}={os.path.realpath(build.crate.path)}"]


def command(plan, build):
    """(argv, env_overrides) of the cargo invocation for this build."""
    s = build.settings
    info = plan.toolchains[build.toolchain]
    prof = profile_name(build)
    cargo_map, std_features, zflags = panic_settings(s, info)
    argv = [info.cargo or "cargo", "rustc",
            "--manifest-path", overlay.manifest_path(plan.layout, build),
            "--target", build.target,
            "--profile", prof,
            "--target-dir", target_dir(plan, build),
            "--message-format=json-render-diagnostics",
            "--config", f"profile.{prof}.inherits={toml_value(s['profile'])}"]
    for flag in zflags:
        argv += ["-Z", flag]
    for key, value in sorted(cargo_map.items()):
        argv += ["--config", f"profile.{prof}.{key}={toml_value(value)}"]
    if not s["default-features"]:
        argv.append("--no-default-features")
    if s["features"]:
        argv += ["--features", ",".join(s["features"])]
    kind, name = build.crate.kind, build.crate.artifact
    argv += {"bin": ["--bin", name], "example": ["--example", name]}.get(kind, ["--lib"])
    if s["build-std"]:
        argv += ["-Z", "build-std=" + ",".join(build_std_crates(s))]
        if std_features:
            argv += ["-Z", "build-std-features=" + ",".join(std_features)]
    env = {"RUSTC": info.rustc or "rustc", "CARGO_TERM_COLOR": "never"}
    if s["build-std"] and info.rust_src_root:
        # cargo finds std's sources in rustc's own sysroot only; this variable, which cargo
        # reads before looking there, names the explicit sysroot's (the folder with Cargo.lock).
        env[STD_SOURCE_ENV] = info.rust_src_root
    flags = rustflags(plan, build)
    if flags:
        env["CARGO_ENCODED_RUSTFLAGS"] = "\x1f".join(flags)
    target = plan.matrix.targets.get(build.target)
    if target is not None:
        if target.linker:
            env[f"CARGO_TARGET_{env_name(build.target)}_LINKER"] = target.linker
        env.update(target.env)
    env.update(s["env"])
    jobs = os.environ.get("SIZEKIT_JOBS")
    if jobs:
        argv += ["-j", jobs]
    return argv + ["--", *remap_args(plan, build)], env


def find_artifact(messages, build, manifest):
    """Path of the artifact this build asked for, from cargo's compiler-artifact messages."""
    kind, name = build.crate.kind, build.crate.artifact
    manifest = os.path.realpath(manifest)
    for msg in messages:
        if msg.get("reason") != "compiler-artifact":
            continue
        target = msg.get("target", {})
        if os.path.realpath(msg.get("manifest_path", manifest)) != manifest:
            continue
        kinds = target.get("kind", [])
        if kind in ("bin", "example") and kind in kinds and target.get("name") == name:
            return msg.get("executable") or msg["filenames"][0]
        if kind in ("cdylib", "staticlib") and kind in kinds:
            suffix = ".so" if kind == "cdylib" else ".a"
            for f in msg.get("filenames", []):
                if f.endswith(suffix):
                    return f
    return None


def dep_info_files(artifact):
    """Source files cargo lists in the artifact's .d file ([] when there is none)."""
    folder, base = os.path.split(artifact)
    stem = base[:-3] if base.endswith(".so") else (base[:-2] if base.endswith(".a") else base)
    path = os.path.join(folder, stem + ".d")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    deps = set()
    for line in text.replace("\\\n", " ").splitlines():
        if ":" not in line:
            continue
        _, _, rest = line.partition(": ")
        for word in re.split(r"(?<!\\) ", rest):
            word = word.replace("\\ ", " ").strip()
            if word:
                deps.add(word)
    return sorted(deps)


@contextlib.contextmanager
def locked(plan, build):
    """Hold while cargo runs for build and its file is copied away: the crate folder's lock (two
    matrix entries may build one crate, and its Cargo.lock), then the lock of the profile folder
    cargo copies final files into, which builds of other feature sets share."""
    folder_key = hashlib.sha256(os.path.realpath(build.crate.path).encode()).hexdigest()[:12]
    out_key = hashlib.sha256(f"{target_dir(plan, build)}\0{build.target}\0{build.profile}"
                             .encode()).hexdigest()[:12]
    with file_lock(plan.layout.crate_lock(folder_key)), file_lock(plan.layout.profile_lock(out_key)):
        yield


def run(plan, build, log_path):
    """Run cargo for build, inside `locked(plan, build)`.

    Returns (artifact path or None, seconds, argv, env, problem, cache record)."""
    argv, env = command(plan, build)
    full_env = {k: v for k, v in os.environ.items() if k not in ("RUSTFLAGS", "CARGO_BUILD_TARGET")}
    full_env.update(env)
    messages: list = []
    start = time.monotonic()
    session, cache = _cache_session(plan)
    overlay.prepare(plan.layout, build, plan.toolchains[build.toolchain])
    try:
        if session:
            compilers = ({build.target: c_compiler(plan.matrix, build.target, plan.host, full_env)}
                         if plan.matrix.cache.cc else {})
            full_env.update(session.start(full_env, compilers, plan.layout.state("sccache-cc")))
        code = run_logged(argv, full_env, log_path, on_stdout=lambda line: _collect(line, messages),
                          cwd=build.crate.path)
    finally:
        if session:
            cache = session.finish(full_env)
            with open(log_path, "a") as log:
                log.write("".join(note + "\n" for note in session.notes))
    seconds = round(time.monotonic() - start, 2)
    if code != 0:
        return None, seconds, argv, env, f"cargo build failed (exit status {code})", cache
    artifact = find_artifact(messages, build, overlay.manifest_path(plan.layout, build))
    if artifact is None or not os.path.exists(artifact):
        return None, seconds, argv, env, (f"cargo built no {build.crate.kind} artifact named "
                                          f"{build.crate.artifact!r}; check crates.{build.crate.name}.artifact"), cache
    return artifact, seconds, argv, env, None, cache


def _cache_session(plan):
    """(sccache Session or None, cache record when there is no session)."""
    cache = plan.matrix.cache
    if cache is None:
        return None, None
    binary = sccache_binary()
    if binary is None:  # required: false (a required cache makes the build unavailable instead)
        return None, {"tool": cache.tool, "used": False, "reason": "sccache not found"}
    return Session(binary, cache, basedirs=(plan.matrix.root, plan.layout.output)), None


def _collect(line, messages):
    line = line.strip()
    if line.startswith("{"):
        try:
            messages.append(json.loads(line))
            return True
        except ValueError:
            pass
    return False
