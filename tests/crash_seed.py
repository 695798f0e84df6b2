"""Helper process for tests/test_worker_crash.py, run as `python -m tests.crash_seed
seed|report` against the database in DATABASE_URL.

`seed` makes an office, a counselor with a Zoom user and a consultation a few office
days ahead (real time: the worker under test runs in real time), through the booking
services, so its meeting call and mail are queued exactly as in production. `report`
prints what the database then holds, as JSON.
"""

import datetime as dt
import json
import os
import sys

import django


def seed(zoom_user: str) -> dict:
    from django.utils import timezone

    from madoguchi.bookings import services as booking_services
    from madoguchi.offices import calendar
    from madoguchi.offices.services import office_create, staff_create
    from madoguchi.seekers.models import Seeker
    from tests.factories import ALL_DECLARATIONS

    office = office_create(code="01040", name="ハローワーク釧路", phone="0154-41-1201")
    counselor = staff_create(username="sato", office=office, role="counselor", zoom_user=zoom_user)
    coordinator = staff_create(username="tanaka", office=office, role="coordinator")
    seeker = Seeker.objects.create(
        office=office,
        counselor=counselor,
        number="01040-12345678",
        name="求職 太郎",
        email="taro@example.org",
        registered_on=dt.date(2026, 1, 5),
        expires_on=dt.date(2099, 12, 31),
    )
    cal = office.calendar()
    day = timezone.localdate() + dt.timedelta(days=3)
    while not calendar.is_office_day(cal, day):
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(10, 0), tzinfo=office.tz)
    request = booking_services.request_create(
        office=office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(start, 45)],
        channel="phone",
        declarations=ALL_DECLARATIONS,
        actor=coordinator,
    )
    consultation = booking_services.consultation_schedule(
        request_id=request.pk, start=start, duration_minutes=45, actor=coordinator
    )
    return {"consultation": consultation.pk, "state": consultation.meeting_state}


def report() -> dict:
    from madoguchi.bookings.models import Consultation
    from madoguchi.notifications.models import OutboxMail
    from madoguchi.records.models import AuditEntry

    consultation = Consultation.objects.get()
    return {
        "meeting_state": consultation.meeting_state,
        "meeting_id": consultation.meeting_id,
        "meeting_attempts": consultation.meeting_attempts,
        "mails": list(OutboxMail.objects.values_list("kind", "status")),
        "created_audits": AuditEntry.objects.filter(action="meeting.created").count(),
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    django.setup()
    command = sys.argv[1]
    result = seed(sys.argv[2]) if command == "seed" else report()
    print(json.dumps(result))
