"""Rust symbol demangling (legacy `_ZN...17h<hash>E` and v0 `_R...`), and the crate a name belongs to.

Two backends give the same names for the crate rule:
- `pyderust` (PyPI), Python bindings to rust-lang's own `rustc-demangle` crate, the demangler
  rustc, cargo-bloat and backtraces use. Default when it is installed.
- `c++filt` from binutils (>= 2.36 knows v0), one subprocess for all names. Its output is
  normalised to rustc-demangle's short form: no `::h<hash>` suffix, no `[<disambiguator>]`.
`SIZEKIT_DEMANGLER=pyderust|c++filt` picks one; the tests run against both.
"""
import importlib.util
import itertools
import os
import re
import shutil
import subprocess

from ..utils.errors import UsageError

BACKENDS = ("pyderust", "c++filt")

# Crates that ship inside the Rust distribution and that only std pulls in. They are grouped as
# "std" unless split_std. hashbrown, libc, memchr and cfg_if also come with std, but programs
# use them directly too, and the symbols cannot tell the two copies apart, so they keep their
# own names.
STD_CRATES = frozenset({
    "std", "core", "alloc", "proc_macro", "test", "panic_unwind", "panic_abort", "unwind",
    "compiler_builtins", "std_detect", "rustc_demangle", "addr2line", "gimli", "object",
    "miniz_oxide", "adler", "adler2", "rustc_std_workspace_core", "rustc_std_workspace_alloc",
    "rustc_std_workspace_std", "__rustc",
})

# Unmangled (#[no_mangle] or extern) runtime symbols that std and the compiler emit.
_STD_UNMANGLED = ("__rust_", "__rdl_", "__rg_", "rust_eh_personality", "rust_begin_unwind", "rust_panic",
                  "DW.ref.rust_eh_personality")

UNKNOWN = "[Unknown]"      # bytes no symbol covers: padding, gaps, anonymous constants
NON_RUST = "[C/C++]"       # named symbols that are not Rust-mangled: libc, jemalloc, C/asm in -sys crates

_LEGACY_SUFFIX = re.compile(r"17h[0-9a-f]{16}E(?:$|\.)")
# is_mangled_rust as one match: the lookahead tries each 17h once, so a long name costs linear time.
_RUST_NAME = re.compile(r"_R|_ZN(?=.*17h[0-9a-f]{16}E(?:$|\.))", re.S)
_LEGACY_HASH = re.compile(r"::h[0-9a-f]{16}(?: \[clone [^\]]*\])*$")
_DISAMBIGUATOR = re.compile(r"(?<=[A-Za-z0-9_])\[[0-9a-f]+\]")


def is_mangled_rust(name):
    """True for v0 names and for legacy names, which always end in a 17h<hash>E path segment.

    C++ names also start with _ZN; without the hash check rustc-demangle would take
    `_ZN3foo3barE` (a C++ global) for Rust. A name may still fail to demangle.
    """
    return name.startswith("_R") or (name.startswith("_ZN") and _LEGACY_SUFFIX.search(name) is not None)


def backend_name():
    """The demangler in use: SIZEKIT_DEMANGLER, else pyderust if importable, else c++filt."""
    want = os.environ.get("SIZEKIT_DEMANGLER", "").strip()
    if want:
        if want not in BACKENDS:
            raise UsageError(f"SIZEKIT_DEMANGLER must be one of {', '.join(BACKENDS)}, not {want!r}")
        return want
    # pyderust is optional: look for it without importing it.
    return "pyderust" if importlib.util.find_spec("pyderust") else "c++filt"


def demangle_all(names, backend=None):
    """Map each name to its demangled Rust form, or None when it is not a Rust symbol."""
    backend = backend or backend_name()
    rust = sorted({n for n in names if is_mangled_rust(n)})
    out = dict.fromkeys(names)
    if backend == "pyderust":
        out.update(_pyderust(rust))
    elif backend == "c++filt":
        out.update(_cxxfilt(rust))
    else:
        raise UsageError(f"unknown demangler {backend!r}; expected one of {', '.join(BACKENDS)}")
    return out


def demangle(name, backend=None):
    """One name's demangled Rust form, or None when it is not a Rust symbol."""
    return demangle_all([name], backend)[name]


