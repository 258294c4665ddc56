"""The keys matrix.yaml v1 accepts, with their types. Used by the validator."""

TOP_KEYS = ("version", "output", "baseline", "toolchains", "targets", "crates", "variants", "cache", "explore",
            "fleets")
CACHE_TOOLS = ("sccache",)
SCCACHE_KEYS = ("env", "required", "cc")
TOOLCHAIN_KEYS = ("rustup", "cargo", "rustc", "sysroot")
TARGET_KEYS = ("linker", "strip", "runner", "rustflags", "env")
CRATE_KEYS = ("path", "artifact", "toolchain", "targets", "smoke", "budget",
              "features", "default-features", "env", "rustflags", "reference", "bench")
VARIANT_KEYS = ("name", "from", "profile", "cargo", "features", "default-features",
                "rustflags", "env", "toolchain", "build-std", "nightly", "xargo",
                "post", "label", "only")
PROFILES = ("dev", "release")
ARTIFACT_KINDS = ("bin", "cdylib", "staticlib", "example")

# Cargo profile keys, each with a checker returning an error text or None.
def _is_bool(v):
    return None if isinstance(v, bool) else f"expected true or false, got {v!r}"


def _is_pos_int(v):
    if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
        return None
    return f"expected a whole number >= 1, got {v!r}"


def _opt_level(v):
    if (isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 3) or v in ("s", "z"):
        return None
    return f"expected 0, 1, 2, 3, \"s\" or \"z\", got {v!r}"


def _debug(v):
    if isinstance(v, bool) or (isinstance(v, int) and 0 <= v <= 2) or \
            v in ("none", "line-tables-only", "line-directives-only", "limited", "full"):
        return None
    return f"expected true, false, 0-2, \"none\", \"line-tables-only\", \"limited\" or \"full\", got {v!r}"


def _lto(v):
    if isinstance(v, bool) or v in ("fat", "thin", "off"):
        return None
    return f"expected true, false, \"fat\", \"thin\" or \"off\", got {v!r}"


def _strip(v):
    if isinstance(v, bool) or v in ("none", "debuginfo", "symbols"):
        return None
    return f"expected true, false, \"none\", \"debuginfo\" or \"symbols\", got {v!r}"


def _panic(v):
    if v in ("unwind", "abort", "immediate-abort"):
        return None
    return f"expected \"unwind\", \"abort\" or \"immediate-abort\", got {v!r}"


def _string(v):
    return None if isinstance(v, str) and v else f"expected a string, got {v!r}"


CARGO_PROFILE_KEYS = {
    "opt-level": _opt_level,
    "debug": _debug,
    "split-debuginfo": _string,
    "strip": _strip,
    "debug-assertions": _is_bool,
    "overflow-checks": _is_bool,
    "lto": _lto,
    "panic": _panic,
    "incremental": _is_bool,
    "codegen-units": _is_pos_int,
    "rpath": _is_bool,
    "codegen-backend": _string,
    "trim-paths": lambda v: None if isinstance(v, (bool, str, list)) else f"expected a bool, string or list, got {v!r}",
}

UPX_KEYS = ("level", "lzma", "brute", "ultra-brute")
STRIP_KEYS = ("args", "tool")
SMOKE_KEYS = ("args", "expect", "http", "command", "timeout", "env", "exit", "targets", "link")
# What a smoke.targets.<triple> entry may set for that target only (env is merged, the rest replaced).
SMOKE_TARGET_KEYS = ("command", "env", "expect", "timeout", "exit")
# The placeholders smoke.command and its env values may use: the artifact's absolute path, its
# folder, and a fresh empty folder made for the run and removed after it.
SMOKE_PLACEHOLDERS = ("artifact", "artifact_dir", "tmp")
HTTP_KEYS = ("path", "expect", "port-env", "port-arg")
ONLY_KEYS = ("crates", "targets")
BUILD_STD_KEYS = ("crates", "features")
XARGO_KEYS = ("dependencies", "crates", "features")
XARGO_DEPENDENCY_KEYS = ("features",)
BUDGET_KEYS = ("max", "targets", "variants")
FLEET_KEYS = ("cells", "budget", "alternatives")
REFERENCE_KEYS = ("make", "artifact", "name")
