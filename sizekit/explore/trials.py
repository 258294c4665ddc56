"""Build and measure points through the ordinary pipeline.

A trial is a matrix: the user's own (toolchains, targets, crates, smoke checks, cache), with its
rows replaced by the crate's release row and the point's row, and its output moved to the
worker's folder under <output>/explore/<study>/. It is validated like any matrix and built by the
doit driver, so shared builds, content-hashed stages, the compile cache and smoke checks all
apply; a point already built costs nothing.
"""
import contextlib
import dataclasses
import os
import sys

import yaml

from ..config.matrix import parse_matrix
from ..drivers.doit.run import run_doit
from ..drivers.nodes import load_plan
from ..elf.engine import estimate_outcome
from ..plan.availability import smoke_runner
from ..results.results_file import load_results
from ..utils.errors import UsageError
from ..utils.fsutil import atomic_write_text
from ..utils.safeio import read_text
from . import bench, space

BASELINE = "release"


@dataclasses.dataclass
class Measured:
    """What one point gave: the values optuna is told, and what the front table shows."""
    ok: bool
    detail: str = ""
    bytes: int = 0               # final bytes (the UPX estimate when the point packs)
    unpacked_bytes: int = 0      # before UPX
    build_seconds: float = 0.0
    speed: float = 0.0           # the bench's median (requests/s, or seconds)
    speed_runs: tuple = ()
    baseline_bytes: int = 0
    new_build: bool = False
    artifact: str = ""           # the final artifact, relative to the matrix's folder


def worker_output(matrix, study, worker):
    return os.path.join(matrix.output, "explore", study, f"w-{worker}")


def trial_matrix(matrix, rows, output, name="trial"):
    """The user's matrix with these rows and this output folder, read against the user's folder."""
    text = read_text(matrix.path, 1 << 20, "a matrix file")
    data = yaml.safe_load(text)
    # A trial has its own rows: the search's block and the fleets (cells of the user's rows) go.
    data.pop("explore", None)
    data.pop("fleets", None)
    data["variants"] = rows
    data["baseline"] = BASELINE
    data["output"] = os.path.relpath(output, matrix.root)
    derived = yaml.safe_dump(data, sort_keys=False)
    path = os.path.join(output, f"{name}.matrix.yaml")
    os.makedirs(output, exist_ok=True)
    header = f"# Written by sizekit explore from {matrix.path}; its paths are relative to {matrix.root}.\n"
    atomic_write_text(path, header + derived)
    return parse_matrix(header + derived, os.path.relpath(path), root=matrix.root, host=matrix.host, abspath=path)


def _built(plan, variant):
    """Whether the row's cargo build exists already: a point that shares its build with an earlier
    one (it differs only in post steps) costs no build."""
    return any(cell.variant.name == variant and os.path.exists(plan.layout.stage_record(cell.build.key))
               for cell in plan.cells)


@contextlib.contextmanager
def _output_to(log):
    """Send this process's stdout and stderr (file descriptors 1 and 2: doit's reporters hold the
    original streams) to log while the block runs."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def baseline_row(crate, target):
    """The crate's release row on the target: every trial builds it beside the point (once)."""
    return {"name": BASELINE, "profile": "release", "only": {"crates": [crate.name], "targets": [target]}}


def run_rows(derived, output):
    """Build a trial matrix; returns results.json's cells by row name.
    doit's own output goes to logs/explore-<row>.log in the worker's folder."""
    log_path = os.path.join(output, "logs", f"explore-{derived.variants[-1].name}.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w") as log, _output_to(log):
        status = run_doit(derived.path, ["--continue"], matrix=derived)
    results_path = os.path.join(output, "results.json")
    if not os.path.exists(results_path):
        raise UsageError(f"the trial wrote no results.json (doit exit {status}); see {os.path.relpath(log_path)}")
    return {c["variant"]: c for c in load_results(results_path)["cells"]}


def measure_point(matrix, crate, target, point, output):
    """Build the point (and the release row beside it), smoke-check it, estimate UPX, bench it.
    A point whose build an earlier point made reports cargo's no-op time: the study has the first."""
    name = space.row_name(point)
    derived = trial_matrix(matrix, [baseline_row(crate, target), space.row(point, crate.name, target, name)], output)
    plan = load_plan(derived.path, matrix=derived)
    new_build = not _built(plan, name)
    cells = run_rows(derived, output)
    cell, base = cells.get(name), cells.get(BASELINE)
    out = Measured(ok=False, new_build=new_build)
    if base is not None and base.get("final_bytes"):
        out.baseline_bytes = base["final_bytes"]
    if cell is None or cell["status"] != "ok":
        out.detail = (cell or {}).get("reason") or f"the {name} row did not build"
        return out
    smoke = cell.get("smoke") or {}
    out.build_seconds = float((cell.get("build") or {}).get("seconds") or 0.0)
    out.unpacked_bytes = out.bytes = cell["final_bytes"]
    out.artifact = cell["stages"][-1]["path"]
    if crate.smoke and smoke.get("ok") is not True:
        out.detail = f"smoke check failed: {smoke.get('detail') or 'not run'}"
        return out
    binary = os.path.join(matrix.root, out.artifact)
    if point.get("upx"):
        estimate, why, _ = estimate_outcome(binary, point["upx"])
        if estimate is None:
            out.detail = f"UPX would not pack it: {why}"
            return out
        out.bytes = estimate
    if crate.bench:
        runner, problem = smoke_runner(derived, target, plan.host)
        if problem:
            out.detail = f"bench cannot run: {problem}"
            return out
        try:
            out.speed, runs = bench.measure(crate, target, binary, runner,
                                            os.path.join(output, "logs", f"bench-{name}.log"))
        except bench.BenchFailed as exc:
            out.detail = f"bench failed: {exc}"
            return out
        out.speed_runs = tuple(runs)
    out.ok = True
    out.detail = "ok"
    return out


def confirm_upx(matrix, crate, target, point, output):
    """Pack the point with real UPX, smoke-check the packed file and bench it (a packed program
    unpacks itself into memory, which can cost speed): (bytes, speed or None, None), or
    (None, None, why)."""
    name = space.row_name(point) + "-upx"
    derived = trial_matrix(matrix, [baseline_row(crate, target),
                                    space.row(point, crate.name, target, name, with_upx=True)], output)
    cells = run_rows(derived, output)
    cell = cells.get(name)
    if cell is None or cell["status"] != "ok":
        return None, None, (cell or {}).get("reason") or "the UPX row did not build"
    if crate.smoke and (cell.get("smoke") or {}).get("ok") is not True:
        return None, None, f"the packed file fails its smoke check: {(cell.get('smoke') or {}).get('detail')}"
    speed = None
    if crate.bench:
        try:
            speed, _ = bench.measure_artifact(derived, crate.name, target, os.path.join(matrix.root, cell["stages"][-1]["path"]),
                                              os.path.join(output, "logs", f"bench-{name}.log"))
        except bench.BenchFailed as exc:
            return None, None, f"the packed file's bench failed: {exc}"
    return cell["final_bytes"], speed, None