def describe_each(names, split_std=False, cache=None, backend=None):
    """(display name, crate) of each name, in a list in names' order: the demangled short form
    (or the name itself when it is not Rust) and group(crate_of(...)) (or unmangled_crate), as
    demangle_all and crate_of give them. Each distinct name is demangled once: pass the same dict
    as cache to share the work between files (it keeps one table per backend and split_std)."""
    backend = backend or backend_name()
    known = (cache if cache is not None else {}).setdefault((backend, bool(split_std)), {})
    if backend != "pyderust":
        new = [n for n in dict.fromkeys(names) if n not in known]
        every = demangle_all(new, backend)
        _describe(known, new, [every[n] for n in new], split_std)
        return list(map(known.__getitem__, names))
    try:
        # Optional dependency, loaded only when this backend is chosen.
        from pyderust import DemangleError, demangle as rd
    except ImportError:
        raise UsageError("the pyderust demangler is not installed (pip install pyderust), "
                         "or set SIZEKIT_DEMANGLER=c++filt") from None
    # The names not seen before, in this file or another, each step over the whole list at once:
    # is_mangled_rust as one regex match, rustc-demangle, and crate_of's rule for a plain path.
    new = list(itertools.filterfalse(known.__contains__, dict.fromkeys(names)))

    def demangled(n, rust):
        if rust is None:
            return None
        try:
            return rd(n)
        except DemangleError:
            return None

    pretty = list(map(demangled, new, map(_RUST_NAME.match, new)))
    heads = [None if p is None or p[:1] == "<" else p.partition("::")[0].partition("<")[0] for p in pretty]
    groups = {h: group(h or UNKNOWN, split_std) for h in set(heads) if h is not None}
    odd = [k for k, h in enumerate(heads) if h is None]   # not Rust, or a qualified path <T as U>
    known.update(zip(new, zip(pretty, map(groups.get, heads))))
    _describe(known, [new[k] for k in odd], [pretty[k] for k in odd], split_std)
    return list(map(known.__getitem__, names))


def _describe(known, names, pretty, split_std):
    for n, p in zip(names, pretty):
        known[n] = (n, group(unmangled_crate(n), split_std)) if p is None else (p, group(crate_of(p), split_std))


def _pyderust(names):
    try:
        # Optional dependency, loaded only when this backend is chosen.
        from pyderust import DemangleError, demangle as rd
    except ImportError:
        raise UsageError("the pyderust demangler is not installed (pip install pyderust), "
                         "or set SIZEKIT_DEMANGLER=c++filt") from None
    res: dict = {}
    for n in names:
        try:
            res[n] = rd(n)
        except DemangleError:
            res[n] = None
    return res


def _cxxfilt(names):
    if not names:
        return {}
    exe = shutil.which("c++filt")
    if exe is None:
        raise UsageError("c++filt (binutils) is not installed; install it or pip install pyderust")
    # One name per line: mangled names never hold whitespace, so lines stay aligned.
    proc = subprocess.run([exe], input="\n".join(names) + "\n", capture_output=True, text=True)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) != len(names):
        raise UsageError(f"c++filt failed (exit {proc.returncode}): {proc.stderr.strip()[:200]}")
    res = {}
    for n, d in zip(names, lines):
        if n.startswith("_R"):
            res[n] = None if d == n else _DISAMBIGUATOR.sub("", d)
        else:
            # libiberty demangles any Itanium name; only a trailing 17h<hash> makes it Rust.
            short = _LEGACY_HASH.sub("", d, count=1)
            res[n] = short if short != d else None
    return res


def crate_of(demangled):
    """The crate a demangled Rust name is attributed to.

    The first path segment, except for qualified paths `<Type as Trait>::item` and `<Type>::item`,
    which go to Type's crate (as cargo-bloat does: the impl's code is about that type). When Type
    is not a path (a primitive, slice, tuple, fn pointer, or a reference to one) the Trait's crate
    is used, and a primitive's inherent method (`<str>::trim`) goes to core.
    """
    if demangled.startswith("<"):
        typ, trait = _qualified_self(demangled)
        return _path_crate(typ) or (trait and _path_crate(trait)) or "core"
    head = demangled.partition("::")[0]
    return head.partition("<")[0] or UNKNOWN


def unmangled_crate(name):
    """The crate of a symbol that demangling did not recognise: std's runtime, else [C/C++]."""
    return "std" if name.startswith(_STD_UNMANGLED) else NON_RUST


def group(crate, split_std=False):
    """Fold std's own crates into "std" unless split_std."""
    if split_std:
        return "std" if crate == "__rustc" else crate
    return "std" if crate in STD_CRATES else crate


_BRACKETS = re.compile(r"->|[<>()\[\]]| as ")
# Type prefixes that do not change whose type it is: references, pointers, dyn/impl, for<'a>.
_TYPE_PATH = re.compile(r"(?:&(?:'[A-Za-z_]\w* )?(?:mut )?|\*const |\*mut |dyn |impl |for<[^>]*> )*"
                        r"(?:([A-Za-z_]\w*)::|(<))")


def _qualified_self(s):
    """Type and Trait (or None) of a name that starts with `<Type as Trait>` or `<Type>`."""
    depth = 0
    as_at = None
    for m in _BRACKETS.finditer(s):
        tok = m.group()
        if tok == "->":
            continue
        if tok == " as ":
            if depth == 1 and as_at is None:
                as_at = m.start()
        elif tok in "<([":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                if as_at is None:
                    return s[1:m.start()], None
                return s[1:as_at], s[as_at + 4:m.start()]
    return s[1:], None


def _path_crate(t):
    """The crate of a type written as a path (after &, *const, dyn, ...), else None."""
    m = _TYPE_PATH.match(t)
    if m is None:
        return None
    if m.group(1):
        return m.group(1)
    return crate_of(t[m.start(2):])
