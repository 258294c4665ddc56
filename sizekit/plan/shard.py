"""Split a plan over N machines: shard K of N owns some builds and every cell of those builds.

The unit is the cargo build, so rows that differ only in `post:` stay together. Builds are put
in the order of a hash of their build key and dealt out in turn, so the partition is the same
on every machine, does not depend on the order of the matrix, and the shards' build counts
differ by at most one. A crate's C reference goes with the first of its target's builds.
"""
import hashlib
import json
import os
import re
from dataclasses import replace

from ..utils.errors import UsageError

_SHARD = re.compile(r"^\s*(\d{1,6})\s*/\s*(\d{1,6})\s*$")
RULE = "K/N with 1 <= K <= N, e.g. 1/2 for the first of two shards"


def parse_shard(text, shown=None):
    """(K, N) from "K/N". Raises UsageError (exit 2) with the rule otherwise."""
    m = _SHARD.match(str(text))
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise UsageError(f"{shown or f'--shard {text}'}: not a shard; write {RULE}")
    return int(m.group(1)), int(m.group(2))


def portable_key(build, root):
    """The build's settings digest with the crate's path relative to the matrix folder, so that
    machines with the checkout in different places deal out the same shards."""
    settings = dict(build.settings, path=os.path.relpath(build.settings["path"], root))
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def owners(plan, count):
    """{build key: shard number (1-based)} for every build of the plan."""
    ranked = sorted(plan.builds, key=lambda b: portable_key(b, plan.matrix.root))
    return {b.key: 1 + i % count for i, b in enumerate(ranked)}


def reference_owner(plan, owner, crate, target):
    """The shard that builds a crate's reference for one target: the owner of its first build."""
    builds = [c.build for c in plan.cells if c.crate.name == crate.name and c.target == target]
    first = min(builds, key=lambda b: portable_key(b, plan.matrix.root), default=None)
    return owner[first.key] if first else 1


def shard_plan(plan, index, count):
    """The part of plan that shard `index` of `count` builds (the plan itself for 1/1)."""
    owner = owners(plan, count)
    mine = {key for key, k in owner.items() if k == index}
    references = {(crate.name, target) for crate, target in plan.reference_targets()
                  if reference_owner(plan, owner, crate, target) == index}
    return replace(plan, cells=[c for c in plan.cells if c.build.key in mine],
                   builds=[b for b in plan.builds if b.key in mine],
                   steps=[s for s in plan.steps if s.build.key in mine],
                   shard=(index, count), all_cells=[c.name for c in plan.cells], references=references)
