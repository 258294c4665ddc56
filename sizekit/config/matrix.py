"""Load and validate matrix.yaml (format version 1) into a Matrix.

Validation gathers every problem first, each as "file:line: key.path: what; fix",
then raises one MatrixError. Nothing is built from an invalid matrix.
"""
import os
import re

from ..utils.errors import MatrixError
from . import schema
from ..utils.names import RESERVED_CRATES, is_plain_name
from .checker import Checker, suggest, typename
from .explore import parse_bench, parse_explore
from .fleets import parse_fleets
from .model import Cache, Crate, Matrix, Target, Toolchain
from .variants import resolve_variants
from .yamlsafe import load_located

TRIPLE_RE = re.compile(r"^[a-z0-9_]+(-[a-z0-9_.]+){1,3}$")


def parse_matrix(text, filename, root, host=None, abspath=None):
    located = load_located(text, filename)
    c = Checker(located)
    data = located.data
    if data is None:
        raise MatrixError([f"{filename}:1: (top level): the file is empty; "
                           f"a matrix needs at least version, crates and variants"])
    if not isinstance(data, dict):
        raise MatrixError([f"{filename}:1: (top level): expected a mapping with version, crates and variants, "
                           f"got {typename(data)}"])
    top = c.mapping(data, (), schema.TOP_KEYS, required=("version", "crates", "variants"))
    if "version" in top and top["version"] != 1:
        if str(top["version"]).strip() == "1":
            c.err(("version",), f"expected the number 1, got {typename(top['version'])}; write version: 1")
        else:
            c.err(("version",), f"unsupported version {top['version']!r}; this sizekit reads version 1")

    output = top.get("output", "out")
    if c.string(output, ("output",)):
        output = _resolve(root, output)
    else:
        output = os.path.join(root, "out")

    toolchains = _toolchains(c, top.get("toolchains", {}), root)
    targets = _targets(c, top.get("targets", {}))
    crates = _crates(c, top.get("crates", {}), root, toolchains, targets, host)
    variants = resolve_variants(c, top.get("variants", []), toolchains, crates, targets)

    for crate in crates.values():
        if os.path.realpath(output) in (os.path.realpath(root), "/") or \
                _is_inside(crate.path, output):
            c.err(("output",), f"output folder {output} would contain the crate {crate.name}'s sources; "
                               f"choose a separate folder such as out")
            break

    names = [v.name for v in variants if isinstance(v.name, str)]
    baseline = top.get("baseline")
    if baseline is None:
        baseline = "release" if "release" in names else (names[0] if names else None)
    elif not isinstance(baseline, str) or baseline not in names:
        c.err(("baseline",), f"baseline {baseline!r} is not a variant name{suggest(baseline, names)}; "
                             f"use one of: {', '.join(names)}")
    cache = _cache(c, top["cache"]) if "cache" in top else None
    explore = parse_explore(c, top["explore"], crates, host) if "explore" in top else None
    fleets = parse_fleets(c, top["fleets"], crates, variants, host) if "fleets" in top else {}
    if c.problems:
        raise MatrixError(c.problems)
    return Matrix(path=abspath or os.path.join(root, filename), root=root, output=output,
                  baseline=baseline, toolchains=toolchains, targets=targets, crates=crates,
                  variants=variants, host=host, cache=cache, explore=explore, fleets=fleets)


def _cache(c, raw):
    """`cache: sccache` or `cache: {sccache: {env: {...}, required: true}}`."""
    path = ("cache",)
    tools = ", ".join(schema.CACHE_TOOLS)
    if isinstance(raw, str):
        if raw in schema.CACHE_TOOLS:
            return Cache(tool=raw)
        c.err(path, f"unknown compile cache {raw!r}{suggest(raw, schema.CACHE_TOOLS)}; sizekit knows: {tools}")
        return None
    if not isinstance(raw, dict) or len(raw) != 1:
        c.err(path, f"expected `cache: sccache` or `cache: {{sccache: {{env: {{...}}}}}}`, got {typename(raw)}")
        return None
    (tool, spec), = raw.items()
    if tool not in schema.CACHE_TOOLS:
        c.err(path + (tool,), f"unknown compile cache {tool!r}{suggest(tool, schema.CACHE_TOOLS)}; "
                              f"sizekit knows: {tools}")
        return None
    spec = c.mapping(spec if spec is not None else {}, path + (tool,), schema.SCCACHE_KEYS)
    cache = Cache(tool=tool)
    if "env" in spec:
        cache.env = c.str_map(spec["env"], path + (tool, "env"))
    for key in ("required", "cc"):
        if key in spec and c.boolean(spec[key], path + (tool, key)):
            setattr(cache, key, spec[key])
    return cache


