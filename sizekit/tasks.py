"""doit tasks for a size matrix.

A project's dodo.py needs two lines:

    from sizekit.tasks import matrix_tasks
    globals().update(matrix_tasks("matrix.yaml"))

`doit` then builds every cell; `doit matrix=other.yaml` picks another matrix.
doit's own state lives in the matrix's output folder.
"""
import os
import shutil
import sys

from doit import get_var
from doit.exceptions import TaskFailed
from doit.tools import config_changed

from . import cargo, stages
from .checker import ContentHashChecker
from .progress import SizekitReporter
from .errors import SizekitError
from .fsutil import copy_file, read_json, safe_join, write_json_if_changed
from .matrix import load_matrix
from .plan import make_plan, strip_tool
from .procs import tail


def state_dir(matrix):
    return os.path.join(matrix.output, ".sizekit")


def build_meta_path(matrix, key):
    return os.path.join(state_dir(matrix), "builds", f"{key}.json")


def cell_path(matrix, cell):
    return safe_join(state_dir(matrix), "cells", cell.id + ".json")


def smoke_path(matrix, cell):
    return safe_join(state_dir(matrix), "smoke", cell.id + ".json")


def log_path(matrix, kind, key):
    return os.path.join(matrix.output, "logs", f"{kind}-{key}.log")


def build_output(matrix, build, filename):
    return safe_join(matrix.output, "build", build.crate.name, build.target, build.key, filename)


def step_output(matrix, step, filename):
    return safe_join(matrix.output, "post", step.build.crate.name, step.build.target, step.key, filename)


def _failed(record):
    return record is None or record.get("status") == "failed"


class stage_ok:
    """uptodate check: False when the last run of this stage failed, so it is retried."""

    def __init__(self, matrix, key):
        self.output, self.key = matrix.output, key

    def __call__(self, task, values):
        return not _failed(read_json(stages.record_path(self.output, self.key)))

    def __repr__(self):
        return f"stage_ok({self.key})"


class smoke_ok:
    """uptodate check: a failed smoke run is retried on the next doit."""

    def __init__(self, path):
        self.path = path

    def __call__(self, task, values):
        record = read_json(self.path)
        return record is not None and record.get("ok") is not False

    def __repr__(self):
        return f"smoke_ok({self.path})"


class sources_unchanged:
    """uptodate check: the sources cargo listed in the artifact's dep-info are unchanged.

    The list comes from the last build (cargo's .d file), so a build whose inputs
    have not moved runs no cargo at all. Any change lets cargo decide.
    """

    def __init__(self, matrix, key):
        self.path = build_meta_path(matrix, key)

    def __call__(self, task, values):
        meta = read_json(self.path)
        if not meta or not meta.get("deps"):
            return False
        return all(_stamp(p) == stamp for p, stamp in meta["deps"].items())

    def __repr__(self):
        return f"sources_unchanged({self.path})"


