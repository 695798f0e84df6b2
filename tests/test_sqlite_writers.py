"""SQLite's writers queue on the backend's file lock (madoguchi/db/sqlite3/base.py).

Each test runs two threads, each with its own connection: one holds a transaction
open, the other tries to begin one. The file lock must keep the second out exactly
while the first is inside (whatever way the first ends), and must give up after the
connection's `timeout` with SQLite's own "database is locked".
"""

import fcntl
import os
import threading
from pathlib import Path

import pytest
from django.db import OperationalError, connection, connections, transaction
from django_tasks_db.utils import exclusive_transaction

from madoguchi.offices.models import Office

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="about the SQLite backend"),
    pytest.mark.django_db(transaction=True),
]
WAIT = 10  # seconds any step may take before the test gives up


class Holder(threading.Thread):
    """Holds a transaction open until told to end it, by commit or by an error."""

    def __init__(self, *, fail: bool = False, begin=transaction.atomic) -> None:
        super().__init__(daemon=True)
        self.fail = fail
        self.begin = begin
        self.inside = threading.Event()
        self.finish = threading.Event()

    def run(self) -> None:
        try:
            with self.begin():
                Office.objects.update(report_min_cell=6)
                self.inside.set()
                self.finish.wait(WAIT)
                if self.fail:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        finally:
            connections.close_all()


class Writer(threading.Thread):
    """Begins a transaction (with this connection `timeout`, when given)."""

    def __init__(self, timeout: float | None = None) -> None:
        super().__init__(daemon=True)
        self.timeout = timeout
        self.began = threading.Event()
        self.error: Exception | None = None

    def run(self) -> None:
        if self.timeout is not None:
            # A copy for this thread's connection: the dict is shared by all of them.
            settings = connection.settings_dict
            connection.settings_dict = {
                **settings,
                "OPTIONS": {**settings["OPTIONS"], "timeout": self.timeout},
            }
        try:
            with transaction.atomic():
                self.began.set()
        except OperationalError as error:
            self.error = error
        finally:
            connections.close_all()


def _lock_file_is_held() -> bool:
    """Whether some connection holds the writers' file lock (tried without waiting)."""
    path = f"{connection.settings_dict['NAME']}-writer.lock"
    probe = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(probe)
    return False


@pytest.mark.parametrize("fail", [False, True], ids=["commit", "rollback"])
def test_a_writer_waits_while_another_is_inside_and_begins_once_it_ends(world, fail):
    holder = Holder(fail=fail)
    holder.start()
    assert holder.inside.wait(WAIT)
    writer = Writer()
    writer.start()

    assert not writer.began.wait(0.3)  # kept out while the holder is inside
    assert _lock_file_is_held()

    holder.finish.set()
    assert writer.began.wait(WAIT)
    writer.join(WAIT)
    holder.join(WAIT)
    assert writer.error is None
    assert not _lock_file_is_held()


def test_the_task_queues_exclusive_transactions_line_up_too(world):
    holder = Holder(begin=exclusive_transaction)
    holder.start()
    assert holder.inside.wait(WAIT)

    held = _lock_file_is_held()
    holder.finish.set()
    holder.join(WAIT)

    assert held
    assert not _lock_file_is_held()


def test_a_writer_gives_up_after_its_timeout_with_database_is_locked(world):
    holder = Holder()
    holder.start()
    assert holder.inside.wait(WAIT)
    writer = Writer(timeout=0.2)

    writer.start()
    writer.join(WAIT)
    holder.finish.set()
    holder.join(WAIT)

    assert not writer.began.is_set()
    assert str(writer.error) == "database is locked"


def test_the_lock_file_sits_beside_the_database_and_is_free_after_commit(world):
    with transaction.atomic():
        Office.objects.update(report_min_cell=6)
    writer = Writer(timeout=0.2)

    writer.start()
    writer.join(WAIT)

    assert writer.began.is_set() and writer.error is None
    assert Path(f"{connection.settings_dict['NAME']}-writer.lock").exists()