def _resolve(root, p):
    return os.path.normpath(os.path.join(root, os.path.expanduser(p)))


def _is_inside(child, parent):
    child, parent = os.path.realpath(child), os.path.realpath(parent)
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def _toolchains(c, raw, root):
    out: dict = {}
    path = ("toolchains",)
    if not isinstance(raw, dict):
        c.err(path, f"expected a mapping of toolchain names, got {typename(raw)}")
        return out
    for name, spec in raw.items():
        p = path + (name,)
        if not c.name(name, p, "toolchain"):
            continue
        spec = c.mapping(spec, p, schema.TOOLCHAIN_KEYS)
        tc = Toolchain(name=name)
        if "rustup" in spec:
            if c.string(spec["rustup"], p + ("rustup",)):
                tc.rustup = spec["rustup"]
            if "cargo" in spec or "rustc" in spec:
                c.err(p, "give either rustup: or cargo:/rustc: paths, not both")
        elif spec:
            if "cargo" not in spec:
                c.err(p, "missing \"cargo\" (path to cargo) or \"rustup\" (toolchain name)")
            for key in ("cargo", "rustc"):
                if key in spec and c.string(spec[key], p + (key,)):
                    setattr(tc, key, _resolve(root, spec[key]) if "/" in spec[key] else spec[key])
        if "sysroot" in spec and c.string(spec["sysroot"], p + ("sysroot",)):
            tc.sysroot = _resolve(root, spec["sysroot"])
        out[name] = tc
    return out


def _targets(c, raw, ):
    out: dict = {}
    path = ("targets",)
    if not isinstance(raw, dict):
        c.err(path, f"expected a mapping of target triples, got {typename(raw)}")
        return out
    for triple, spec in raw.items():
        p = path + (triple,)
        if not TRIPLE_RE.match(triple):
            c.err(p, f"{triple!r} does not look like a target triple such as armv7-unknown-linux-gnueabihf")
            continue
        spec = c.mapping(spec if spec is not None else {}, p, schema.TARGET_KEYS)
        t = Target(triple=triple)
        for key in ("linker", "strip"):
            if key in spec and c.string(spec[key], p + (key,)):
                setattr(t, key, spec[key])
        if "runner" in spec:
            t.runner = c.str_list(spec["runner"], p + ("runner",), allow_scalar=True) or None
        if "rustflags" in spec:
            t.rustflags = c.str_list(spec["rustflags"], p + ("rustflags",))
        if "env" in spec:
            t.env = c.str_map(spec["env"], p + ("env",))
        out[triple] = t
    return out


def _crates(c, raw, root, toolchains, targets, host):
    out: dict = {}
    path = ("crates",)
    if not isinstance(raw, dict) or not raw:
        c.err(path, "expected a mapping with at least one crate (name: {path: ...})")
        return out
    for name, spec in raw.items():
        p = path + (name,)
        if not c.name(name, p, "crate"):
            continue
        if name in RESERVED_CRATES:
            c.err(p, f"the crate name {name!r} is taken by the all-crates report ({name}.md); rename the crate")
            continue
        spec = c.mapping(spec, p, schema.CRATE_KEYS, required=("path",))
        crate = Crate(name=name, path="", kind="bin", artifact=name)
        if "path" in spec and c.string(spec["path"], p + ("path",)):
            crate.path = _resolve(root, spec["path"])
            if not os.path.isdir(crate.path):
                c.err(p + ("path",), f"crate folder {spec['path']!r} does not exist "
                                     f"(looked in {crate.path}); fix the path")
            elif not os.path.isfile(os.path.join(crate.path, "Cargo.toml")):
                c.err(p + ("path",), f"{spec['path']!r} has no Cargo.toml; point path at the crate's folder")
        if "artifact" in spec and c.string(spec["artifact"], p + ("artifact",)):
            kind, _, art = spec["artifact"].partition(":")
            if kind not in schema.ARTIFACT_KINDS or not art:
                c.err(p + ("artifact",), f"expected <kind>:<name> with kind one of "
                                         f"{', '.join(schema.ARTIFACT_KINDS)} (e.g. bin:hello), got {spec['artifact']!r}")
            elif not is_plain_name(art):
                c.err(p + ("artifact",), f"artifact name {art!r} may only use letters, digits, '.', '_', '+' and '-'")
            else:
                crate.kind, crate.artifact = kind, art
        if "toolchain" in spec and c.string(spec["toolchain"], p + ("toolchain",)):
            _check_toolchain(c, spec["toolchain"], p + ("toolchain",), toolchains)
            crate.toolchain = spec["toolchain"]
        if "targets" in spec:
            crate.targets = []
            for i, triple in enumerate(c.str_list(spec["targets"], p + ("targets",))):
                if triple not in targets and triple != host:
                    known = sorted(set(targets) | ({host} if host else set()))
                    c.err(p + ("targets", i), f"unknown target {triple!r}{suggest(triple, known, 0.9)}; "
                                              f"add it under the top-level targets: map")
                crate.targets.append(triple)
        if "smoke" in spec:
            crate.smoke = _smoke_checks(c, spec["smoke"], p + ("smoke",),
                                        crate.targets or sorted(set(targets) | ({host} if host else set())))
        if "bench" in spec:
            crate.bench = parse_bench(c, spec["bench"], p + ("bench",), crate.smoke)
        if "budget" in spec:
            crate.budget = _budget(c, spec["budget"], p + ("budget",))
        if "features" in spec:
            crate.features = c.str_list(spec["features"], p + ("features",))
        if "default-features" in spec and c.boolean(spec["default-features"], p + ("default-features",)):
            crate.default_features = spec["default-features"]
        if "env" in spec:
            crate.env = c.str_map(spec["env"], p + ("env",))
        if "rustflags" in spec:
            crate.rustflags = c.str_list(spec["rustflags"], p + ("rustflags",))
        if "reference" in spec:
            crate.reference = _reference(c, spec["reference"], p + ("reference",), root)
        out[name] = crate
    return out


