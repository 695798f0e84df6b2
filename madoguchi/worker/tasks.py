"""The tasks the worker runs. Each takes an id, and each is idempotent: it claims its row
by compare-and-set first, so a task that runs twice (a retry, a second worker, the clock
queueing it again after a crash) changes nothing the second time.
"""

import logging
from typing import Any

from django.db import transaction
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
    """Queue `job(*args)` once the current transaction commits.

    If the queue cannot take it (Redis away, say), nothing is lost: the row stays due
    in the database and the worker's clock queues it again.
    """

    def enqueue() -> None:
        try:
            # A model instance saved later in the transaction stands for its id.
            job.enqueue(*(arg.pk if hasattr(arg, "pk") else arg for arg in args))
        except Exception:
            logger.warning("could not queue %s; the clock will pick it up", job.name)

    transaction.on_commit(enqueue, robust=True)
