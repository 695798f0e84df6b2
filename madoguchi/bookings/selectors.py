"""Reading bookings: free times and the calendar."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.bookings.models import BlockedTime, Consultation, ConsultationQuerySet, Request
from madoguchi.errors import BookingError
from madoguchi.offices import calendar
from madoguchi.offices.models import Office, Staff

MAX_RANGE_DAYS = 62


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    counselors: tuple[Staff, ...]


def _check_range(date_from: dt.date, date_to: dt.date) -> None:
    if date_to < date_from:
        raise BookingError("invalid_input", _("date_to is before date_from."), field="date_to")
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise BookingError(
            "invalid_input",
            _("Ask for at most %(days)s days at a time.") % {"days": MAX_RANGE_DAYS},
            field="date_to",
        )


def availability(
    *,
    office: Office,
    date_from: dt.date,
    date_to: dt.date,
    duration_minutes: int,
    counselor: Staff | None = None,
) -> list[Slot]:
    """Free start times from the first bookable day (R8), with the counselors free then.

    Three queries whatever the range: the counselors, and the consultations and blocked
    times that hold their time (the same time the occupancy grid holds). Each
    counselor-day becomes a bitmask of taken grid cells, so a start is free for a
    counselor when its cells' mask does not meet theirs.
    """
    cal = office.calendar()
    calendar.check_duration(cal, duration_minutes)
    _check_range(date_from, date_to)
    first_day = max(date_from, calendar.earliest_bookable_date(cal, timezone.now()))
    counselors = list(
        Staff.objects.active().counselors().of_office(office).select_related("user")
        if counselor is None
        else [counselor]
    )
    range_start = dt.datetime.combine(first_day, dt.time.min, tzinfo=cal.tz)
    range_end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=cal.tz)
    taken: dict[tuple[int, dt.date], int] = defaultdict(int)
    for model in (Consultation.objects.holding_time(), BlockedTime.objects):
        rows = model.filter(
            counselor__in=counselors, start__lt=range_end, end__gt=range_start
        ).values_list("counselor_id", "start", "end")
        for counselor_id, start, end in rows:
            _mark_taken(taken, counselor_id, start, end, cal.tz)
    cells = duration_minutes // calendar.GRID_MINUTES
    length = dt.timedelta(minutes=duration_minutes)
    slots = []
    for day in calendar.office_days(cal, first_day, date_to):
        masks = [(c, taken.get((c.pk, day), 0)) for c in counselors]
        for start in calendar.window_starts(cal, day, duration_minutes):
            wanted = ((1 << cells) - 1) << _cell_index(start)
            free = tuple(c for c, mask in masks if not mask & wanted)
            if free:
                slots.append(Slot(start, start + length, free))
    return slots


def _cell_index(moment: dt.datetime) -> int:
    """The grid cell of a local wall-clock time, counted from local midnight."""
    return (moment.hour * 60 + moment.minute) // calendar.GRID_MINUTES


def _mark_taken(
    taken: dict[tuple[int, dt.date], int],
    counselor_id: int,
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
) -> None:
    """Set the cells [start, end) covers in each local day's mask (partial cells count)."""
    cursor, end = start.astimezone(tz), end.astimezone(tz)
    while cursor < end:
        day = cursor.date()
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        day_end = min(end, midnight)
        first = _cell_index(cursor)
        last = (
            calendar.CELLS_PER_DAY
            if day_end == midnight
            else -(-(day_end.hour * 60 + day_end.minute) // calendar.GRID_MINUTES)
        )
        taken[(counselor_id, day)] |= ((1 << (last - first)) - 1) << first
        cursor = day_end


def consultations_list(
    *,
    office: Office,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    counselor: Staff | None = None,
    status: str | None = None,
) -> ConsultationQuerySet:
    """The office calendar, filtered; one query with the people it shows."""
    qs = Consultation.objects.of_office(office).select_related(
        "seeker", "counselor__user", "office"
    )
    if date_from:
        qs = qs.filter(start__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=office.tz))
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=office.tz)
        qs = qs.filter(start__lt=end)
    if counselor is not None:
        qs = qs.for_counselor(counselor)
    if status:
        if status not in Consultation.Status.values:
            raise BookingError("invalid_input", _("Unknown status."), field="status")
        qs = qs.filter(status=status)
    return qs.order_by("start", "id")


def requests_list(*, office: Office, status: str | None = None):
    qs = Request.objects.of_office(office).select_related("seeker", "seeker__counselor__user")
    if status:
        if status not in Request.Status.values:
            raise BookingError("invalid_input", _("Unknown status."), field="status")
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


# The seeker's status page ---------------------------------------------------------------

STATUS_SALT = "madoguchi.request-status"


def request_status_url(request: Request) -> str:
    """The seeker's own link to their request's status page (sent in every mail about it).

    Signed, not stored: anyone with the link sees the request, like the mails themselves.
    """
    token = signing.dumps(request.pk, salt=STATUS_SALT)
    return f"{settings.MADOGUCHI_BASE_URL.rstrip('/')}/requests/status/{token}/"


def request_for_status(*, token: str) -> Request:
    """The request behind a status link, with what the page shows, in one query.

    A tampered or unknown link is `not_found`; so is one whose seeker was anonymised, or
    whose request or consultation ended more than LINK_LIFE ago.
    """
    try:
        request_id = signing.loads(token, salt=STATUS_SALT)
    except signing.BadSignature as error:
        raise BookingError("not_found", _("This link is not valid.")) from error
    found = (
        Request.objects.select_related("office", "seeker", "consultation__counselor__user")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise BookingError("not_found", _("This link is not valid."))
    if found.seeker.anonymised_at is not None or _ended_before(found, timezone.now() - LINK_LIFE):
        raise BookingError("not_found", _("This link no longer works."))
    return found


# A status link works until this long after its request or consultation ended.
LINK_LIFE = dt.timedelta(days=30)
_REQUEST_ENDED = frozenset(
    {Request.Status.DECLINED, Request.Status.EXPIRED, Request.Status.WITHDRAWN}
)
_CONSULTATION_ENDED = frozenset(
    {
        Consultation.Status.CANCELLED,
        Consultation.Status.NO_SHOW,
        Consultation.Status.COMPLETED,
        Consultation.Status.STOPPED,
    }
)


def _ended_before(request: Request, cutoff: dt.datetime) -> bool:
    """Whether the request (or its consultation) ended before `cutoff`."""
    if request.status in _REQUEST_ENDED:
        return request.status_changed_at < cutoff
    consultation = getattr(request, "consultation", None)
    if consultation is not None and consultation.status in _CONSULTATION_ENDED:
        return consultation.status_changed_at < cutoff
    return False
