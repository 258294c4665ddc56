"""The plan as nodes: the one driver-neutral description of the work that every driver translates.

A node is one piece of work (a cargo build, a post step, a measurement, a smoke check, a C
reference, the report): the stage function it calls, the files it reads and writes, its
signature (everything besides file contents that decides whether it is up to date), how to tell
that its last outcome still holds, and what `clean` removes. doit (doit/tasks.py) turns nodes
into task dicts and SCons (scons/nodes.py) into Command nodes; neither builds a signature of its
own, so a field added here reaches every driver at once.

Planning loads no doit, SCons, native module or zstandard: `sizekit plan` prints nodes quickly.
"""
import dataclasses
import functools
import os
from dataclasses import dataclass
from typing import Callable, Optional

from ..config.load import load_matrix
from ..plan.availability import smoke_command_problem, smoke_runner
from ..plan.cells import make_plan
from ..plan.layout import Layout
from ..plan.records import CellRecord, SmokeRecord
from ..plan.shard import parse_shard, shard_plan
from ..stages import cargo, records
from ..stages.build import run_build
from ..stages.measure import run_measure
from ..stages.post import run_post
from ..stages.reference import run_reference, sources
from ..stages.ship import artifact_name
from ..stages.smoke import run_smoke_stage, wants_smoke
from ..utils.errors import UsageError
from ..utils.fsutil import read_json

KINDS = ("build", "post", "measure", "smoke", "reference", "report")

# What a node's outcome check says about its last run.
OK, FAILED, LOST = "ok", "failed", "lost"

# Tests only: appended to the UPX-size model's fingerprint, to act out a new model without
# rebuilding the C module (tests/test_driver_parity.py). Unset everywhere else.
MODEL_SALT_ENV = "SIZEKIT_TEST_MODEL_SALT"


@dataclass(frozen=True)
class Deferred:
    """A signature value that costs a heavy import to know: computed when a driver checks the
    node, shown by its description in `sizekit plan`."""
    compute: Callable[[], object]
    text: str

    def __call__(self):
        return self.compute()


def content_hash(path: str) -> str:
    """sizekit's 64-bit content hash of a file, as hex (the drivers' "has it changed?")."""
    from ..elf import engine  # loaded only when a file's mtime has moved
    return engine.hash_hex(engine.hash_file(path))


def estimator_fingerprint() -> str:
    """The UPX-size model's digest: a new model re-measures every cell."""
    from ..elf import engine  # loaded only when a driver checks a measurement
    salt = os.environ.get(MODEL_SALT_ENV)
    return engine.model_fingerprint() + (f"+{salt}" if salt else "")


ESTIMATOR = Deferred(estimator_fingerprint, "the UPX-size model's fingerprint (computed when checked)")


# --- outcome checks: is the last outcome still good? ---

def stage_outcome(layout: Layout, key: str) -> str:
    """A build's or post step's record: failed runs again; unavailable stays until its settings move."""
    record = records.read(layout, key)
    return LOST if record is None else (FAILED if record.status == "failed" else OK)


def smoke_outcome(path: str) -> str:
    record = SmokeRecord.read_or_none(path)
    if record is None:
        return LOST
    return FAILED if record.ok is False else OK


def results_outcome(layout: Layout) -> str:
    data = read_json(layout.results_json)
    return OK if isinstance(data, dict) and isinstance(data.get("cells"), list) else LOST


def write_report(plan) -> Optional[str]:
    """The report node's action: results.json and the reports; a failure text or None."""
    from .finish import finish  # loads the snapshot writer (zstandard): only when the report runs
    return finish(plan)


