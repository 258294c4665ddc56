"""SizekitReporter: doit progress (cells done/total, running steps, elapsed, ETA)."""
import io
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from doit.exceptions import TaskFailed
from doit.task import Task

from sizekit.drivers.doit.progress import REPORTER, SizekitReporter, ci_set
from sizekit.drivers.progress import fmt_duration

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSI = "\x1b"


def noop():
    return True


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class TTY(io.StringIO):
    def isatty(self):
        return True


def matrix_tasks():
    """Two builds, one post step, three cells, a report; plus doit-style group tasks."""
    names = ["build:a/x86_64/release", "build:b/x86_64/release", "post:a/x86_64/strip",
             "measure:a/x86_64/release", "measure:a/x86_64/strip", "measure:b/x86_64/release"]
    tasks = {n: Task(n, [noop]) for n in names}
    tasks["measure:a/x86_64/release"].task_dep = ["build:a/x86_64/release"]
    tasks["post:a/x86_64/strip"].task_dep = ["build:a/x86_64/release"]
    tasks["measure:a/x86_64/strip"].task_dep = ["post:a/x86_64/strip"]
    tasks["measure:b/x86_64/release"].task_dep = ["build:b/x86_64/release"]
    tasks["measure"] = Task("measure", None, task_dep=[n for n in names if n.startswith("measure:")])
    tasks["report"] = Task("report", [noop], task_dep=["measure"])
    tasks["unrelated:x"] = Task("unrelated:x", [noop])   # not selected: not counted
    return tasks


def make(live=False, **kw):
    out, err, clock = (TTY() if live else io.StringIO()), (TTY() if live else io.StringIO()), Clock()
    # The mode comes from the streams alone: CI (set when this suite runs in CI) is cleared.
    kw.setdefault("environ", {})
    rep = SizekitReporter(out, {}, status_stream=err, clock=clock, ticker=False, **kw)
    return rep, out, err, clock


def test_plain_lines_counts_and_eta():
    rep, out, err, clock = make(live=False)
    tasks = matrix_tasks()
    rep.initialize(tasks, ["report"])
    t = tasks.__getitem__

    rep.execute_task(t("build:a/x86_64/release"))
    clock.now += 40
    rep.add_success(t("build:a/x86_64/release"))
    rep.skip_uptodate(t("post:a/x86_64/strip"))
    rep.skip_uptodate(t("measure:a/x86_64/strip"))
    rep.execute_task(t("measure:a/x86_64/release"))
    clock.now += 2
    rep.add_success(t("measure:a/x86_64/release"))
    rep.execute_task(t("build:b/x86_64/release"))
    clock.now += 38
    rep.add_success(t("build:b/x86_64/release"))
    rep.execute_task(t("measure:b/x86_64/release"))
    clock.now += 2
    rep.add_success(t("measure:b/x86_64/release"))
    rep.skip_uptodate(t("measure"))
    rep.execute_task(t("report"))
    clock.now += 1
    rep.add_success(t("report"))
    rep.complete_run()

    assert err.getvalue().splitlines() == [
        "[builds 0/2, steps 0/1, cells 0/3] build:a/x86_64/release started (elapsed 0:00, ETA --)",
        # builds average 40 s: build:b; measures and report have no sample yet (0)
        "[builds 1/2, steps 1/1, cells 1/3] measure:a/x86_64/release started (elapsed 0:40, ETA 0:40)",
        # build:b 40 s + measure:b 2 s (the measure average) + report 2 s (no sample
        # of its own: the average of all non-build tasks so far)
        "[builds 1/2, steps 1/1, cells 2/3] build:b/x86_64/release started (elapsed 0:42, ETA 0:44)",
        "[builds 2/2, steps 1/1, cells 2/3] measure:b/x86_64/release started (elapsed 1:20, ETA 0:04)",
        "[builds 2/2, steps 1/1, cells 3/3] report started (elapsed 1:22, ETA 0:02)",
        "[builds 2/2, steps 1/1, cells 3/3] finished in 1:23 (5 run, 2 up to date)",
    ]
    # stdout is exactly what doit's ConsoleReporter prints
    assert out.getvalue().splitlines() == [
        ".  build:a/x86_64/release",
        "-- post:a/x86_64/strip",
        "-- measure:a/x86_64/strip",
        ".  measure:a/x86_64/release",
        ".  build:b/x86_64/release",
        ".  measure:b/x86_64/release",
        "-- measure",
        ".  report",
    ]
    assert ANSI not in err.getvalue() + out.getvalue()


