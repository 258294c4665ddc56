"""The last step every driver runs: results.json, the reports, and the list of failed cells."""
import os

from ..report.publish import publish
from ..utils.log import say
from ..results.capture import take_snapshot
from ..results.collect import collect
from ..results.results_file import results_text
from ..results.snapshot_write import write_snapshot
from ..utils.errors import SizekitError


def failed_cells(results):
    """Cells that failed to build or step, and ok cells whose smoke check failed."""
    failed = [c for c in results["cells"] if c["status"] == "failed"]
    failed += [dict(c, reason=f"smoke test failed: {c['smoke']['detail']}", log=c["smoke"].get("log"))
               for c in results["cells"] if c["status"] == "ok" and (c.get("smoke") or {}).get("ok") is False]
    return failed


def _snapshot(plan, results):
    """Write out/snapshot.sksnap.zst (sizes and every symbol); a failure is a note, not a failed run."""
    layout = plan.layout
    try:
        snap = take_snapshot(results, layout.results_json, root=layout.root)
        write_snapshot(layout.snapshot, snap)
        return snap
    except (SizekitError, OSError) as exc:
        say(f"note: no snapshot written: {exc}")
        return None


def finish(plan):
    """Write results.json and every report. Returns a failure text, or None when all passed."""
    results = collect(plan)
    snap = _snapshot(plan, results)
    publish(plan.layout.output, results, snapshot=snap, results_json=results_text(results))
    failed = failed_cells(results)
    where = plan.layout.placement()
    if where:
        say(f"note: {where}")
    say(f"{len(results['cells'])} cells, {len(failed)} failed; reports in {os.path.relpath(plan.layout.reports_dir)}")
    if not failed:
        return None
    lines = [f"  {c['crate']}/{c['target']}/{c['variant']}: {c['reason']}"
             + (f" (log: {c['log']})" if c.get("log") else "") for c in failed]
    return f"{len(failed)} cell(s) failed:\n" + "\n".join(lines)
