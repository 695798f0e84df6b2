"""The office calendar as pure functions: office days, windows, lengths and notice.

Nothing here touches the database; `Office.calendar()` builds the plain data these
functions read. Each failure is a `BookingError` carrying the API's stable code.
"""

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

import holidays
from django.utils.translation import gettext as _

from madoguchi.errors import BookingError

# Every start and length lies on this grid; it is also the size of an occupancy cell,
# the unit in which the database refuses double bookings (see bookings.models.Occupancy).
GRID_MINUTES = 5
CELLS_PER_DAY = 24 * 60 // GRID_MINUTES
MIN_DURATION = 30
MAX_DURATION = 60


@dataclass(frozen=True)
class OfficeCalendar:
    tz: zoneinfo.ZoneInfo
    windows: tuple[tuple[dt.time, dt.time], ...]
    durations: tuple[int, ...]
    slot_step_minutes: int
    lead_days: int
    annual_closures: frozenset[str]
    closures: frozenset[dt.date]
    no_show_grace: dt.timedelta


@functools.lru_cache(maxsize=64)
def _japan_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year)


def national_holiday(day: dt.date) -> str | None:
    """The name of Japan's national holiday on `day` (substitute and 国民の休日 included)."""
    return _japan_holidays(day.year).get(day)


def is_office_day(cal: OfficeCalendar, day: dt.date) -> bool:
    return (
        day.weekday() < 5
        and national_holiday(day) is None
        and day.strftime("%m-%d") not in cal.annual_closures
        and day not in cal.closures
    )


def office_days(cal: OfficeCalendar, date_from: dt.date, date_to: dt.date) -> Iterator[dt.date]:
    day = date_from
    while day <= date_to:
        if is_office_day(cal, day):
            yield day
        day += dt.timedelta(days=1)


def check_duration(cal: OfficeCalendar, minutes: int) -> None:
    if (
        minutes not in cal.durations
        or not MIN_DURATION <= minutes <= MAX_DURATION
        or minutes % GRID_MINUTES
    ):
        choices = ", ".join(str(d) for d in cal.durations)
        raise BookingError(
            "invalid_duration",
            _("A consultation lasts %(choices)s minutes, not %(minutes)s.")
            % {"choices": choices, "minutes": minutes},
            field="duration_minutes",
        )


def require_aware(value: dt.datetime, field: str = "start") -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise BookingError(
            "invalid_input",
            _("Times need a UTC offset, e.g. 2026-12-01T10:00:00+09:00."),
            field=field,
        )


def check_time(cal: OfficeCalendar, start: dt.datetime, minutes: int) -> None:
    """The consultation lies on an office day, wholly inside one window, on the grid."""
    require_aware(start)
    local = start.astimezone(cal.tz)
    if not is_office_day(cal, local.date()):
        holiday = national_holiday(local.date())
        detail = (
            _("%(date)s is a national holiday (%(name)s).")
            % {"date": local.date(), "name": holiday}
            if holiday
            else _("The office is closed on %(date)s.") % {"date": local.date()}
        )
        raise BookingError("not_an_office_day", detail, field="start")
    if local.second or local.microsecond or local.minute % GRID_MINUTES:
        raise BookingError(
            "outside_office_hours",
            _("Start times are on a %(grid)s-minute grid.") % {"grid": GRID_MINUTES},
            field="start",
        )
    end = local + dt.timedelta(minutes=minutes)
    if local.date() != end.date() or not any(
        opens <= local.time() and end.time() <= closes for opens, closes in cal.windows
    ):
        hours = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in cal.windows)
        raise BookingError(
            "outside_office_hours",
            _("A consultation must lie wholly within %(hours)s.") % {"hours": hours},
            field="start",
        )


def earliest_bookable_date(cal: OfficeCalendar, now: dt.datetime) -> dt.date:
    return now.astimezone(cal.tz).date() + dt.timedelta(days=cal.lead_days)


def check_lead_time(
    cal: OfficeCalendar, start: dt.datetime, now: dt.datetime, override_reason: str = ""
) -> bool:
    """R8. Returns True when the staff override was needed and given.

    The past is refused even with an override; today needs a written reason.
    """
    if start < now:
        raise BookingError("lead_time", _("That time has already passed."), field="start")
    if start.astimezone(cal.tz).date() >= earliest_bookable_date(cal, now):
        return False
    if override_reason.strip():
        return True
    raise BookingError(
        "lead_time",
        _(
            "Consultations are booked by the end of the previous day; "
            "staff may override with a reason."
        ),
        field="start",
    )


def window_starts(cal: OfficeCalendar, day: dt.date, minutes: int) -> Iterator[dt.datetime]:
    """Every start on `day` at the office's step where a consultation of `minutes` fits."""
    step = dt.timedelta(minutes=cal.slot_step_minutes)
    length = dt.timedelta(minutes=minutes)
    for opens, closes in cal.windows:
        start = dt.datetime.combine(day, opens, tzinfo=cal.tz)
        window_end = dt.datetime.combine(day, closes, tzinfo=cal.tz)
        while start + length <= window_end:
            yield start
            start += step


def grid_cells(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The grid cells that [start, end) covers, as UTC instants; partial cells count whole."""
    utc = dt.UTC
    first = start.astimezone(utc)
    first -= dt.timedelta(
        minutes=first.minute % GRID_MINUTES, seconds=first.second, microseconds=first.microsecond
    )
    cells = []
    cell = first
    while cell < end:
        cells.append(cell)
        cell += dt.timedelta(minutes=GRID_MINUTES)
    return cells


@dataclass(frozen=True)
class Band:
    """A stretch of the office day as the calendars draw it: a window, or the break
    between two windows (the lunch break, 12:00–13:00 by default)."""

    kind: str  # "window" or "break"
    start: dt.time
    end: dt.time


def day_bands(windows: tuple[tuple[dt.time, dt.time], ...]) -> list[Band]:
    """The office's windows in time order, with a break band for each gap between two."""
    bands: list[Band] = []
    previous_end: dt.time | None = None
    for start, end in sorted(windows):
        if previous_end is not None and previous_end < start:
            bands.append(Band("break", previous_end, start))
        bands.append(Band("window", start, end))
        previous_end = end if previous_end is None else max(previous_end, end)
    return bands
