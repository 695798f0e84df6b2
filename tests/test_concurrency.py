"""No double booking, ever: many schedulers race for one slot and exactly one wins.

The guard is the occupancy grid's unique constraints (`counselor_cell_claimed_once`,
`seeker_cell_claimed_once`); on SQLite, immediate transactions and a busy timeout make
the losers queue and get a clean 409 instead of "database is locked". Each race here
runs 20 threads through the real API (each with its own Client and connection) and
counts every answer; on PostgreSQL also separate processes. The negative controls show
the race is real when the guard is taken away.

All tests commit (`transaction=True`) so that the other threads and processes see the
data. The clock is frozen with time-machine, which patches it process-wide, so the
threads share the frozen instant; the worker processes freeze it themselves.
"""

import contextlib
import datetime as dt
import json
import os
import select
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import OperationalError, connection
from django.test import Client

from madoguchi.bookings import services
from madoguchi.bookings.models import BlockedTime, Consultation, Occupancy, Request
from madoguchi.offices.models import Staff
from madoguchi.seekers.models import Seeker
from tests.conftest import NOW, World
from tests.factories import ALL_DECLARATIONS, local, make_seeker, make_staff, make_token

RACERS = 20
SLOT = local(2026, 12, 2, 10, 0)  # Wednesday, the first bookable day after NOW
SLOT_END = SLOT + dt.timedelta(minutes=60)
SLOT_CELLS = 12  # 60 minutes of 5-minute cells
START_TIMEOUT = 10  # seconds for all racers to reach the start line
HOLD_TIMEOUT = 3  # seconds a racer held inside a transaction waits for the others
JOIN_TIMEOUT = 25  # seconds for a whole race to finish
GUARDS = ("counselor_cell_claimed_once", "seeker_cell_claimed_once")

ON_POSTGRES = connection.vendor == "postgresql"
ON_SQLITE = connection.vendor == "sqlite"
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs transactions that run side by side (PostgreSQL); SQLite admits one "
    "writer at a time, see test_schedule_race_deferred_transactions_lock_errors",
)
postgres_processes = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="separate processes race on PostgreSQL; on SQLite every writer, thread or "
    "process, queues for the same file lock, which the thread races already cover",
)
sqlite_only = pytest.mark.skipif(not ON_SQLITE, reason="about SQLite's transaction modes")

Outcome = tuple[int, str]  # (HTTP status, problem code, or "created" for a 201)
WON: Outcome = (201, "created")


# Arrange helpers ---------------------------------------------------------------------


def _request_for(world: World, seeker: Seeker) -> int:
    """A phone request (status `requested`) for `seeker`, wanting SLOT."""
    return services.request_create(
        office=world.office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(SLOT, 60)],
        channel="phone",
        declarations=ALL_DECLARATIONS,
        actor=world.coordinator,
    ).pk


def _new_seekers(world: World, count: int) -> list[Seeker]:
    return [make_seeker(world.office, world.counselor) for _ in range(count)]


# The race ----------------------------------------------------------------------------


