"""One doit run per output folder: a second run waits for the first and says so."""
import fcntl
import os
import sys

# doit commands that only read state need not wait for a running build.
READ_ONLY_COMMANDS = {"list", "info", "help", "dumpdb", "tabcompletion", "strace"}
_held_locks: list = []   # the open lock files, held for the life of the process


def doit_command(argv):
    """The doit command named in argv (default "run"), skipping options and var=value."""
    for arg in argv:
        if arg.startswith("-") or "=" in arg:
            continue
        return arg
    return "run"


def hold_run_lock(layout, command):
    """Take the output folder's run lock for this process's lifetime (doit's workers inherit it)."""
    if command in READ_ONLY_COMMANDS:
        return
    if any(held.name == layout.run_lock for held in _held_locks):
        return      # a second run in this process (sizekit explore's trials): already ours
    f = open(layout.run_lock, "a+")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "another process"
        print(f"sizekit: {os.path.relpath(layout.output)} is in use by doit ({holder}); "
              f"waiting for it to finish", file=sys.stderr, flush=True)
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
    _held_locks.append(f)
    f.seek(0)
    f.truncate()
    f.write(f"pid {os.getpid()}\n")
    f.flush()
