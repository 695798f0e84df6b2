"""Calendar files (.ics, RFC 5545) for a consultation, attached to the seeker's mails.

One consultation is one calendar event for its whole life: the UID never changes and
each move or cancellation raises `Consultation.calendar_sequence`, so calendar apps
replace the old entry (a move) or remove it (a cancellation) instead of adding another.
"""

import datetime as dt
import functools
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from icalendar import STATUS, Calendar, Event, Timezone

if TYPE_CHECKING:
    from madoguchi.bookings.models import Consultation
    from madoguchi.seekers.models import Seeker

LANGUAGES = ("ja", "en")
PRODID = "-//Madoguchi//Online job consultation//EN"

# How Zoom shows meeting IDs of each length: 9, 10 and 11 digits.
_MEETING_ID_GROUPS = {9: (3, 3, 3), 10: (3, 3, 4), 11: (3, 4, 4)}


def format_meeting_id(meeting_id: str) -> str:
    """`85746065432` → `857 4606 5432`, the way Zoom shows it; other shapes unchanged."""
    compact = meeting_id.replace(" ", "").replace("-", "")
    groups = _MEETING_ID_GROUPS.get(len(compact))
    if groups is None or not (compact.isascii() and compact.isdigit()):
        return meeting_id
    parts, position = [], 0
    for size in groups:
        parts.append(compact[position : position + size])
        position += size
    return " ".join(parts)


def language_for(seeker: "Seeker") -> str:
    """The language the seeker reads their mail in (Japanese unless we support theirs)."""
    return seeker.language if seeker.language in LANGUAGES else LANGUAGES[0]


def consultation_uid(consultation: "Consultation") -> str:
    host = urlsplit(settings.MADOGUCHI_BASE_URL).hostname or "madoguchi.invalid"
    return f"consultation-{consultation.pk}@{host}"


def consultation_ics(
    consultation: "Consultation",
    *,
    sequence: int = 0,
    cancel: bool = False,
    language: str | None = None,
) -> bytes:
    """The consultation as a one-event calendar: METHOD PUBLISH, or CANCEL if `cancel`.

    Times carry the office's TZID with a matching VTIMEZONE. The description holds the
    meeting ID, passcode and join link, except in a cancellation, which needs none.
    """
    office = consultation.office
    language = language if language in LANGUAGES else language_for(consultation.seeker)
    context = {
        "office_name": (office.name_en or office.name) if language == "en" else office.name,
        "office_phone": office.phone,
        "meeting_id": format_meeting_id(consultation.meeting_id),
        "meeting_passcode": consultation.meeting_passcode,
        "join_url": consultation.meeting_join_url,
        "cancel": cancel,
    }
    with translation.override(language):
        summary = render_to_string(f"notifications/ics/{language}/summary.txt", context)
        description = render_to_string(f"notifications/ics/{language}/description.txt", context)

    tz = office.tz
    start = consultation.start.astimezone(tz)
    join_url = consultation.meeting_join_url or None
    event = Event.new(
        uid=consultation_uid(consultation),
        stamp=timezone.now(),
        start=start,
        end=consultation.end.astimezone(tz),
        sequence=sequence,
        status=STATUS.CANCELLED if cancel else STATUS.CONFIRMED,
        summary=" ".join(summary.split()),
        description=description.strip(),
        location=None if cancel else join_url,
        url=None if cancel else join_url,
    )
    calendar = Calendar()
    calendar.prodid = PRODID
    calendar.version = "2.0"
    calendar.method = "CANCEL" if cancel else "PUBLISH"
    calendar.add_component(event)
    calendar.subcomponents.insert(0, _vtimezone(office.time_zone, start.year))
    return calendar.to_ical()


@functools.cache
def _vtimezone(tzid: str, year: int) -> Timezone:
    """A VTIMEZONE covering the years around the event: all a calendar app needs.

    Made once per zone and year: icalendar finds the transitions by probing the zone
    second by second, which takes tens of milliseconds. Read-only once made.
    """
    return Timezone.from_tzid(
        tzid, first_date=dt.date(year - 1, 1, 1), last_date=dt.date(year + 2, 1, 1)
    )
