"""doit tasks for a size matrix: each task calls one stage function.

A project's dodo.py needs two lines:

    from sizekit.tasks import matrix_tasks
    globals().update(matrix_tasks("matrix.yaml"))

`doit` then builds every cell; `doit matrix=other.yaml` picks another matrix.
doit's own state lives in the matrix's output folder.
"""
import functools
import os
import sys
from importlib.metadata import entry_points

from doit import get_var
from doit.exceptions import TaskFailed
from doit.tools import config_changed

from ...config.load import load_matrix
from ...plan.availability import smoke_command_problem, smoke_runner
from ...plan.cells import make_plan
from ...plan.layout import Layout
from ...plan.shard import parse_shard, shard_plan
from ...stages import cargo
from ...stages.build import run_build
from ...stages.measure import run_measure
from ...stages.post import run_post
from ...stages.reference import run_reference, sources
from ...stages import records
from ...stages.smoke import run_smoke_stage, wants_smoke
from ...utils.errors import SizekitError
from ...utils.fsutil import remove_inside
from ..failures import disk_message, is_disk_error, or_exit
from ..finish import finish
from .progress import SizekitReporter
from .runlock import doit_command, hold_run_lock
from .uptodate import (ContentHashChecker, estimator_fingerprint, results_valid, smoke_ok, sources_same,
                       stage_ok)


# --- actions: module-level so doit -n N can hand them to worker processes ---

# Saved by doit as the task's values: an up-to-date check that sees them knows the task once
# succeeded, so a record missing now is worth a word.
DONE = {"done": 1}

def disk_safe(action):
    """A full (or read-only) disk under out/ fails the task with one clear line, not a traceback.

    Stage records and results.json are written atomically, so what finished before stays valid.
    """
    @functools.wraps(action)
    def run(plan, *args):
        try:
            return action(plan, *args)
        except OSError as exc:
            if not is_disk_error(exc):
                raise
            return TaskFailed(disk_message(exc, plan.layout.output))
        except SizekitError as exc:   # e.g. the report's output folder refused: one line, not a traceback
            return TaskFailed(str(exc))
    return run


@disk_safe
def do_build(plan, build):
    run_build(plan, build)
    return DONE


@disk_safe
def do_post(plan, step):
    run_post(plan, step)
    return DONE


@disk_safe
def do_measure(plan, cell):
    run_measure(plan, cell)
    return DONE


@disk_safe
def do_smoke(plan, cell):
    run_smoke_stage(plan, cell)
    return DONE


@disk_safe
def do_reference(plan, crate, target):
    run_reference(plan, crate, target)
    return DONE


@disk_safe
def do_report(plan):
    problem = finish(plan)
    return TaskFailed(problem) if problem else True


def clean_paths(layout, keys=(), paths=()):
    """doit clean action: remove what sizekit recorded writing (stage records of keys with the
    artifacts and logs they name, and paths), only inside the output folder and never through
    a symlink (fsutil.remove_inside)."""
    files = list(paths)
    for key in keys:
        record = records.read(layout, key) or {}
        files.append(layout.stage_record(key))
        files += [layout.absolute(record[k]) for k in ("path", "log") if isinstance(record.get(k), str)]
    for path in remove_inside(layout.output, files):
        print(f"sizekit: clean: left {path}: not inside {layout.output} without a symlink on the way",
              file=sys.stderr)
    return True


# --- task generation ---

def build_tasks(plan):
    layout = plan.layout
    for build in plan.builds:
        info = plan.toolchains[build.toolchain]
        config = {"settings": build.settings, "rustc": info.rustc_version, "cargo": info.cargo,
                  "problem": build.problem,
                  "command": cargo.command(plan, build) if not build.problem else None}
        yield {
            "basename": "build", "name": build.name,
            "doc": f"cargo build for {', '.join(build.variants)}",
            "actions": [(do_build, (plan, build))],
            "targets": [layout.stage_record(build.key)],
            "uptodate": [config_changed(config), stage_ok(layout, build.key)]
            + ([] if build.problem else [sources_same(layout, build.key)]),
            "clean": [(clean_paths, [layout, [build.key], [layout.build_meta(build.key),
                                                           layout.log("build", build.key)]])],
            "verbosity": 1,
        }


def post_tasks(plan):
    layout = plan.layout
    for step in plan.steps:
        parent_key = step.parent.key if step.parent else step.build.key
        yield {
            "basename": "post", "name": step.name,
            "doc": f"{step.kind} for {', '.join(step.variants)}",
            "actions": [(do_post, (plan, step))],
            "file_dep": [layout.stage_record(parent_key)],
            "targets": [layout.stage_record(step.key)],
            "uptodate": [config_changed({"options": step.options, "problem": step.problem}),
                         stage_ok(layout, step.key)],
            "clean": [(clean_paths, [layout, [step.key]])],
            "verbosity": 1,
        }


