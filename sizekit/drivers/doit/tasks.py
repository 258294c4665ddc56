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

from ...utils.errors import SizekitError
from ...utils.fsutil import remove_inside
from ..failures import disk_message, is_disk_error, or_exit
from ...plan.shard import parse_shard
from ..nodes import load_plan, plan_nodes, recorded_files
from .progress import SizekitReporter
from .runlock import doit_command, hold_run_lock
from .uptodate import ContentHashChecker, outcome_ok, sources_same


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
def do_node(plan, node):
    """Run one node's stage; the report fails its task when cells failed."""
    result = node.run()
    if node.fails:
        return TaskFailed(result) if result else True
    return DONE


def clean_paths(layout, keys=(), paths=()):
    """doit clean action: remove what sizekit recorded writing (stage records of keys with the
    artifacts and logs they name, and paths), only inside the output folder and never through
    a symlink (fsutil.remove_inside)."""
    files = list(paths) + recorded_files(layout, keys)
    for path in remove_inside(layout.output, files):
        print(f"sizekit: clean: left {path}: not inside {layout.output} without a symlink on the way",
              file=sys.stderr)
    return True


# --- task generation: each node of the plan as a doit task ---

def task(plan, node):
    """The doit task of one node (drivers/nodes.py): its stage, files, signature and outcome check."""
    uptodate = [config_changed(node.signature)]
    if node.outcome is not None:
        uptodate.append(outcome_ok(node))
    if node.cargo_sources:
        uptodate.append(sources_same(plan.layout, node.cargo_sources))
    return {
        "basename": node.kind, **({"name": node.name} if node.name else {}),
        "doc": node.doc,
        "actions": [(do_node, (plan, node))],
        "file_dep": list(node.inputs),
        "targets": list(node.outputs),
        "uptodate": uptodate,
        "clean": [(clean_paths, [plan.layout, list(node.recorded), list(node.clean)])],
        **({"verbosity": 1} if node.kind in ("build", "post") else {}),
    }


def generate(plan):
    """Yield doit task dicts for every build, post step, measurement, smoke, reference and the report."""
    for node in plan_nodes(plan):
        yield task(plan, node)


def state_backend():
    """sizekit's durable doit backend when its entry point is installed, else doit's sqlite3."""
    found = any(ep.name == "sizekit" for ep in entry_points(group="doit.BACKEND"))
    return "sizekit" if found else "sqlite3"


def matrix_tasks(default="matrix.yaml", command=None, shard=None, matrix=None):
    """Globals for a dodo.py: DOIT_CONFIG and task_sizekit for the matrix file.

    The matrix is `doit matrix=PATH` when given, else `default`; `doit shard=K/N` (or shard=(K, N))
    builds only shard K of N. An invalid matrix or shard prints the problem and exits with
    status 2 before any task runs.
    """
    path = get_var("matrix", default) or default
    if shard is None and get_var("shard", None):
        shard = or_exit(parse_shard, get_var("shard"), f"shard={get_var('shard')}")
    plan = or_exit(lambda: load_plan(path, shard, matrix=matrix))
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
