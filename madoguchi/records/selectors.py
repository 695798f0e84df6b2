"""Reads of the records app: chain verification, the audit search, usage records."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from madoguchi.records.chain import SYSTEM_CHAIN, ChainReport, chain_key, chain_verify
from madoguchi.records.models import AuditChainHead, AuditEntry, PageView

UNSEALED_GRACE = dt.timedelta(minutes=10)  # the worker seals leftovers every round


def audit_chain_verify(*, office: Any = None, every: bool = False) -> list[ChainReport]:
    """Verify one office's chain, or (`every`) each chain there is: one report per chain,
    each with its first broken link if any (a break in one chain hides nothing in the
    next). Reads sealed entries in chain order, a chunk at a time; an entry still
    unsealed long after it was written counts as a break too."""
    if every:
        keys = set(AuditChainHead.objects.values_list("key", flat=True))
        used = AuditEntry.objects.order_by().values_list("office_id", flat=True).distinct()
        keys |= {chain_key(office_id) for office_id in used}
        ordered = sorted(keys, key=lambda k: (k == SYSTEM_CHAIN, int(k) if k.isdigit() else 0))
    else:
        ordered = [chain_key(office.pk if office is not None else None)]
    reports = []
    for key in ordered:
        entries = (
            AuditEntry.objects.filter(office__isnull=True)
            if key == SYSTEM_CHAIN
            else AuditEntry.objects.filter(office_id=int(key))
        )
        head = AuditChainHead.objects.filter(key=key).first()
        report = chain_verify(
            entries.exclude(hash="").order_by("seq").iterator(chunk_size=2000), head=head
        )
        stale = entries.filter(hash="", at__lt=timezone.now() - UNSEALED_GRACE).first()
        if not report.problem and stale is not None:
            report = ChainReport(report.verified, stale, "unsealed")
        report.chain = key
        reports.append(report)
    return reports


@dataclass
class AuditFilter:
    actor: str = ""
    action: str = ""
    seeker_number: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def audit_entries_search(*, office: Any, filters: AuditFilter) -> QuerySet[AuditEntry]:
    """The office's audit entries matching `filters`, newest first.

    A seeker number matches the entries on that seeker and on their requests and
    consultations (so "who read X's notes" is `consultation.notes_viewed` + X).
    """
    from madoguchi.bookings.models import Consultation, Request
    from madoguchi.seekers.models import Seeker

    qs = AuditEntry.objects.filter(office=office)
    if filters.actor:
        qs = qs.filter(actor_label__iexact=filters.actor)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    tz = office.tz
    if filters.date_from:
        qs = qs.filter(at__gte=dt.datetime.combine(filters.date_from, dt.time(), tzinfo=tz))
    if filters.date_to:
        end = filters.date_to + dt.timedelta(days=1)
        qs = qs.filter(at__lt=dt.datetime.combine(end, dt.time(), tzinfo=tz))
    if filters.seeker_number:
        seeker = Seeker.objects.filter(office=office, number=filters.seeker_number).first()
        if seeker is None:
            return qs.none()
        consultations = Consultation.objects.filter(seeker=seeker).values_list("pk", flat=True)
        requests = Request.objects.filter(seeker=seeker).values_list("pk", flat=True)
        qs = qs.filter(
            Q(object_type="seeker", object_id=str(seeker.pk))
            | Q(object_type="consultation", object_id__in=[str(pk) for pk in consultations])
            | Q(object_type="request", object_id__in=[str(pk) for pk in requests])
        )
    return qs.order_by("-at", "-id")


def usage_page_views(*, office: Any) -> QuerySet[PageView]:
    return PageView.objects.filter(office=office).select_related("seeker").order_by("-at", "-id")
