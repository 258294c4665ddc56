"""The machine's own target triple, which a matrix may name without a targets: entry."""
import platform
import shutil
import subprocess


def host_triple():
    """The host's target triple: from the platform when it is a common Linux, else from rustc."""
    machine = platform.machine()
    if platform.system() == "Linux" and machine in ("x86_64", "aarch64") and platform.libc_ver()[0] == "glibc":
        return f"{machine}-unknown-linux-gnu"
    rustc = shutil.which("rustc")
    if rustc:
        try:
            out = subprocess.run([rustc, "-vV"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        for line in out.splitlines():
            if line.startswith("host: "):
                return line[6:].strip()
    return "x86_64-unknown-linux-gnu"
