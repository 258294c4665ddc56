"""Child processes: logged runs that never outlive sizekit, log tails, and loopback ports for them."""
import os
import signal
import socket
import subprocess
import threading


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_logged(argv, env, log_path, on_stdout=None, cwd=None, timeout=None):
    """Run argv in its own process group; stderr (and stdout lines on_stdout rejects) go to log_path.

    On Ctrl-C, a timeout or any other exception, the whole group is killed.
    Returns the exit status (negative for a signal, None on timeout).
    """
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        log.write("$ " + " ".join(argv) + "\n")
        log.flush()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=log, start_new_session=True, text=True, errors="replace")
        stdout = proc.stdout
        assert stdout is not None   # stdout=PIPE
        timer = None
        timed_out: list = []
        if timeout:
            def expire():
                timed_out.append(True)
                kill_group(proc)
            timer = threading.Timer(timeout, expire)
            timer.start()
        try:
            for line in stdout:
                if on_stdout is None or not on_stdout(line):
                    log.write(line)
            code = proc.wait()
        except BaseException:
            kill_group(proc)
            proc.wait()
            raise
        finally:
            if timer:
                timer.cancel()
            stdout.close()
        if timed_out:
            log.write(f"\n[sizekit] killed after {timeout} s\n")
            return None
        return code


def tail(path, lines=15):
    """The last lines of a log file, as one string."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 16384))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def run_capture(argv, timeout=120, env=None):
    """Run a short tool; returns (exit status, combined output). Kills its group on timeout."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True, text=True, errors="replace", env=env)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except BaseException:
        kill_group(proc)
        proc.wait()
        raise
    return proc.returncode, out
