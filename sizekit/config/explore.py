"""matrix.yaml's `explore:` block (what `sizekit explore` searches) and a crate's `bench:` (how it
times a point). Validated like the rest of the matrix: every problem, with its key path."""
import re
from dataclasses import dataclass, field
from typing import Optional

from . import schema
from .checker import suggest, typename

EXPLORE_KEYS = ("crate", "target", "space", "sampler", "seed", "budget")
BUDGET_KEYS = ("builds", "time")
SAMPLERS = ("tpe", "nsga2", "random")
BENCH_KEYS = ("command", "server", "metric", "better", "runs", "timeout", "env")
BENCH_PLACEHOLDERS = ("artifact", "artifact_dir", "tmp", "port")

# The space every guide's hand-made list covers: cargo profile keys, then the post steps
# (which cost no build). `strip` and `upx` here are post steps; cargo's own strip key is
# `cargo.strip`.
DEFAULT_SPACE = {
    "opt-level": [3, 2, "s", "z"],
    "lto": ["off", "thin", "fat"],
    "codegen-units": [16, 1],
    "panic": ["unwind", "abort"],
    "strip": [False, True],
    "upx": [None, "best", "lzma"],
}
POST_DIMENSIONS = ("strip", "upx")
BUILD_DIMENSIONS = ("default-features", "features", "rustflags")
# The levels the estimate models (upx --best, upx --best --lzma); real UPX confirms the front.
UPX_VALUES = (None, "best", "lzma")


@dataclass
class Explore:
    """The search: dimension -> its values, in order; the crate and target to explore by default."""
    space: dict = field(default_factory=lambda: dict(DEFAULT_SPACE))
    crate: Optional[str] = None
    target: Optional[str] = None
    sampler: str = "tpe"
    seed: int = 1
    max_builds: Optional[int] = None
    max_seconds: Optional[float] = None


def cargo_key(dimension):
    """The cargo profile key a dimension sets, or None (a post step or a build setting)."""
    if dimension.startswith("cargo."):
        return dimension[len("cargo."):]
    if dimension in POST_DIMENSIONS or dimension in BUILD_DIMENSIONS:
        return None
    return dimension


def check_dimension(c, name, values, path):
    """The values of one dimension, checked; None when the dimension itself is unknown."""
    known = list(DEFAULT_SPACE) + list(BUILD_DIMENSIONS) + [f"cargo.{k}" for k in schema.CARGO_PROFILE_KEYS]
    key = cargo_key(name)
    if key is not None and key not in schema.CARGO_PROFILE_KEYS:
        c.err(path, f"unknown dimension {name!r}{suggest(name, known)}; use a cargo profile key "
                    f"(opt-level, lto, ...), cargo.<key>, strip, upx, default-features, features or rustflags")
        return None
    if not isinstance(values, list) or not values:
        c.err(path, f"expected a non-empty list of values, got {'an empty list' if values == [] else typename(values)}")
        return None
    out = []
    for i, value in enumerate(values):
        p = path + (i,)
        if key is not None:
            problem = schema.CARGO_PROFILE_KEYS[key](value)
        elif name == "strip" or name == "default-features":
            problem = None if isinstance(value, bool) else f"expected true or false, got {value!r}"
        elif name == "upx":
            if isinstance(value, str) and value.lower() in ("none", "off"):
                value = None
            problem = None if value in UPX_VALUES and not isinstance(value, bool) else \
                f"expected none, best or lzma, got {value!r}"
        else:   # features, rustflags: each value is a list of strings
            ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
            problem = None if ok else f"expected a list of strings (one {name} set), got {value!r}"
        if problem:
            c.err(p, problem)
        elif value in out:
            c.err(p, f"{value!r} is listed twice")
        else:
            out.append(value)
    return out


