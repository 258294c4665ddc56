"""Reference builds: the same program in another language (the seed's C plugin), built with make.

The report sets the Rust artifact's stripped size beside the reference's, as the
seed's "Rust size overhead" figure.
"""
import os

from ..plan.availability import reference_tools
from ..plan.records import ReferenceRecord
from ..utils.fsutil import copy_file
from ..utils.procs import run_logged, tail


def sources(crate):
    folder = crate.reference["make"]
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f == "Makefile" or f.endswith((".c", ".h")))


def run_reference(plan, crate, target):
    """Build the crate's reference for target with make, strip a copy, record both sizes."""
    layout = plan.layout
    ref = crate.reference
    record_path = layout.reference_record(crate, target)
    cc, strip, problem = reference_tools(plan.matrix, target, plan.host)
    if problem:
        return ReferenceRecord(name=ref["name"], status="unavailable",
                               reason=f"cannot build the {ref['name']} reference for {target}: {problem}"
                               ).write(record_path)
    folder = layout.reference_dir(crate, target)
    os.makedirs(folder, exist_ok=True)
    built = os.path.join(folder, ref["artifact"])
    log = layout.log("reference", f"{crate.name}-{target}")
    argv = ["make", "-C", ref["make"], f"CC={cc}", f"OUT={built}", built]
    code = run_logged(argv, dict(os.environ), log, timeout=600)
    if code != 0 or not os.path.exists(built):
        return ReferenceRecord(name=ref["name"], status="failed", reason=f"make failed (exit status {code})",
                               log=layout.rel(log), tail=tail(log)).write(record_path)
    stripped = built + ".stripped"
    copy_file(built, stripped)
    code = run_logged([strip, stripped], dict(os.environ), log + ".strip", timeout=120)
    return ReferenceRecord(name=ref["name"], status="ok" if code == 0 else "failed",
                           reason=None if code == 0 else f"strip failed (exit status {code})",
                           path=layout.rel(built), bytes=os.path.getsize(built),
                           stripped_bytes=os.path.getsize(stripped)).write(record_path)
