"""Expand a Matrix into cells (crate x target x variant), shared builds and post steps.

Rows that differ only in `post:` share one Build. Cells whose post steps share a
prefix (strip, then strip + upx) share those Steps as well.
"""
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field

from .toolchain import probe_all, rust_src_fix


@dataclass
class Build:
    key: str
    crate: object
    target: str
    toolchain: str
    settings: dict
    variants: list = field(default_factory=list)
    problem: str = None

    @property
    def name(self):
        return f"{self.crate.name}/{self.target}/{self.variants[0]}"


@dataclass
class Step:
    key: str
    build: Build
    kind: str
    options: dict
    parent: object  # the Step before, or None when it works on the build's artifact
    variants: list = field(default_factory=list)
    problem: str = None

    @property
    def name(self):
        return f"{self.build.crate.name}/{self.build.target}/{self.variants[0]}/{self.kind}{self.position}"

    @property
    def position(self):
        n, s = 1, self.parent
        while s is not None:
            n, s = n + 1, s.parent
        return n


@dataclass
class Cell:
    crate: object
    target: str
    variant: object
    build: Build
    steps: list

    @property
    def id(self):
        return f"{self.crate.name}__{self.target}__{self.variant.name}"

    @property
    def name(self):
        return f"{self.crate.name}/{self.target}/{self.variant.name}"

    @property
    def last(self):
        """The Step (or the Build) that makes this cell's final artifact."""
        return self.steps[-1] if self.steps else self.build


@dataclass
class Plan:
    matrix: object
    toolchains: dict
    cells: list
    builds: list
    steps: list


def digest(obj, n=8):
    """Short stable digest of JSON-able settings (json.dumps with sorted keys)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:n]


def build_settings(crate, variant, target):
    """Everything that decides what cargo produces for this cell."""
    s = variant.settings
    features = list(crate.features) + [f for f in s.get("features", []) if f not in crate.features]
    return {
        "crate": crate.name,
        "path": crate.path,
        "artifact": f"{crate.kind}:{crate.artifact}",
        "target": target,
        "toolchain": s.get("toolchain", crate.toolchain),
        "profile": s.get("profile", "release"),
        "cargo": dict(sorted(s.get("cargo", {}).items())),
        "features": sorted(features),
        "default-features": s.get("default-features", crate.default_features),
        "rustflags": list(crate.rustflags) + list(s.get("rustflags", [])),
        "env": {**crate.env, **s.get("env", {})},
        "build-std": s.get("build-std"),
        "nightly": list(s.get("nightly", [])),
    }


def selected(variant, crate, target):
    only = variant.only or {}
    if "crates" in only and crate.name not in only["crates"]:
        return False
    if "targets" in only and target not in only["targets"]:
        return False
    return True


def make_plan(matrix, cache_dir=None, toolchains=None):
    toolchains = toolchains or probe_all(matrix, cache_dir)
    host = matrix.host or toolchains[None].host or "x86_64-unknown-linux-gnu"
    builds, steps, cells = {}, {}, []
    for crate in matrix.crates.values():
        for target in crate.targets or [host]:
            for variant in matrix.variants:
                if not selected(variant, crate, target):
                    continue
                settings = build_settings(crate, variant, target)
                key = digest(settings)
                build = builds.get(key)
                if build is None:
                    build = builds[key] = Build(key=key, crate=crate, target=target,
                                                toolchain=settings["toolchain"], settings=settings)
                    build.problem = build_problem(matrix, toolchains, build, host)
                build.variants.append(variant.name)
                chain, parent = [], None
                for spec in variant.post:
                    kind, options = next(iter(spec.items()))
                    skey = digest([key, parent.key if parent else None, kind, options])
                    step = steps.get(skey)
                    if step is None:
                        step = steps[skey] = Step(key=skey, build=build, kind=kind, options=options, parent=parent)
                        step.problem = step_problem(matrix, step, host)
                    step.variants.append(variant.name)
                    chain.append(step)
                    parent = step
                cells.append(Cell(crate=crate, target=target, variant=variant, build=build, steps=chain))
    return Plan(matrix=matrix, toolchains=toolchains, cells=cells,
                builds=list(builds.values()), steps=list(steps.values()))


def build_problem(matrix, toolchains, build, host):
    """Why this build cannot run on this machine (with the fix), or None."""
    s = build.settings
    info = toolchains.get(build.toolchain)
    label = f"toolchain {build.toolchain!r}" if build.toolchain else "the cargo on PATH"
    if info is None or info.problem:
        return info.problem if info else f"unknown toolchain {build.toolchain!r}"
    wants_nightly = bool(s["build-std"] or s["nightly"] or s["cargo"].get("panic") == "immediate-abort")
    if wants_nightly and not info.nightly:
        return (f"{label} ({info.rustc_version}) is not a nightly, which build-std and -Z flags need; "
                f"fix: set toolchain: nightly on this row")
    if s["build-std"]:
        if not info.rust_src:
            spec = matrix.toolchains.get(build.toolchain)
            return (f"rust-src is not installed for {label}, which build-std needs; "
                    f"fix: {rust_src_fix(spec, build.toolchain)}")
    elif not info.has_std(build.target):
        have = ", ".join(info.targets) or "none"
        fix = (f"rustup target add {build.target} --toolchain {build.toolchain}"
               if build.toolchain and matrix.toolchains[build.toolchain].rustup else
               f"install the target's std into the toolchain's sysroot (scripts/install does it for Debian's)")
        return f"{label} ({info.rustc_version}) has no std for {build.target} (it has: {have}); fix: {fix}"
    target = matrix.targets.get(build.target)
    if build.target != host:
        if target is None or not target.linker:
            return f"no linker for {build.target}; fix: set targets.{build.target}.linker in the matrix"
    if target is not None and target.linker and not shutil.which(target.linker):
        return f"linker {target.linker!r} for {build.target} not found on PATH; fix: install it (e.g. apt-get install gcc-<triple>)"
    return None


def strip_tool(matrix, target, host):
    spec = matrix.targets.get(target)
    if spec is not None and spec.strip:
        return spec.strip
    return "strip" if target == host else None


def step_problem(matrix, step, host):
    if step.kind == "strip":
        tool = strip_tool(matrix, step.build.target, host)
        if tool is None:
            return f"no strip tool for {step.build.target}; fix: set targets.{step.build.target}.strip"
        if not shutil.which(tool):
            return f"strip tool {tool!r} not found on PATH; fix: install binutils for {step.build.target}"
    elif step.kind == "upx":
        if not shutil.which(os.environ.get("SIZEKIT_UPX", "upx")):
            return "upx not found on PATH; fix: run scripts/install (it builds UPX 4.2.4) or set SIZEKIT_UPX"
    return None
