"""Resolve the variants list: inheritance through `from:`, post steps, labels, `only:`."""
import copy

from . import schema
from .checker import suggest, typename
from .model import POST_STEPS, Strip, Upx, Variant

UPX_LEVELS = tuple(range(1, 10)) + ("best",)
_CARGO_LABEL_ORDER = ("lto", "opt-level", "panic", "codegen-units")


def resolve_variants(c, raw, toolchains, crates, targets):
    path = ("variants",)
    if not isinstance(raw, list) or not raw:
        c.err(path, "expected a list with at least one variant (- {name: release, profile: release})")
        return []
    index_of: dict
    specs, index_of = [], {}
    for i, spec in enumerate(raw):
        p = path + (i,)
        spec = c.mapping(spec, p, schema.VARIANT_KEYS, required=("name",))
        name = spec.get("name")
        if "name" in spec and c.name(name, p + ("name",), "variant"):
            if name in index_of:
                c.err(p + ("name",), f"duplicate variant name {name!r} (first used by variants[{index_of[name]}]); "
                                     f"give each row its own name")
            else:
                index_of[name] = i
        specs.append(spec)

    parents = [_parents(c, spec, path + (i,)) for i, spec in enumerate(specs)]
    in_cycle = _report_cycles(c, specs, parents, index_of)

    resolved: dict = {}
    out = []
    for i, spec in enumerate(specs):
        p = path + (i,)
        name = spec.get("name")
        ok_parents = []
        for j, parent in enumerate(parents[i]):
            pp = p + ("from",) if isinstance(spec.get("from"), str) else p + ("from", j)
            if parent in resolved:
                ok_parents.append(parent)
            elif i in in_cycle:
                continue
            elif parent in index_of and index_of[parent] >= i:
                k = index_of[parent]
                c.err(pp, f"names {parent!r}, which is defined later (variants[{k}], line "
                          f"{c.loc.line_of(path + (k,))}); a row may only inherit from rows above it")
            elif parent not in index_of:
                c.err(pp, f"unknown variant {parent!r}{suggest(parent, index_of)}; "
                          f"from: must name a row defined above")
        settings, post = _merge_parents(c, p, [resolved[x] for x in ok_parents], spec)
        own = _own_settings(c, spec, p, toolchains)
        for key, value in own.items():
            if isinstance(value, dict) and isinstance(settings.get(key), dict):
                settings[key] = {**settings[key], **value}
            elif isinstance(value, list) and key in ("rustflags", "nightly", "features"):
                settings[key] = _union(settings.get(key, []), value)
            else:
                settings[key] = value
        settings.setdefault("profile", "release")
        if "post" in spec:
            post = _post(c, spec["post"], p + ("post",))
        only = _only(c, spec.get("only"), p + ("only",), crates, targets) if "only" in spec else None
        label = spec.get("label")
        if label is not None and not isinstance(label, str):
            c.err(p + ("label",), f"expected a string, got {typename(label)}")
            label = None
        v = Variant(name=name, index=i, settings=settings, post=post, label=label,
                    only=only, parents=ok_parents)
        if v.label is None:
            v.label = describe(settings, post)
        if isinstance(name, str):
            resolved[name] = v
        out.append(v)
    return out


def _parents(c, spec, p):
    raw = spec.get("from")
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        return list(raw)
    c.err(p + ("from",), f"expected a variant name or a list of names, got {typename(raw)}")
    return []


def _report_cycles(c, specs, parents, index_of):
    """Report each `from:` cycle once. Returns the indexes of variants on a cycle."""
    on_cycle: set = set()
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for parent in parents[node]:
            k = index_of.get(parent)
            if k is None:
                continue
            if state.get(k) == "open":
                cycle = stack[stack.index(k):] + [k]
                if not set(cycle) & on_cycle:
                    names = " -> ".join(specs[x].get("name") for x in cycle)
                    first = min(cycle[:-1])
                    c.err(("variants", first, "from"),
                          f"inheritance cycle {names}; remove one of these from: entries")
                on_cycle.update(cycle)
            elif k not in state:
                visit(k, stack)
        stack.pop()
        state[node] = "done"

    for start in range(len(specs)):
        if start not in state:
            visit(start, [])
    return on_cycle


def _union(a, b):
    return list(a) + [x for x in b if x not in a]


