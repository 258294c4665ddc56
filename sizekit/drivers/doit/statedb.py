"""doit state backend that survives `kill -9`: each task's state is committed when saved.

doit's own backends keep new state in memory and write it when the run ends, so a
killed run forgets every task it finished. This one commits as it goes (SQLite in
WAL mode), so a rerun after a kill redoes only the task that was interrupted.
Registered for doit under the entry point group doit.BACKEND as "sizekit".
"""
import errno
import os
import sqlite3
import sys

from doit.dependency import DatabaseException, SqliteDB


def _disk_full(exc):
    return isinstance(exc, sqlite3.OperationalError) and "full" in str(exc) or \
        isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


class DurableSqliteDB(SqliteDB):
    desc = "sqlite3, committed after every saved value (survives kill -9)"

    def __init__(self, name, codec, *, module_name=None):
        self._name = name
        self._full = False
        try:
            self._open(name, codec, module_name)
        except Exception as exc:
            if _disk_full(exc):
                self._out_of_space(exc)
                raise SystemExit(1) from None
            if not isinstance(exc, (DatabaseException, sqlite3.DatabaseError, ValueError)):
                raise

            # State sizekit owns heals: set the unreadable file aside and start empty. The stage
            # records still hold every finished artifact's hash, so little is redone.
            aside = name + ".corrupt"
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(name + suffix):
                    os.replace(name + suffix, aside + suffix)
            reason = str(exc).rsplit("Original error: ", 1)[-1]
            print(f"sizekit: doit's state {os.path.relpath(name)} was unreadable ({reason}); moved it to "
                  f"{os.path.relpath(aside)} and starting afresh", file=sys.stderr)
            self._open(name, codec, module_name)

    def _out_of_space(self, exc):
        """A full disk: say so once; the run ends non-zero when doit closes the state (dump)."""
        if _disk_full(exc) and not self._full:
            self._full = True
            folder = os.path.relpath(os.path.dirname(os.path.dirname(self._name)))
            print(f"sizekit: no space left on device for doit's state {os.path.relpath(self._name)}; free "
                  f"space under {folder} and run again: finished cells are kept (their records are written)",
                  file=sys.stderr, flush=True)
        if not _disk_full(exc):
            raise exc

    def _commit(self):
        try:
            self._conn.commit()
        except sqlite3.OperationalError as exc:
            self._out_of_space(exc)

    def dump(self):
        try:
            super().dump()
        except sqlite3.OperationalError as exc:
            self._out_of_space(exc)
        if self._full:
            raise SystemExit(1)

    def _open(self, name, codec, module_name):
        super().__init__(name, codec, module_name=module_name)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")

    def set(self, task_id, dependency, value):
        super().set(task_id, dependency, value)
        try:
            self._conn.execute("insert or replace into doit values (?,?)",
                               (task_id, self.codec.encode(self._cache[task_id])))
        except sqlite3.OperationalError as exc:
            return self._out_of_space(exc)
        self._commit()
        self._dirty.discard(task_id)

    def remove(self, task_id):
        super().remove(task_id)
        self._commit()

    def remove_all(self):
        super().remove_all()
        self._commit()
