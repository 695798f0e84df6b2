"""Writes of the records app: usage records (R19) and their retention."""

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from madoguchi.records.audit import audit_record, client_ip, valid_ip
from madoguchi.records.models import PageView, RetentionSweep

logger = logging.getLogger("madoguchi.records")

RETENTION_BATCH = 5000  # rows per DELETE: short transactions, no long table lock


def _hint(request: HttpRequest, name: str, size: int) -> str:
    return request.headers.get(name, "").strip().strip('"')[:size]


def usage_record_view(request: HttpRequest, *, office: Any, seeker: Any = None) -> PageView:
    """Record that the browser behind `request` was shown this page (R19): the page's
    URL name, the time, the address and the device identifiers it sent. Seeker views
    call this with the office and seeker they know; web.middleware does it otherwise.
    The address is the one web.middleware found (proxy-aware), else REMOTE_ADDR."""
    match = request.resolver_match
    name = match.view_name if match is not None else ""
    mobile = request.headers.get("Sec-CH-UA-Mobile", "")
    view = PageView.objects.create(
        at=timezone.now(),
        office=office,
        seeker=seeker,
        page=name[:100],
        ip=valid_ip(client_ip.get() or request.META.get("REMOTE_ADDR")),
        user_agent=request.headers.get("User-Agent", "")[:400],
        platform=_hint(request, "Sec-CH-UA-Platform", 60),
        platform_version=_hint(request, "Sec-CH-UA-Platform-Version", 60),
        browser=(
            request.headers.get("Sec-CH-UA-Full-Version-List")
            or request.headers.get("Sec-CH-UA", "")
        )[:300],
        model=_hint(request, "Sec-CH-UA-Model", 100),
        mobile={"?1": True, "?0": False}.get(mobile.strip()),
    )
    request.usage_recorded = True  # type: ignore[attr-defined]
    return view


def _delete_in_batches(queryset: Any) -> int:
    """Delete the rows of `queryset` a batch at a time, each in its own transaction."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:RETENTION_BATCH])
            if not ids:
                return total
            deleted, _ = queryset.model.objects.filter(pk__in=ids).delete()
        total += deleted


def usage_retention_sweep(*, now: dt.datetime) -> int:
    """Once a day per office: delete its page views and meeting events older than its
    `retention_days` (R19), clear the device checks of its requests made before then,
    and audit how many, with no personal data. Idempotent: the
    day's run is claimed first, and deleting what is already gone deletes nothing."""
    from madoguchi.bookings.models import Request
    from madoguchi.meetings.models import MeetingEvent
    from madoguchi.offices.models import Office

    deleted, swept = 0, False
    recent = now.date() - dt.timedelta(days=1)  # any office's today is on or after it
    done = set(RetentionSweep.objects.filter(day__gte=recent).values_list("office_id", "day"))
    for office in Office.objects.all():
        day = now.astimezone(office.tz).date()
        if (office.pk, day) in done:
            continue  # the usual case: two queries a round, no failed insert
        try:
            with transaction.atomic():
                RetentionSweep.objects.create(office=office, day=day, at=now)
        except IntegrityError:
            continue  # done today, by this worker or another
        cutoff = now - dt.timedelta(days=office.retention_days)
        views = _delete_in_batches(PageView.objects.filter(office=office, at__lt=cutoff))
        events = _delete_in_batches(
            MeetingEvent.objects.filter(consultation__office=office, at__lt=cutoff)
        )
        # The device check an online request carried identifies the device, too.
        checks = Request.objects.filter(
            office=office, created_at__lt=cutoff, device_check__isnull=False
        ).update(device_check=None)
        with transaction.atomic():
            audit_record(
                actor=None,
                action="usage.retention_deleted",
                obj=office,
                office=office,
                details={
                    "page_views": views,
                    "meeting_events": events,
                    "device_checks": checks,
                    "before": cutoff.isoformat(),
                },
            )
        logger.info("retention: office %s, %s page views, %s events", office.pk, views, events)
        deleted, swept = deleted + views + events, True
    return deleted + (_orphans_delete(now=now) if swept else 0)


def _orphans_delete(*, now: dt.datetime) -> int:
    """Page views and meeting events with no office: after the longest retention."""
    from django.db.models import Max

    from madoguchi.meetings.models import MeetingEvent
    from madoguchi.offices.models import Office

    longest = Office.objects.aggregate(days=Max("retention_days"))["days"] or 365
    cutoff = now - dt.timedelta(days=longest)
    return _delete_in_batches(
        PageView.objects.filter(office__isnull=True, at__lt=cutoff)
    ) + _delete_in_batches(MeetingEvent.objects.filter(consultation__isnull=True, at__lt=cutoff))