@dataclass(frozen=True)
class Node:
    """One piece of work, as every driver sees it."""
    kind: str                   # one of KINDS
    name: Optional[str]         # crate/target/variant[/stepN]; None for the report
    doc: str
    action: Callable            # a stage function, called as action(*args)
    args: tuple
    inputs: tuple               # files whose contents it reads
    outputs: tuple              # files it writes that others read (the drivers' targets)
    declared: dict              # its signature, with Deferred values
    outcome: Optional[Callable[[], str]] = None   # OK, FAILED or LOST; None: no record to check
    healing: Optional[str] = None   # what to say when the outcome is LOST after a success
    clean: tuple = ()           # what clean removes: its outputs, logs and sizekit's own folders
    recorded: tuple = ()        # stage-record keys: clean also removes the files they name
    cargo_sources: Optional[str] = None  # build key whose dep-info lists the sources cargo read
    crate: Optional[str] = None
    fails: bool = False         # the action returns a failure text (or None), not a record

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind

    @property
    def signature(self) -> dict:
        """The signature with every Deferred value computed."""
        return {k: v() if isinstance(v, Deferred) else v for k, v in self.declared.items()}

    def shown_signature(self) -> dict:
        """The signature without heavy imports: a Deferred value shows its description."""
        return {k: v.text if isinstance(v, Deferred) else v for k, v in self.declared.items()}

    def run(self):
        return self.action(*self.args)


def recorded_files(layout: Layout, keys) -> list:
    """The stage records of keys and the artifacts and logs they name: what sizekit wrote."""
    files = []
    for key in keys:
        record = records.read(layout, key)
        files.append(layout.stage_record(key))
        if record is not None:
            files += [layout.absolute(p) for p in (record.path, record.log) if p is not None]
    return files


def _lost(node_id, path):
    return f"the record of {node_id} ({os.path.relpath(path)}) is missing or unreadable; running it again"


# --- the nodes of a plan ---

def build_nodes(plan):
    layout = plan.layout
    for build in plan.builds:
        info = plan.toolchains[build.toolchain]
        record = layout.stage_record(build.key)
        yield Node(
            "build", build.name, f"cargo build for {', '.join(build.variants)}", run_build, (plan, build),
            inputs=(), outputs=(record, layout.build_meta(build.key)),
            declared={"settings": build.settings, "rustc": info.rustc_version, "cargo": info.cargo,
                      "problem": build.problem,
                      "command": cargo.command(plan, build) if not build.problem else None},
            outcome=functools.partial(stage_outcome, layout, build.key),
            healing=_lost(f"build:{build.name}", record),
            clean=(record, layout.build_meta(build.key), layout.log("build", build.key),
                   os.path.dirname(layout.build_artifact(build, "x"))),
            recorded=(build.key,), cargo_sources=None if build.problem else build.key, crate=build.crate.name)


def post_nodes(plan):
    layout = plan.layout
    for step in plan.steps:
        parent = step.parent.key if step.parent else step.build.key
        record = layout.stage_record(step.key)
        yield Node(
            "post", step.name, f"{step.kind} for {', '.join(step.variants)}", run_post, (plan, step),
            inputs=(layout.stage_record(parent),), outputs=(record,),
            declared={"options": step.options, "problem": step.problem},
            outcome=functools.partial(stage_outcome, layout, step.key),
            healing=_lost(f"post:{step.name}", record),
            clean=(record, layout.log(step.kind, step.key), os.path.dirname(layout.step_artifact(step, "x"))),
            recorded=(step.key,), crate=step.build.crate.name)


def measure_nodes(plan):
    layout = plan.layout
    for cell in plan.cells:
        record = layout.cell_record(cell)
        yield Node(
            "measure", cell.name, f"measure {cell.variant.label}", run_measure, (plan, cell),
            inputs=tuple(layout.stage_record(s.key) for s in [cell.build, *cell.steps]), outputs=(record,),
            declared={"label": cell.variant.label, "variant": cell.variant.name,
                      "version": CellRecord.VERSION, "estimator": ESTIMATOR},
            clean=(record,), crate=cell.crate.name)


def smoke_nodes(plan):
    layout, matrix = plan.layout, plan.matrix
    for cell in plan.cells:
        if not wants_smoke(cell):
            continue
        record = layout.smoke_record(cell)
        yield Node(
            "smoke", cell.name, f"run {cell.variant.name} and check its answer", run_smoke_stage, (plan, cell),
            inputs=(layout.stage_record(cell.last.key),), outputs=(record,),
            declared={"smoke": cell.crate.smoke, "runner": smoke_runner(matrix, cell.target, plan.host),
                      # a smoke found unavailable runs again once its program is there
                      "command": smoke_command_problem(matrix, cell.crate.smoke, cell.target, plan.host)},
            outcome=functools.partial(smoke_outcome, record),
            clean=(record, layout.log("smoke", cell.id)), crate=cell.crate.name)


