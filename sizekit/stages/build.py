"""The build stage: one cargo build, its artifact copied under the output folder.

The build's meta record (command, seconds, and the sources cargo's dep-info lists) lets a
driver skip cargo entirely when none of those sources moved.
"""
import os

from ..config.model import Strip
from ..utils.log import say
from ..plan.availability import strip_tool
from ..plan.records import BuildMeta
from ..utils.fsutil import copy_file
from ..utils.procs import tail
from . import cargo, post, records


def source_stamp(path):
    """What "unchanged" means for a source file: its mtime and size, or None when gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def sources_unchanged(layout, key):
    """True when every source the last build's dep-info listed is as it was then."""
    meta = BuildMeta.read_or_none(layout.build_meta(key))
    if meta is None or not meta.deps:
        return False
    return all(source_stamp(p) == stamp for p, stamp in meta.deps.items())


LOW_SPACE = 1 << 20


def free_bytes(folder):
    try:
        st = os.statvfs(folder)
    except OSError:
        return LOW_SPACE
    return st.f_bavail * st.f_frsize


def ship_std(plan, build, folder):
    """A build with `-C prefer-dynamic` runs against the toolchain's libstd-*.so: put a stripped
    copy in the build's folder (what an image ships once, and what the smoke check loads).
    Returns (its path, None) or (None, the reason)."""
    src = plan.toolchains[build.toolchain].std_library(build.target)
    dst = os.path.join(folder, os.path.basename(src))
    argv = Strip().argv(strip_tool(plan.matrix, build.target, plan.host), src, dst + ".tmp")
    problem = post.run_step("strip", argv, dst, plan.layout.log("strip-std", build.key))
    return (None, f"the shared std {src}: {problem}") if problem else (dst, None)


def run_build(plan, build):
    """Build with cargo (or record why not). Returns the stage record."""
    layout = plan.layout
    log = layout.log("build", build.key)
    meta = {"key": build.key, "name": build.name, "variants": build.variants,
            "toolchain": build.toolchain, "rustc": plan.toolchains[build.toolchain].rustc_version}
    if build.problem:
        BuildMeta(**meta).write(layout.build_meta(build.key))
        return records.write_problem(layout, build.key, "build", "unavailable", build.problem)
    say(f"cargo build {build.name} (profile {build.profile}; log {os.path.relpath(log)})")
    with cargo.locked(plan, build):
        artifact, seconds, argv, env, problem, cache = cargo.run(plan, build, log)
        if not problem:
            # cargo copies the final file into the profile's folder, which builds of the crate's
            # other feature sets share: keep this one (and its dep-info) before the lock goes.
            dest = layout.build_artifact(build, os.path.basename(artifact))
            copy_file(artifact, dest)
            deps = cargo.dep_info_files(artifact) + [os.path.join(build.crate.path, "Cargo.toml")]
    command = [f"{k}={v!r}" if "\x1f" in v else f"{k}={v}" for k, v in sorted(env.items())] + argv
    meta.update({"seconds": seconds, "command": command, "log": layout.rel(log)})
    if cache is not None:
        meta["cache"] = cache
    if problem:
        BuildMeta(**meta).write(layout.build_meta(build.key))
        last = tail(log)
        if "No space left on device" in last or free_bytes(layout.output) < LOW_SPACE:
            # On a full disk the log itself may have lost cargo's words: say what is wrong.
            problem += (f": no space left on device ({free_bytes(layout.output) // 1024} KiB free under "
                        f"{os.path.relpath(layout.output)}); free space and run again")
        return records.write_problem(layout, build.key, "build", "failed", problem, log=log, tail=last)
    meta["artifact"] = artifact
    meta["deps"] = {p: source_stamp(p) for p in sorted(set(deps))}
    if build.dynamic_std:
        lib, problem = ship_std(plan, build, os.path.dirname(dest))
        if problem:
            BuildMeta(**meta).write(layout.build_meta(build.key))
            return records.write_problem(layout, build.key, "build", "failed", problem,
                                         log=layout.log("strip-std", build.key))
        meta["shared"] = {os.path.basename(lib): os.path.getsize(lib)}
    record = records.write_ok(layout, build.key, "build", dest, log=log)
    BuildMeta(**meta).write(layout.build_meta(build.key))
    return record
