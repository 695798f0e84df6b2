"""Leases: how a worker takes a row for a while without holding a database lock.

A row is free when its lease field is empty or past. `claim` takes it by
compare-and-set, so of two workers that try at once exactly one gets it; a worker
that dies simply lets the lease run out, and the row is due again.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet


def lease() -> dt.timedelta:
    """How long a claim holds (MADOGUCHI_WORKER_LEASE, default 5 minutes): longer than
    any one job takes, so a live worker never loses its row to another."""
    return dt.timedelta(seconds=settings.MADOGUCHI_WORKER_LEASE)


def queue_grace() -> dt.timedelta:
    """How long a freshly queued task has before the clock queues its row once more."""
    return lease() * 0.4


def claim(rows: QuerySet, *, field: str, now: dt.datetime, counter: str | None = None) -> bool:
    """Take the one row of `rows` for the lease; True if this caller got it."""
    free = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now})
    changes: dict = {field: now + lease()}
    if counter:
        changes[counter] = F(counter) + 1
    return rows.filter(free).update(**changes) == 1


def requeue_due(
    rows: QuerySet,
    *,
    due_field: str,
    claim_field: str,
    task: Any,
    now: dt.datetime,
    limit: int = 500,
) -> int:
    """The clock's half of a lease: queue `task` again for each row of `rows` that is due
    (`due_field` passed) and that no worker holds (`claim_field` not in the future), and
    push its due time on by the queue grace so the next round does not queue it twice."""
    due = list(
        rows.filter(**{f"{due_field}__lte": now})
        .exclude(**{f"{claim_field}__gt": now})
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return 0
    rows.model.objects.filter(pk__in=due).update(**{due_field: now + queue_grace()})
    for pk in due:
        task.enqueue(pk)
    return len(due)


def backoff(attempts: int, *, base: int = 30, cap: int = 3600) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … at most an hour: the pause after a failed attempt."""
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))
