"""The worker's clock: each round finds in the database what is due and does it.

Nothing due is remembered anywhere but in the rows themselves, so a worker (or the
whole server) that was down simply finds the work on its first round back:
no-shows (R13), reminders, mail and meeting calls whose tasks were lost or failed.
"""

import datetime as dt
import logging
import os
import socket

from django.db import transaction
from django.utils import timezone

from madoguchi.bookings.models import Consultation, MeetingState
from madoguchi.errors import BookingError
from madoguchi.worker.models import Heartbeat

logger = logging.getLogger("madoguchi.worker")

HOUR = dt.timedelta(hours=1)
KEEP_TASK_RESULTS = dt.timedelta(days=2)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def no_shows_mark(*, now: dt.datetime, limit: int = 2000) -> int:
    """R13: scheduled, nobody joined, no contact, start + grace passed → no-show."""
    from madoguchi.bookings.services import consultation_mark_no_show

    candidates = (
        Consultation.objects.filter(
            status=Consultation.Status.SCHEDULED,
            seeker_joined_at__isnull=True,
            contact_recorded_at__isnull=True,
            meeting_ready_at__isnull=False,
            start__lte=now,
        )
        .select_related("office")
        .only("pk", "start", "office__no_show_grace_minutes")
        .order_by("start")[:limit]
    )
    marked = 0
    for consultation in candidates:
        due = consultation.start + dt.timedelta(minutes=consultation.office.no_show_grace_minutes)
        if now < due:
            continue
        try:
            consultation_mark_no_show(consultation_id=consultation.pk, actor=None)
        except BookingError:
            continue  # started, joined or called in the meantime: not a no-show
        except Exception:
            logger.exception("no-show of consultation %s failed; next round", consultation.pk)
            continue
        marked += 1
    return marked


def _reminder_moment(consultation: Consultation, when: str) -> dt.datetime:
    if when == "hour_before":
        return consultation.start - HOUR
    office = consultation.office
    day_before = consultation.start.astimezone(office.tz).date() - dt.timedelta(days=1)
    return dt.datetime.combine(day_before, office.reminder_time, tzinfo=office.tz)


def reminders_queue(*, now: dt.datetime, limit: int = 2000) -> int:
    """The day-before (office-set time) and the hour-before reminders, each once."""
    from madoguchi.notifications.outbox import mail_queue

    sent = 0
    for when, field in (
        ("day_before", "reminded_day_before_at"),
        ("hour_before", "reminded_hour_before_at"),
    ):
        candidates = (
            Consultation.objects.filter(
                status=Consultation.Status.SCHEDULED,
                meeting_state=MeetingState.READY,
                start__gt=now,
                start__lte=now + dt.timedelta(days=2),
                **{f"{field}__isnull": True},
            )
            .select_related("office", "seeker")
            .order_by("start")[:limit]
        )
        for consultation in candidates:
            moment = _reminder_moment(consultation, when)
            if now < moment:
                continue
            # Booked after the moment (the scheduled mail just went), or the
            # hour-before reminder is nearer: no day-before reminder.
            skip = consultation.created_at >= moment or (
                when == "day_before" and now >= consultation.start - HOUR
            )
            with transaction.atomic():
                taken = Consultation.objects.filter(
                    pk=consultation.pk,
                    status=Consultation.Status.SCHEDULED,
                    start=consultation.start,
                    **{f"{field}__isnull": True},
                ).update(**{field: now})
                if taken and not skip:
                    mail_queue(
                        f"reminder_{when}", seeker=consultation.seeker, consultation=consultation
                    )
                    sent += 1
    return sent


_daily_done: dict[str, dt.date] = {}


def seekers_anonymise_daily(*, now: dt.datetime) -> int:
    """R19/R21: once a Tokyo day per worker process (and after a restart), anonymise
    seekers expired past their office's retention. Idempotent, so several workers or a
    restart running it again change nothing; a failed run is tried again next round."""
    from madoguchi.seekers.anonymise import seekers_anonymise

    today = timezone.localdate(now)
    if _daily_done.get("anonymise") == today:
        return 0
    count = seekers_anonymise(now=now)
    _daily_done["anonymise"] = today
    return count


def heartbeat(*, name: str, now: dt.datetime, started_at: dt.datetime) -> None:
    Heartbeat.objects.update_or_create(
        worker=name,
        defaults={"seen_at": now},
        create_defaults={"seen_at": now, "started_at": started_at},
    )


def prune(*, now: dt.datetime) -> int:
    """Forget finished task records (the outcome lives in the rows they changed)."""
    from django_tasks_db.models import DBTaskResult

    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=now - KEEP_TASK_RESULTS).delete()
    stale, _ = (
        DBTaskResult.objects.running().filter(started_at__lt=now - KEEP_TASK_RESULTS).delete()
    )
    Heartbeat.objects.filter(seen_at__lt=now - KEEP_TASK_RESULTS).delete()
    return deleted + stale


def tick(*, now: dt.datetime | None = None) -> dict[str, int]:
    """One round of the clock; returns how much of each kind of work it found."""
    from madoguchi.bookings.services import requests_expire
    from madoguchi.meetings.services import meetings_requeue
    from madoguchi.notifications.outbox import outbox_requeue
    from madoguchi.records.chain import chain_seal_pending
    from madoguchi.records.services import usage_retention_sweep

    now = now or timezone.now()
    return {
        "no_shows": no_shows_mark(now=now),
        "reminders": reminders_queue(now=now),
        "mail": outbox_requeue(now=now),
        "meetings": meetings_requeue(now=now),
        "expired_requests": requests_expire(now=now),
        "anonymised_seekers": seekers_anonymise_daily(now=now),
        "retention": usage_retention_sweep(now=now),
        "audit_sealed": chain_seal_pending(),
    }
