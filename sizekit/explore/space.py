"""A point of the search space: its optuna distributions, its matrix row, its key, its words.

A point maps each dimension to one of its values. Its build part (cargo keys, features,
rustflags) decides the cargo build; its post part (strip, upx) costs no build. UPX is measured
by the estimate while searching, so a point's row carries strip only; `upx_row` adds the real
UPX step for the points on the front.
"""
import hashlib
import json

from ..config.explore import POST_DIMENSIONS, cargo_key

NAME_PREFIX = "x-"


def distributions(space):
    """optuna distributions: each dimension is categorical over its values, written as JSON."""
    from optuna.distributions import CategoricalDistribution
    return {name: CategoricalDistribution([json.dumps(v) for v in values]) for name, values in space.items()}


def decode(params):
    """The point from a trial's params (JSON texts)."""
    return {name: json.loads(text) for name, text in params.items()}


def encode(point):
    return {name: json.dumps(value) for name, value in point.items()}


def _digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:10]


def build_part(point):
    return {k: v for k, v in point.items() if k not in POST_DIMENSIONS}


def point_key(point):
    """Equal for equal points: a repeated suggestion is measured once."""
    return _digest(point)


def build_key(point):
    """Equal for points that differ only in post steps: they share one cargo build."""
    return _digest(build_part(point))


def row_name(point):
    return NAME_PREFIX + point_key(point)


def row(point, crate, target, name=None, with_upx=False):
    """The matrix row (a variant spec, as matrix.yaml says it) that builds this point."""
    cargo: dict = {}
    out: dict = {"name": name or row_name(point), "profile": "release"}
    for dim, value in sorted(point.items()):
        key = cargo_key(dim)
        if key is not None:
            cargo[key] = value
        elif dim in ("default-features", "features", "rustflags"):
            out[dim] = value
    if cargo:
        out["cargo"] = cargo
    post: list = ["strip"] if point.get("strip") else []
    if with_upx and point.get("upx"):
        post.append({"upx": {"level": "best", "lzma": point["upx"] == "lzma"}})
    out["post"] = post
    out["label"] = words(point)
    out["only"] = {"crates": [crate], "targets": [target]}
    return out


def words(point):
    """The settings in a line: 'opt-level z, lto fat, codegen-units 1, panic abort, strip, upx lzma'."""
    parts = []
    for dim, value in point.items():
        if dim == "strip":
            parts += ["strip"] if value else []
        elif dim == "upx":
            parts += [f"upx {value}"] if value else []
        elif dim == "default-features":
            parts += [] if value else ["no default features"]
        elif isinstance(value, list):
            parts += [f"{dim} {' '.join(value)}"] if value else []
        else:
            parts.append(f"{cargo_key(dim) or dim} {json.dumps(value) if isinstance(value, bool) else value}")
    return ", ".join(parts) or "release"


def profile_toml(point, name):
    """The [profile.NAME] block for Cargo.toml that gives this point's cargo settings."""
    lines = [f"[profile.{name}]", 'inherits = "release"']
    for dim, value in point.items():
        key = cargo_key(dim)
        if key is None:
            continue
        lines.append(f"{key} = {json.dumps(value)}")
    if point.get("strip"):
        lines.append('strip = true   # sizekit strips with strip(1); cargo\'s strip gives the same symbols-gone file')
    notes = []
    if point.get("upx"):
        notes.append(f"# then pack: upx --best{' --lzma' if point['upx'] == 'lzma' else ''}")
    if point.get("default-features") is False or point.get("features") or point.get("rustflags"):
        notes.append("# build with: " + words({k: point[k] for k in ("default-features", "features", "rustflags")
                                                 if k in point}))
    return "\n".join(lines + notes) + "\n"
