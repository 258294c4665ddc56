"""The one action every sizekit node runs: its stage function, then the settling of its markers.

A stage records a failed cell instead of raising, so SCons goes on with the others. Only the
report fails its node (when cells failed), as does a full disk, each with one clear message.
"""
import atexit
import os
import sys
import threading

import SCons.Action
import SCons.Errors
import SCons.Node.Alias
import SCons.Node.FS
import SCons.Script

from ...utils.errors import SizekitError
from ..failures import disk_message, is_disk_error
from ...stages.ship import ship
from ..progress import Progress
from .deciders import settle


class RunProgress:
    """The run's progress lines on stderr, the words doit's reporter prints (drivers/progress.py).

    The plan is every sizekit node the command line's targets depend on, found when the first one
    runs. SCons runs a node only once all it depends on is done, so a node's sizekit dependencies
    that did not run were up to date."""

    def __init__(self, stream=None):
        self.progress, self.lock, self.stream = Progress(), threading.Lock(), stream or sys.stderr
        self.planned = False
        self.declared = []       # every node SizeMatrix declared: the plan when no target is named

    @staticmethod
    def _node(target):
        """A command-line target as SCons reads it: an alias by that name, else a file or folder."""
        if not isinstance(target, str):
            return target
        return SCons.Node.Alias.default_ans.lookup(target) or SCons.Node.FS.get_default_fs().Entry(target)

    def _jobs_under(self, nodes):
        seen, todo = set(), list(nodes)
        while todo:
            node = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            job = getattr(node.attributes, "sizekit_job", None)
            if job is not None:
                yield job.node.id
            todo.extend(node.children(scan=False))

    def start(self, target):
        with self.lock:
            if not self.planned:
                self.planned = True
                targets = list(SCons.Script.BUILD_TARGETS or SCons.Script.DEFAULT_TARGETS or [])
                roots = [self._node(t) for t in targets] if targets else self.declared
                for name in self._jobs_under(roots):
                    self.progress.plan(name)
                atexit.register(self.summary)
            name = target.attributes.sizekit_job.node.id
            for dep in self._jobs_under(target.children(scan=False)):
                if dep not in self.progress.finished and dep not in self.progress.running:
                    self.progress.finish(dep, "up-to-date")
            self.progress.start(name)
            self._say(self.progress.started_line(name))
            return name

    def finish(self, name, how):
        with self.lock:
            self.progress.finish(name, how)

    def summary(self):
        with self.lock:
            if self.progress.finished:
                self._say(self.progress.summary())

    def _say(self, line):
        self.stream.write(line + "\n")
        self.stream.flush()


PROGRESS = RunProgress()

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
    name = PROGRESS.start(target[0])
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
    PROGRESS.finish(name, "failed" if problem else "run")
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


def SHIP(layout, cell):
    """The action of a SizeArtifact node: ship the cell (stages/ship.py), or fail with why."""
    def ship_job(target, source, env):
        _, problem = ship(layout, cell)
        if problem:
            raise SCons.Errors.BuildError(node=target[0], errstr=problem, exitstatus=1)
        return 0
    return SCons.Action.Action(ship_job, strfunction=lambda target, source, env: f"sizekit ship:{cell.name}")
TABLES = SCons.Action.Action(print_tables, strfunction=lambda target, source, env: "sizekit size-report")
