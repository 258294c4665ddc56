"""Stage records: what each build or post step produced, as small deterministic JSON.

Downstream tasks depend on these records, not on the binaries. A record holds the
artifact's content hash and no timestamps, and is rewritten only when it changes,
so a relink to identical bytes leaves everything downstream up to date.
"""
import os

from .fsutil import read_json, write_json_if_changed


def record_path(output, key):
    return os.path.join(output, ".sizekit", "stages", f"{key}.json")


def rel(matrix, path):
    return os.path.relpath(path, matrix.root) if path else None


def write_ok(matrix, key, step, path, log=None):
    from .measure import file_facts  # pyelftools is imported only when something is measured
    facts = file_facts(path)
    record = {"status": "ok", "reason": None, "step": step, "path": rel(matrix, path),
              "log": rel(matrix, log), **facts}
    write_json_if_changed(record_path(matrix.output, key), record)
    return record


def write_problem(matrix, key, step, status, reason, log=None, tail=None):
    record = {"status": status, "reason": reason, "step": step, "path": None,
              "log": rel(matrix, log), "tail": tail}
    write_json_if_changed(record_path(matrix.output, key), record)
    return record


def read(matrix, key):
    return read_json(record_path(matrix.output, key))


def absolute(matrix, relpath):
    return os.path.join(matrix.root, relpath)
