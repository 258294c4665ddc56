"""The compile cache's set-up, without building: the matrix's `cache:` key, which C compiler a
build script's cc crate would pick, the script that puts sccache in front of it, and sccache's
statistics per language."""
import json
import subprocess

import pytest

from sizekit.config.load import load_matrix
from sizekit.plan.availability import c_compiler
from sizekit.stages.sccache import Session, cc_wrapper, read_stats
from sizekit.utils.errors import MatrixError

from conftest import TINY, write

ARM = "armv7-unknown-linux-gnueabihf"


def matrix(tmp_path, cache):
    return load_matrix(write(tmp_path / "m.yaml", f"""
        version: 1
        {cache}
        targets:
          {ARM}: {{linker: arm-linux-gnueabihf-gcc}}
        crates:
          tiny: {{path: {TINY}}}
        variants:
          - {{name: release}}
    """))


def test_cache_forms(tmp_path):
    short = matrix(tmp_path, "cache: sccache").cache
    assert (short.tool, short.env, short.required, short.cc) == ("sccache", {}, True, True)
    long = matrix(tmp_path, "cache: {sccache: {env: {SCCACHE_DIR: /c}, required: false, cc: false}}").cache
    assert (long.env, long.required, long.cc) == ({"SCCACHE_DIR": "/c"}, False, False)
    assert matrix(tmp_path, "").cache is None


@pytest.mark.parametrize("line, problem", [
    ("cache: {sccache: {cc: maybe}}", "m.yaml:2: cache.sccache.cc: expected true or false, got 'maybe'"),
    ("cache: {sccache: {c: false}}", "m.yaml:2: cache.sccache.c: unknown key (did you mean \"cc\"?); allowed: env, required, cc"),
    ("cache: ccache", "m.yaml:2: cache: unknown compile cache 'ccache'"),
])
def test_bad_cache_lines_name_the_key(tmp_path, line, problem):
    with pytest.raises(MatrixError) as exc:
        matrix(tmp_path, line)
    assert any(problem in p for p in exc.value.problems), exc.value.problems


def test_c_compiler_follows_the_cc_crates_order(tmp_path):
    m = matrix(tmp_path, "")
    host = "x86_64-unknown-linux-gnu"
    assert c_compiler(m, host, host, {}) == "cc"
    assert c_compiler(m, ARM, host, {}) == "arm-linux-gnueabihf-gcc"        # the target's linker
    assert c_compiler(m, "aarch64-unknown-linux-gnu", host, {}) is None       # nothing known
    env = {"CC": "gcc", "TARGET_CC": "t-gcc", "HOST_CC": "h-gcc"}
    assert c_compiler(m, ARM, host, env) == "t-gcc"
    assert c_compiler(m, host, host, env) == "h-gcc"
    env[f"CC_{ARM.replace('-', '_')}"] = "u-gcc"
    assert c_compiler(m, ARM, host, env) == "u-gcc"
    env[f"CC_{ARM}"] = "d-gcc"
    assert c_compiler(m, ARM, host, env) == "d-gcc"
    assert c_compiler(m, host, host, {"CC": "clang"}) == "clang"


def test_the_wrapper_runs_the_same_compiler_under_sccache(tmp_path):
    # /bin/echo stands in for sccache's command line only: the script must hand it the
    # compiler's full path and every argument unchanged.
    script = cc_wrapper("/bin/echo", "cc", str(tmp_path / "w"), {"PATH": "/usr/bin:/bin"})
    assert script == str(tmp_path / "w" / "cc")
    out = subprocess.run([script, "-c", "a b.c", "-o", "x.o"], capture_output=True, text=True).stdout
    assert out == "/usr/bin/cc -c a b.c -o x.o\n"
    assert cc_wrapper("/bin/echo", "cc", str(tmp_path / "w"), {"PATH": "/usr/bin:/bin"}) == script
    for compiler in ("ccache gcc", "no-such-compiler-here", None, "sccache"):
        assert cc_wrapper("/bin/echo", compiler, str(tmp_path / "w"), {"PATH": "/usr/bin:/bin"}) is None


def test_basedirs_default_to_the_matrix_and_output_folders_unless_set(tmp_path, monkeypatch):
    monkeypatch.delenv("SCCACHE_BASEDIRS", raising=False)
    cache = matrix(tmp_path, "cache: sccache").cache
    s = Session("sccache", cache, basedirs=(str(tmp_path), str(tmp_path / "out")))
    assert s.env["SCCACHE_BASEDIRS"] == f"{tmp_path}:{tmp_path}/out"
    cache.env = {"SCCACHE_BASEDIRS": "/ci"}
    assert Session("sccache", cache, basedirs=(str(tmp_path),)).env["SCCACHE_BASEDIRS"] == "/ci"
    monkeypatch.setenv("SCCACHE_BASEDIRS", "/mine")
    assert "SCCACHE_BASEDIRS" not in Session("sccache", matrix(tmp_path, "cache: sccache").cache,
                                             basedirs=(str(tmp_path),)).env


def test_stats_per_language():
    text = json.dumps({"cache_location": "Redis: redis://x", "stats": {
        "cache_hits": {"counts": {"Rust": 5, "C/C++": 3}},
        "cache_misses": {"counts": {"Rust": 1}},
        "cache_errors": {"counts": {}}, "not_cached": {"crate-type": 2}}})
    assert read_stats(text) == {"hits": 8, "misses": 1, "errors": 0, "not_cached": 2,
                                "location": "Redis: redis://x",
                                "languages": {"Rust": {"hits": 5, "misses": 1}, "C/C++": {"hits": 3, "misses": 0}}}


def test_the_report_line_splits_hits_by_language():
    from sizekit.report.tables import cache_line
    record = {"tool": "sccache", "used": True, "hits": 8, "misses": 1, "location": "Redis",
              "languages": {"C/C++": {"hits": 3, "misses": 0}, "Rust": {"hits": 5, "misses": 1}}}
    cells = [{"build": {"key": "k1", "cache": record}}, {"build": {"key": "k1", "cache": record}},
             {"build": {"key": "k2", "cache": {"tool": "sccache", "used": False, "reason": "sccache not found"}}}]
    assert cache_line(cells) == ("Compile cache (sccache, Redis): 8 hits, 1 misses over 1 of 2 cargo builds "
                                 "(Rust 5 hits, 1 misses; C/C++ 3 hits, 0 misses); 1 built without it "
                                 "(sccache not found).")


def test_the_log_explains_rustc_calls_left_uncached_for_sysroot():
    from sizekit.stages.sccache import uncached_notes
    stats = {"stats": {"not_cached": {"--sysroot": 26, "crate-type": 9, "-": 4}}}
    assert uncached_notes(json.dumps(stats)) == [
        "sizekit: 26 rustc calls not cached: sccache does not cache rustc calls that pass --sysroot "
        "(mozilla/sccache#2229), as a toolchain with sysroot: does; its build scripts' C compiles "
        "are still cached"]
    assert uncached_notes(json.dumps({"stats": {"not_cached": {"crate-type": 9}}})) == []
    assert uncached_notes("not json") == []
