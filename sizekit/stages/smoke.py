"""Prove a built artifact still works: run it (under the target's runner) and check its answer.

Three forms: run the artifact with args and look for expect in its output; start it as a
server and send it GET (http); or run another program that loads it (command, e.g.
gst-launch-1.0 for a GStreamer plugin), with {artifact}, {artifact_dir} and {tmp} in the
command and its env. For a foreign target the command runs under the target's runner too.

Every run has a timeout and runs in its own process group, which is killed
afterwards, so no server is left listening. Servers bind loopback ports only.
"""
import contextlib
import http.client
import os
import signal
import string
import subprocess
import tempfile
import time

from ..plan.availability import smoke_program, smoke_runner
from ..plan.records import SmokeRecord
from ..utils.procs import free_port, kill_group
from . import records


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


class NotServing(Exception):
    """The artifact exited, or did not answer HTTP in time; the message says which."""


@contextlib.contextmanager
def serving(spec, argv, env, log):
    """Start the artifact as the smoke spec's http form says, on a free loopback port; once it
    answers GET, yield (port, status, body) of that first answer. It is killed afterwards."""
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
                raise NotServing(f"{describe_exit(code)} before serving HTTP")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=max(0.5, deadline - time.monotonic()))
                conn.request("GET", http_spec.get("path", "/"))
                resp = conn.getresponse()
                body = resp.read().decode("utf-8", "replace")
                conn.close()
                break
            except (ConnectionError, OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise NotServing(f"no HTTP answer on 127.0.0.1:{port} within {spec['timeout']} s") from None
                time.sleep(0.05)
        yield port, resp.status, body
    finally:
        kill_group(proc)
        proc.wait()


def run_http(spec, argv, env, log):
    try:
        with serving(spec, argv, env, log) as (_, status, body):
            pass
    except NotServing as exc:
        return {"ok": False, "detail": str(exc)}
    expect = spec["http"].get("expect")
    if status != 200:
        return {"ok": False, "detail": f"HTTP {status} {_short(body)!r}"}
    if expect is not None and expect not in body:
        return {"ok": False, "detail": f"HTTP 200 but body lacks {expect!r}: {_short(body)!r}"}
    return {"ok": True, "detail": f"HTTP 200 {_short(body)!r}"}


def expand(text, values):
    """text with its {name} placeholders replaced from values ({{ and }} are literal braces).

    The matrix checker has let only known names through; nothing else of str.format
    (attributes, indexes, format specs) is interpreted."""
    out = []
    for literal, name, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)


def for_target(spec, target):
    """The smoke spec as it applies to target: smoke.targets.<target> on top (env merged)."""
    over = (spec.get("targets") or {}).get(target)
    spec = {k: v for k, v in spec.items() if k != "targets"}
    if over:
        env = {**spec.get("env", {}), **over.get("env", {})}
        spec.update(over)
        spec["env"] = env
    return spec


def run_command(spec, binary, runner, log_path, find_program=None):
    """The command form: run spec["command"] (under runner) with the artifact's placeholders filled."""
    artifact = os.path.abspath(binary)
    with tempfile.TemporaryDirectory(prefix="sizekit-smoke-") as tmp:
        values = {"artifact": artifact, "artifact_dir": os.path.dirname(artifact), "tmp": tmp}
        command = [expand(arg, values) for arg in spec["command"]]
        extra_env = {k: expand(v, values) for k, v in spec.get("env", {}).items()}
        env = {**os.environ, **extra_env}
        if find_program is not None:
            program, problem = find_program(command[0], env)
            if problem:
                return {"ok": None, "detail": f"unavailable: {problem}"}
            command[0] = program
        argv = list(runner or []) + command
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(log_path, "w+b") as log:
            shown = [f"{k}={v}" for k, v in sorted(extra_env.items())] + argv
            log.write(("$ " + " ".join(shown) + "\n").encode())
            log.flush()
            try:
                return run_args(spec, argv, env, log)
            except OSError as exc:
                return {"ok": False, "detail": f"cannot start: {exc.strerror or exc}"}


