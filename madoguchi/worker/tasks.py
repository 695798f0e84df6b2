"""The tasks the worker runs. Each takes an id, and each is idempotent: it claims its row
by compare-and-set first, so a task that runs twice (a retry, a second worker, the clock
queueing it again after a crash) changes nothing the second time.
"""

import logging
from typing import Any

from django.db import connection, transaction
from django.tasks import task

logger = logging.getLogger("madoguchi.worker")


@task
def send_mail(outbox_id: int) -> str:
    from madoguchi.notifications.outbox import outbox_send

    return outbox_send(outbox_id=outbox_id)


@task
def sync_meeting(consultation_id: int) -> str:
    from madoguchi.meetings.services import meeting_sync

    return meeting_sync(consultation_id=consultation_id)


def enqueue_on_commit(job: Any, *args: Any) -> None:
    """Queue `job(*args)` with the current transaction.

    With the database queue (the default), the task's row is written in the caller's
    transaction when every argument is known: it commits or rolls back with the change
    and costs no commit of its own. Otherwise (Redis, or an instance not yet saved) the
    task is queued once the transaction commits; if the queue cannot take it (Redis
    away, say), nothing is lost: the row stays due in the database and the worker's
    clock queues it again.
    """
    if (
        connection.in_atomic_block
        and job.get_backend().__class__.__module__.startswith("django_tasks_db.")
        and all(getattr(arg, "pk", arg) is not None for arg in args)
    ):
        job.enqueue(*(_id(arg) for arg in args))
        return

    def enqueue() -> None:
        try:
            job.enqueue(*(_id(arg) for arg in args))
        except Exception:
            logger.warning("could not queue %s; the clock will pick it up", job.name)

    transaction.on_commit(enqueue, robust=True)


def _id(arg: Any) -> Any:
    """A model instance stands for its id."""
    return arg.pk if hasattr(arg, "pk") else arg