def reference_nodes(plan):
    layout = plan.layout
    for crate, target in plan.reference_targets():
        spec = plan.matrix.targets.get(target)
        record = layout.reference_record(crate, target)
        log = layout.log("reference", f"{crate.name}-{target}")
        yield Node(
            "reference", f"{crate.name}/{target}",
            f"build the {crate.reference['name']} reference of {crate.name} with make",
            run_reference, (plan, crate, target), inputs=tuple(sources(crate)), outputs=(record,),
            declared={"reference": crate.reference, "target": spec.__dict__ if spec else None},
            clean=(record, log, log + ".strip", layout.reference_dir(crate, target)), crate=crate.name)


def report_node(plan):
    layout, matrix = plan.layout, plan.matrix
    inputs = [layout.cell_record(c) for c in plan.cells]
    inputs += [layout.smoke_record(c) for c in plan.cells if wants_smoke(c)]
    inputs += [layout.reference_record(crate, t) for crate, t in plan.reference_targets()]
    inputs += [layout.build_meta(b.key) for b in plan.builds]
    # The reports the report writes: one per crate with cells here (a shard may have none of some).
    # The snapshot is no output: the report may skip it (with a note) and must not run every time.
    outputs = (layout.results_json, *layout.report_files(list(dict.fromkeys(c.crate.name for c in plan.cells)),
                                                           bool(plan.matrix.fleets)))
    return Node(
        "report", None, "write results.json and the reports", write_report, (plan,),
        inputs=tuple(inputs), outputs=outputs,
        declared={"baseline": matrix.baseline, "order": [v.name for v in matrix.variants]},
        outcome=functools.partial(results_outcome, layout),
        healing=(f"{os.path.relpath(layout.results_json)} is missing or not a results file; "
                 f"writing it again from the stage records"),
        clean=(*outputs, layout.snapshot, layout.reports_dir), fails=True)


def plan_nodes(plan) -> list:
    """Every node of plan, in dependency order: builds, post steps, measurements, smoke checks,
    references, then the report."""
    return [*build_nodes(plan), *post_nodes(plan), *measure_nodes(plan), *smoke_nodes(plan),
            *reference_nodes(plan), report_node(plan)]


def final_artifact(plan, cell) -> str:
    """Where the cell's final file will be: the last post step's copy, or the build's."""
    name = artifact_name(cell)
    last = cell.last
    return plan.layout.step_artifact(last, name) if cell.steps else plan.layout.build_artifact(last, name)


# --- the plan a driver starts from ---

def load_plan(path: str, shard=None, cache: bool = True, output: Optional[str] = None, make=make_plan,
              matrix=None):
    """The plan of a matrix file. shard: (K, N) or "K/N" for shard K's part of it; cache=False
    probes the toolchains without their cache under the output folder; output replaces the
    matrix's output folder; make is the planner (a test's may probe no toolchain); matrix is the
    file already read (`sizekit explore` reads its trials' matrix against the user's folder)."""
    if isinstance(shard, str):
        shard = parse_shard(shard, shown=f"shard={shard}") if shard.strip() else None
    if matrix is None:
        matrix = load_matrix(path)
    if output:
        matrix = dataclasses.replace(matrix, output=output)
        check_output(matrix)
    plan = make(matrix, cache_dir=Layout.of(matrix).toolchain_cache if cache else None)
    return shard_plan(plan, *shard) if shard else plan


def check_output(matrix):
    """An output folder given to a driver may not be the matrix's folder nor hold a crate (the
    matrix file's rule for output:)."""
    out = os.path.realpath(matrix.output)
    if out in (os.path.realpath(matrix.root), os.path.sep):
        raise UsageError(f"output={matrix.output}: the output folder may not be the matrix's own folder; "
                         f"choose a separate folder such as out")
    for crate in matrix.crates.values():
        folder = os.path.realpath(crate.path)
        if folder == out or folder.startswith(out + os.path.sep):
            raise UsageError(f"output={matrix.output}: the output folder would contain the crate "
                             f"{crate.name}'s sources; choose a separate folder such as out")
