"""Prove a built artifact still works: run it (under the target's runner) and check its answer.

Every run has a timeout and runs in its own process group, which is killed
afterwards, so no server is left listening. Servers bind loopback ports only.
"""
import http.client
import os
import signal
import socket
import subprocess
import time

from ..plan.availability import smoke_runner
from ..utils.fsutil import write_json_if_changed
from ..utils.procs import kill_group
from . import records


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def describe_exit(code):
    """'exit 3', or the signal's name ('SIGSEGV') for a process killed by one."""
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit {code}"


def _start(argv, env, log):
    return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _read_log(log):
    """What the program printed (the log's first line is the command)."""
    log.flush()
    log.seek(0)
    log.readline()
    return log.read().decode("utf-8", "replace")


def _short(text, n=60):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


def run_args(spec, argv, env, log):
    proc = _start(argv + spec.get("args", []), env, log)
    try:
        code = proc.wait(timeout=spec["timeout"])
    except subprocess.TimeoutExpired:
        return {"ok": False, "detail": f"timed out after {spec['timeout']} s"}
    finally:
        kill_group(proc)
        proc.wait()
    output = _read_log(log)
    if code != spec.get("exit", 0):
        return {"ok": False, "detail": describe_exit(code)}
    expect = spec.get("expect")
    if expect is not None and expect not in output:
        return {"ok": False, "detail": f"output lacks {expect!r}: {_short(output)!r}"}
    return {"ok": True, "detail": f"{describe_exit(code)}, output has {expect!r}" if expect else describe_exit(code)}


def run_http(spec, argv, env, log):
    http_spec = spec["http"]
    port = free_port()
    env = dict(env)
    if http_spec.get("port-arg"):
        argv = argv + [str(port)]
    else:
        env[http_spec.get("port-env", "PORT")] = str(port)
    proc = _start(argv + spec.get("args", []), env, log)
    deadline = time.monotonic() + spec["timeout"]
    try:
        while True:
            code = proc.poll()
            if code is not None:
                return {"ok": False, "detail": f"{describe_exit(code)} before serving HTTP"}
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=max(0.5, deadline - time.monotonic()))
                conn.request("GET", http_spec.get("path", "/"))
                resp = conn.getresponse()
                body = resp.read().decode("utf-8", "replace")
                conn.close()
                break
            except (ConnectionError, OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    return {"ok": False, "detail": f"no HTTP answer on 127.0.0.1:{port} within {spec['timeout']} s"}
                time.sleep(0.05)
    finally:
        kill_group(proc)
        proc.wait()
    expect = http_spec.get("expect")
    if resp.status != 200:
        return {"ok": False, "detail": f"HTTP {resp.status} {_short(body)!r}"}
    if expect is not None and expect not in body:
        return {"ok": False, "detail": f"HTTP 200 but body lacks {expect!r}: {_short(body)!r}"}
    return {"ok": True, "detail": f"HTTP 200 {_short(body)!r}"}


def run_smoke(spec, binary, runner=None, log_path=None):
    """Run one smoke check. Returns {"ok": bool, "detail": str}."""
    argv = list(runner or []) + [os.path.abspath(binary)]
    env = {**os.environ, **spec.get("env", {})}
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w+b") as log:
        log.write(("$ " + " ".join(argv) + "\n").encode())
        log.flush()
        try:
            if "http" in spec:
                return run_http(spec, argv, env, log)
            return run_args(spec, argv, env, log)
        except OSError as exc:
            return {"ok": False, "detail": f"cannot start: {exc.strerror or exc}"}


def wants_smoke(cell):
    """Only runnable artifacts with a smoke: spec are started."""
    return bool(cell.crate.smoke) and cell.crate.kind in ("bin", "example")


def run_smoke_stage(plan, cell):
    """Start the cell's final artifact (under the target's runner) and check its answer."""
    layout = plan.layout
    record = records.read(layout, cell.last.key)
    runner, problem = smoke_runner(plan.matrix, cell.target, plan.host)
    if record is None or record["status"] != "ok":
        result = {"ok": None, "detail": "not run: the cell has no artifact"}
    elif problem:
        result = {"ok": None, "detail": f"unavailable: {problem}"}
    else:
        log = layout.log("smoke", cell.id)
        result = run_smoke(cell.crate.smoke, layout.absolute(record["path"]), runner, log)
        result["log"] = layout.rel(log)
    write_json_if_changed(layout.smoke_record(cell), result)
    return result
