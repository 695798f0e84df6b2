"""Booking rules over plain values (R1–R3, R6, R8, R14's restriction check).

The calendar rules (office days, windows, lengths, notice) live in
`madoguchi.offices.calendar`; these are the rules about the seeker and the request.
"""

import datetime as dt
from collections.abc import Mapping, Sequence

from django.utils.translation import gettext as _

from madoguchi.bookings.models import DECLARATION_LABELS, REQUIRED_DECLARATIONS
from madoguchi.errors import BookingError
from madoguchi.offices import calendar
from madoguchi.seekers.models import Seeker

MAX_PREFERENCES = 3


def check_seeker_can_book(seeker: Seeker | None, today: dt.date) -> Seeker:
    """R1 and R3: registered, active, not expired, not restricted."""
    if seeker is None or not seeker.is_registered_on(today):
        raise BookingError(
            "seeker_not_registered",
            _(
                "No active registration was found for this job-seeker number. "
                "Please check the number on your Hello Work card or call the office."
            ),
            field="job_seeker_number",
        )
    if seeker.is_restricted:
        raise BookingError("seeker_restricted", field="job_seeker_number")
    return seeker


def check_declarations(declarations: Mapping[str, object]) -> None:
    """R2, R16, R17: every declaration is explicitly true."""
    missing = [name for name in REQUIRED_DECLARATIONS if declarations.get(name) is not True]
    if missing:
        raise BookingError(
            "declaration_missing",
            _("Please confirm: %(names)s.")
            % {"names": ", ".join(str(DECLARATION_LABELS[name]) for name in missing)},
            field="declarations",
        )


def check_preferences(
    cal: calendar.OfficeCalendar,
    preferences: Sequence[tuple[dt.datetime, int]],
    now: dt.datetime,
) -> None:
    """R6–R8 for each of the seeker's 1–3 preferred times."""
    if not 1 <= len(preferences) <= MAX_PREFERENCES:
        raise BookingError(
            "invalid_input", _("Give one to three preferred times."), field="preferences"
        )
    for start, minutes in preferences:
        check_slot(cal, start, minutes, now)


def check_slot(
    cal: calendar.OfficeCalendar,
    start: dt.datetime,
    minutes: int,
    now: dt.datetime,
    override_reason: str = "",
) -> bool:
    """Length, office day, window and notice; True when the notice override was used."""
    calendar.check_duration(cal, minutes)
    calendar.check_time(cal, start, minutes)
    return calendar.check_lead_time(cal, start, now, override_reason)
