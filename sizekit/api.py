"""sizekit's public API: the names code outside the package may use (docs/API.md).

Everything else may move between releases. Each name loads its module on first use, so
`import sizekit.api` costs nothing: a script that only reads results.json never loads doit,
the native module, numpy or zstandard.

    from sizekit import api
    matrix = api.load_matrix("matrix.yaml")
    plan = api.load_plan("matrix.yaml")             # cells, shared builds, nodes, layout
    status = api.run("matrix.yaml", ["-n", "2"])     # build it through doit; exit status
    results = api.load_results("out/results.json")
    rows = api.budget_rows(matrix, results)          # `sizekit check`'s rows; api.exit_status(rows)
    diff = api.compare(api.load_input("old.zst"), api.load_input("new.zst"))
    estimate, why, other = api.estimate("app", "best")
"""
import importlib

# name: (module, attribute)
EXPORTS = {
    # matrices and plans
    "load_matrix": ("sizekit.config.load", "load_matrix"),
    "load_plan": ("sizekit.drivers.nodes", "load_plan"),
    "plan_nodes": ("sizekit.drivers.nodes", "plan_nodes"),
    "Layout": ("sizekit.plan.layout", "Layout"),
    "cargo_command": ("sizekit.stages.cargo", "command"),
    "strip_tool": ("sizekit.plan.availability", "strip_tool"),
    "upx_binary": ("sizekit.plan.availability", "upx_binary"),
    "run": ("sizekit.drivers.doit.run", "run_doit"),
    "matrix_tasks": ("sizekit.tasks", "matrix_tasks"),
    # results.json and snapshots
    "load_results": ("sizekit.results.results_file", "load_results"),
    "load_snapshot": ("sizekit.results.snapshot", "load_snapshot"),
    "load_input": ("sizekit.results.inputs", "load_input"),
    "snapshot_of": ("sizekit.results.capture", "snapshot_of"),
    "take_snapshot": ("sizekit.results.capture", "take_snapshot"),
    "write_snapshot": ("sizekit.results.snapshot_write", "write_snapshot"),
    "compare": ("sizekit.results.compare", "compare"),
    "budget_rows": ("sizekit.results.budget", "budget_rows"),
    "exit_status": ("sizekit.results.budget", "exit_status"),
    "check": ("sizekit.cli.results", "check"),
    "publish": ("sizekit.report.publish", "publish"),
    # single files
    "estimate": ("sizekit.elf.engine", "estimate_outcome"),
    "read_sections": ("sizekit.elf.engine", "read_sections"),
    "content_hash": ("sizekit.elf.engine", "hash_file"),
    "hash_bytes": ("sizekit.elf.engine", "hash_bytes"),
    "tools_in_use": ("sizekit.results.collect", "tools_in_use"),
    "attribute": ("sizekit.elf.bloat", "attribute"),
    "bench_artifact": ("sizekit.explore.bench", "measure_artifact"),
    "BenchFailed": ("sizekit.explore.bench", "BenchFailed"),
    # what goes wrong
    "SizekitError": ("sizekit.utils.errors", "SizekitError"),
    "UsageError": ("sizekit.utils.errors", "UsageError"),
    "ResultsError": ("sizekit.utils.errors", "ResultsError"),
    "MatrixError": ("sizekit.utils.errors", "MatrixError"),
    "ElfError": ("sizekit.utils.errors", "ElfError"),
    "limits": ("sizekit.utils", "limits"),
}

__all__ = sorted(EXPORTS)


def __getattr__(name):
    try:
        module, attribute = EXPORTS[name]
    except KeyError:
        raise AttributeError(f"sizekit.api has no {name!r}; the public names are in docs/API.md") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value     # the next use is a plain global
    return value


def __dir__():
    return __all__