def measure_tasks(plan):
    layout = plan.layout
    for cell in plan.cells:
        yield {
            "basename": "measure", "name": cell.name,
            "doc": f"measure {cell.variant.label}",
            "actions": [(do_measure, (plan, cell))],
            "file_dep": [layout.stage_record(s.key) for s in [cell.build, *cell.steps]],
            "targets": [layout.cell_record(cell)],
            "uptodate": [config_changed({"label": cell.variant.label, "variant": cell.variant.name,
                                         "version": 2, "estimator": estimator_fingerprint()})],
            "clean": [(clean_paths, [layout, (), [layout.cell_record(cell)]])],
        }


def smoke_tasks(plan):
    layout = plan.layout
    for cell in plan.cells:
        if not wants_smoke(cell):
            continue
        yield {
            "basename": "smoke", "name": cell.name,
            "doc": f"run {cell.variant.name} and check its answer",
            "actions": [(do_smoke, (plan, cell))],
            "file_dep": [layout.stage_record(cell.last.key)],
            "targets": [layout.smoke_record(cell)],
            "uptodate": [config_changed({"smoke": cell.crate.smoke,
                                         "runner": smoke_runner(plan.matrix, cell.target, plan.host),
                                         # a smoke found unavailable runs again once its program is there
                                         "command": smoke_command_problem(plan.matrix, cell.crate.smoke,
                                                                          cell.target, plan.host)}),
                         smoke_ok(layout.smoke_record(cell))],
            "clean": [(clean_paths, [layout, (), [layout.smoke_record(cell)]])],
        }


def reference_tasks(plan):
    matrix, layout = plan.matrix, plan.layout
    for crate, target in plan.reference_targets():
        spec = matrix.targets.get(target)
        yield {
            "basename": "reference", "name": f"{crate.name}/{target}",
            "doc": f"build the {crate.reference['name']} reference of {crate.name} with make",
            "actions": [(do_reference, (plan, crate, target))],
            "file_dep": sources(crate),
            "targets": [layout.reference_record(crate, target)],
            "uptodate": [config_changed({"reference": crate.reference,
                                         "target": spec.__dict__ if spec else None})],
            "clean": [(clean_paths, [layout, (), [layout.reference_record(crate, target)]])],
        }


def report_task(plan):
    matrix, layout = plan.matrix, plan.layout
    deps = [layout.cell_record(c) for c in plan.cells]
    deps += [layout.smoke_record(c) for c in plan.cells if wants_smoke(c)]
    deps += [layout.reference_record(crate, t) for crate, t in plan.reference_targets()]
    deps += [layout.build_meta(b.key) for b in plan.builds]
    return {
        "basename": "report",
        "doc": "write results.json and the reports",
        "actions": [(do_report, (plan,))],
        "file_dep": deps,
        "targets": [layout.results_json, layout.snapshot] + layout.report_files(list(matrix.crates)),
        "uptodate": [config_changed({"baseline": matrix.baseline,
                                     "order": [v.name for v in matrix.variants]}),
                     results_valid(layout)],
        "clean": [(clean_paths, [layout, (), [layout.results_json, layout.snapshot]
                                 + layout.report_files(list(matrix.crates))])],
    }


def generate(plan):
    """Yield doit task dicts for every build, post step, measurement, smoke, reference and the report."""
    yield from build_tasks(plan)
    yield from post_tasks(plan)
    yield from measure_tasks(plan)
    yield from smoke_tasks(plan)
    yield from reference_tasks(plan)
    yield report_task(plan)


def load_plan(path, shard=None, cache=True):
    """The plan of a matrix file; with shard=(K, N) only shard K's part of it. cache=False
    probes the toolchains without reading or writing their cache under the output folder."""
    matrix = load_matrix(path)
    plan = make_plan(matrix, cache_dir=Layout.of(matrix).toolchain_cache if cache else None)
    return shard_plan(plan, *shard) if shard else plan


def state_backend():
    """sizekit's durable doit backend when its entry point is installed, else doit's sqlite3."""
    found = any(ep.name == "sizekit" for ep in entry_points(group="doit.BACKEND"))
    return "sizekit" if found else "sqlite3"


def matrix_tasks(default="matrix.yaml", command=None, shard=None):
    """Globals for a dodo.py: DOIT_CONFIG and task_sizekit for the matrix file.

    The matrix is `doit matrix=PATH` when given, else `default`; `doit shard=K/N` (or shard=(K, N))
    builds only shard K of N. An invalid matrix or shard prints the problem and exits with
    status 2 before any task runs.
    """
    path = get_var("matrix", default) or default
    if shard is None and get_var("shard", None):
        shard = or_exit(parse_shard, get_var("shard"), f"shard={get_var('shard')}")
    plan = or_exit(load_plan, path, shard)
    try:
        os.makedirs(plan.layout.state_dir, exist_ok=True)
        hold_run_lock(plan.layout, command or doit_command(sys.argv[1:]))
    except OSError as exc:
        if not is_disk_error(exc):
            raise
        print(disk_message(exc, plan.layout.output), file=sys.stderr)
        sys.exit(1)
    config = {
        "dep_file": plan.layout.doit_db,
        "backend": state_backend(),
        "check_file_uptodate": ContentHashChecker,
        "reporter": SizekitReporter,
    }

    def task_sizekit():
        """Build, shrink, measure and report every cell of the matrix."""
        yield from generate(plan)

    return {"DOIT_CONFIG": config, "task_sizekit": task_sizekit}
