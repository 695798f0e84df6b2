"""`madoguchi worker [--once]`: the clock's rounds and the task queue, in one process."""

import logging
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.tasks import task_backends
from django.utils import timezone

from madoguchi.worker import clock

logger = logging.getLogger("madoguchi.worker")

DRAIN_BUDGET = 15.0
ONCE_ROUNDS = 50
PRUNE_EVERY = 3600.0


def drain(*, name: str, stop: threading.Event, budget: float = DRAIN_BUDGET) -> int:
    """Run queued tasks until the queue is empty or `budget` seconds passed.

    The budget keeps the clock's rounds (no-shows within a minute) and the heartbeat
    going while a slow mail server or Zoom holds each task for seconds.
    """
    backend = task_backends["default"]
    deadline = time.monotonic() + budget
    ran = 0
    if type(backend).__module__.startswith("django_tasks_redis"):
        from django_tasks_redis import executor

        executor.claim_stale_tasks(worker_id=name)
        while time.monotonic() < deadline and not stop.is_set():
            if executor.process_one_task(worker_id=name) is None:
                break
            ran += 1
        return ran
    from django_tasks_db.management.commands.db_worker import Worker

    while time.monotonic() < deadline and not stop.is_set():
        worker = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=1,
            worker_id=name,
            excluded_queue_names=[],
        )
        worker.run()
        if not worker._run_tasks:
            break
        ran += 1
    return ran


class Command(BaseCommand):
    help = (
        "Run background work: no-shows, reminders, mail, meeting calls. "
        "With --once, do what is due now and exit."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="do what is due now, then exit")
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.MADOGUCHI_WORKER_INTERVAL,
            help="seconds between rounds when idle (default %(default)s)",
        )

    def handle(self, *args: Any, once: bool = False, interval: float = 5.0, **options: Any):
        name = clock.worker_name()
        started = timezone.now()
        stop = threading.Event()
        if not once:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            logger.info("worker %s started (round every %ss)", name, interval)
        last_prune = 0.0
        rounds = 0
        while not stop.is_set():
            rounds += 1
            now = timezone.now()
            try:
                found = clock.tick(now=now)
                ran = drain(name=name, stop=stop)
                clock.heartbeat(name=name, now=timezone.now(), started_at=started)
            except Exception:
                # One bad round (a locked database, a broken row) must not end the worker.
                logger.exception("worker round failed; trying again")
                close_old_connections()
                if once:
                    raise
                stop.wait(interval)
                continue
            if any(found.values()) or ran:
                logger.info("round: %s, tasks run %s", found, ran)
            monotonic = time.monotonic()
            if monotonic - last_prune > PRUNE_EVERY:
                clock.prune(now=now)
                last_prune = monotonic
            close_old_connections()
            if once:
                if (not any(found.values()) and not ran) or rounds >= ONCE_ROUNDS:
                    break
                continue
            if not ran:
                stop.wait(interval)
        if not once:
            logger.info("worker %s stopped", name)
