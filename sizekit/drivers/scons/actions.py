"""The one action every sizekit node runs: its stage function, then the settling of its markers.

A stage records a failed cell instead of raising, so SCons goes on with the others. Only the
report fails its node (when cells failed), as does a full disk, each with one clear message.
"""
import os

import SCons.Action
import SCons.Errors

from ...utils.errors import SizekitError
from ..failures import disk_message, is_disk_error
from .deciders import settle

class Job:
    """What a SCons node does: run one sizekit node (drivers/nodes.py) of the plan in layout."""

    def __init__(self, node, layout):
        self.node, self.layout = node, layout

    def run(self):
        """The failure text of a node whose action fails (the report), else None."""
        result = self.node.run()
        return result if self.node.fails else None

    def __str__(self):
        return f"sizekit {self.node.id}"


def run_job(target, source, env):
    job = target[0].attributes.sizekit_job
    try:
        problem = job.run()
    except OSError as exc:
        if not is_disk_error(exc):
            raise
        problem = disk_message(exc, job.layout.output)
    except SizekitError as exc:   # e.g. the report's output folder refused: one line, not a traceback
        problem = str(exc)
    else:
        settle(source)
    if problem:
        raise SCons.Errors.BuildError(node=target[0], errstr=problem, exitstatus=1)
    return 0


def show_job(target, source, env):
    return str(target[0].attributes.sizekit_job)


def print_tables(target, source, env):
    """The size-report alias: print each crate's markdown report."""
    for node in source:
        if node.abspath.endswith(".md") and os.path.exists(node.abspath):
            with open(node.abspath, encoding="utf-8") as f:
                print(f.read())
    return 0


RUN = SCons.Action.Action(run_job, strfunction=show_job)
TABLES = SCons.Action.Action(print_tables, strfunction=lambda target, source, env: "sizekit size-report")
