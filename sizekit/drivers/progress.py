"""Where a run of the matrix is, the same words under every driver: builds, steps and cells done of
those planned, what runs now, the time so far and an ETA from the work left.

A node is known by its id (`build:crate/target/variant`, `post:...`, `measure:...`, `smoke:...`,
`reference:...`, `report`, as drivers/nodes.py names them); its kind is the part before the
colon. A driver calls plan() for each node the run may execute, start() when one starts and
finish() when it ran, was up to date, failed or was skipped; status_line(), started_line() and
summary() are the text. The doit reporter (drivers/doit/progress.py) and the SCons action
(drivers/scons/actions.py) both feed one of these, and make runs one of the two.

The counter: "[builds 1/6, steps 0/4, cells 0/8]", a kind shown once the run plans one of it
(a run of only other nodes counts "[3/5 tasks]"). The ETA: builds left x the average build run
so far; every other node left x the average of its kind (else of all non-build nodes run so far,
else 0 while builds are left); a running node's time so far is subtracted; the sum is divided
by the most nodes seen running at once. "ETA --" until there is a sample. Builds that turn out
to be up to date make it drop.
"""
import time

BUILD = "build"
COUNTED = (("build", "builds"), ("post", "steps"), ("measure", "cells"))   # kind, word in the counter


def kind_of(name):
    return name.split(":", 1)[0]


def fmt_duration(seconds):
    """0:42, 3:10, 1:02:03."""
    seconds = int(max(0, seconds) + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


class Progress:
    """The bookkeeping and the words; not thread-safe on its own (drivers hold their own lock)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.started_at = clock()
        self.planned = set()       # ids of nodes the run may execute
        self.finished = {}         # id -> "run" | "up-to-date" | "failed" | "ignored"
        self.running = {}          # id -> start time (insertion order = start order)
        self.durations = {}        # kind -> [seconds of nodes that ran]
        self.max_parallel = 1

    def restart(self):
        self.started_at = self.clock()

    def plan(self, name):
        self.planned.add(name)

    def start(self, name):
        self.plan(name)
        now = self.clock()
        self.running[name] = now
        self.max_parallel = max(self.max_parallel, len(self.running))
        return now

    def finish(self, name, how):
        self.plan(name)
        now = self.clock()
        started = self.running.pop(name, None)
        if started is not None and how in ("run", "failed"):
            self.durations.setdefault(kind_of(name), []).append(now - started)
        self.finished.setdefault(name, how)

    # --- the words ---

    def counter(self):
        parts = []
        for kind, word in COUNTED:
            total = [n for n in self.planned if kind_of(n) == kind]
            if total:
                done = sum(1 for n in total if n in self.finished)
                parts.append(f"{word} {done}/{len(total)}")
        if not parts:
            return f"[{len(self.finished)}/{len(self.planned)} tasks]"
        return f"[{', '.join(parts)}]"

    def eta_seconds(self, now=None):
        """Seconds left (an estimate), or None while there is no data for one (see the module)."""
        now = self.clock() if now is None else now
        left = [name for name in self.planned if name not in self.finished]
        if not left:
            return 0.0
        averages = {kind: sum(d) / len(d) for kind, d in self.durations.items() if d}
        others = [d for kind, ds in self.durations.items() if kind != BUILD for d in ds]
        other_average = sum(others) / len(others) if others else None
        builds_left = any(kind_of(name) == BUILD for name in left)
        if builds_left and BUILD not in averages:
            return None
        if not builds_left and other_average is None:
            return None
        total = 0.0
        for name in left:
            average = averages.get(kind_of(name), other_average) or 0.0
            started = self.running.get(name)
            total += max(average - (now - started), 0.0) if started is not None else average
        return total / max(self.max_parallel, 1)

    def eta(self, now=None):
        eta = self.eta_seconds(now)
        return "ETA --" if eta is None else f"ETA {fmt_duration(eta)}"

    def status_line(self, now=None):
        """The one live line: counter, elapsed, ETA, then what runs (last, so a narrow terminal cuts it)."""
        now = self.clock() if now is None else now
        steps = ", ".join(self.running) or "waiting"
        return f"{self.counter()} elapsed {fmt_duration(now - self.started_at)} | {self.eta(now)} | {steps}"

    def started_line(self, name, now=None):
        """The plain line (CI, no terminal) for a node that starts now."""
        now = self.clock() if now is None else now
        return f"{self.counter()} {name} started (elapsed {fmt_duration(now - self.started_at)}, {self.eta(now)})"

    def summary(self):
        outcomes = list(self.finished.values())
        parts = [f"{outcomes.count('run')} run", f"{outcomes.count('up-to-date')} up to date"]
        if outcomes.count("failed"):
            parts.append(f"{outcomes.count('failed')} failed")
        if outcomes.count("ignored"):
            parts.append(f"{outcomes.count('ignored')} ignored")
        if self.running:
            parts.append(f"{len(self.running)} unfinished")
        return f"{self.counter()} finished in {fmt_duration(self.clock() - self.started_at)} ({', '.join(parts)})"
