"""Django's SQLite backend, with writers that queue for the lock in step.

SQLite admits one writer at a time. Our transactions are `IMMEDIATE`: each takes the
write lock at `BEGIN`, and one that finds it held sleeps in SQLite's busy handler, in
steps that grow to 25 ms and then 100 ms, and tries again. So a waiting writer often
wakes long after the lock was freed, or loses it to a writer that came later, and under
load the writers spend more time asleep than working.

Here every transaction that writes from its `BEGIN` (`IMMEDIATE`, ours; `EXCLUSIVE`, the
task queue's claims) first takes an exclusive `flock` on a file beside the database,
tried every 0.1 ms at first and at most every millisecond, so the next writer starts
within about a millisecond of the last one's commit or rollback. The wait has the same
limit as SQLite's (the `timeout` option) and ends in the same "database is locked"
error.

SQLite's own lock and busy timeout are unchanged underneath. They serve writers that do
not come through this backend (the sqlite3 shell, a backup) and single statements
outside a transaction, which still wait in the busy handler: under a steady stream of
transactions they wait longer than before, and a transaction that waited for the file
can wait up to the timeout again for SQLite's lock while such a writer holds it.
In-memory databases and other transaction modes are left as Django has them.
"""

import fcntl
import os
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

WRITER_MODES = {"IMMEDIATE", "EXCLUSIVE"}  # transactions that take the write lock at BEGIN
FIRST_PAUSE = 0.0001  # seconds between tries, doubling up to LAST_PAUSE
LAST_PAUSE = 0.001


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_file: int | None = None
    _writer_pid = 0
    _writer_held = False

    def _start_transaction_under_autocommit(self) -> None:
        self._writer_lock_take()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in the stubs
        except BaseException:
            self._writer_lock_release()
            raise

    def _commit(self) -> None:
        super()._commit()  # type: ignore[misc]
        # Not when the commit failed: the transaction is still open, and the rollback
        # that follows (or closing the connection) lets the next writer in.
        self._writer_lock_release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._writer_lock_release()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._writer_lock_release()
            if self._writer_file is not None:
                os.close(self._writer_file)
                self._writer_file = None

    def _writer_lock_take(self) -> None:
        mode = getattr(self, "transaction_mode", None) or ""
        if mode.upper() not in WRITER_MODES or self.is_in_memory_db():
            return
        if self._writer_file is None or self._writer_pid != os.getpid():
            # A forked child opens its own: a lock belongs to the open file, which a
            # child would otherwise share with its parent (and keep held after it).
            if self._writer_file is not None:
                os.close(self._writer_file)
                self._writer_held = False
            path = f"{self.settings_dict['NAME']}-writer.lock"
            self._writer_file = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._writer_pid = os.getpid()
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        deadline = time.monotonic() + timeout
        pause = FIRST_PAUSE
        while True:
            try:
                fcntl.flock(self._writer_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, LAST_PAUSE)
            else:
                self._writer_held = True
                return

    def _writer_lock_release(self) -> None:
        if self._writer_held and self._writer_file is not None:
            fcntl.flock(self._writer_file, fcntl.LOCK_UN)
        self._writer_held = False
