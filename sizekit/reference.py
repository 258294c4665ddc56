"""Reference builds: the same program in another language (the seed's C plugin), built with make.

The report sets the Rust artifact's stripped size beside the reference's, as the
seed's "Rust size overhead" figure.
"""
import os
import shutil

from .fsutil import copy_file, safe_join, write_json_if_changed
from .plan import strip_tool
from .procs import run_logged, tail


def reference_path(matrix, crate, target):
    return safe_join(matrix.output, ".sizekit", "reference", f"{crate.name}__{target}.json")


def sources(crate):
    folder = crate.reference["make"]
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f == "Makefile" or f.endswith((".c", ".h")))


def compiler(matrix, target, host):
    spec = matrix.targets.get(target)
    if target == host:
        return os.environ.get("CC", "cc")
    return spec.linker if spec is not None else None


def do_reference(plan, crate, target):
    matrix = plan.matrix
    host = plan.toolchains[None].host
    ref = crate.reference
    record_path = reference_path(matrix, crate, target)
    cc, strip = compiler(matrix, target, host), strip_tool(matrix, target, host)
    missing = [t for t in (cc, strip, "make") if not t or not shutil.which(t)]
    if missing:
        write_json_if_changed(record_path, {"name": ref["name"], "status": "unavailable",
                                            "reason": f"cannot build the {ref['name']} reference for {target}: "
                                                      f"{missing[0] or 'no C compiler'} not found"})
        return True
    folder = safe_join(matrix.output, "reference", crate.name, target)
    os.makedirs(folder, exist_ok=True)
    built = os.path.join(folder, ref["artifact"])
    log = safe_join(matrix.output, "logs", f"reference-{crate.name}-{target}.log")
    argv = ["make", "-C", ref["make"], f"CC={cc}", f"OUT={built}", built]
    code = run_logged(argv, dict(os.environ), log, timeout=600)
    if code != 0 or not os.path.exists(built):
        write_json_if_changed(record_path, {"name": ref["name"], "status": "failed",
                                            "reason": f"make failed (exit status {code})",
                                            "log": os.path.relpath(log, matrix.root), "tail": tail(log)})
        return True
    stripped = built + ".stripped"
    copy_file(built, stripped)
    code = run_logged([strip, stripped], dict(os.environ), log + ".strip", timeout=120)
    record = {"name": ref["name"], "status": "ok" if code == 0 else "failed",
              "reason": None if code == 0 else f"strip failed (exit status {code})",
              "path": os.path.relpath(built, matrix.root), "bytes": os.path.getsize(built),
              "stripped_bytes": os.path.getsize(stripped)}
    write_json_if_changed(record_path, record)
    return True
