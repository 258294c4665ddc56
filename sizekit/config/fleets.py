"""The `fleets:` block: named sets of cells that one firmware image ships together.

    fleets:
      image: [hello-hyper/x86_64/all-stripped, http-ureq/x86_64/all-stripped]
      arm-image:
        cells: [hello-hyper-arm/armv7/all-stripped, gst-rsidentity/armv7/plugin-all-stripped]
        budget: 8M

A member is `crate/target/variant`. The target is a triple the crate builds for, or the part of
one before its first '-' when only one of the crate's targets starts so (`armv7`, `x86_64`);
the fleet keeps the full triple. The variant must be one the matrix builds for that crate and
target (its `only:` allows them).
"""
from . import schema
from .checker import suggest, typename
from .model import Fleet

MEMBER_FORM = "crate/target/variant, e.g. hello-hyper/x86_64-unknown-linux-gnu/all-stripped"


def parse_fleets(c, raw, crates, variants, host):
    """{name: Fleet} from the block, every problem reported to the Checker c."""
    if not isinstance(raw, dict) or not raw:
        c.err(("fleets",), f"expected a mapping of fleet names to lists of cells ({MEMBER_FORM}), "
                           f"got {typename(raw) if raw != {} else 'an empty mapping'}")
        return {}
    out = {}
    for name, spec in raw.items():
        path: tuple = ("fleets", name)
        if not c.name(name, path, "fleet"):
            continue
        budget, alternatives = None, []
        if isinstance(spec, dict):
            spec = c.mapping(spec, path, schema.FLEET_KEYS, required=("cells",))
            if "budget" in spec:
                budget = c.size(spec["budget"], path + ("budget",))
            alternatives = _alternatives(c, spec.get("alternatives", {}), path + ("alternatives",), crates,
                                         variants, host)
            if "cells" not in spec:
                continue   # reported as a missing key
            members, where = spec["cells"], path + ("cells",)
        else:
            members, where = spec, path
        cells = _cells(c, members, where, crates, variants, host, "the fleet is empty; list the cells the image ships")
        if cells is not None:
            out[name] = Fleet(name=name, cells=cells, budget=budget, alternatives=tuple(alternatives))
    return out


def _alternatives(c, raw, path, crates, variants, host):
    """[(name, cells)] of `alternatives: {NAME: [cells...]}`: other rows that ship the same programs
    (a multicall binary, a combined plugin, prefer-dynamic builds)."""
    if not isinstance(raw, dict):
        c.err(path, f"expected a mapping of alternative names to lists of cells ({MEMBER_FORM}), got {typename(raw)}")
        return []
    out = []
    for name, members in raw.items():
        if not c.name(name, path + (name,), "alternative"):
            continue
        cells = _cells(c, members, path + (name,), crates, variants, host,
                       "the alternative is empty; list the cells that would ship instead")
        if cells is not None:
            out.append((name, cells))
    return out


def _cells(c, members, where, crates, variants, host, empty):
    """The cell names of a list (a tuple), or None when it is not a list or is empty (reported)."""
    if not isinstance(members, list):
        c.err(where, f"expected a list of cells ({MEMBER_FORM}), got {typename(members)}")
        return None
    if not members:
        c.err(where, f"{empty} ({MEMBER_FORM})")
        return None
    cells: list = []
    for i, member in enumerate(members):
        cell = _member(c, member, where + (i,), crates, variants, host)
        if cell is None:
            continue
        if cell in cells:
            c.err(where + (i,), f"{cell} is listed twice; list each cell once")
            continue
        cells.append(cell)
    return tuple(cells)


def _member(c, member, path, crates, variants, host):
    """The member's full cell name, or None (reported)."""
    if not isinstance(member, str) or member.count("/") != 2 or not all(member.split("/")):
        c.err(path, f"expected a cell name {MEMBER_FORM}, got {typename(member)}")
        return None
    crate_name, target, variant_name = member.split("/")
    crate = crates.get(crate_name)
    if crate is None:
        c.err(path, f"unknown crate {crate_name!r}{suggest(crate_name, list(crates))} in {member}; "
                    f"crates: {', '.join(crates)}")
        return None
    known = list(crate.targets or ([host] if host else []))
    triple = _target(c, path, member, target, known)
    if triple is None:
        return None
    variant = next((v for v in variants if v.name == variant_name), None)
    if variant is None:
        names = [v.name for v in variants]
        c.err(path, f"unknown variant {variant_name!r}{suggest(variant_name, names)} in {member}; "
                    f"variants: {', '.join(names)}")
        return None
    only = variant.only or {}
    if crate_name not in only.get("crates", [crate_name]) or triple not in only.get("targets", [triple]):
        c.err(path, f"the matrix does not build {crate_name}/{triple}/{variant_name}: variant "
                    f"{variant_name}'s only: leaves it out; pick a row the matrix builds")
        return None
    return f"{crate_name}/{triple}/{variant_name}"


def _target(c, path, member, target, known):
    if not known or target in known:
        return target
    short = [t for t in known if t.split("-", 1)[0] == target]
    if len(short) == 1:
        return short[0]
    if len(short) > 1:
        c.err(path, f"target {target!r} in {member} could be {' or '.join(short)}; write the full triple")
    else:
        c.err(path, f"crate {member.split('/')[0]} is not built for {target!r}{suggest(target, known)}; "
                    f"its targets: {', '.join(known)}")
    return None
