import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(ROOT, "tests", "fixtures", "tiny")


def write(path, text):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def copy_tiny(dest):
    """A private copy of the tiny fixture crate at dest (tests may edit it), without build output."""
    shutil.copytree(TINY, dest, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    return dest


# The smallest useful matrix: the tiny crate's release build, and the same build stripped.
TWO_ROWS = """
    version: 1
    crates:
      tiny: {path: tiny, artifact: bin:tiny}
    variants:
      - {name: release}
      - {name: release-stripped, from: release, post: [strip]}
"""

# A firmware's Rust tool (the tiny fixture beside the firmware examples, ../../tests/fixtures/tiny),
# built release and release-stripped, the stripped one under a 2 MiB budget: what the firmware
# examples' size targets are tested with, in seconds.
FIRMWARE_TOOL_MATRIX = """\
version: 1
output: {output}
baseline: release
crates:
  tiny:
    path: ../../tests/fixtures/tiny
    artifact: bin:tiny
    smoke: {{args: [--version], expect: "tiny 0.1.0"}}
    budget: 2MiB
variants:
  - {{name: release, profile: release}}
  - {{name: release-stripped, from: release, post: [strip]}}
"""

DODO = "from sizekit.tasks import matrix_tasks\nglobals().update(matrix_tasks('matrix.yaml'))\n"


def tiny_project(folder, matrix_text, crate_dirs=("tiny",)):
    """A user's project in folder: copies of the tiny crate, the two-line dodo.py, a matrix."""
    if shutil.which("cargo") is None:
        skip_no_tool("cargo", "these machines come with rustup's cargo")
    for name in crate_dirs:
        copy_tiny(os.path.join(str(folder), name))
    write(os.path.join(str(folder), "dodo.py"), DODO)
    write(os.path.join(str(folder), "matrix.yaml"), matrix_text)
    return folder


def dynamic_mutants(data, count, seed):
    """count copies of an ELF32 with one to four 32-bit words of its program headers, dynamic
    table, hash tables or dynamic symbols and strings set to hostile values: what UPX's
    JNI_OnLoad lookup (sk_upx_check) reads."""
    import io
    import random
    import struct
    from elftools.elf.elffile import ELFFile  # lazy: pyelftools is slow to import
    elf = ELFFile(io.BytesIO(data))
    spans = [(elf["e_phoff"], elf["e_phnum"] * elf["e_phentsize"])]
    spans += [(s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()
              if s.name in (".dynamic", ".gnu.hash", ".hash", ".dynsym", ".dynstr") and s["sh_size"]]
    rng = random.Random(seed)
    values = [0, 1, 2, 4, 5, 6, 31, 32, 40, 0x6FFFFEF5, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, len(data),
              len(data) - 4]  # 4, 5, 6, 0x6ffffef5: DT_HASH, DT_STRTAB, DT_SYMTAB, DT_GNU_HASH
    out = []
    for _ in range(count):
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            start, size = rng.choice(spans)
            off = start + 4 * rng.randrange(max(1, size // 4))
            if off + 4 <= len(b):
                v = rng.choice(values) if rng.random() < 0.7 else rng.getrandbits(32)
                struct.pack_into("<I", b, off, v)
        out.append(bytes(b))
    return out


def doit(folder, *args, check=True, env=None, timeout=900):
    """Run `python -m doit ARGS` in folder; raise with its output when check and it fails."""
    proc = subprocess.run([sys.executable, "-m", "doit", *args], cwd=folder, capture_output=True, text=True,
                          timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"doit {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def ran(proc):
    """Names of the tasks doit executed (lines starting with '.  ')."""
    return [line[3:].strip() for line in proc.stdout.splitlines() if line.startswith(".  ")]


def sizekit(*args, cwd=None, env=None, timeout=120):
    """Run the real command line, `python -m sizekit ARGS`, and return the finished process."""
    return subprocess.run([sys.executable, "-m", "sizekit", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


# --- skips -------------------------------------------------------------------------------------
# A test may skip only when something it needs is truly absent, and it says what through one of
# the helpers below. scripts/test sets SIZEKIT_STRICT_SKIPS=1: then a skip is checked against the
# machine (the program is not on PATH, dpkg says the package is not installed, the file does not
# exist, or the one operation this machine may refuse was refused), and any other skip, module-level
# ones included, fails the run.
_SKIPS = []
# Operations a container may refuse even to root; a refusal of anything else is a failure.
REFUSABLE = ("mounting a tmpfs",)


def skip_no_tool(tool, fix="scripts/install installs it"):
    """Skip: the program `tool` is not on PATH."""
    pytest.skip(f"tool {tool} is not on PATH; {fix}")


def skip_no_package(package, fix="scripts/install installs it"):
    """Skip: the Debian package is not installed."""
    pytest.skip(f"Debian package {package} is not installed; {fix}")


def skip_no_file(path, fix="scripts/install makes it"):
    """Skip: the file or folder at path (an absolute path) does not exist."""
    pytest.skip(f"file {path} is missing; {fix}")


def skip_refused(operation, detail):
    """Skip: this machine refused one of the REFUSABLE operations."""
    pytest.skip(f"refused here: {operation}: {detail}")


def require_tool(name):
    if shutil.which(name) is None:
        skip_no_tool(name)


def _installed(package):
    try:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and proc.stdout.endswith("install ok installed")


def _skip_is_allowed(reason):
    """True when the skip's reason is one of the helpers' and the machine agrees with it."""
    for prefix, absent in (("tool ", lambda x: shutil.which(x) is None), ("Debian package ", lambda x: not _installed(x)),
                           ("file ", lambda x: os.path.isabs(x) and not os.path.exists(x))):
        if reason.startswith(prefix):
            name, sep, _ = reason[len(prefix):].partition(" is ")
            return bool(sep) and " " not in name and absent(name)
    if reason.startswith("refused here: "):
        return reason[len("refused here: "):].partition(":")[0] in REFUSABLE
    return False


def _record(nodeid, longrepr):
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    _SKIPS.append((nodeid, reason, _skip_is_allowed(reason)))


_XFAILS = []


def pytest_runtest_logreport(report):
    if report.skipped and hasattr(report, "wasxfail"):
        # An expected failure is no skip: the test ran and measured a known gap, which its reason
        # states with the figures (listed in the summary, never hidden).
        _XFAILS.append((report.nodeid, report.wasxfail))
    elif report.skipped:
        _record(report.nodeid, report.longrepr)


def pytest_collectreport(report):
    # A module-level skip (allow_module_level=True) skips a whole file at collection.
    if report.skipped:
        _record(report.nodeid, report.longrepr)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("SIZEKIT_STRICT_SKIPS") == "1" and any(not ok for _, _, ok in _SKIPS):
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    bad = [(node, reason) for node, reason, ok in _SKIPS if not ok]
    terminalreporter.write_line(f"sizekit: {len(_SKIPS)} skipped, {len(bad)} of them not for an absent tool")
    for node, reason in _XFAILS:
        terminalreporter.write_line(f"sizekit: expected failure (a known gap): {node}: {reason}")
    for node, reason in bad:
        terminalreporter.write_line(f"  {node}: {reason}")
    if bad and os.environ.get("SIZEKIT_STRICT_SKIPS") == "1":
        terminalreporter.write_line("sizekit: SIZEKIT_STRICT_SKIPS=1: failing the run for the skips above")