def _check_toolchain(c, name, path, toolchains):
    if name not in toolchains:
        c.err(path, f"unknown toolchain {name!r}{suggest(name, toolchains)}; "
                    f"define it under toolchains: (e.g. {name}: {{rustup: {name}}})")


def _smoke_checks(c, raw, path, targets):
    """`smoke:` is one check, or a list of them run in turn (a multicall binary: one per program,
    each through its `link:` name). The first check is the crate's smoke spec; the others ride
    in it under "more"."""
    if not isinstance(raw, list):
        return _smoke(c, raw, path, targets)
    if not raw:
        c.err(path, "expected a smoke check or a list of them, got an empty list")
        return None
    checks = [_smoke(c, item, path + (i,), targets) for i, item in enumerate(raw)]
    return {**checks[0], "more": checks[1:]} if len(checks) > 1 else checks[0]


def _smoke(c, raw, path, targets=()):
    """One of three forms: {args: [...]} runs the artifact, {http: {...}} starts it and sends GET,
    {command: [program, ...]} runs any program (with placeholders for the artifact)."""
    spec = c.mapping(raw, path, schema.SMOKE_KEYS)
    out = {}
    forms = [k for k in ("args", "http", "command") if k in spec]
    if "http" in spec:
        http = c.mapping(spec["http"], path + ("http",), schema.HTTP_KEYS)
        out["http"] = {"path": http.get("path", "/"), "expect": http.get("expect"),
                       "port-env": http.get("port-env", "PORT"), "port-arg": http.get("port-arg", False)}
        if not isinstance(out["http"]["path"], str) or not out["http"]["path"].startswith("/"):
            c.err(path + ("http", "path"), f"expected a URL path starting with '/', got {out['http']['path']!r}")
        if "args" in spec:
            c.err(path, "give either http: or args:, not both")
    elif "command" in spec:
        out["command"] = _smoke_command(c, spec["command"], path + ("command",))
    else:
        out["args"] = c.str_list(spec.get("args", []), path + ("args",))
    if "command" in spec and len(forms) > 1:
        c.err(path, f"give either command: or {' and '.join(f for f in forms if f != 'command')}:, not both")
    if "expect" in spec:
        if c.string(spec["expect"], path + ("expect",)):
            out["expect"] = spec["expect"]
    if "http" in out and out["http"]["expect"] is not None:
        c.string(out["http"]["expect"], path + ("http", "expect"))
    out["timeout"] = _smoke_timeout(c, spec.get("timeout", 10), path + ("timeout",))
    out["env"] = c.str_map(spec.get("env", {}), path + ("env",))
    if "command" in out:
        for name, value in out["env"].items():
            _placeholders(c, value, path + ("env", name))
    out["exit"] = _smoke_exit(c, spec.get("exit", 0), path + ("exit",))
    if "targets" in spec:
        out["targets"] = _smoke_targets(c, spec["targets"], path + ("targets",), targets, "command" in out)
    if "link" in spec and c.name(spec["link"], path + ("link",), "link"):
        if "command" in out:
            c.err(path + ("link",), "link: names the artifact as args: and http: start it; a command: "
                                    "names its own program (make the link in the command)")
        out["link"] = spec["link"]
    return out


