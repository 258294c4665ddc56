"""sccache as cargo's RUSTC_WRAPPER, with one private sccache server per build.

A server of its own (on a free SCCACHE_SERVER_PORT) means its statistics are that build's
hits and misses, even when doit runs builds side by side. The cache itself is whatever the
user configured: SCCACHE_REDIS_ENDPOINT, SCCACHE_DIR, SCCACHE_BUCKET and the rest come from
the environment and from the matrix's `cache: {sccache: {env: ...}}`. When the server does
not start (a Redis that does not answer, say), the build goes on without the cache and its
log says why.

C compiles of build scripts go through the same server: build scripts that hand configure or
make the bare compiler path (jemalloc-sys does) drop cc's own wrapper, so the build's
CC_<target> names a two-line script that runs the compiler under sccache. SCCACHE_BASEDIRS
defaults to the matrix's folder and the output folder, so a checkout at another path (another
CI machine) still hits: C objects built with -g then keep the first machine's folder names in
their debug info, as with ccache's base_dir.
"""
import json
import os
import shlex
import shutil
import subprocess

from ..utils.fsutil import write_text_if_changed
from ..utils.procs import free_port, run_capture

START_TIMEOUT = 60


def _run(binary, args, env, timeout=START_TIMEOUT):
    """(exit status, output) of one sccache call; one that cannot start or hangs is a failure."""
    try:
        code, out = run_capture([binary, *args], timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return code, out.strip()


def _total(counts):
    return sum(v for v in (counts or {}).get("counts", {}).values() if isinstance(v, int))


def read_stats(text):
    """{hits, misses, errors, not_cached, location, languages} from `sccache --show-stats
    --stats-format json`; languages is {"Rust": {hits, misses}, "C/C++": {...}}."""
    data = json.loads(text)
    stats = data.get("stats", {})
    languages: dict = {}
    for field in ("hits", "misses"):
        for lang, n in ((stats.get(f"cache_{field}") or {}).get("counts") or {}).items():
            languages.setdefault(lang, {"hits": 0, "misses": 0})[field] = n
    return {"hits": _total(stats.get("cache_hits")), "misses": _total(stats.get("cache_misses")),
            "errors": _total(stats.get("cache_errors")),
            "not_cached": sum((stats.get("not_cached") or {}).values()),
            "location": data.get("cache_location"), "languages": languages}


SYSROOT_LIMIT = ("sccache does not cache rustc calls that pass --sysroot (mozilla/sccache#2229), "
                 "as a toolchain with sysroot: does; its build scripts' C compiles are still cached")


def uncached_notes(text):
    """Log lines on why sccache left compiles uncached, where the reason is sizekit's to explain."""
    try:
        reasons = json.loads(text).get("stats", {}).get("not_cached") or {}
    except ValueError:
        return []
    n = reasons.get("--sysroot", 0)
    return [f"sizekit: {n} rustc calls not cached: {SYSROOT_LIMIT}"] if n else []


def wrappable(compiler, env):
    """compiler's full path when it is one program on env's PATH and no cache wrapper itself."""
    if not compiler or len(shlex.split(compiler)) != 1 or \
            os.path.basename(compiler).startswith(("sccache", "ccache")):
        return None
    return shutil.which(compiler, path=env.get("PATH"))


def cc_wrapper(binary, compiler, folder, env):
    """Path of a script in folder that runs compiler under sccache (None when it is not
    wrappable). The script keeps the compiler's name, so cc still tells gcc from clang by it."""
    real = wrappable(compiler, env)
    if real is None:
        return None
    name = os.path.basename(compiler)
    path = os.path.join(folder, name)
    text = (f"#!/bin/sh\n# sizekit: {name} under sccache (matrix cache: sccache)\n"
            f"exec {shlex.quote(binary)} {shlex.quote(real)} \"$@\"\n")
    write_text_if_changed(path, text, mode=0o755)  # two builds at once write the same text
    return path


def uncached_cc(target, compiler):
    """Why target's build-script C compiles are not cached, with the fix (compiler not wrappable)."""
    if compiler is None:
        return f"no C compiler is known for it; fix: set targets.{target}.linker or CC_{target}"
    return f"{compiler!r} is not one compiler on PATH; fix: name one in CC_{target}"


class Session:
    """One build's sccache server: start() before cargo, finish() after."""

    def __init__(self, binary, cache, basedirs=()):
        self.binary, self.cache = binary, cache
        self.env = {**cache.env, "SCCACHE_SERVER_PORT": str(free_port())}
        if basedirs and "SCCACHE_BASEDIRS" not in self.env and "SCCACHE_BASEDIRS" not in os.environ:
            self.env["SCCACHE_BASEDIRS"] = ":".join(dict.fromkeys(os.path.realpath(d) for d in basedirs))
        self.notes = []
        self.started = False
        self.reason = None

    def start(self, base_env, c_compilers=None, folder=None):
        """Environment overrides for cargo: the wrapper and its server, or {} without a cache.

        c_compilers ({target: C compiler}) are wrapped too, by scripts written to folder."""
        code, out = _run(self.binary, ["--start-server"], {**base_env, **self.env})
        if code != 0:
            errors = [line.split("error: ", 1)[-1] for line in out.splitlines() if "error" in line]
            self.reason = (errors[-1] if errors else " ".join(out.split()))[-300:]
            self.notes.append(f"sizekit: the sccache server did not start, so this build runs without the "
                              f"cache: {self.reason}")
            return {}
        self.started = True
        env = {"RUSTC_WRAPPER": self.binary, **self.env}
        for target, compiler in (c_compilers or {}).items():
            script = cc_wrapper(self.binary, compiler, os.path.join(folder, target), base_env)
            if script:
                env[f"CC_{target}"] = script
            else:
                self.notes.append(f"sizekit: C compiles for {target} are not cached: "
                                  f"{uncached_cc(target, compiler)}")
        return env

    def finish(self, base_env):
        """The build's cache record: tool, hits, misses, errors and where the cache is."""
        record = {"tool": "sccache", "used": self.started}
        if not self.started:
            record["reason"] = f"the sccache server did not start: {self.reason}"
            return record
        env = {**base_env, **self.env}
        code, out = _run(self.binary, ["--show-stats", "--stats-format", "json"], env)
        try:
            record.update(read_stats(out) if code == 0 else {})
        except ValueError:
            self.notes.append(f"sizekit: could not read sccache's statistics: {out[:200]}")
        _run(self.binary, ["--stop-server"], env)
        self.notes.append(f"sizekit: sccache ({record.get('location')}): {record.get('hits')} hits, "
                          f"{record.get('misses')} misses")
        if code == 0:
            self.notes += uncached_notes(out)
        return record


def probe(binary, cache, base_env):
    """For `sizekit doctor`: (version, enabled backends, where the cache is, problem or None).

    Starts a private server with the matrix's settings, as a build would, and reads back where
    its cache lives; a backend that does not answer keeps the server from starting."""
    code, out = _run(binary, ["--version"], base_env, timeout=30)
    version = out.split()[-1] if code == 0 and out else None
    _, text = _run(binary, ["--help"], base_env, timeout=30)
    features = text.split("Enabled features:", 1)[-1] if "Enabled features:" in text else ""
    backends = [line.split(":")[0].strip() for line in features.splitlines()
                if line.strip().endswith("true")]
    session = Session(binary, cache)
    if not session.start(base_env):
        return version, backends, None, session.reason
    record = session.finish(base_env)
    return version, backends, record.get("location"), None
