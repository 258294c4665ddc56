"""doit up-to-date checks: by content, by a node's last outcome, and by cargo's dep-info."""
import os
import sys

from doit.dependency import FileChangedChecker

from ...stages.build import sources_unchanged
from ..nodes import LOST, OK, content_hash


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
        return digest != content_hash(file_path)

    def get_state(self, dep, current_state):
        mtime = os.path.getmtime(dep)
        if isinstance(current_state, (list, tuple)) and len(current_state) == 3 and current_state[0] == mtime:
            return None
        return mtime, os.path.getsize(dep), content_hash(dep)

    def __repr__(self):
        return "ContentHashChecker()"


class outcome_ok:
    """False when the node's last run failed or its record is gone, so it is retried."""

    def __init__(self, node):
        self.node = node

    def __call__(self, task, values):
        outcome = self.node.outcome()
        if outcome == LOST and values and self.node.healing:
            # doit remembers a success, but the record is gone or unreadable: say why it reruns.
            say_healing(self.node.healing)
        return outcome == OK

    def __repr__(self):
        return f"outcome_ok({self.node.id})"


def say_healing(message):
    print(f"sizekit: {message}", file=sys.stderr, flush=True)


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