def run_smoke(spec, binary, runner=None, log_path=None, find_program=None):
    """Run one smoke check. Returns {"ok": bool, "detail": str} ({"ok": None, ...} when it cannot run).

    find_program(name, env) -> (path, problem) resolves a command's program (the stage looks in
    the runner's sysroot for foreign targets); without it the name is run as it is. With link:
    the artifact starts through a symlink of that name (argv[0]: a multicall binary's program)."""
    if "command" in spec:
        return run_command(spec, binary, runner, log_path, find_program)
    if spec.get("link"):
        with tempfile.TemporaryDirectory(prefix="sizekit-link-") as tmp:
            link = os.path.join(tmp, spec["link"])
            os.symlink(os.path.abspath(binary), link)
            return run_smoke({k: v for k, v in spec.items() if k != "link"}, link, runner, log_path, find_program)
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


def shared_std_env(layout, build):
    """A prefer-dynamic build loads the std shipped in its build folder (stages.build.ship_std):
    LD_LIBRARY_PATH names that folder (qemu-user hands it to the target's loader)."""
    folder = os.path.dirname(layout.build_artifact(build, "x"))
    rest = os.environ.get("LD_LIBRARY_PATH")
    return {"LD_LIBRARY_PATH": folder + (":" + rest if rest else "")}


def wants_smoke(cell):
    """Runnable artifacts with a smoke: spec are started; any artifact with a smoke command is
    loaded by that command (a cdylib by the program that dlopen()s it)."""
    smoke = cell.crate.smoke
    return bool(smoke) and (cell.crate.kind in ("bin", "example") or "command" in smoke)


def smoke_checks(smoke):
    """The checks of a crate's smoke spec, in order: itself, then the ones under "more"."""
    return [{k: v for k, v in smoke.items() if k != "more"}, *smoke.get("more", [])]


def combined(results, links):
    """One verdict from several checks: failed if one failed, not run if one could not run."""
    if len(results) == 1:
        return results[0]
    oks = [r["ok"] for r in results]
    ok = False if False in oks else None if None in oks else True
    detail = "; ".join(f"{link or f'check {i + 1}'}: {r['detail']}" for i, (r, link) in enumerate(zip(results, links)))
    first = next((r for r in results if r["ok"] is ok), results[0])
    return {"ok": ok, "detail": detail, **({"log": first["log"]} if "log" in first else {})}


def run_smoke_stage(plan, cell):
    """Start the cell's final artifact (under the target's runner) and check its answer; each
    check of a list in turn."""
    layout = plan.layout
    record = records.read(layout, cell.last.key)
    runner, problem = smoke_runner(plan.matrix, cell.target, plan.host)
    result: dict
    if record is None or not record.ok:
        result = {"ok": None, "detail": "not run: the cell has no artifact"}
    elif problem:
        result = {"ok": None, "detail": f"unavailable: {problem}"}
    else:
        def find_program(program, env):
            return smoke_program(plan.matrix, program, cell.target, plan.host, runner, env)

        checks = smoke_checks(cell.crate.smoke)
        results = []
        for i, check in enumerate(checks):
            log = layout.log("smoke", cell.id if i == 0 else f"{cell.id}-{i + 1}")
            spec = for_target(check, cell.target)
            if cell.build.dynamic_std:
                extra = shared_std_env(layout, cell.build)
                if "command" in spec:   # its env values are templates: a brace in the path is a brace
                    extra = {k: v.replace("{", "{{").replace("}", "}}") for k, v in extra.items()}
                spec["env"] = {**spec.get("env", {}), **extra}
            got = run_smoke(spec, layout.absolute(record.path), runner, log, find_program)
            if got["ok"] is not None:  # it ran: its output is in the log
                got["log"] = layout.rel(log)
            results.append(got)
        result = combined(results, [c.get("link") for c in checks])
    SmokeRecord(**result).write(layout.smoke_record(cell))
    return result
