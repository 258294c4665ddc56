"""Progress for a doit run of the matrix: builds, steps and cells done, running steps, elapsed, ETA.

Wire it in a dodo.py (or in the config that ``sizekit.tasks.matrix_tasks`` returns)::

    from .progress import SizekitReporter
    DOIT_CONFIG["reporter"] = SizekitReporter

doit takes a reporter *class* only from DOIT_CONFIG (``--reporter`` on the command
line accepts names of built-in or plugin reporters). ``REPORTER`` is the same class.

What it shows (the words and the ETA are sizekit.drivers.progress's, which the SCons driver
prints too)
  * builds, steps and cells done of those planned ("[builds 1/6, steps 0/4, cells 0/8]"): a
    ``build:``, ``post:`` or ``measure:`` task is done when doit has run it, found it up to
    date, or failed it. The plan is every task the selected tasks depend on (doit's implicit
    file_dep -> target deps included), and tasks doit creates late join it.
  * the running step(s): names of the tasks executing now (two or more with -n N).
  * elapsed time since the run started, and an ETA from the work left (drivers/progress.py).

Two modes
  * live: stdout and stderr are terminals and CI is not set. A single status line
    on stderr is redrawn in place (``\\r`` + ``\\x1b[2K``), at most 10 times a
    second, and once a second by a small timer thread so elapsed time moves during
    a long cargo build. doit's own lines (``.  name``, ``-- name``, failures) are
    printed above it: clear the status line, print, redraw.
  * plain: CI set (CI=true, CI=1, ...) or no terminal. One line per task start on
    stderr, e.g. ``[3/22 cells] build:hello-hyper/x86_64-unknown-linux-gnu/release
    started (elapsed 0:42, ETA 3:10)``, and a summary at the end. No ANSI codes.

In both modes stdout carries exactly what doit's ConsoleReporter prints (each line
flushed), so scripts parsing the ``.  `` (executed) and ``-- `` (up to date) lines
keep working; progress only ever goes to stderr.

Threads and processes: with ``doit -n N`` (multiprocessing) the worker processes
report through a queue and doit's MRunner calls every reporter method in the main
process. With ``-P thread`` (MThreadRunner) workers call ``execute_task`` and
``teardown_task`` from their own threads; with the live timer there is a second
thread too. All state and all writes are therefore under one lock. The timer starts
at the first task execution, after MRunner has forked its workers, so no fork ever
happens while it runs.

Limitation (live mode): output that a task writes straight to the terminal (doit
verbosity 1 shows a task's stderr) can land on the status line. The line is not
redrawn right after a task starts (the timer redraws within 0.1 s), so a message
a task prints as it starts -- sizekit's "cargo build ..." line -- stays clean.
"""
import os
import shutil
import sys
import threading
import time

from doit.reporter import ConsoleReporter

from ..progress import Progress

CLEAR = "\r\x1b[2K"
MIN_REDRAW = 0.1     # seconds between redraws: at most 10 per second
TICK = 1.0           # live mode: redraw at least this often (elapsed time moves)


def ci_set(environ=None):
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no", "off")


def _isatty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _counts(task):
    """Tasks doit reports: ones with actions and not private (doit's own rule)."""
    return bool(task.actions) and not task.name.startswith("_")