def _post(token: str, path: str, body: dict) -> Outcome:
    """One API call from a racing thread, with a Client of its own."""
    client = Client(raise_request_exception=False)
    response = client.post(
        path, body, content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code == 201:
        return WON
    if response.headers.get("Content-Type", "").endswith("json"):
        return response.status_code, response.json().get("code", "")
    return response.status_code, response.content.decode(errors="replace")[:80]


def _schedule(token: str, request_id: int, counselor: str) -> Outcome:
    body = {"start": SLOT.isoformat(), "duration_minutes": 60, "counselor": counselor}
    return _post(token, f"/api/v1/requests/{request_id}/schedule", body)


def _block(token: str, counselor: str) -> Outcome:
    body = {"counselor": counselor, "start": SLOT.isoformat(), "end": SLOT_END.isoformat()}
    return _post(token, "/api/v1/blocked-times", body)


def _race(calls: list[Callable[[], Outcome]]) -> tuple[Counter[Outcome], list[BaseException]]:
    """Run `calls` in threads that start together; count the outcomes.

    Returns the tally and every exception: raised in a thread, or caught by Django's
    handler and turned into a 500 (the `got_request_exception` receiver runs in the
    failing thread, so `sys.exc_info()` is that request's exception). Each thread closes
    its own database connection. No wait is unbounded.
    """
    start_line = threading.Barrier(len(calls), timeout=START_TIMEOUT)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def server_error(**kwargs: object) -> None:
        errors.append(sys.exc_info()[1] or RuntimeError("got_request_exception"))

    def run(call: Callable[[], Outcome]) -> None:
        try:
            start_line.wait()
            outcomes.append(call())
        except BaseException as error:  # reported by the test, never lost in a thread
            errors.append(error)
        finally:
            connection.close()

    got_request_exception.connect(server_error, weak=False, dispatch_uid="race")
    try:
        threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "a racer is still running"
    finally:
        got_request_exception.disconnect(dispatch_uid="race")
    return Counter(outcomes), errors


def _hold_after_counselor_check(monkeypatch: pytest.MonkeyPatch, parties: int) -> None:
    """Make every racer pass the pre-check before any of them claims a cell.

    This only schedules the threads; the check itself still runs. It needs transactions
    that run side by side, so it is for PostgreSQL only.
    """
    barrier = threading.Barrier(parties, timeout=HOLD_TIMEOUT)
    check = services._check_time_free

    def check_then_wait(*args, **kwargs) -> None:
        check(*args, **kwargs)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            raise AssertionError(
                "the racers could not all pass the pre-check at once: "
                "something else (a lock on a shared row?) serializes their transactions"
            ) from None

    monkeypatch.setattr(services, "_check_time_free", check_then_wait)


@contextlib.contextmanager
def _occupancy_unguarded() -> Iterator[None]:
    """Drop the two unique constraints for the block, then put them back.

    The test database's flush does not restore schema, so they are re-added here; the
    cells are deleted first so the constraints can be built again.
    """
    guards = [c for c in Occupancy._meta.constraints if c.name in GUARDS]
    assert len(guards) == len(GUARDS)
    with connection.schema_editor() as editor:
        for constraint in guards:
            editor.remove_constraint(Occupancy, constraint)
    try:
        yield
    finally:
        Occupancy.objects.all().delete()
        with connection.schema_editor() as editor:
            for constraint in guards:
                editor.add_constraint(Occupancy, constraint)


def _assert_one_booking(request_ids: list[int]) -> Consultation:
    """Exactly one consultation, holding exactly its 12 cells; the other requests wait."""
    consultation = Consultation.objects.get()
    assert consultation.status == Consultation.Status.SCHEDULED
    assert (consultation.start, consultation.end) == (SLOT, SLOT_END)
    assert (
        list(Occupancy.objects.values_list("consultation_id", flat=True))
        == [consultation.pk] * SLOT_CELLS
    )
    statuses = Counter(Request.objects.filter(pk__in=request_ids).values_list("status", flat=True))
    assert statuses == {Request.Status.SCHEDULED: 1, Request.Status.REQUESTED: len(request_ids) - 1}
    return consultation


# One counselor, one slot -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_schedule_race_threads_one_winner(world):
    request_ids = [_request_for(world, s) for s in _new_seekers(world, RACERS)]
    token = make_token(world.coordinator)

    tally, errors = _race([partial(_schedule, token, rid, "sato") for rid in request_ids])

    assert errors == []
    assert tally == {WON: 1, (409, "slot_taken"): RACERS - 1}
    consultation = _assert_one_booking(request_ids)
    assert consultation.counselor == world.counselor
    assert Occupancy.objects.count() == SLOT_CELLS


@pytest.mark.django_db(transaction=True)
def test_schedule_race_without_precheck_one_winner(world, monkeypatch):
    """A bug in Python cannot double-book: with the pre-check gone, every
    racer reaches the insert and the unique constraint alone refuses all but one, each
    with a clean slot_taken."""
    request_ids = [_request_for(world, s) for s in _new_seekers(world, RACERS)]
    token = make_token(world.coordinator)
    monkeypatch.setattr(services, "_check_time_free", lambda *args, **kwargs: None)

    tally, errors = _race([partial(_schedule, token, rid, "sato") for rid in request_ids])

    assert errors == []
    assert tally == {WON: 1, (409, "slot_taken"): RACERS - 1}
    _assert_one_booking(request_ids)


# One seeker, many counselors ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_schedule_race_same_seeker_one_winner(world):
    counselors = [make_staff(world.office, "counselor") for _ in range(RACERS)]
    request_ids = [_request_for(world, world.seeker) for _ in counselors]
    token = make_token(world.coordinator)

    tally, errors = _race(
        [
            partial(_schedule, token, rid, c.username)
            for rid, c in zip(request_ids, counselors, strict=True)
        ]
    )

    assert errors == []
    assert tally == {WON: 1, (409, "seeker_busy"): RACERS - 1}
    consultation = _assert_one_booking(request_ids)
    assert consultation.seeker == world.seeker
    assert consultation.counselor in counselors
    assert Occupancy.objects.filter(seeker=world.seeker).count() == SLOT_CELLS


# Blocked time against bookings -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_schedule_race_with_blocked_time_one_winner(world):
    """Half the racers book the counselor's hour, half block it: one of them gets it."""
    half = RACERS // 2
    request_ids = [_request_for(world, s) for s in _new_seekers(world, half)]
    token = make_token(world.coordinator)
    bookers = [partial(_schedule, token, rid, "sato") for rid in request_ids]
    blockers = [partial(_block, token, "sato") for _ in range(half)]

    tally, errors = _race([c for pair in zip(bookers, blockers, strict=True) for c in pair])

    assert errors == []
    assert tally == {WON: 1, (409, "slot_taken"): RACERS - 1}
    holders = list(Consultation.objects.all()) + list(BlockedTime.objects.all())
    assert len(holders) == 1
    assert (holders[0].counselor, holders[0].start, holders[0].end) == (
        world.counselor,
        SLOT,
        SLOT_END,
    )
    field = "consultation_id" if isinstance(holders[0], Consultation) else "blocked_time_id"
    assert list(Occupancy.objects.values_list(field, flat=True)) == [holders[0].pk] * SLOT_CELLS


# Separate processes ------------------------------------------------------------------

WORKER = Path(__file__).with_name("race_worker.py")
PROCESSES = 8


def _worker_env() -> dict[str, str]:
    """The environment of a worker: the same settings, pointed at this test database."""
    db = connection.settings_dict
    user = urllib.parse.quote(db["USER"] or "", safe="")
    password = urllib.parse.quote(db["PASSWORD"] or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}{host}{port}/{urllib.parse.quote(db['NAME'])}",
        "SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_SETTINGS_MODULE": "madoguchi.settings",
        "PYTHONPATH": str(WORKER.parent.parent),
    }


