"""A plan as SCons nodes: one target per build, post step, cell, smoke check, reference and the
report, each running one stage function; the aliases; and what `scons -c` removes.

The targets are the stage records under the output folder (the same files doit's tasks
target), so both drivers leave the same output. Records hold content hashes only, and SCons
decides by content, so a node runs only when something it reads really changed.
"""
import json
import os
import sys

from ...plan.availability import smoke_runner
from ...stages import cargo
from ...stages.build import run_build
from ...stages.measure import run_measure
from ...stages.post import run_post
from ...stages.reference import run_reference, sources
from ...stages.smoke import run_smoke_stage, wants_smoke
from ...utils.fsutil import cleanable
from ..finish import finish
from . import deciders as d
from .actions import RUN, TABLES, Job

MEASURE_VERSION = 2   # raise to re-measure every cell after the cell record's format changes
ALL, REPORT = "sizes", "size-report"


class Nodes:
    """Declares the nodes of one plan in env (whose decider is 'content')."""

    def __init__(self, env, plan, clean_cargo=False, explain=False, cleaning=False):
        self.env, self.plan, self.layout = env, plan, plan.layout
        self.clean_cargo, self.explain, self.cleaning = clean_cargo, explain, cleaning
        self.where = os.path.relpath(plan.layout.output)
        self.all = []
        self.report = []
        self.crates = {name: [] for name in plan.matrix.crates}

    # --- helpers ---

    def settings(self, what, value):
        """A Value node of what decides a node's output: editing it reruns the node."""
        return self.env.Value(f"settings of {what}: {json.dumps(value, sort_keys=True, default=str)}")

    def command(self, targets, sources, job, clean=()):
        nodes = self.env.Command(targets, sources, RUN)
        for node in nodes:
            node.attributes.sizekit_job = job
        self.env.Precious(nodes)   # never deleted before the stage runs: it may keep its record
        self.env.NoCache(nodes)
        if clean and self.cleaning:
            # Files only, reached without a symlink: SCons removes a folder entry whole.
            self.env.Clean(nodes, cleanable(self.layout.output, clean))
        self.all.extend(nodes)
        return nodes

    def outcome(self, what, ok):
        return d.marker(self.env, f"last outcome of {what} in {self.where}",
                        d.outcome_now(ok), lambda: d.outcome_settled(ok))

    # --- the stages ---

    def builds(self):
        plan, layout = self.plan, self.layout
        for build in plan.builds:
            info = plan.toolchains[build.toolchain]
            config = {"settings": build.settings, "rustc": info.rustc_version, "cargo": info.cargo,
                      "problem": build.problem,
                      "command": cargo.command(plan, build) if not build.problem else None}
            now, changed = d.build_now(layout, build)
            if changed and self.explain:
                shown = ", ".join(os.path.relpath(os.path.realpath(p)) for p in changed)
                print(f"sizekit: build:{build.name}: {shown} "
                      f"changed since cargo last built it", file=sys.stderr)
            sources = d.marker(self.env, f"cargo's sources and last outcome of build:{build.name} in {self.where}",
                               now, lambda b=build: d.build_settled(layout, b))
            clean = [os.path.dirname(layout.build_artifact(build, "x")), layout.log("build", build.key),
                     d.sources_file(layout, build.key)]
            if self.clean_cargo:
                clean += [layout.cargo_target(build.toolchain), layout.overlay(build.crate, build.toolchain),
                          layout.lockfile(build.crate, build.toolchain)]
            self.command([layout.stage_record(build.key), layout.build_meta(build.key)],
                         [self.settings(f"build:{build.name}", config), sources],
                         Job("build", build.name, layout, run_build, plan, build), clean)

    def steps(self):
        plan, layout = self.plan, self.layout
        for step in plan.steps:
            parent = step.parent.key if step.parent else step.build.key
            config = {"options": step.options, "problem": step.problem}
            self.command([layout.stage_record(step.key)],
                         [layout.stage_record(parent), self.settings(f"post:{step.name}", config),
                          self.outcome(f"post:{step.name}", lambda k=step.key: d.stage_ok(layout, k))],
                         Job("post", step.name, layout, run_post, plan, step),
                         [os.path.dirname(layout.step_artifact(step, "x")), layout.log(step.kind, step.key)])

    def cells(self):
        plan, layout = self.plan, self.layout
        for cell in plan.cells:
            config = {"label": cell.variant.label, "variant": cell.variant.name, "version": MEASURE_VERSION,
                      "estimator": d.estimator_fingerprint()}
            nodes = self.command([layout.cell_record(cell)],
                                 [layout.stage_record(s.key) for s in [cell.build, *cell.steps]]
                                 + [self.settings(f"measure:{cell.name}", config)],
                                 Job("measure", cell.name, layout, run_measure, plan, cell))
            self.crates[cell.crate.name].extend(nodes)
            if wants_smoke(cell):
                self.crates[cell.crate.name].extend(self.smoke(cell))

    def smoke(self, cell):
        plan, layout = self.plan, self.layout
        record = layout.smoke_record(cell)
        config = {"smoke": cell.crate.smoke, "runner": smoke_runner(plan.matrix, cell.target, plan.host)}
        return self.command([record],
                            [layout.stage_record(cell.last.key), self.settings(f"smoke:{cell.name}", config),
                             self.outcome(f"smoke:{cell.name}", lambda: d.smoke_ok(record))],
                            Job("smoke", cell.name, layout, run_smoke_stage, plan, cell),
                            [layout.log("smoke", cell.id)])

    def references(self):
        plan, layout = self.plan, self.layout
        for crate, target in plan.reference_targets():
            spec = plan.matrix.targets.get(target)
            name = f"{crate.name}/{target}"
            config = {"reference": crate.reference, "target": spec.__dict__ if spec else None}
            log = layout.log("reference", f"{crate.name}-{target}")
            nodes = self.command([layout.reference_record(crate, target)],
                                 sources(crate) + [self.settings(f"reference:{name}", config)],
                                 Job("reference", name, layout, run_reference, plan, crate, target),
                                 [layout.reference_dir(crate, target), log, log + ".strip"])
            self.crates[crate.name].extend(nodes)

    def finish(self):
        plan, layout = self.plan, self.layout
        matrix = plan.matrix
        deps = [layout.cell_record(c) for c in plan.cells]
        deps += [layout.smoke_record(c) for c in plan.cells if wants_smoke(c)]
        deps += [layout.reference_record(crate, t) for crate, t in plan.reference_targets()]
        deps += [layout.build_meta(b.key) for b in plan.builds]
        config = {"baseline": matrix.baseline, "order": [v.name for v in matrix.variants]}
        # The reports finish writes: one per crate with cells here (a shard may have none of some).
        crates = list(dict.fromkeys(c.crate.name for c in plan.cells))
        self.report = self.command([layout.results_json] + layout.report_files(crates),
                                   deps + [self.settings(f"the report in {self.where}", config),
                                           self.outcome("the report", lambda: d.results_ok(layout))],
                                   Job("report", None, layout, finish, plan, fails=True),
                                   # The snapshot is no target: finish may skip it (with a note).
                                   [layout.reports_dir, layout.snapshot])

    def aliases(self):
        env = self.env
        env.Alias(ALL, self.report)
        env.AlwaysBuild(env.Alias(REPORT, self.report, TABLES))
        for name, nodes in self.crates.items():
            env.Alias(name, nodes)


def declare(env, plan, clean_cargo=False, explain=False, cleaning=False):
    """Declare every node of plan in env; returns the Nodes (its .all, .report and .crates)."""
    nodes = Nodes(env, plan, clean_cargo=clean_cargo, explain=explain, cleaning=cleaning)
    nodes.builds()
    nodes.steps()
    nodes.cells()
    nodes.references()
    nodes.finish()
    nodes.aliases()
    return nodes
