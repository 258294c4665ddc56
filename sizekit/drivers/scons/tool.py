"""The sizekit SCons tool: env.SizeMatrix(matrix, output=, shard=) and the --clean-cargo option."""
import optparse
import os
import sys

import SCons.Errors
from SCons.Script import AddOption, GetOption

from ...plan.cells import make_plan
from .. import nodes as plan_nodes
from ..failures import disk_message, is_disk_error, or_exit
from .nodes import declare

CLEAN_CARGO = "sizekit_clean_cargo"


def _add_options():
    try:
        AddOption("--clean-cargo", dest=CLEAN_CARGO, action="store_true", default=False,
                  help="with -c: also remove cargo's target folders, sizekit's crate overlays and "
                       "their lockfiles under each size matrix's output folder")
    except optparse.OptionConflictError:
        pass  # a second Environment with the tool: the option is there already


def generate(env):
    """Add env.SizeMatrix (and --clean-cargo) to a construction environment."""
    _add_options()
    env.AddMethod(size_matrix, "SizeMatrix")
    env.AddMethod(size_artifact, "SizeArtifact")
    env.AppendUnique(TOOLS=["sizematrix"])


def exists(env):
    """sizekit needs nothing more to declare a matrix: each cell says what it lacks, with the fix."""
    return True


def size_matrix(env, matrix="matrix.yaml", output=None, shard=None):
    """Declare every cell of a matrix file; returns the target nodes.

    The aliases sizes (every cell and the report), size-report (the same, then print the tables)
    and one per crate name are registered. output= replaces the matrix's output folder (relative
    to this SConscript's folder); shard="K/N" (or (K, N)) declares only shard K of N.
    A bad matrix or shard prints the problem and exits (status 2) before anything is built.
    """
    path = env.File(env.subst(matrix) if isinstance(matrix, str) else matrix).abspath
    if output:
        output = env.Dir(env.subst(output) if isinstance(output, str) else output).abspath
    plan = _plan_or_exit(path, output, shard)
    linked = plan.layout.linked_folders() if GetOption("clean") else []
    if linked:
        # scons -c would remove targets inside whatever the link points at.
        print(f"sizekit: {linked[0]}: is a symlink (to {os.readlink(linked[0])}); scons -c removes only what "
              f"sizekit wrote inside the output folder, so remove the link first", file=sys.stderr)
        sys.exit(2)
    matrix_env = env.Clone()
    matrix_env.Decider("content")
    explain = "explain" in (GetOption("debug") or [])
    nodes = declare(matrix_env, plan, clean_cargo=bool(GetOption(CLEAN_CARGO)), explain=explain,
                    cleaning=bool(GetOption("clean")))
    DECLARED.append(nodes)
    return nodes.all


DECLARED: list = []   # the Nodes of every matrix declared so far, for SizeArtifact


def size_artifact(env, crate, target, variant):
    """The node of one cell's final artifact, shipped (Layout.shipped): a source for any builder.

    The cell must belong to a matrix declared before (env.SizeMatrix). Building it builds that
    cell's build and post steps and nothing else (no measure, smoke or report), and the file is
    rewritten only when its bytes change. A cell that has no artifact fails the node with why."""
    name = f"{crate}/{target}/{variant}"
    for nodes in reversed(DECLARED):
        cell = next((c for c in nodes.plan.cells if c.name == name), None)
        if cell is not None:
            return nodes.ship(cell)
    known = [c.name for nodes in DECLARED for c in nodes.plan.cells]
    raise SCons.Errors.UserError(f"SizeArtifact: no cell {name} in the matrices declared so far"
                                 + (f" ({', '.join(known[:6])}{', ...' if len(known) > 6 else ''})" if known
                                    else "; call env.SizeMatrix first"))


def load_plan(path, output=None, shard=None):
    """The plan of a matrix file, with another output folder and as shard (K, N) or "K/N"."""
    return plan_nodes.load_plan(path, shard=shard, output=output, make=make_plan)


def _plan_or_exit(path, output, shard):
    try:
        return or_exit(load_plan, path, output, shard)
    except OSError as exc:
        if not is_disk_error(exc):
            raise
        print(disk_message(exc, os.path.dirname(os.path.abspath(path))), file=sys.stderr)
        sys.exit(1)
