"""Post steps on copies under the output folder: strip and UPX."""
import os

from .procs import run_capture

UPX_ENV = "SIZEKIT_UPX"


def upx_binary():
    return os.environ.get(UPX_ENV, "upx")


def strip_argv(tool, options, src, dst):
    return [tool, *options.get("args", []), "-o", dst, src]


def upx_argv(options, src, dst):
    level = options.get("level", "best")
    argv = [upx_binary(), "--best" if level == "best" else f"-{level}"]
    for flag in ("lzma", "brute", "ultra-brute"):
        if options.get(flag):
            argv.append(f"--{flag}")
    return argv + ["-q", "--force", "-o", dst, src]


def run_step(kind, options, tool, src, dst, log_path):
    """Run one post step from src to dst. Returns None on success, else the reason."""
    tmp = dst + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    argv = strip_argv(tool, options, src, tmp) if kind == "strip" else upx_argv(options, src, tmp)
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
