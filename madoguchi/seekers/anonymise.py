"""Anonymising job seekers whose registration expired longer ago than the office keeps data
(R19, R21). A daily job of the worker's clock.

Blanked: name, kana, e-mail, phone, the restriction reason; the number becomes
`anon-<id>` (unique, not a valid job-seeker number, so nobody can book with it). On their
requests: the name as given, the reason for declining, the interpreter language and the
device check; on their consultations: outcome, notes, the note on stopping, the reasons
for cancelling and for short notice, and the meeting's passcode and join link; on their
mails: address, subject, bodies and attachments. (Consents hold no free text.)
Statuses, counts, times and reason codes stay, so that reports still add up. A seeker
with a consultation still to come is kept. The append-only audit log is not touched: its
entries' details keep what they recorded (reasons given by staff, the seeker's own
reason for cancelling online).
"""

import datetime as dt

from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

from madoguchi.offices.models import Office
from madoguchi.records.audit import audit_record
from madoguchi.seekers.models import Seeker

PLACEHOLDER_PREFIX = "anon-"
BATCH = 500


def _due(office: Office, now: dt.datetime) -> list[int]:
    from madoguchi.bookings.models import Consultation

    cutoff = now.astimezone(office.tz).date() - dt.timedelta(days=office.retention_days)
    still_to_come = Consultation.objects.filter(
        end__gt=now,
        status__in=[Consultation.Status.SCHEDULED, Consultation.Status.IN_PROGRESS],
    ).values("seeker_id")
    return list(
        Seeker.objects.filter(office=office, anonymised_at__isnull=True, expires_on__lt=cutoff)
        .exclude(pk__in=still_to_come)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )


def _anonymise(ids: list[int], now: dt.datetime) -> int:
    from madoguchi.bookings.models import Consultation, Request
    from madoguchi.notifications.models import OutboxMail
    from madoguchi.records.models import PageView

    count = Seeker.objects.filter(pk__in=ids, anonymised_at__isnull=True).update(
        number=Concat(Value(PLACEHOLDER_PREFIX), Cast(F("pk"), CharField())),
        name="",
        name_kana="",
        email="",
        phone="",
        restriction_reason="",
        anonymised_at=now,
        updated_at=now,
    )
    Request.objects.filter(seeker_id__in=ids).update(
        name="", decline_reason="", interpreter_language="", device_check=None
    )
    Consultation.objects.filter(seeker_id__in=ids).update(
        outcome="",
        notes="",
        stop_note="",
        cancel_reason="",
        override_reason="",
        meeting_passcode="",
        meeting_join_url="",
    )
    # Page views stay for the office's statistics until retention deletes them, but no
    # longer point at the person.
    PageView.objects.filter(seeker_id__in=ids).update(seeker=None)
    OutboxMail.objects.filter(seeker_id__in=ids).update(
        to="", subject="", text="", html="", attachments=[], params={}
    )
    return count


def seekers_anonymise(*, now: dt.datetime) -> int:
    """Anonymise every office's seekers that are due; one audit entry per office with the
    count. Idempotent: an anonymised seeker is never picked again."""
    total = 0
    for office in Office.objects.order_by("pk"):
        while ids := _due(office, now):
            with transaction.atomic():
                count = _anonymise(ids, now)
                if count:
                    audit_record(
                        actor=None,
                        action="seekers.anonymised",
                        obj=office,
                        office=office,
                        details={"count": count},
                    )
            total += count
            if len(ids) < BATCH:
                break
    return total