def _stamp(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


# --- actions (module-level so doit -n N can hand them to worker processes) ---

def do_build(plan, build):
    matrix = plan.matrix
    log = log_path(matrix, "build", build.key)
    meta = {"key": build.key, "name": build.name, "variants": build.variants,
            "toolchain": build.toolchain, "rustc": plan.toolchains[build.toolchain].rustc_version}
    if build.problem:
        stages.write_problem(matrix, build.key, "build", "unavailable", build.problem)
        write_json_if_changed(build_meta_path(matrix, build.key), {**meta, "seconds": None, "command": None})
        return True
    print(f"sizekit: cargo build {build.name} (profile sk-{build.key}; log {os.path.relpath(log)})",
          file=sys.stderr)
    artifact, seconds, argv, env, problem = cargo.run(plan, build, log)
    command = [f"{k}={v!r}" if "\x1f" in v else f"{k}={v}" for k, v in sorted(env.items())] + argv
    meta.update({"seconds": seconds, "command": command, "log": stages.rel(matrix, log)})
    if problem:
        stages.write_problem(matrix, build.key, "build", "failed", problem, log=log, tail=tail(log))
        write_json_if_changed(build_meta_path(matrix, build.key), meta)
        return True
    dest = build_output(matrix, build, os.path.basename(artifact))
    copy_file(artifact, dest)
    meta["artifact"] = artifact
    deps = cargo.dep_info_files(artifact) + [os.path.join(build.crate.path, "Cargo.toml")]
    meta["deps"] = {p: _stamp(p) for p in sorted(set(deps))}
    stages.write_ok(matrix, build.key, "build", dest, log=log)
    write_json_if_changed(build_meta_path(matrix, build.key), meta)
    return True


def do_step(plan, step):
    from .steps import run_step
    matrix = plan.matrix
    parent_key = step.parent.key if step.parent else step.build.key
    parent = stages.read(matrix, parent_key)
    if parent is None or parent["status"] != "ok":
        parent = parent or {"status": "failed", "reason": "the previous stage left no record"}
        stages.write_problem(matrix, step.key, step.kind, parent["status"], parent["reason"],
                             log=parent.get("log") and stages.absolute(matrix, parent["log"]),
                             tail=parent.get("tail"))
        return True
    if step.problem:
        stages.write_problem(matrix, step.key, step.kind, "unavailable", step.problem)
        return True
    src = stages.absolute(matrix, parent["path"])
    dst = step_output(matrix, step, os.path.basename(src))
    log = log_path(matrix, step.kind, step.key)
    tool = strip_tool(matrix, step.build.target, plan.toolchains[None].host) if step.kind == "strip" else None
    problem = run_step(step.kind, step.options, tool, src, dst, log)
    if problem:
        stages.write_problem(matrix, step.key, step.kind, "failed", problem, log=log, tail=tail(log))
    else:
        stages.write_ok(matrix, step.key, step.kind, dst, log=log)
    return True


def do_measure(plan, cell):
    from .cells import measure_cell
    write_json_if_changed(cell_path(plan.matrix, cell), measure_cell(plan, cell))
    return True


def smoke_runner(plan, cell):
    """(runner argv or None, problem or None) for running this cell's artifact."""
    spec = plan.matrix.targets.get(cell.target)
    runner = spec.runner if spec is not None else None
    if runner and not shutil.which(runner[0]):
        return None, f"runner {runner[0]!r} for {cell.target} not found; fix: apt-get install qemu-user"
    if not runner and cell.target != plan.toolchains[None].host:
        return None, f"no runner for {cell.target}; fix: set targets.{cell.target}.runner (e.g. [qemu-arm, -L, ...])"
    return runner, None


def do_smoke(plan, cell):
    from .smoke import run_smoke
    matrix = plan.matrix
    record = stages.read(matrix, cell.last.key)
    runner, problem = smoke_runner(plan, cell)
    if record is None or record["status"] != "ok":
        result = {"ok": None, "detail": "not run: the cell has no artifact"}
    elif problem:
        result = {"ok": None, "detail": f"unavailable: {problem}"}
    else:
        log = safe_join(matrix.output, "logs", f"smoke-{cell.id}.log")
        result = run_smoke(cell.crate.smoke, stages.absolute(matrix, record["path"]), runner, log)
        result["log"] = stages.rel(matrix, log)
    write_json_if_changed(smoke_path(matrix, cell), result)
    return True


def do_report(plan):
    from .results import collect, write_results
    from .report import write_reports
    results = collect(plan)
    write_results(plan.matrix, results)
    write_reports(plan.matrix, results)
    from .html import write_html
    write_html(plan.matrix, results)
    failed = [c for c in results["cells"] if c["status"] == "failed"]
    failed += [dict(c, reason=f"smoke test failed: {c['smoke']['detail']}", log=c["smoke"].get("log"))
               for c in results["cells"] if c["status"] == "ok" and (c.get("smoke") or {}).get("ok") is False]
    out = os.path.relpath(plan.matrix.output)
    print(f"sizekit: {len(results['cells'])} cells, {len(failed)} failed; "
          f"reports in {os.path.join(out, 'reports')}", file=sys.stderr)
    if failed:
        lines = [f"  {c['crate']}/{c['target']}/{c['variant']}: {c['reason']}"
                 + (f" (log: {c['log']})" if c.get("log") else "") for c in failed]
        return TaskFailed(f"{len(failed)} cell(s) failed:\n" + "\n".join(lines))
    return True


def clean_paths(*paths):
    """doit clean action: remove these files and folders (missing ones are fine)."""
    for path in paths:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)
    return True