class SizekitReporter(ConsoleReporter):
    """doit ConsoleReporter plus matrix progress on stderr (see the module docstring)."""

    desc = "console output plus sizekit matrix progress on stderr"

    def __init__(self, outstream, options, *, status_stream=None, live=None,
                 clock=time.monotonic, environ=None, ticker=True):
        """outstream, options: as doit passes them. The keyword arguments are for tests:
        status_stream (default: sys.stderr as it is now, before doit swaps it while
        an action runs), live (force the mode), clock, environ (for CI), ticker
        (False: no timer thread in live mode)."""
        super().__init__(outstream, options)
        self.status_stream = status_stream if status_stream is not None else sys.stderr
        if live is None:
            live = (_isatty(outstream) and _isatty(self.status_stream)
                    and not ci_set(environ))
        self.live = live
        self.clock = clock
        self._lock = threading.RLock()
        self._use_ticker = ticker
        self._ticker = None
        self._stop = threading.Event()
        self.progress = Progress(clock)   # the bookkeeping and the words, shared with the SCons driver
        self._shown = False          # live: the status line is on screen
        self._dirty = False
        self._last_draw = None
        self._hold_until = 0.0       # live: no redraw before (a task just started)
        self._done = False

    # --- doit reporter API ---

    def initialize(self, tasks, selected_tasks):
        with self._lock:
            self.progress.restart()
            seen, todo = set(), list(selected_tasks or [])
            while todo:
                name = todo.pop()
                if name in seen or name not in tasks:
                    continue
                seen.add(name)
                task = tasks[name]
                todo.extend(task.task_dep)
                todo.extend(task.setup_tasks)
            for name in seen:
                self._plan(tasks[name])
            super().initialize(tasks, selected_tasks)
            # no status line yet: with -n N the workers start printing right away

    def get_status(self, task):
        with self._lock:
            self._plan(task)     # tasks doit creates late (delayed) join the totals
            super().get_status(task)

    def execute_task(self, task):
        with self._lock:
            super().execute_task(task)
            if not _counts(task):
                return
            now = self.progress.start(task.name)
            if self.live:
                # the task is about to print its own first lines: let the timer redraw
                self._dirty = True
                self._hold_until = now + MIN_REDRAW
                self._start_ticker()
            else:
                self._emit(self.progress.started_line(task.name, now))

    def add_success(self, task):
        with self._lock:
            super().add_success(task)
            self._finish(task, "run")

    def add_failure(self, task, fail_info):
        with self._lock:
            super().add_failure(task, fail_info)
            self._finish(task, "failed")

    def skip_uptodate(self, task):
        with self._lock:
            super().skip_uptodate(task)
            self._finish(task, "up-to-date")

    def skip_ignore(self, task):
        with self._lock:
            super().skip_ignore(task)
            self._finish(task, "ignored")

    def cleanup_error(self, exception):
        with self._lock:
            self._clear()
            self.status_stream.write(exception.get_msg())
            self.status_stream.flush()
            self._draw()

    def runtime_error(self, msg):
        with self._lock:
            super().runtime_error(msg)

    def teardown_task(self, task):
        with self._lock:
            super().teardown_task(task)

    def complete_run(self):
        self._stop_ticker()
        with self._lock:
            self._done = True
            self._clear()
            super().complete_run()
            self._flush_out()
            self._emit(self.progress.summary())

    # --- output ---

    def write(self, text):
        """doit's lines (to outstream): clear the status line first, flush after."""
        with self._lock:
            self._clear()
            self.outstream.write(text)
            self._flush_out()
            self._dirty = True

    def _flush_out(self):
        try:
            self.outstream.flush()
        except (AttributeError, ValueError, OSError):
            pass

    def _emit(self, line):
        """One plain line on the status stream (below doit's lines)."""
        self._clear()
        self.status_stream.write(line + "\n")
        self.status_stream.flush()

    def _clear(self):
        if self.live and self._shown:
            self.status_stream.write(CLEAR)
            self.status_stream.flush()
            self._shown = False
            self._dirty = True

    def _draw(self, force=False):
        """live mode: redraw the status line, at most every MIN_REDRAW seconds."""
        if not self.live or self._done:
            return
        now = self.clock()
        if not force and (now < self._hold_until or (
                self._last_draw is not None and now - self._last_draw < MIN_REDRAW)):
            self._dirty = True
            return
        line = self.progress.status_line(now)
        width = self._width()
        if len(line) > width:
            line = line[:max(width - 3, 1)] + "..."
        self.status_stream.write(CLEAR + line)
        self.status_stream.flush()
        self._shown, self._dirty, self._last_draw = True, False, now

    def _width(self):
        try:
            columns = os.get_terminal_size(self.status_stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
        if columns <= 0:     # not a terminal, or one that reports no size (0x0)
            columns = shutil.get_terminal_size().columns
        return max(columns - 1, 20)   # never touch the last column: no wrap

    # --- timer (live mode) ---

    def _start_ticker(self):
        if self._ticker is not None or not self._use_ticker:
            return
        self._ticker = threading.Thread(target=self._tick_loop, name="sizekit-progress",
                                        daemon=True)
        self._ticker.start()

    def _stop_ticker(self):
        self._stop.set()
        ticker = self._ticker
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(timeout=2)

    def _tick_loop(self):
        while not self._stop.wait(MIN_REDRAW):
            self.tick()

    def tick(self):
        """Redraw if something changed or a second went by (the timer calls this)."""
        with self._lock:
            if self._done:
                return
            stale = self._last_draw is None or self.clock() - self._last_draw >= TICK
            if self._dirty or stale:
                self._draw()

    # --- bookkeeping ---

    def _plan(self, task):
        if _counts(task):
            self.progress.plan(task.name)

    def _finish(self, task, how):
        if _counts(task):
            self.progress.finish(task.name, how)
        self._draw()


REPORTER = SizekitReporter
