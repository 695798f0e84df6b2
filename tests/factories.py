"""Small builders for test data. Each returns a saved object with sensible defaults."""

import datetime as dt
import itertools
import zoneinfo

from madoguchi.api.models import ApiToken
from madoguchi.offices.models import Office, Staff
from madoguchi.offices.services import office_create, staff_create
from madoguchi.seekers.models import Seeker

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
_serial = itertools.count(1)

ALL_DECLARATIONS = {
    "device_ready": True,
    "continuing_support": True,
    "video_terms": True,
    "private_place": True,
    "no_recording": True,
}


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware datetime in office local time (Asia/Tokyo)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TOKYO)


def make_office(code: str = "01040", name: str = "ハローワーク釧路", **fields) -> Office:
    fields.setdefault("phone", "0154-41-1201")
    return office_create(code=code, name=name, **fields)


def make_staff(office: Office, role: str = "counselor", username: str | None = None, **kw) -> Staff:
    username = username or f"{role}{next(_serial)}"
    return staff_create(username=username, office=office, role=role, **kw)


def make_seeker(
    office: Office, counselor: Staff | None = None, number: str | None = None, **fields
) -> Seeker:
    serial = next(_serial)
    fields.setdefault("name", f"求職 太郎{serial}")
    fields.setdefault("name_kana", "キュウショク タロウ")
    fields.setdefault("email", f"seeker{serial}@example.org")
    fields.setdefault("registered_on", dt.date(2026, 1, 5))
    fields.setdefault("expires_on", dt.date(2027, 12, 31))
    return Seeker.objects.create(
        office=office,
        counselor=counselor,
        number=number or f"{office.code}-{serial:08d}",
        **fields,
    )


def make_token(staff: Staff) -> str:
    return ApiToken.issue(staff.user)[1]


def make_consultation(
    seeker: Seeker,
    start: dt.datetime,
    *,
    actor: Staff,
    minutes: int = 60,
    counselor: Staff | None = None,
):
    """A consultation requested by phone and scheduled, through the booking services."""
    from madoguchi.bookings import services as booking_services

    request = booking_services.request_create(
        office=seeker.office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(start, minutes)],
        channel="phone",
        declarations=ALL_DECLARATIONS,
        actor=actor,
    )
    return booking_services.consultation_schedule(
        request_id=request.pk,
        start=start,
        duration_minutes=minutes,
        counselor=counselor.username if counselor else None,
        actor=actor,
    )


def booking_mail():
    """The outbox but for the request-received note every booking starts with."""
    from madoguchi.notifications.models import OutboxMail

    return OutboxMail.objects.exclude(kind="request_received")


def delivered() -> list:
    """Mail the worker sent (Django's test outbox), but the request-received notes."""
    from django.core import mail

    from madoguchi.notifications.models import OutboxMail

    skip = set(
        OutboxMail.objects.filter(kind="request_received").values_list("message_id", flat=True)
    )
    return [m for m in mail.outbox if m.extra_headers.get("Message-ID") not in skip]