def _wait_ready(worker: subprocess.Popen, deadline: float) -> None:
    """Wait until `worker` says it is set up and connected, at most until `deadline`."""
    assert worker.stdout is not None
    ready, _, _ = select.select([worker.stdout], [], [], max(0.0, deadline - time.monotonic()))
    line = worker.stdout.readline().strip() if ready else "(no answer)"
    if line != "ready":
        _out, err = worker.communicate(timeout=START_TIMEOUT)
        pytest.fail(f"worker not ready: {line!r}\n{err}")


@postgres_processes
@pytest.mark.django_db(transaction=True)
def test_schedule_race_processes_one_winner(world):
    request_ids = [_request_for(world, s) for s in _new_seekers(world, PROCESSES)]
    env = _worker_env()
    args = [SLOT.isoformat(), "sato", world.coordinator.username, NOW.isoformat()]
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(rid), *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rid in request_ids
    ]
    try:
        deadline = time.monotonic() + JOIN_TIMEOUT  # each worker starts Django
        for worker in workers:
            _wait_ready(worker, deadline)
        for worker in workers:  # the start line: all are set up, connected and waiting
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        answers = [worker.communicate(timeout=JOIN_TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()

    assert [(w.returncode, err) for w, (_out, err) in zip(workers, answers, strict=True)] == [
        (0, "")
    ] * PROCESSES
    results = Counter(json.loads(out)["result"] for out, _err in answers)
    assert results == {"ok": 1, "slot_taken": PROCESSES - 1}
    _assert_one_booking(request_ids)


# Negative controls: the race is real without the guard --------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_schedule_race_without_constraints_double_books(world, monkeypatch):
    """Negative control: drop the unique constraints and let every racer pass the
    pre-check before any claims a cell. The Python check alone then lets the racers all
    book the same counselor for the same hour, so the race the constraints stop is real.
    """
    request_ids = [_request_for(world, s) for s in _new_seekers(world, RACERS)]
    token = make_token(world.coordinator)
    _hold_after_counselor_check(monkeypatch, RACERS)

    with _occupancy_unguarded():
        tally, errors = _race([partial(_schedule, token, rid, "sato") for rid in request_ids])
        booked = Consultation.objects.filter(counselor=world.counselor, start=SLOT).count()
        cells = Occupancy.objects.filter(counselor=world.counselor).count()

    assert errors == []
    assert tally == {WON: RACERS}
    assert booked == RACERS > 1
    assert cells == RACERS * SLOT_CELLS


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("clash", ["slot_taken", "seeker_busy"], ids=["counselor", "seeker"])
def test_schedule_race_past_the_precheck_one_winner(world, monkeypatch, clash):
    """The same race as the negative control, with the constraints in place: every racer
    passes the counselor pre-check before any claims a cell, the inserts collide, and the
    losers get a clean 409. For the seeker, the racers book one seeker with as many
    counselors; released together, they mostly pass the seeker check too."""
    token = make_token(world.coordinator)
    if clash == "slot_taken":  # many seekers, one counselor
        pairs = [(_request_for(world, s), "sato") for s in _new_seekers(world, RACERS)]
    else:  # one seeker, many counselors
        counselors = [make_staff(world.office, "counselor") for _ in range(RACERS)]
        pairs = [(_request_for(world, world.seeker), c.username) for c in counselors]
    _hold_after_counselor_check(monkeypatch, RACERS)

    tally, errors = _race([partial(_schedule, token, rid, who) for rid, who in pairs])

    assert errors == []
    assert tally == {WON: 1, (409, clash): RACERS - 1}
    _assert_one_booking([rid for rid, _who in pairs])


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_schedule_race_deferred_transactions_lock_errors(world, monkeypatch):
    """Negative control on SQLite: without immediate transactions the losers crash.

    SQLite has one writer at a time and every transaction reads a snapshot, so two
    bookings can never both be stored: there the race ends in errors, not in double
    booking (a bug in Python is what the constraints catch, see
    test_schedule_race_without_precheck_one_winner). In Django's default DEFERRED mode a
    transaction starts as a reader; when it then tries to write while another holds the
    lock, or after another has committed, SQLite answers "database is locked" at once,
    without waiting out the busy timeout. Here the racers' new connections use DEFERRED
    and all read inside their transactions before any writes: one books, every other
    request is a 500. test_schedule_race_threads_one_winner is the same race with
    IMMEDIATE: no errors, 409s.
    """
    request_ids = [_request_for(world, s) for s in _new_seekers(world, RACERS)]
    token = make_token(world.coordinator)
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "transaction_mode", "DEFERRED")
    barrier = threading.Barrier(RACERS, timeout=HOLD_TIMEOUT)
    counselor_for = services._counselor_for

    def read_then_wait(**kwargs) -> Staff:
        chosen = counselor_for(**kwargs)
        barrier.wait()
        return chosen

    monkeypatch.setattr(services, "_counselor_for", read_then_wait)

    tally, errors = _race([partial(_schedule, token, rid, "sato") for rid in request_ids])

    assert tally[WON] == 1
    assert sum(n for (status, _), n in tally.items() if status == 500) == RACERS - 1
    assert [(type(e), str(e)) for e in errors] == [(OperationalError, "database is locked")] * (
        RACERS - 1
    )
    _assert_one_booking(request_ids)