def test_ci_means_plain_even_on_a_tty(monkeypatch):
    monkeypatch.setenv("CI", "true")
    out, err = TTY(), TTY()
    rep = SizekitReporter(out, {}, status_stream=err, ticker=False)
    assert not rep.live
    tasks = matrix_tasks()
    rep.initialize(tasks, ["report"])
    rep.execute_task(tasks["build:a/x86_64/release"])
    rep.add_success(tasks["build:a/x86_64/release"])
    rep.complete_run()
    assert ANSI not in err.getvalue() + out.getvalue() and "\r" not in err.getvalue()
    assert err.getvalue().startswith("[builds 0/2, steps 0/1, cells 0/3] build:a/x86_64/release started "
                                     "(elapsed 0:00, ETA --)\n")


def test_ci_values():
    assert ci_set({"CI": "true"}) and ci_set({"CI": "1"}) and ci_set({"CI": "yes"})
    assert not ci_set({}) and not ci_set({"CI": ""}) and not ci_set({"CI": "false"})


def test_no_tty_means_plain(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not SizekitReporter(io.StringIO(), {}, status_stream=TTY()).live
    assert not SizekitReporter(TTY(), {}, status_stream=io.StringIO()).live


def test_tty_status_line_in_place(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CI", raising=False)
    out, err, clock = TTY(), TTY(), Clock()
    rep = SizekitReporter(out, {}, status_stream=err, clock=clock, ticker=False)
    assert rep.live
    tasks = matrix_tasks()
    rep.initialize(tasks, ["report"])
    assert err.getvalue() == ""
    rep.tick()
    assert err.getvalue() == "\r\x1b[2K[builds 0/2, steps 0/1, cells 0/3] elapsed 0:00 | ETA -- | waiting"

    rep.execute_task(tasks["build:a/x86_64/release"])
    # doit's line is printed to stdout after the status line was cleared ...
    assert out.getvalue() == ".  build:a/x86_64/release\n"
    assert err.getvalue().endswith("\r\x1b[2K")
    # ... and the line is redrawn by the timer, not at once (the task prints first)
    rep.tick()
    assert err.getvalue().endswith("\r\x1b[2K")
    clock.now += 0.2
    rep.tick()
    assert err.getvalue().endswith(
        "\r\x1b[2K[builds 0/2, steps 0/1, cells 0/3] elapsed 0:00 | ETA -- | build:a/x86_64/release")
    clock.now += 65
    rep.tick()   # a second went by: elapsed moves without any event
    assert err.getvalue().endswith(
        "\r\x1b[2K[builds 0/2, steps 0/1, cells 0/3] elapsed 1:05 | ETA -- | build:a/x86_64/release")

    clock.now += 0.5
    rep.add_success(tasks["build:a/x86_64/release"])
    # ETA shows up once a build finished: build:b still to do, 65.7 s each
    assert err.getvalue().endswith("\r\x1b[2K[builds 1/2, steps 0/1, cells 0/3] elapsed 1:06 | ETA 1:06 | waiting")

    rep.skip_uptodate(tasks["post:a/x86_64/strip"])
    assert out.getvalue().endswith("-- post:a/x86_64/strip\n")
    rep.complete_run()
    assert err.getvalue().endswith("\r\x1b[2K[builds 1/2, steps 1/1, cells 0/3] finished in 1:06 (1 run, 1 up to date)\n")


def test_tty_redraws_are_throttled(monkeypatch):
    rep, out, err, clock = make(live=True)
    tasks = {f"measure:c{i}": Task(f"measure:c{i}", [noop]) for i in range(50)}
    rep.initialize(tasks, list(tasks))
    rep.tick()
    draws = err.getvalue().count("cells ")
    assert draws == 1
    for task in tasks.values():
        rep.skip_uptodate(task)
    assert err.getvalue().count("cells ") == draws     # same instant: no redraw
    assert out.getvalue().count("-- measure:") == 50
    clock.now += 0.1
    rep.skip_uptodate(tasks["measure:c0"])
    assert err.getvalue().endswith("[cells 50/50] elapsed 0:00 | ETA 0:00 | waiting")


def test_tty_long_status_is_cut_to_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "70")
    rep, out, err, clock = make(live=True)
    tasks = matrix_tasks()
    rep.initialize(tasks, ["report"])
    rep.execute_task(tasks["build:a/x86_64/release"])
    rep.execute_task(tasks["build:b/x86_64/release"])
    clock.now += 1
    rep.tick()
    last = err.getvalue().rsplit("\r\x1b[2K", 1)[1]
    assert last == "[builds 0/2, steps 0/1, cells 0/3] elapsed 0:01 | ETA -- | build:a..."   # the numbers stay
    assert len(last) == 69


def test_two_running_steps_and_parallel_eta():
    rep, out, err, clock = make(live=False)
    tasks = matrix_tasks()
    rep.initialize(tasks, ["report"])
    rep.execute_task(tasks["build:a/x86_64/release"])
    rep.execute_task(tasks["build:b/x86_64/release"])
    assert rep.progress.status_line() == ("[builds 0/2, steps 0/1, cells 0/3] elapsed 0:00 | ETA -- | "
                                 "build:a/x86_64/release, build:b/x86_64/release")
    clock.now += 60
    rep.add_success(tasks["build:a/x86_64/release"])
    # build:b ran 60 of an expected 60 s: 0 left; no sample for the rest yet
    assert rep.progress.eta_seconds() == 0
    rep.execute_task(tasks["post:a/x86_64/strip"])
    clock.now += 10
    rep.add_success(tasks["post:a/x86_64/strip"])
    # build:b overdue (0); 3 measures + report at the post average, 10 s; 2 at once
    assert rep.progress.eta_seconds() == pytest.approx(40 / 2)
    rep.execute_task(tasks["measure:a/x86_64/strip"])
    clock.now += 4
    rep.add_success(tasks["measure:a/x86_64/strip"])
    # two measures left at 4 s each, report at the non-build average (10 + 4) / 2
    assert rep.progress.eta_seconds() == pytest.approx((4 + 4 + 7) / 2)


def test_failure_is_reported_by_doit_and_counted():
    rep, out, err, clock = make(live=False)
    tasks = matrix_tasks()
    rep.initialize(tasks, ["report"])
    cell = tasks["measure:b/x86_64/release"]
    rep.execute_task(cell)
    rep.add_failure(cell, TaskFailed("no artifact"))
    rep.complete_run()
    assert "TaskFailed - taskid:measure:b/x86_64/release" in out.getvalue()
    assert err.getvalue().splitlines()[-1] == "[builds 0/2, steps 0/1, cells 1/3] finished in 0:00 (0 run, 0 up to date, 1 failed)"


def test_cells_doit_creates_late_join_the_total():
    rep, out, err, clock = make(live=False)
    rep.initialize({}, [])
    late = Task("measure:late", [noop])
    rep.get_status(late)
    rep.skip_uptodate(late)
    rep.complete_run()
    assert err.getvalue() == "[cells 1/1] finished in 0:00 (0 run, 1 up to date)\n"


def test_without_cells_it_counts_tasks():
    rep, out, err, clock = make(live=False)
    tasks = {"hello": Task("hello", [noop]), "_private": Task("_private", [noop])}
    rep.initialize(tasks, ["hello", "_private"])
    rep.execute_task(tasks["_private"])
    rep.add_success(tasks["_private"])
    rep.execute_task(tasks["hello"])
    rep.add_success(tasks["hello"])
    rep.complete_run()
    assert out.getvalue() == ".  hello\n"
    assert err.getvalue().splitlines() == ["[0/1 tasks] hello started (elapsed 0:00, ETA --)",
                                           "[1/1 tasks] finished in 0:00 (1 run, 0 up to date)"]


def test_threads_and_ticker_keep_counts_and_lines_whole():
    """-P thread: workers call execute_task from their own threads; the timer runs too."""
    out, err = TTY(), TTY()
    rep = SizekitReporter(out, {}, status_stream=err, live=True)   # real clock, real timer
    tasks = {f"measure:c{i}": Task(f"measure:c{i}", [noop]) for i in range(400)}
    rep.initialize(tasks, list(tasks))
    names = list(tasks)

    def worker(part):
        for name in part:
            rep.execute_task(tasks[name])
            rep.add_success(tasks[name])

    threads = [threading.Thread(target=worker, args=(names[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rep.complete_run()
    assert rep._ticker is not None and not rep._ticker.is_alive()
    assert sorted(out.getvalue().splitlines()) == sorted(f".  {n}" for n in names)
    assert err.getvalue().endswith("[cells 400/400] finished in 0:00 (400 run, 0 up to date)\n")


def test_fmt_duration():
    assert [fmt_duration(s) for s in (0, 42, 190, 3723, -5)] == ["0:00", "0:42", "3:10", "1:02:03", "0:00"]


def test_reporter_alias():
    assert REPORTER is SizekitReporter


DODO = """
    import sys
    sys.path.insert(0, {root!r})
    from doit.tools import run_once
    from sizekit.drivers.doit.progress import SizekitReporter

    DOIT_CONFIG = {{"reporter": SizekitReporter, "dep_file": {db!r}, "verbosity": 0}}

    def hello():
        return True

    def task_build():
        return {{"actions": [hello], "uptodate": [run_once]}}

    def task_measure():
        return {{"actions": [hello], "task_dep": ["build"]}}

    def task_report():
        return {{"actions": [hello], "task_dep": ["measure"]}}
"""


@pytest.mark.parametrize("jobs", [[], ["-n", "2"], ["-n", "2", "-P", "thread"]],
                         ids=["serial", "processes", "threads"])
def test_end_to_end_with_doit(tmp_path, jobs):
    (tmp_path / "dodo.py").write_text(textwrap.dedent(DODO).format(root=ROOT, db=str(tmp_path / "db")))
    env = dict(os.environ, CI="true")

    def run():
        proc = subprocess.run([sys.executable, "-m", "doit", *jobs], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert ANSI not in proc.stdout + proc.stderr
        return proc.stdout.splitlines(), proc.stderr.splitlines()

    out, err = run()
    assert sorted(out) == [".  build", ".  measure", ".  report"]
    assert [line.split(" (elapsed")[0] for line in err[:3]] == [
        "[builds 0/1, cells 0/1] build started", "[builds 1/1, cells 0/1] measure started",
        "[builds 1/1, cells 1/1] report started"]
    assert err[0].endswith("ETA --)")
    assert err[3].startswith("[builds 1/1, cells 1/1] finished in 0:0") and err[3].endswith("(3 run, 0 up to date)")
    assert len(err) == 4

    out, err = run()   # build is up to date now; measure and report always run
    assert out == ["-- build", ".  measure", ".  report"]
    assert err[-1].endswith("(2 run, 1 up to date)")
