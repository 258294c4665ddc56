"""`sizekit plan`: the plan as JSON (cells, builds, nodes, output paths, shards), for Makefiles and CI.

Planning builds nothing and writes nothing: it reads the matrix and asks each toolchain its
version. docs/PLAN.md describes the JSON.
"""
import json
import sys

from ..plan.shard import owners
from ..utils.errors import UsageError

FORMAT = 1
GETS = ("output", "results_json", "snapshot", "reports", "artifacts", "make_rules")


def describe(plan, shards=1) -> dict:
    """The plan as JSON-able data: what `sizekit plan --json` prints."""
    from ..drivers.nodes import final_artifact, plan_nodes   # the stages load only for this command
    layout, shard_of = plan.layout, owners(plan, shards)
    crates = list(dict.fromkeys(c.crate.name for c in plan.cells))
    cells = [{"name": c.name, "crate": c.crate.name, "target": c.target, "variant": c.variant.name,
              "label": c.variant.label, "build": c.build.key, "artifact": final_artifact(plan, c),
              "shard": shard_of[c.build.key]} for c in plan.cells]
    builds = [{"key": b.key, "name": b.name, "crate": b.crate.name, "target": b.target,
               "toolchain": b.toolchain, "variants": list(b.variants), "problem": b.problem,
               "shard": shard_of[b.key]} for b in plan.builds]
    nodes = [{"kind": n.kind, "name": n.name, "id": n.id, "inputs": list(n.inputs), "outputs": list(n.outputs),
              "signature": n.shown_signature()} for n in plan_nodes(plan)]
    return {
        "format": FORMAT, "matrix": plan.matrix.path, "shards": shards,
        "outputs": {"output": layout.output, "results_json": layout.results_json, "snapshot": layout.snapshot,
                    "make_rules": layout.state("make", "cells.mk"),
                    "reports": layout.report_files(crates, bool(plan.matrix.fleets)),
                    "artifacts": [c["artifact"] for c in cells]},
        "cells": cells, "builds": builds, "nodes": nodes,
    }


def cmd_plan(args):
    from ..drivers.nodes import load_plan
    if args.shards < 1:
        raise UsageError(f"--shards {args.shards}: give a number of shards of at least 1")
    plan = load_plan(args.matrix, cache=False)
    if args.make:
        from .ship import make_rules
        sys.stdout.write(make_rules(plan, args.matrix))
        return 0
    data = describe(plan, args.shards)
    if args.get:
        value = data["outputs"][args.get]
        print("\n".join(value) if isinstance(value, list) else value)
        return 0
    if args.json:
        json.dump(data, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
        return 0
    for build in data["builds"]:
        cells = [c["name"] for c in data["cells"] if c["build"] == build["key"]]
        print(f"build {build['key']} (shard {build['shard']}/{data['shards']}): {', '.join(cells)}")
    print(f"{len(data['cells'])} cells, {len(data['builds'])} cargo builds, {len(data['nodes'])} nodes; "
          f"results in {data['outputs']['results_json']}")
    return 0


def register_plan(sub):
    r = sub.add_parser("plan")
    r.add_argument("matrix", nargs="?", default="matrix.yaml")
    r.add_argument("--json", action="store_true", help="the whole plan as JSON (docs/PLAN.md)")
    r.add_argument("--get", choices=GETS, help="print one output path (a list: one a line), e.g. results_json")
    r.add_argument("--shards", type=int, default=1, metavar="N", help="say which of N shards builds each build")
    r.add_argument("--make", action="store_true",
                   help="the makefile make/sizekit.mk includes: each cell's shipped artifact and its rule")
    r.set_defaults(func=cmd_plan)


REGISTER = [register_plan]