def _merge_parents(c, p, parents, spec):
    post: list
    settings, post, owner = {}, [], {}
    for parent in parents:
        for key, value in parent.settings.items():
            if key not in settings:
                settings[key] = copy.deepcopy(value)
                owner[key] = parent.name
            elif isinstance(value, dict) and isinstance(settings[key], dict):
                for sub, subval in value.items():
                    mine = spec.get(key) if isinstance(spec.get(key), dict) else {}
                    if sub in settings[key] and settings[key][sub] != subval and sub not in mine:
                        c.err(p + ("from",), f"parents {owner[key]!r} and {parent.name!r} disagree on "
                                             f"{key}.{sub} ({settings[key][sub]!r} vs {subval!r}); "
                                             f"set {key}.{sub} on this row to choose")
                    settings[key].setdefault(sub, subval)
            elif isinstance(value, list) and key in ("rustflags", "nightly", "features"):
                settings[key] = _union(settings[key], value)
            elif settings[key] != value and key not in spec:
                c.err(p + ("from",), f"parents {owner[key]!r} and {parent.name!r} disagree on {key} "
                                     f"({settings[key]!r} vs {value!r}); set {key} on this row to choose")
        if parent.post:
            if post and post != parent.post and "post" not in spec:
                c.err(p + ("from",), f"parents disagree on post steps ({_post_text(post)} vs "
                                     f"{_post_text(parent.post)}); set post: on this row to choose")
            post = post or copy.deepcopy(parent.post)
    return settings, post


def _post_text(post):
    return "[" + ", ".join(step.kind for step in post) + "]"


def _own_settings(c, spec, p, toolchains):
    own = {}
    if "profile" in spec:
        if spec["profile"] in schema.PROFILES:
            own["profile"] = spec["profile"]
        else:
            c.err(p + ("profile",), f"expected \"dev\" or \"release\", got {typename(spec['profile'])}; "
                                    f"tune other settings under cargo:")
    if "cargo" in spec:
        cargo = c.mapping(spec["cargo"], p + ("cargo",), tuple(schema.CARGO_PROFILE_KEYS))
        own["cargo"] = {}
        for key, value in cargo.items():
            check = schema.CARGO_PROFILE_KEYS.get(key)
            if check is None:
                continue
            problem = check(value)
            if problem:
                c.err(p + ("cargo", key), problem)
            else:
                own["cargo"][key] = value
    if "features" in spec:
        own["features"] = c.str_list(spec["features"], p + ("features",))
    if "default-features" in spec and c.boolean(spec["default-features"], p + ("default-features",)):
        own["default-features"] = spec["default-features"]
    if "rustflags" in spec:
        own["rustflags"] = c.str_list(spec["rustflags"], p + ("rustflags",))
    if "env" in spec:
        own["env"] = c.str_map(spec["env"], p + ("env",))
    if "toolchain" in spec and c.string(spec["toolchain"], p + ("toolchain",)):
        if spec["toolchain"] not in toolchains:
            c.err(p + ("toolchain",), f"unknown toolchain {spec['toolchain']!r}{suggest(spec['toolchain'], toolchains)}; "
                                      f"define it under toolchains: (e.g. {spec['toolchain']}: {{rustup: {spec['toolchain']}}})")
        own["toolchain"] = spec["toolchain"]
    if "nightly" in spec:
        flags = c.str_list(spec["nightly"], p + ("nightly",))
        own["nightly"] = [f[2:].lstrip() if f.startswith("-Z") else f for f in flags]
    if "build-std" in spec:
        own["build-std"] = _build_std(c, spec["build-std"], p + ("build-std",))
    if "xargo" in spec:
        if "build-std" in spec:
            c.err(p + ("xargo",), "give either build-std: or xargo:, not both")
        own["build-std"] = _xargo(c, spec["xargo"], p + ("xargo",))
    return own


def _build_std(c, raw, p):
    if raw is True:
        return {"crates": ["std"], "features": []}
    spec = c.mapping(raw, p, schema.BUILD_STD_KEYS)
    crates = c.str_list(spec.get("crates", ["std"]), p + ("crates",))
    feats = c.str_list(spec.get("features", []), p + ("features",))
    return {"crates": crates, "features": feats}


