"""A plan as SCons nodes: one target per build, post step, cell, smoke check, reference and the
report, each running one stage function; the aliases; and what `scons -c` removes.

The targets are the stage records under the output folder (the same files doit's tasks
target), so both drivers leave the same output. Records hold content hashes only, and SCons
decides by content, so a node runs only when something it reads really changed.
"""
import json
import os
import sys

from ...utils.fsutil import cleanable
from ..nodes import OK, plan_nodes, recorded_files
from . import deciders as d
from ...stages.ship import artifact_name
from .actions import PROGRESS, RUN, SHIP, TABLES, Job

ALL, REPORT = "sizes", "size-report"


class Nodes:
    """Declares the nodes of one plan (drivers/nodes.py) in env (whose decider is 'content')."""

    def __init__(self, env, plan, clean_cargo=False, explain=False, cleaning=False):
        self.env, self.plan, self.layout = env, plan, plan.layout
        self.clean_cargo, self.explain, self.cleaning = clean_cargo, explain, cleaning
        self.where = os.path.relpath(plan.layout.output)
        self.all = []
        self.report = []
        self.crates: dict = {name: [] for name in plan.matrix.crates}
        self.by_output: dict = {}    # an output file -> the SCons nodes declared with it
        self.shipped: dict = {}      # cell name -> its SizeArtifact node

    def what(self, node):
        """How the node's markers are named (a new name would rerun it once)."""
        return node.id if node.name else f"the report in {self.where}"

    def settings(self, node):
        """A Value node of the node's signature: editing it reruns the node."""
        text = json.dumps(node.signature, sort_keys=True, default=str)
        return self.env.Value(f"settings of {self.what(node)}: {text}")

    def outcome(self, node):
        """A marker of the node's last outcome: a failed or lost one differs from any stored signature."""
        if node.cargo_sources:
            return self.cargo_sources(node)
        ok = lambda: node.outcome() == OK  # noqa: E731
        what = node.id if node.name else "the report"
        return d.marker(self.env, f"last outcome of {what} in {self.where}",
                        d.outcome_now(ok), lambda: d.outcome_settled(ok))

    def cargo_sources(self, node):
        """A build's marker: the content of every source cargo read, and its last outcome."""
        layout = self.layout
        now, changed = d.build_now(layout, node)
        if changed and self.explain:
            shown = ", ".join(os.path.relpath(os.path.realpath(p)) for p in changed)
            print(f"sizekit: {node.id}: {shown} changed since cargo last built it", file=sys.stderr)
        return d.marker(self.env, f"cargo's sources and last outcome of {node.id} in {self.where}",
                        now, lambda: d.build_settled(layout, node))

    def clean(self, node):
        """What scons -c removes besides the targets; files and sizekit's own folders only."""
        extra = [p for p in [*node.clean, *recorded_files(self.layout, node.recorded)] if p not in node.outputs]
        if node.cargo_sources:
            extra.append(d.sources_file(self.layout, node.cargo_sources))
            if self.clean_cargo:
                build = node.args[1]
                extra += [self.layout.cargo_target(build.toolchain), self.layout.overlay(build.crate, build.toolchain),
                          self.layout.lockfile(build.crate, build.toolchain)]
        return extra

    def declare(self, node):
        """One Command node per sizekit node: its outputs from its inputs, signature and outcome."""
        sources = [*node.inputs, self.settings(node)]
        if node.outcome is not None:
            sources.append(self.outcome(node))
        nodes = self.env.Command(list(node.outputs), sources, RUN)
        job = Job(node, self.layout)
        for target in nodes:
            target.attributes.sizekit_job = job
        PROGRESS.declared.extend(nodes)
        for output in node.outputs:
            self.by_output[output] = nodes
        self.env.Precious(nodes)   # never deleted before the stage runs: it may keep its record
        self.env.NoCache(nodes)
        if self.cleaning:
            # Files only, reached without a symlink: SCons removes a folder entry whole.
            self.env.Clean(nodes, cleanable(self.layout.output, self.clean(node)))
        self.all.extend(nodes)
        if node.kind in ("measure", "smoke", "reference"):
            self.crates[node.crate].extend(nodes)
        if node.kind == "report":
            self.report = nodes
        return nodes

    def ship(self, cell):
        """The shipped copy of the cell's final artifact, made from its last stage's record."""
        if cell.name not in self.shipped:
            record = self.layout.stage_record(cell.last.key)
            stage = next(n for n in self.by_output[record])
            dest = self.layout.shipped(cell, artifact_name(cell))
            self.shipped[cell.name] = self.env.Command(dest, stage, SHIP(self.layout, cell))
            if self.cleaning:
                self.env.Clean(self.shipped[cell.name], cleanable(self.layout.output, [dest]))
        return self.shipped[cell.name]

    def aliases(self):
        env = self.env
        env.Alias(ALL, self.report)
        env.AlwaysBuild(env.Alias(REPORT, self.report, TABLES))
        for name, nodes in self.crates.items():
            env.Alias(name, nodes)


def declare(env, plan, clean_cargo=False, explain=False, cleaning=False):
    """Declare every node of plan in env; returns the Nodes (its .all, .report and .crates)."""
    nodes = Nodes(env, plan, clean_cargo=clean_cargo, explain=explain, cleaning=cleaning)
    for node in plan_nodes(plan):
        nodes.declare(node)
    nodes.aliases()
    return nodes
