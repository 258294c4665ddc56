"""Measure a built point's speed with the crate's `bench:` command: the median of a fixed number
of runs. With `server: true` the artifact serves on a loopback port while the command runs."""
import os
import re
import statistics
import subprocess
import tempfile
import time

from ..stages.smoke import NotServing, expand, for_target, serving


class BenchFailed(Exception):
    """The bench command failed, timed out or printed no metric; the message says which."""


def _run_once(spec, values, env, log):
    command = [expand(arg, values) for arg in spec["command"]]
    log.write(("$ " + " ".join(command) + "\n").encode())
    log.flush()
    start = time.monotonic()
    try:
        proc = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=spec["timeout"])
    except subprocess.TimeoutExpired:
        raise BenchFailed(f"{command[0]} timed out after {spec['timeout']} s") from None
    except OSError as exc:
        raise BenchFailed(f"cannot start {command[0]}: {exc.strerror or exc}") from None
    seconds = time.monotonic() - start
    output = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    log.write(output.encode())
    if proc.returncode != 0:
        raise BenchFailed(f"{command[0]} exited with {proc.returncode}: {output.strip()[-200:]!r}")
    if spec["metric"] is None:
        return seconds
    m = re.search(spec["metric"], output)
    if not m:
        raise BenchFailed(f"{command[0]}'s output has no match for metric {spec['metric']!r}: {output.strip()[-200:]!r}")
    try:
        return float(m.group(1))
    except ValueError:
        raise BenchFailed(f"metric {spec['metric']!r} captured {m.group(1)!r}, not a number") from None


def measure(crate, target, binary, runner, log_path):
    """The median of the bench's runs for this artifact, and every run's value. Raises BenchFailed."""
    spec = crate.bench
    artifact = os.path.abspath(binary)
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sizekit-bench-") as tmp, open(log_path, "wb") as log:
        values = {"artifact": artifact, "artifact_dir": os.path.dirname(artifact), "tmp": tmp, "port": ""}
        env = {**os.environ, **{k: expand(v, values) for k, v in spec["env"].items()}}
        if not spec["server"]:
            runs = [_run_once(spec, values, env, log) for _ in range(int(spec["runs"]))]
            return statistics.median(runs), runs
        smoke = for_target(crate.smoke, target)
        argv = list(runner or []) + [artifact]
        try:
            with serving(smoke, argv, {**os.environ, **smoke.get("env", {})}, log) as (port, _, _):
                values["port"] = str(port)
                runs = [_run_once(spec, values, env, log) for _ in range(int(spec["runs"]))]
        except NotServing as exc:
            raise BenchFailed(f"the server did not start: {exc}") from None
        return statistics.median(runs), runs


def measure_artifact(matrix, crate_name, target, binary, log_path):
    """The crate's bench on any built file of it (a hand-written row's, say): (median, runs)."""
    from ..plan.availability import smoke_runner
    from ..utils.host import host_triple
    runner, problem = smoke_runner(matrix, target, matrix.host or host_triple())
    if problem:
        raise BenchFailed(problem)
    crate = matrix.crates[crate_name]
    if not crate.bench:
        raise BenchFailed(f"crate {crate_name} has no bench: in {matrix.path}")
    return measure(crate, target, binary, runner, log_path)