def _xargo(c, raw, p):
    """Xargo.toml's [dependencies] (crate -> {features}) said as -Z build-std."""
    spec = c.mapping(raw, p, schema.XARGO_KEYS)
    if "dependencies" in spec:
        deps = spec["dependencies"]
        if not isinstance(deps, dict) or not deps:
            c.err(p + ("dependencies",), "expected a mapping such as {std: {features: [panic_immediate_abort]}}")
            return {"crates": ["std"], "features": []}
        feats: list
        crates, feats = [], []
        for crate, dep in deps.items():
            crates.append(crate)
            if dep is None:
                continue
            dep = c.mapping(dep, p + ("dependencies", crate), schema.XARGO_DEPENDENCY_KEYS)
            feats = _union(feats, c.str_list(dep.get("features", []), p + ("dependencies", crate, "features")))
        return {"crates": crates, "features": feats}
    return _build_std(c, {k: v for k, v in spec.items() if k in schema.BUILD_STD_KEYS}, p)


def _post(c, raw, p):
    if not isinstance(raw, list):
        c.err(p, f"expected a list of steps such as [strip, {{upx: {{level: best}}}}], got {typename(raw)}")
        return []
    steps = []
    for i, item in enumerate(raw):
        ip = p + (i,)
        if isinstance(item, str) and item in POST_STEPS:
            steps.append(POST_STEPS[item]())
        elif isinstance(item, dict) and len(item) == 1 and next(iter(item)) in POST_STEPS:
            [(kind, opts)] = item.items()
            opts = opts if opts is not None else {}
            if kind == "strip":
                opts = c.mapping(opts, ip + ("strip",), schema.STRIP_KEYS)
                tool = opts.get("tool")
                if tool is not None and not c.string(tool, ip + ("strip", "tool")):
                    tool = None
                steps.append(Strip(args=tuple(c.str_list(opts.get("args", []), ip + ("strip", "args"))),
                                   tool=tool))
            else:
                opts = c.mapping(opts, ip + ("upx",), schema.UPX_KEYS)
                level = opts.get("level", "best")
                if level not in UPX_LEVELS or isinstance(level, bool):
                    c.err(ip + ("upx", "level"), f"expected 1-9 or \"best\", got {typename(level)}")
                flags = {}
                for flag in ("lzma", "brute", "ultra-brute"):
                    val = opts.get(flag, False)
                    c.boolean(val, ip + ("upx", flag))
                    flags[flag.replace("-", "_")] = val is True
                steps.append(Upx(level=level, **flags))
        else:
            name = next(iter(item)) if isinstance(item, dict) and item else item
            c.err(ip, f"unknown post step {name!r}{suggest(name, ('strip', 'upx'))}; use strip or upx")
    return steps


def _only(c, raw, p, crates, targets):
    spec = c.mapping(raw, p, schema.ONLY_KEYS)
    out = {}
    if "crates" in spec:
        out["crates"] = c.str_list(spec["crates"], p + ("crates",))
        for i, name in enumerate(out["crates"]):
            if name not in crates:
                c.err(p + ("crates", i), f"unknown crate {name!r}{suggest(name, crates)}")
    if "targets" in spec:
        out["targets"] = c.str_list(spec["targets"], p + ("targets",))
    return out


def describe(settings, post):
    """The "modifications" text of a row, from what differs from its base profile."""
    parts = []
    cargo = settings.get("cargo", {})
    keys = [k for k in _CARGO_LABEL_ORDER if k in cargo] + sorted(k for k in cargo if k not in _CARGO_LABEL_ORDER)
    for key in keys:
        value = cargo[key]
        if key == "incremental":
            continue
        if key == "lto":
            parts.append({True: "lto", "fat": "lto", "thin": "thin lto"}.get(value, "no lto"))
        elif isinstance(value, bool):
            parts.append(f"{key} {'on' if value else 'off'}")
        else:
            parts.append(f"{key} {value}")
    if settings.get("default-features") is False:
        parts.append("no default features")
    if settings.get("features"):
        parts.append("features " + ",".join(settings["features"]))
    if settings.get("build-std"):
        feats = settings["build-std"].get("features") or []
        parts.append("build-std" + (f" ({', '.join(feats)})" if feats else ""))
    for flag in settings.get("nightly", []):
        parts.append(f"-Z {flag}")
    if settings.get("rustflags"):
        parts.append("rustflags " + " ".join(settings["rustflags"]))
    parts += [step.label for step in post]
    return " + ".join(parts) if parts else "none"
