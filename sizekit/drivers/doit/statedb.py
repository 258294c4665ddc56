"""doit state backend that survives `kill -9`: each task's state is committed when saved.

doit's own backends keep new state in memory and write it when the run ends, so a
killed run forgets every task it finished. This one commits as it goes (SQLite in
WAL mode), so a rerun after a kill redoes only the task that was interrupted.
Registered for doit under the entry point group doit.BACKEND as "sizekit".
"""
import os
import sqlite3
import sys

from doit.dependency import DatabaseException, SqliteDB


class DurableSqliteDB(SqliteDB):
    desc = "sqlite3, committed after every saved value (survives kill -9)"

    def __init__(self, name, codec, *, module_name=None):
        try:
            self._open(name, codec, module_name)
        except (DatabaseException, sqlite3.DatabaseError, ValueError) as exc:
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

    def _open(self, name, codec, module_name):
        super().__init__(name, codec, module_name=module_name)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")

    def set(self, task_id, dependency, value):
        super().set(task_id, dependency, value)
        self._conn.execute("insert or replace into doit values (?,?)",
                           (task_id, self.codec.encode(self._cache[task_id])))
        self._conn.commit()
        self._dirty.discard(task_id)

    def remove(self, task_id):
        super().remove(task_id)
        self._conn.commit()

    def remove_all(self):
        super().remove_all()
        self._conn.commit()
