#!/usr/bin/env python3
"""Boot check: does the server inside a firmware image still run and answer?

    python3 boot_check.py IMAGE [--program /usr/bin/server] [--qemu qemu-arm] [--expect TEXT]

The image (a squashfs file) is unpacked with unsquashfs into a temporary folder, which becomes
the root the program sees: `qemu-arm -L ROOT ROOT/usr/bin/server`, so its ELF interpreter and
C library come from the image, not from the build machine. The server gets a free loopback port
in $PORT and must answer GET / with TEXT within --timeout seconds. Exit 0 when it does, 1 when
it does not (with its output), 2 when the image cannot be unpacked or a tool is missing.
"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unpack(image, dest):
    """The image's files under dest; a problem is (exit 2, why)."""
    if not os.path.isfile(image):
        raise SystemExit(f"boot-check: {image}: no such image (make image builds it)")
    tool = shutil.which("unsquashfs")
    if tool is None:
        raise SystemExit("boot-check: unsquashfs is not installed (apt-get install squashfs-tools)")
    proc = subprocess.run([tool, "-no-progress", "-quiet", "-d", dest, image], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"boot-check: {image}: unsquashfs failed: {proc.stderr.strip()[-400:]}")


def ask(port, deadline, proc):
    """The body GET / answers with, or None when the deadline passes or the program exits."""
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            return conn.getresponse().read().decode("utf-8", "replace")
        except OSError:
            time.sleep(0.2)
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("--program", default="/usr/bin/server", help="the server's path inside the image")
    ap.add_argument("--qemu", default="qemu-arm", help="the user-mode emulator for the image's CPU")
    ap.add_argument("--expect", default="Hello, world!", help="text the answer must contain")
    ap.add_argument("--timeout", type=float, default=30.0)
    args = ap.parse_args(argv)
    if shutil.which(args.qemu) is None:
        raise SystemExit(f"boot-check: {args.qemu} is not installed (apt-get install qemu-user)")
    with tempfile.TemporaryDirectory(prefix="boot-check-") as tmp:
        root = os.path.join(tmp, "root")
        unpack(args.image, root)
        program = os.path.join(root, args.program.lstrip("/"))
        if not os.path.isfile(program):
            print(f"boot-check: {args.image}: no {args.program} in the image", file=sys.stderr)
            return 1
        port = free_port()
        argv = [args.qemu, "-L", root, program]
        start = time.monotonic()
        log = open(os.path.join(tmp, "server.log"), "w+")
        proc = subprocess.Popen(argv, env=dict(os.environ, PORT=str(port)), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            body = ask(port, start + args.timeout, proc)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        seconds = time.monotonic() - start
        if body is not None and args.expect in body:
            print(f"boot-check: {args.image}: {args.program} answered {body.strip()[:60]!r} on 127.0.0.1:{port} "
                  f"under {args.qemu} -L <the image's root> ({seconds:.1f} s)")
            return 0
        log.seek(0)
        output = log.read()[-800:].strip()
        why = (f"answered {body.strip()[:60]!r}, not {args.expect!r}" if body is not None
               else f"exited with status {proc.returncode}" if proc.returncode not in (None, -signal.SIGKILL)
               else f"did not answer within {args.timeout:g} s")
        print(f"boot-check: {args.image}: {args.program} {why}" + (f"; its output:\n{output}" if output else ""),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            sys.exit(2)
        raise
