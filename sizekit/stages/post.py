"""The post-step stage: strip and UPX, each on a copy under the output folder."""
import os

from ..plan.availability import strip_tool, upx_binary
from ..plan.records import StageRecord
from ..utils.procs import run_capture, tail
from . import records


def run_post(plan, step):
    """Run one post step on the previous stage's artifact. Returns the stage record."""
    layout = plan.layout
    parent_key = step.parent.key if step.parent else step.build.key
    parent = records.read(layout, parent_key)
    if parent is None or not parent.ok:
        parent = parent or StageRecord(status="failed", step="?", reason="the previous stage left no record")
        return records.write_problem(layout, step.key, step.kind, parent.status, parent.reason,
                                     log=parent.log and layout.absolute(parent.log), tail=parent.tail)
    if step.problem:
        return records.write_problem(layout, step.key, step.kind, "unavailable", step.problem)
    src = layout.absolute(parent.path)
    dst = layout.step_artifact(step, os.path.basename(src))
    log = layout.log(step.kind, step.key)
    if step.kind == "strip":
        argv = step.post.argv(strip_tool(plan.matrix, step.build.target, plan.host, step), src, dst + ".tmp")
    else:
        argv = step.post.argv(upx_binary(), src, dst + ".tmp")
    problem = run_step(step.kind, argv, dst, log)
    if problem:
        return records.write_problem(layout, step.key, step.kind, "failed", problem, log=log, tail=tail(log))
    return records.write_ok(layout, step.key, step.kind, dst, log=log)


def run_step(kind, argv, dst, log_path):
    """Run argv, which writes dst + ".tmp"; keep it as dst when it succeeds (and, for UPX,
    when `upx -t` accepts it). Returns None on success, else the reason."""
    tmp = dst + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    lines = ["$ " + " ".join(argv)]
    try:
        code, out = run_capture(argv, timeout=1800)
        lines.append(out)
        if code != 0:
            lines.append(reason := f"{kind} failed (exit status {code}): {_last_line(out)}")
            return reason
        if kind == "upx":
            code, out = run_capture([upx_binary(), "-t", "-q", tmp], timeout=600)
            lines.append("$ upx -t\n" + out)
            if code != 0:
                lines.append(reason := f"upx -t rejected the packed file: {_last_line(out)}")
                return reason
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        _write_log(log_path, lines)
    return None


def _last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1].strip() if lines else "no output"


def _write_log(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