def parse_explore(c, raw, crates, host):
    """The `explore:` block, checked against the matrix's crates."""
    path = ("explore",)
    spec = c.mapping(raw if raw is not None else {}, path, EXPLORE_KEYS)
    out = Explore()
    if "crate" in spec and c.string(spec["crate"], path + ("crate",)):
        if spec["crate"] not in crates:
            c.err(path + ("crate",), f"unknown crate {spec['crate']!r}{suggest(spec['crate'], crates)}; "
                                     f"use one of: {', '.join(crates)}")
        out.crate = spec["crate"]
    if "target" in spec and c.string(spec["target"], path + ("target",)):
        out.target = spec["target"]
    if "space" in spec:
        space = spec["space"]
        if not isinstance(space, dict):
            c.err(path + ("space",), f"expected a mapping of dimension: [values], got {typename(space)}")
        else:
            for name, values in space.items():
                checked = check_dimension(c, str(name), values, path + ("space", name))
                if checked is not None:
                    out.space[str(name)] = checked
    if "sampler" in spec:
        if spec["sampler"] in SAMPLERS:
            out.sampler = spec["sampler"]
        else:
            c.err(path + ("sampler",), f"unknown sampler {spec['sampler']!r}{suggest(str(spec['sampler']), SAMPLERS)}; "
                                       f"use one of: {', '.join(SAMPLERS)}")
    if "seed" in spec:
        if isinstance(spec["seed"], int) and not isinstance(spec["seed"], bool):
            out.seed = spec["seed"]
        else:
            c.err(path + ("seed",), f"expected a whole number, got {typename(spec['seed'])}")
    if "budget" in spec:
        budget = c.mapping(spec["budget"], path + ("budget",), BUDGET_KEYS)
        if "builds" in budget:
            out.max_builds = parse_builds(budget["builds"], lambda m: c.err(path + ("budget", "builds"), m))
        if "time" in budget:
            out.max_seconds = parse_duration(budget["time"], lambda m: c.err(path + ("budget", "time"), m))
    return out


def parse_builds(value, err):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    err(f"expected a number of builds >= 1, got {value!r}")
    return None


def parse_duration(value, err):
    """Seconds from 90, "90s", "30m" or "2h"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(value))
    if not m or float(m.group(1)) <= 0:
        err(f"expected a duration such as 90s, 30m or 2h, got {value!r}")
        return None
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def parse_bench(c, raw, path, smoke):
    """A crate's `bench:`: the command that measures a built point's speed, run `runs` times.

    With `server: true` the artifact is started first, as the smoke check's http form starts it,
    and {port} names its port. With `metric:` (a regex with one group) the number it captures
    from the command's output is the result; without it, the command's wall time is."""
    spec = c.mapping(raw, path, BENCH_KEYS, required=("command",))
    out: dict = {"server": False, "metric": None, "runs": 3, "timeout": 120, "env": {}}
    if "command" in spec:
        out["command"] = c.str_list(spec["command"], path + ("command",))
        if isinstance(spec["command"], list) and not spec["command"]:
            c.err(path + ("command",), "expected [program, arguments...], got an empty list")
        for i, item in enumerate(out["command"]):
            c.placeholders(item, path + ("command", i), BENCH_PLACEHOLDERS)
    if "server" in spec and c.boolean(spec["server"], path + ("server",)):
        out["server"] = spec["server"]
        if out["server"] and not (smoke and "http" in smoke):
            c.err(path + ("server",), "server: true starts the artifact as the smoke check's http form "
                                      "does; give the crate smoke: {http: {...}}")
    if "metric" in spec and c.string(spec["metric"], path + ("metric",)):
        try:
            groups = re.compile(spec["metric"]).groups
        except re.error as exc:
            c.err(path + ("metric",), f"not a regular expression: {exc}")
        else:
            if groups != 1:
                c.err(path + ("metric",), f"needs exactly one (group) around the number, has {groups}")
            out["metric"] = spec["metric"]
    better = spec.get("better", "higher" if out["metric"] else "lower")
    if better not in ("higher", "lower"):
        c.err(path + ("better",), f"expected higher or lower, got {better!r}")
    elif better == "higher" and not out["metric"]:
        c.err(path + ("better",), "without metric: the result is wall time, where lower is better")
    out["better"] = better
    for key, low in (("runs", 1), ("timeout", 1)):
        if key in spec:
            value = spec[key]
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= low:
                out[key] = value
            else:
                c.err(path + (key,), f"expected a number >= {low}, got {typename(value)}")
    if "env" in spec:
        out["env"] = c.str_map(spec["env"], path + ("env",))
    return out
