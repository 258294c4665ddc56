"""sccache as cargo's RUSTC_WRAPPER, with one private sccache server per build.

A server of its own (on a free SCCACHE_SERVER_PORT) means its statistics are that build's
hits and misses, even when doit runs builds side by side. The cache itself is whatever the
user configured: SCCACHE_REDIS_ENDPOINT, SCCACHE_DIR, SCCACHE_BUCKET and the rest come from
the environment and from the matrix's `cache: {sccache: {env: ...}}`. When the server does
not start (a Redis that does not answer, say), the build goes on without the cache and its
log says why.
"""
import json
import subprocess

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
    """{hits, misses, errors, not_cached, location} from `sccache --show-stats --stats-format json`."""
    data = json.loads(text)
    stats = data.get("stats", {})
    return {"hits": _total(stats.get("cache_hits")), "misses": _total(stats.get("cache_misses")),
            "errors": _total(stats.get("cache_errors")),
            "not_cached": sum((stats.get("not_cached") or {}).values()),
            "location": data.get("cache_location")}


class Session:
    """One build's sccache server: start() before cargo, finish() after."""

    def __init__(self, binary, cache):
        self.binary, self.cache = binary, cache
        self.env = {**cache.env, "SCCACHE_SERVER_PORT": str(free_port())}
        self.notes = []
        self.started = False
        self.reason = None

    def start(self, base_env):
        """Environment overrides for cargo: the wrapper and its server, or {} without a cache."""
        code, out = _run(self.binary, ["--start-server"], {**base_env, **self.env})
        if code != 0:
            errors = [line.split("error: ", 1)[-1] for line in out.splitlines() if "error" in line]
            self.reason = (errors[-1] if errors else " ".join(out.split()))[-300:]
            self.notes.append(f"sizekit: the sccache server did not start, so this build runs without the "
                              f"cache: {self.reason}")
            return {}
        self.started = True
        return {"RUSTC_WRAPPER": self.binary, **self.env}

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
