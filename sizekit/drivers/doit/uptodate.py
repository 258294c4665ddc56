"""doit up-to-date checks: by content, by stage status, and by cargo's dep-info."""
import os
import sys

from doit.dependency import FileChangedChecker

from ...stages import records
from ...stages.build import sources_unchanged
from ...utils.fsutil import read_json


def _digest(path):
    # The native module is loaded only when a file's mtime has moved.
    from ...elf import native
    return native.hash_hex(native.hash_file(path))


class ContentHashChecker(FileChangedChecker):
    """Like doit's MD5Checker, with sizekit's 64-bit hash instead of md5.

    State is (mtime, size, hash). An unchanged mtime means unchanged; a changed
    size means changed; otherwise the content hash decides, so a touched or
    rewritten-but-identical file does not make its dependents run.
    """

    def check_modified(self, file_path, file_stat, state):
        if not isinstance(state, (list, tuple)) or len(state) != 3:
            return True
        mtime, size, digest = state
        if file_stat.st_mtime == mtime:
            return False
        if file_stat.st_size != size:
            return True
        return digest != _digest(file_path)

    def get_state(self, dep, current_state):
        mtime = os.path.getmtime(dep)
        if isinstance(current_state, (list, tuple)) and len(current_state) == 3 and current_state[0] == mtime:
            return None
        return mtime, os.path.getsize(dep), _digest(dep)

    def __repr__(self):
        return "ContentHashChecker()"


class stage_ok:
    """False when the stage's last run failed or left no record, so it is retried."""

    def __init__(self, layout, key):
        self.layout, self.key = layout, key

    def __call__(self, task, values):
        record = records.read(self.layout, self.key)
        if record is None and values:
            # doit remembers a success, but the record is gone or unreadable: say why it reruns.
            say_healing(f"the record of {task.name} ({os.path.relpath(self.layout.stage_record(self.key))}) "
                        f"is missing or unreadable; running it again")
        return record is not None and record.get("status") != "failed"

    def __repr__(self):
        return f"stage_ok({self.key})"


def say_healing(message):
    print(f"sizekit: {message}", file=sys.stderr, flush=True)


class smoke_ok:
    """False when the last smoke run failed or its record is missing, so it is retried."""

    def __init__(self, path):
        self.path = path

    def __call__(self, task, values):
        record = read_json(self.path)
        return isinstance(record, dict) and "ok" in record and record.get("ok") is not False

    def __repr__(self):
        return f"smoke_ok({self.path})"


class sources_same:
    """True when the sources cargo listed in the last build's dep-info are unchanged.

    A build whose inputs have not moved runs no cargo at all; any change lets cargo decide.
    """

    def __init__(self, layout, key):
        self.layout, self.key = layout, key

    def __call__(self, task, values):
        return sources_unchanged(self.layout, self.key)

    def __repr__(self):
        return f"sources_same({self.key})"


class results_valid:
    """False when results.json is missing or not a results file (say, cut short or edited), so
    the report task rewrites it from the records."""

    def __init__(self, layout):
        self.layout = layout

    def __call__(self, task, values):
        data = read_json(self.layout.results_json)
        valid = isinstance(data, dict) and isinstance(data.get("cells"), list)
        if not valid and values:
            say_healing(f"{os.path.relpath(self.layout.results_json)} is missing or not a results file; "
                        f"writing it again from the stage records")
        return valid

    def __repr__(self):
        return f"results_valid({self.layout.results_json})"


def estimator_fingerprint():
    """The UPX-size model's digest: a new model re-measures every cell."""
    from ...elf import native  # loaded only when tasks are generated, not for `doit list`
    return native.model_fingerprint()