def _smoke_timeout(c, timeout, path):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        c.err(path, f"expected a number of seconds > 0, got {typename(timeout)}")
        return 10
    return timeout


def _smoke_exit(c, exit_code, path):
    if isinstance(exit_code, bool) or not isinstance(exit_code, int):
        c.err(path, f"expected an exit status number, got {typename(exit_code)}")
    return exit_code


def _smoke_command(c, raw, path):
    """[program, arg, ...]: a non-empty list of strings, each checked for its placeholders."""
    command = c.str_list(raw, path)
    if isinstance(raw, list) and not raw:
        c.err(path, "expected [program, arguments...], got an empty list")
    for i, item in enumerate(command):
        _placeholders(c, item, path + (i,))
    return command


def _placeholders(c, text, path):
    """Check the {name} placeholders in a smoke command or env value: known names only."""
    c.placeholders(text, path, schema.SMOKE_PLACEHOLDERS)


def _smoke_targets(c, raw, path, targets, command_form):
    """{triple: {command, env, expect, timeout, exit}}: what differs when the artifact is for that target."""
    out: dict = {}
    if not isinstance(raw, dict):
        c.err(path, f"expected a mapping of target triples, got {typename(raw)}")
        return out
    for triple, spec in raw.items():
        p = path + (triple,)
        if triple not in targets:
            c.err(p, f"{triple!r} is not one of the crate's targets{suggest(triple, targets, 0.9)}; "
                     f"use one of: {', '.join(targets)}")
        spec = c.mapping(spec if spec is not None else {}, p, schema.SMOKE_TARGET_KEYS)
        over = {}
        if "command" in spec:
            if not command_form:
                c.err(p + ("command",), "a target's command: needs the command form (smoke.command)")
            over["command"] = _smoke_command(c, spec["command"], p + ("command",))
        if "env" in spec:
            over["env"] = c.str_map(spec["env"], p + ("env",))
            if command_form:
                for name, value in over["env"].items():
                    _placeholders(c, value, p + ("env", name))
        if "expect" in spec and c.string(spec["expect"], p + ("expect",)):
            over["expect"] = spec["expect"]
        if "timeout" in spec:
            over["timeout"] = _smoke_timeout(c, spec["timeout"], p + ("timeout",))
        if "exit" in spec:
            over["exit"] = _smoke_exit(c, spec["exit"], p + ("exit",))
        out[str(triple)] = over
    return out


def _reference(c, raw, path, root):
    """A reference implementation (e.g. the same plugin in C) built with make: {make, artifact, name}."""
    spec = c.mapping(raw, path, schema.REFERENCE_KEYS, required=("make", "artifact"))
    out = {"name": spec.get("name", "C")}
    if "make" in spec and c.string(spec["make"], path + ("make",)):
        out["make"] = _resolve(root, spec["make"])
        if not os.path.isfile(os.path.join(out["make"], "Makefile")):
            c.err(path + ("make",), f"no Makefile in {spec['make']!r} (looked in {out['make']}); fix the path")
    if "artifact" in spec and c.string(spec["artifact"], path + ("artifact",)):
        if not is_plain_name(spec["artifact"]):
            c.err(path + ("artifact",), f"artifact {spec['artifact']!r} must be a plain file name")
        out["artifact"] = spec["artifact"]
    return out


def _budget(c, raw, path):
    """Budget: a size, or {max: size, targets: {triple: size}, variants: {name: size}}."""
    size = c.size
    if not isinstance(raw, dict):
        return {"max": size(raw, path), "targets": {}, "variants": {}}
    spec = c.mapping(raw, path, schema.BUDGET_KEYS)
    out: dict = {"max": size(spec["max"], path + ("max",)) if "max" in spec else None, "targets": {}, "variants": {}}
    for key in ("targets", "variants"):
        sub = spec.get(key, {})
        if not isinstance(sub, dict):
            c.err(path + (key,), f"expected a mapping of {key[:-1]} names to sizes, got {typename(sub)}")
            continue
        for k, v in sub.items():
            out[key][k] = size(v, path + (key, k))
    return out
