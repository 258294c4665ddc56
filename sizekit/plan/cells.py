"""Expand a Matrix into cells (crate x target x variant), shared builds and post steps.

Rows that differ only in `post:` share one Build. Cells whose post steps share a
prefix (strip, then strip + upx) share those Steps as well.
"""
import hashlib
import json
from dataclasses import dataclass, field

from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:   # the types of what config makes: plan reads them, it does not import config
    from ..config.model import Crate, Matrix, Strip, Upx, Variant

from .availability import build_problem, step_problem
from .layout import Layout
from .toolchains import probe_all


@dataclass
class Build:
    key: str
    crate: "Crate"
    target: str
    toolchain: str
    settings: dict
    variants: list = field(default_factory=list)
    problem: Optional[str] = None

    @property
    def name(self):
        return f"{self.crate.name}/{self.target}/{self.variants[0]}"

    @property
    def dynamic_std(self):
        """Whether the build links std as a shared library (`-C prefer-dynamic` in its rustflags):
        the artifact then needs the toolchain's libstd-*.so at run time, shipped beside it."""
        return prefers_dynamic(self.settings["rustflags"])

    @property
    def profile(self):
        """cargo's profile name for this build: builds whose profile settings are equal share it,
        and with it cargo's dependency builds (see profile_settings)."""
        return f"sk-{digest(profile_settings(self.settings))}"


@dataclass
class Step:
    key: str
    build: Build
    post: "Union[Strip, Upx]"
    parent: Optional["Step"]  # the Step before, or None when it works on the build's artifact
    variants: list = field(default_factory=list)
    problem: Optional[str] = None

    @property
    def name(self):
        return f"{self.build.crate.name}/{self.build.target}/{self.variants[0]}/{self.kind}{self.position}"

    @property
    def kind(self):
        return self.post.kind

    @property
    def options(self):
        return self.post.options

    @property
    def position(self):
        n, s = 1, self.parent
        while s is not None:
            n, s = n + 1, s.parent
        return n


@dataclass
class Cell:
    crate: "Crate"
    target: str
    variant: "Variant"
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
    matrix: "Matrix"
    toolchains: dict
    cells: list
    builds: list
    steps: list
    layout: Optional[Layout] = None
    host: Optional[str] = None
    shard: Optional[tuple] = None       # (K, N) when this plan is shard K of N (plan.shard.shard_plan)
    all_cells: Optional[list] = None    # then: the names of every cell of the whole matrix
    references: Optional[set] = None    # then: the (crate name, target) references this shard builds

    def reference_targets(self):
        """(crate, target) of every C reference this plan builds."""
        for crate in self.matrix.crates.values():
            if crate.reference:
                for target in crate.targets or [self.host]:
                    if self.references is None or (crate.name, target) in self.references:
                        yield crate, target


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


# What is not part of cargo's profile: which crate is built, for which target (cargo keeps each
# target in its own folder), and the crate's features. Everything else a build sets (the profile
# keys, rustflags, environment, toolchain, build-std) reaches its dependencies too.
OUTSIDE_PROFILE = ("crate", "path", "artifact", "target", "features", "default-features")


def profile_settings(settings):
    """The part of a build's settings that names its cargo profile. Two builds that differ only
    outside it (release and release-malloc) get one profile and one target folder, so cargo builds
    the dependencies they share once; each dependency's features are in cargo's own hash of it."""
    return {k: v for k, v in settings.items() if k not in OUTSIDE_PROFILE}


def prefers_dynamic(flags):
    """Whether rustc flags ask for `-C prefer-dynamic` (as one word or two; `=no` turns it off)."""
    wanted = False
    for before, flag in zip([None, *flags], flags):
        if flag.startswith("-Cprefer-dynamic"):
            value = flag[len("-Cprefer-dynamic"):]
        elif before == "-C" and flag.startswith("prefer-dynamic"):
            value = flag[len("prefer-dynamic"):]
        else:
            continue
        wanted = value in ("", "=y", "=yes", "=on", "=true")
    return wanted


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
    builds: dict
    steps: dict
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
                for post in variant.post:
                    skey = digest([key, parent.key if parent else None, post.kind, post.options])
                    step = steps.get(skey)
                    if step is None:
                        step = steps[skey] = Step(key=skey, build=build, post=post, parent=parent)
                        step.problem = step_problem(matrix, step, host)
                    step.variants.append(variant.name)
                    chain.append(step)
                    parent = step
                cells.append(Cell(crate=crate, target=target, variant=variant, build=build, steps=chain))
    return Plan(matrix=matrix, toolchains=toolchains, cells=cells,
                builds=list(builds.values()), steps=list(steps.values()), layout=Layout.of(matrix),
                host=host)