# --- task generation ---

_fingerprint = []


def estimator_fingerprint():
    """A known answer of the UPX-size model: recalibrating it re-measures every cell."""
    if not _fingerprint:
        from . import native
        probe = bytes(range(256)) * 64 + b"sizekit" * 512
        _fingerprint.append([native.estimate_packed(probe, "best"), native.estimate_packed(probe, "lzma")])
    return _fingerprint[0]


def generate(plan):
    """Yield doit task dicts for every build, post step, measurement and the report."""
    matrix = plan.matrix
    for build in plan.builds:
        info = plan.toolchains[build.toolchain]
        config = {"settings": build.settings, "rustc": info.rustc_version, "cargo": info.cargo,
                  "problem": build.problem,
                  "command": cargo.command(plan, build) if not build.problem else None}
        yield {
            "basename": "build", "name": build.name,
            "doc": f"cargo build for {', '.join(build.variants)}",
            "actions": [(do_build, (plan, build))],
            "targets": [stages.record_path(matrix.output, build.key)],
            "uptodate": [config_changed(config), stage_ok(matrix, build.key)]
            + ([] if build.problem else [sources_unchanged(matrix, build.key)]),
            "clean": [(clean_paths, [stages.record_path(matrix.output, build.key),
                                     build_meta_path(matrix, build.key),
                                     os.path.dirname(build_output(matrix, build, "x"))])],
            "verbosity": 1,
        }
    for step in plan.steps:
        parent_key = step.parent.key if step.parent else step.build.key
        yield {
            "basename": "post", "name": step.name,
            "doc": f"{step.kind} for {', '.join(step.variants)}",
            "actions": [(do_step, (plan, step))],
            "file_dep": [stages.record_path(matrix.output, parent_key)],
            "targets": [stages.record_path(matrix.output, step.key)],
            "uptodate": [config_changed({"options": step.options, "problem": step.problem}),
                         stage_ok(matrix, step.key)],
            "clean": [(clean_paths, [stages.record_path(matrix.output, step.key),
                                     os.path.dirname(step_output(matrix, step, "x"))])],
            "verbosity": 1,
        }
    cell_files = []
    for cell in plan.cells:
        target = cell_path(matrix, cell)
        cell_files.append(target)
        yield {
            "basename": "measure", "name": cell.name,
            "doc": f"measure {cell.variant.label}",
            "actions": [(do_measure, (plan, cell))],
            "file_dep": [stages.record_path(matrix.output, s.key) for s in [cell.build, *cell.steps]],
            "targets": [target],
            "uptodate": [config_changed({"label": cell.variant.label, "variant": cell.variant.name,
                                         "version": 2, "estimator": estimator_fingerprint()})],
            "clean": True,
        }
    smoke_files = []
    for cell in plan.cells:
        if not cell.crate.smoke or cell.crate.kind not in ("bin", "example"):
            continue
        target = smoke_path(matrix, cell)
        smoke_files.append(target)
        yield {
            "basename": "smoke", "name": cell.name,
            "doc": f"run {cell.variant.name} and check its answer",
            "actions": [(do_smoke, (plan, cell))],
            "file_dep": [stages.record_path(matrix.output, cell.last.key)],
            "targets": [target],
            "uptodate": [config_changed({"smoke": cell.crate.smoke, "runner": smoke_runner(plan, cell)}),
                         smoke_ok(smoke_path(matrix, cell))],
            "clean": True,
        }
    reference_files = []
    for crate in matrix.crates.values():
        if not crate.reference:
            continue
        from .reference import do_reference, reference_path, sources
        for target in crate.targets or [plan.toolchains[None].host]:
            path = reference_path(matrix, crate, target)
            reference_files.append(path)
            yield {
                "basename": "reference", "name": f"{crate.name}/{target}",
                "doc": f"build the {crate.reference['name']} reference of {crate.name} with make",
                "actions": [(do_reference, (plan, crate, target))],
                "file_dep": sources(crate),
                "targets": [path],
                "uptodate": [config_changed({"reference": crate.reference,
                                             "target": matrix.targets.get(target).__dict__
                                             if matrix.targets.get(target) else None})],
                "clean": True,
            }
    from .report import report_files
    from .results import results_path
    yield {
        "basename": "report",
        "doc": "write results.json and the reports",
        "actions": [(do_report, (plan,))],
        "file_dep": cell_files + smoke_files + reference_files
        + [build_meta_path(matrix, b.key) for b in plan.builds],
        "targets": [results_path(matrix)] + report_files(matrix, plan),
        "uptodate": [config_changed({"baseline": matrix.baseline,
                                     "order": [v.name for v in matrix.variants]})],
        "clean": True,
    }


def load_plan(path):
    matrix = load_matrix(path)
    return make_plan(matrix, cache_dir=state_dir(matrix))


def state_backend():
    """sizekit's durable doit backend when its entry point is installed, else doit's sqlite3."""
    from importlib.metadata import entry_points
    found = any(ep.name == "sizekit" for ep in entry_points(group="doit.BACKEND"))
    return "sizekit" if found else "sqlite3"


# doit commands that only read state need not wait for a running build.
READ_ONLY_COMMANDS = {"list", "info", "help", "dumpdb", "tabcompletion", "strace"}
_held_locks = []


def doit_command(argv):
    """The doit command named in argv (default "run"), skipping options and var=value."""
    for arg in argv:
        if arg.startswith("-") or "=" in arg:
            continue
        return arg
    return "run"


def hold_run_lock(matrix, command):
    """Serialize runs that write one output folder; a second run waits and says so.

    The lock is held until the process exits (doit's worker processes inherit it).
    """
    import fcntl
    if command in READ_ONLY_COMMANDS:
        return
    path = os.path.join(state_dir(matrix), "run.lock")
    f = open(path, "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "another process"
        print(f"sizekit: {os.path.relpath(matrix.output)} is in use by doit ({holder}); "
              f"waiting for it to finish", file=sys.stderr, flush=True)
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()}\n")
    f.flush()
    _held_locks.append(f)


def matrix_tasks(default="matrix.yaml", command=None):
    """Globals for a dodo.py: DOIT_CONFIG and task_sizekit for the matrix file.

    The matrix is `doit matrix=PATH` when given, else `default`. An invalid matrix
    prints every problem and exits with status 2 before any task runs.
    """
    path = get_var("matrix", default) or default
    try:
        plan = load_plan(path)
    except SizekitError as exc:
        print(str(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    os.makedirs(state_dir(plan.matrix), exist_ok=True)
    hold_run_lock(plan.matrix, command or doit_command(sys.argv[1:]))
    config = {
        "dep_file": os.path.join(state_dir(plan.matrix), "doit-db"),
        "backend": state_backend(),
        "check_file_uptodate": ContentHashChecker,
        "reporter": SizekitReporter,
    }

    def task_sizekit():
        """Build, shrink, measure and report every cell of the matrix."""
        yield from generate(plan)

    return {"DOIT_CONFIG": config, "task_sizekit": task_sizekit}
