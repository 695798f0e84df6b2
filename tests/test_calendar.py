"""The office calendar (SPEC §2 Office day and Windows, R7, R8) as pure functions.

No database: the calendar is built directly with the spec's defaults, the same plain
data `Office.calendar()` gives for a new office.
"""

import dataclasses
import datetime as dt
import zoneinfo

import pytest
from django.utils import translation

from madoguchi.errors import BookingError
from madoguchi.offices import calendar
from madoguchi.offices.calendar import OfficeCalendar
from madoguchi.offices.models import (
    Office,
    default_annual_closures,
    default_durations,
    default_windows,
)

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
UTC = dt.UTC


def make_calendar(**changes) -> OfficeCalendar:
    """The spec's default office calendar, with `changes` to any of its fields."""
    cal = OfficeCalendar(
        tz=TOKYO,
        windows=((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(16, 0))),
        durations=(30, 45, 60),
        slot_step_minutes=15,
        lead_days=1,
        annual_closures=frozenset({"12-29", "12-30", "12-31", "01-01", "01-02", "01-03"}),
        closures=frozenset(),
        no_show_grace=dt.timedelta(minutes=10),
    )
    return dataclasses.replace(cal, **changes)


def jst(*args: int) -> dt.datetime:
    """An aware datetime in Tokyo: jst(2026, 12, 2, 10, 0)."""
    return dt.datetime(*args, tzinfo=TOKYO)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


D = dt.date

# Japan's national holidays, as published by the Cabinet Office (内閣府「国民の祝日」).
JAPAN_HOLIDAYS_2026_2027 = [
    (D(2026, 1, 1), "元日", "new-year"),
    (D(2026, 1, 12), "成人の日", "coming-of-age"),
    (D(2026, 2, 11), "建国記念の日", "foundation"),
    (D(2026, 2, 23), "天皇誕生日", "emperor"),
    (D(2026, 3, 20), "春分の日", "vernal-equinox"),
    (D(2026, 4, 29), "昭和の日", "showa"),
    (D(2026, 5, 3), "憲法記念日", "constitution"),
    (D(2026, 5, 4), "みどりの日", "greenery"),
    (D(2026, 5, 5), "こどもの日", "children"),
    (D(2026, 5, 6), "振替休日", "substitute"),
    (D(2026, 7, 20), "海の日", "marine"),
    (D(2026, 8, 11), "山の日", "mountain"),
    (D(2026, 9, 21), "敬老の日", "respect-for-aged"),
    (D(2026, 9, 22), "国民の休日", "citizens-holiday"),
    (D(2026, 9, 23), "秋分の日", "autumnal-equinox"),
    (D(2026, 10, 12), "スポーツの日", "sports"),
    (D(2026, 11, 3), "文化の日", "culture"),
    (D(2026, 11, 23), "勤労感謝の日", "labour-thanksgiving"),
    (D(2027, 1, 1), "元日", "new-year"),
    (D(2027, 1, 11), "成人の日", "coming-of-age"),
    (D(2027, 2, 11), "建国記念の日", "foundation"),
    (D(2027, 2, 23), "天皇誕生日", "emperor"),
    (D(2027, 3, 21), "春分の日", "vernal-equinox"),
    (D(2027, 3, 22), "振替休日", "substitute"),
    (D(2027, 4, 29), "昭和の日", "showa"),
    (D(2027, 5, 3), "憲法記念日", "constitution"),
    (D(2027, 5, 4), "みどりの日", "greenery"),
    (D(2027, 5, 5), "こどもの日", "children"),
    (D(2027, 7, 19), "海の日", "marine"),
    (D(2027, 8, 11), "山の日", "mountain"),
    (D(2027, 9, 20), "敬老の日", "respect-for-aged"),
    (D(2027, 9, 23), "秋分の日", "autumnal-equinox"),
    (D(2027, 10, 11), "スポーツの日", "sports"),
    (D(2027, 11, 3), "文化の日", "culture"),
    (D(2027, 11, 23), "勤労感謝の日", "labour-thanksgiving"),
]


def every_day(date_from: dt.date, date_to: dt.date) -> list[dt.date]:
    return [date_from + dt.timedelta(days=n) for n in range((date_to - date_from).days + 1)]


# --- the test helper itself --------------------------------------------------------


def test_make_calendar_matches_new_office_defaults():
    field = Office._meta.get_field

    cal = make_calendar()

    assert cal.tz == zoneinfo.ZoneInfo(field("time_zone").default)
    assert cal.windows == tuple(
        (dt.time.fromisoformat(opens), dt.time.fromisoformat(closes))
        for opens, closes in default_windows()
    )
    assert cal.durations == tuple(default_durations())
    assert cal.slot_step_minutes == field("slot_step_minutes").default
    assert cal.lead_days == field("lead_days").default
    assert cal.annual_closures == frozenset(default_annual_closures())
    assert cal.no_show_grace == dt.timedelta(minutes=field("no_show_grace_minutes").default)


# --- national holidays and office days ---------------------------------------------


def test_national_holiday_names_exactly_japans_holidays_2026_2027():
    days = every_day(D(2026, 1, 1), D(2027, 12, 31))

    found = {day: name for day in days if (name := calendar.national_holiday(day))}

    assert found == {day: name for day, name, _ in JAPAN_HOLIDAYS_2026_2027}


@pytest.mark.parametrize(
    ("day", "name"),
    [
        pytest.param(D(2026, 5, 6), "振替休日", id="2026-05-06-substitute"),
        pytest.param(D(2027, 3, 22), "振替休日", id="2027-03-22-substitute"),
        pytest.param(D(2026, 9, 22), "国民の休日", id="2026-09-22-citizens-holiday"),
        pytest.param(D(2026, 11, 23), "勤労感謝の日", id="2026-11-23-labour-thanksgiving"),
        pytest.param(D(2027, 1, 11), "成人の日", id="2027-01-11-coming-of-age"),
    ],
)
def test_national_holiday_names_substitute_and_moving_holidays(day, name):
    assert calendar.national_holiday(day) == name
    assert calendar.is_office_day(make_calendar(), day) is False


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(day, id=f"{day.isoformat()}-{label}")
        for day, _, label in JAPAN_HOLIDAYS_2026_2027
    ],
)
def test_is_office_day_false_on_every_national_holiday(day):
    assert calendar.is_office_day(make_calendar(), day) is False


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(D(2026, 12, 1), id="2026-12-01-tue"),
        pytest.param(D(2026, 12, 28), id="2026-12-28-mon-before-closures"),
        pytest.param(D(2027, 1, 4), id="2027-01-04-mon-after-closures"),
        pytest.param(D(2026, 5, 7), id="2026-05-07-after-golden-week"),
        pytest.param(D(2026, 9, 24), id="2026-09-24-after-silver-week"),
        pytest.param(D(2026, 11, 24), id="2026-11-24-after-labour-thanksgiving"),
        pytest.param(D(2027, 1, 12), id="2027-01-12-after-coming-of-age"),
        pytest.param(D(2027, 3, 23), id="2027-03-23-after-substitute"),
        pytest.param(D(2026, 12, 25), id="2026-12-25-fri"),
    ],
)
def test_is_office_day_true_on_ordinary_weekday(day):
    assert calendar.national_holiday(day) is None
    assert calendar.is_office_day(make_calendar(), day) is True


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(D(2026, 12, 5), id="2026-12-05-sat"),
        pytest.param(D(2026, 12, 6), id="2026-12-06-sun"),
        pytest.param(D(2027, 1, 9), id="2027-01-09-sat"),
        pytest.param(D(2027, 1, 10), id="2027-01-10-sun"),
    ],
)
def test_is_office_day_false_on_weekend(day):
    assert calendar.is_office_day(make_calendar(), day) is False


@pytest.mark.parametrize(
    "day",
    [pytest.param(day, id=day.isoformat()) for day in every_day(D(2026, 12, 29), D(2027, 1, 3))]
    + [pytest.param(day, id=day.isoformat()) for day in every_day(D(2027, 12, 29), D(2028, 1, 3))],
)
def test_is_office_day_false_during_year_end_closures(day):
    assert calendar.is_office_day(make_calendar(), day) is False


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(D(2026, 12, 29), id="2026-12-29-tue"),
        pytest.param(D(2026, 12, 30), id="2026-12-30-wed"),
        pytest.param(D(2026, 12, 31), id="2026-12-31-thu"),
    ],
)
def test_is_office_day_true_on_year_end_weekday_without_annual_closures(day):
    assert calendar.is_office_day(make_calendar(annual_closures=frozenset()), day) is True


def test_is_office_day_false_on_office_own_annual_closure():
    cal = make_calendar(annual_closures=frozenset({"08-13"}))

    assert calendar.is_office_day(cal, D(2026, 8, 13)) is False
    assert calendar.is_office_day(cal, D(2027, 8, 13)) is False
    assert calendar.is_office_day(cal, D(2026, 12, 29)) is True


def test_is_office_day_false_on_office_closure_date():
    cal = make_calendar(closures=frozenset({D(2026, 12, 10)}))

    assert calendar.is_office_day(cal, D(2026, 12, 10)) is False
    assert calendar.is_office_day(cal, D(2026, 12, 9)) is True
    assert calendar.is_office_day(cal, D(2026, 12, 11)) is True
    assert calendar.is_office_day(make_calendar(), D(2026, 12, 10)) is True


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        pytest.param(
            D(2026, 12, 24),
            D(2027, 1, 8),
            [
                D(2026, 12, 24),
                D(2026, 12, 25),
                D(2026, 12, 28),
                D(2027, 1, 4),
                D(2027, 1, 5),
                D(2027, 1, 6),
                D(2027, 1, 7),
                D(2027, 1, 8),
            ],
            id="year-end",
        ),
        pytest.param(
            D(2026, 4, 27),
            D(2026, 5, 8),
            [
                D(2026, 4, 27),
                D(2026, 4, 28),
                D(2026, 4, 30),
                D(2026, 5, 1),
                D(2026, 5, 7),
                D(2026, 5, 8),
            ],
            id="golden-week-2026",
        ),
        pytest.param(
            D(2026, 9, 18),
            D(2026, 9, 25),
            [D(2026, 9, 18), D(2026, 9, 24), D(2026, 9, 25)],
            id="silver-week-2026",
        ),
        pytest.param(
            D(2027, 3, 19),
            D(2027, 3, 24),
            [D(2027, 3, 19), D(2027, 3, 23), D(2027, 3, 24)],
            id="substitute-2027-03-22",
        ),
        pytest.param(D(2026, 12, 2), D(2026, 12, 2), [D(2026, 12, 2)], id="one-office-day"),
        pytest.param(D(2026, 12, 5), D(2026, 12, 6), [], id="weekend-only"),
        pytest.param(D(2026, 12, 3), D(2026, 12, 2), [], id="reversed-range"),
    ],
)
def test_office_days_lists_exact_days(date_from, date_to, expected):
    assert list(calendar.office_days(make_calendar(), date_from, date_to)) == expected


@pytest.mark.parametrize(
    ("year", "count"),
    [
        # 261 weekdays − 17 weekday holidays − 4 weekday closures (1/2, 12/29–31)
        pytest.param(2026, 240, id="2026"),
        # 261 weekdays − 16 weekday holidays − 3 weekday closures (12/29–31)
        pytest.param(2027, 242, id="2027"),
    ],
)
def test_office_days_counts_whole_year(year, count):
    days = list(calendar.office_days(make_calendar(), D(year, 1, 1), D(year, 12, 31)))

    assert len(days) == count


def test_office_days_skips_office_closure():
    cal = make_calendar(closures=frozenset({D(2026, 12, 2)}))

    days = list(calendar.office_days(cal, D(2026, 12, 1), D(2026, 12, 4)))

    assert days == [D(2026, 12, 1), D(2026, 12, 3), D(2026, 12, 4)]


# --- check_time: office day, window, grid ------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        pytest.param(jst(2026, 12, 2, 9, 0), 30, id="morning-opening"),
        pytest.param(jst(2026, 12, 2, 10, 0), 60, id="morning-60"),
        pytest.param(jst(2026, 12, 2, 11, 0), 60, id="morning-60-to-noon"),
        pytest.param(jst(2026, 12, 2, 11, 30), 30, id="morning-exact-end-12:00"),
        pytest.param(jst(2026, 12, 2, 11, 15), 45, id="morning-45-exact-end"),
        pytest.param(jst(2026, 12, 2, 13, 0), 45, id="afternoon-opening"),
        pytest.param(jst(2026, 12, 2, 14, 30), 30, id="afternoon-middle"),
        pytest.param(jst(2026, 12, 2, 15, 0), 60, id="afternoon-60-to-16:00"),
        pytest.param(jst(2026, 12, 2, 15, 30), 30, id="afternoon-exact-end-16:00"),
        pytest.param(jst(2026, 12, 2, 10, 5), 30, id="on-5-minute-grid-off-step"),
        pytest.param(utc(2026, 12, 2, 1, 0), 30, id="utc-01:00-is-10:00-jst"),
        pytest.param(utc(2026, 12, 2, 6, 30), 30, id="utc-06:30-is-15:30-jst"),
        pytest.param(
            dt.datetime(2026, 12, 2, 6, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            30,
            id="plus-05:30-is-10:00-jst",
        ),
    ],
)
def test_check_time_accepts_inside_window(start, minutes):
    assert calendar.check_time(make_calendar(), start, minutes) is None


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        pytest.param(jst(2026, 12, 2, 11, 45), 30, id="across-lunch"),
        pytest.param(jst(2026, 12, 2, 11, 30), 45, id="ends-12:15"),
        pytest.param(jst(2026, 12, 2, 11, 5), 60, id="ends-12:05"),
        pytest.param(jst(2026, 12, 2, 12, 0), 30, id="starts-at-noon"),
        pytest.param(jst(2026, 12, 2, 12, 30), 30, id="wholly-in-lunch"),
        pytest.param(jst(2026, 12, 2, 12, 45), 30, id="starts-in-lunch"),
        pytest.param(jst(2026, 12, 2, 8, 45), 30, id="starts-before-9"),
        pytest.param(jst(2026, 12, 2, 8, 30), 30, id="ends-at-9"),
        pytest.param(jst(2026, 12, 2, 15, 45), 30, id="ends-16:15"),
        pytest.param(jst(2026, 12, 2, 15, 15), 60, id="ends-16:15-60"),
        pytest.param(jst(2026, 12, 2, 16, 0), 30, id="starts-at-16:00"),
        pytest.param(jst(2026, 12, 2, 23, 45), 30, id="crosses-midnight"),
        pytest.param(jst(2026, 12, 2, 10, 7), 30, id="off-5-minute-grid"),
        pytest.param(jst(2026, 12, 2, 10, 0, 30), 30, id="seconds"),
        pytest.param(jst(2026, 12, 2, 10, 0, 0, 1), 30, id="microseconds"),
        pytest.param(utc(2026, 12, 2, 10, 0), 30, id="10:00-utc-is-19:00-jst"),
        pytest.param(utc(2026, 12, 2, 9, 0), 60, id="09:00-utc-is-18:00-jst"),
    ],
)
def test_check_time_rejects_outside_office_hours(start, minutes):
    with pytest.raises(BookingError) as caught:
        calendar.check_time(make_calendar(), start, minutes)

    assert caught.value.code == "outside_office_hours"
    assert caught.value.field == "start"


def test_check_time_outside_office_hours_names_windows():
    with translation.override("en"), pytest.raises(BookingError) as caught:
        calendar.check_time(make_calendar(), jst(2026, 12, 2, 11, 45), 30)

    assert caught.value.detail == (
        "A consultation must lie wholly within 09:00–12:00, 13:00–16:00."
    )


@pytest.mark.parametrize(
    ("start", "in_detail"),
    [
        pytest.param(jst(2026, 12, 5, 10, 0), ["2026-12-05"], id="saturday"),
        pytest.param(jst(2026, 12, 6, 10, 0), ["2026-12-06"], id="sunday"),
        pytest.param(jst(2026, 9, 22, 10, 0), ["2026-09-22", "国民の休日"], id="citizens-holiday"),
        pytest.param(jst(2026, 5, 6, 10, 0), ["2026-05-06", "振替休日"], id="substitute-2026"),
        pytest.param(jst(2027, 3, 22, 10, 0), ["2027-03-22", "振替休日"], id="substitute-2027"),
        pytest.param(jst(2026, 11, 23, 10, 0), ["2026-11-23", "勤労感謝の日"], id="labour-day"),
        pytest.param(jst(2027, 1, 11, 10, 0), ["2027-01-11", "成人の日"], id="coming-of-age"),
        pytest.param(jst(2026, 12, 29, 10, 0), ["2026-12-29"], id="year-end-closure"),
        pytest.param(jst(2027, 1, 1, 10, 0), ["2027-01-01", "元日"], id="new-year"),
        # Friday 15:30 in UTC is Saturday 00:30 in Tokyo.
        pytest.param(utc(2026, 12, 4, 15, 30), ["2026-12-05"], id="utc-friday-is-jst-saturday"),
    ],
)
def test_check_time_rejects_not_an_office_day(start, in_detail):
    with pytest.raises(BookingError) as caught:
        calendar.check_time(make_calendar(), start, 30)

    assert caught.value.code == "not_an_office_day"
    assert caught.value.field == "start"
    for text in in_detail:
        assert text in caught.value.detail


def test_check_time_weekend_detail_names_no_holiday():
    with translation.override("en"), pytest.raises(BookingError) as caught:
        calendar.check_time(make_calendar(), jst(2026, 12, 5, 10, 0), 30)

    assert caught.value.detail == "The office is closed on 2026-12-05."


def test_check_time_holiday_detail_names_holiday():
    with translation.override("en"), pytest.raises(BookingError) as caught:
        calendar.check_time(make_calendar(), jst(2026, 9, 22, 10, 0), 30)

    assert caught.value.detail == "2026-09-22 is a national holiday (国民の休日)."


def test_check_time_rejects_office_closure_date():
    cal = make_calendar(closures=frozenset({D(2026, 12, 2)}))

    with pytest.raises(BookingError) as caught:
        calendar.check_time(cal, jst(2026, 12, 2, 10, 0), 30)

    assert caught.value.code == "not_an_office_day"
    assert caught.value.field == "start"


def test_check_time_office_day_checked_in_tokyo_not_utc():
    # Sunday 2026-12-06 23:00 UTC is Monday 2026-12-07 08:00 in Tokyo: an office day,
    # but before opening; 2026-12-07 01:00 UTC (Monday 10:00 in Tokyo) passes.
    with pytest.raises(BookingError) as caught:
        calendar.check_time(make_calendar(), utc(2026, 12, 6, 23, 0), 30)

    assert caught.value.code == "outside_office_hours"
    assert calendar.check_time(make_calendar(), utc(2026, 12, 7, 1, 0), 30) is None


def test_check_time_rejects_naive_datetime():
    with pytest.raises(BookingError) as caught:
        calendar.check_time(make_calendar(), dt.datetime(2026, 12, 2, 10, 0), 30)

    assert caught.value.code == "invalid_input"
    assert caught.value.field == "start"


def test_check_time_uses_office_windows():
    cal = make_calendar(windows=((dt.time(10, 0), dt.time(11, 0)),))

    assert calendar.check_time(cal, jst(2026, 12, 2, 10, 0), 60) is None
    with pytest.raises(BookingError) as caught:
        calendar.check_time(cal, jst(2026, 12, 2, 9, 0), 30)
    assert caught.value.code == "outside_office_hours"


# --- check_duration ----------------------------------------------------------------


@pytest.mark.parametrize("minutes", [30, 45, 60], ids=["30", "45", "60"])
def test_check_duration_accepts_default_choices(minutes):
    assert calendar.check_duration(make_calendar(), minutes) is None


@pytest.mark.parametrize(
    "minutes",
    [20, 90, 29, 61, 40, 0, -30],
    ids=["20", "90", "29", "61", "40-not-a-choice", "0", "negative"],
)
def test_check_duration_rejects_invalid(minutes):
    with pytest.raises(BookingError) as caught:
        calendar.check_duration(make_calendar(), minutes)

    assert caught.value.code == "invalid_duration"
    assert caught.value.field == "duration_minutes"


def test_check_duration_detail_names_choices():
    with translation.override("en"), pytest.raises(BookingError) as caught:
        calendar.check_duration(make_calendar(), 40)

    assert caught.value.detail == "A consultation lasts 30, 45, 60 minutes, not 40."


def test_check_duration_accepts_office_own_choice():
    cal = make_calendar(durations=(30, 40, 50))

    assert calendar.check_duration(cal, 40) is None
    with pytest.raises(BookingError) as caught:
        calendar.check_duration(cal, 45)
    assert caught.value.code == "invalid_duration"


@pytest.mark.parametrize("minutes", [25, 90], ids=["25", "90"])
def test_check_duration_rejects_office_choice_outside_30_to_60(minutes):
    cal = make_calendar(durations=(25, 30, 90))

    with pytest.raises(BookingError) as caught:
        calendar.check_duration(cal, minutes)

    assert caught.value.code == "invalid_duration"


# --- check_lead_time (R8) ----------------------------------------------------------

NOW = jst(2026, 12, 1, 10, 0)  # Tuesday


def test_check_lead_time_accepts_tomorrow():
    assert calendar.check_lead_time(make_calendar(), jst(2026, 12, 2, 9, 0), NOW) is False


def test_check_lead_time_accepts_tomorrow_given_in_utc():
    # 2026-12-02 00:00 JST: still 1 December in UTC, already tomorrow in Tokyo.
    assert calendar.check_lead_time(make_calendar(), utc(2026, 12, 1, 15, 0), NOW) is False


def test_check_lead_time_tomorrow_with_reason_needs_no_override():
    start = jst(2026, 12, 2, 9, 0)

    assert calendar.check_lead_time(make_calendar(), start, NOW, "urgent") is False


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(jst(2026, 12, 1, 14, 0), id="this-afternoon"),
        pytest.param(jst(2026, 12, 1, 10, 5), id="in-five-minutes"),
        pytest.param(jst(2026, 12, 1, 23, 59), id="last-minute-of-today"),
    ],
)
def test_check_lead_time_rejects_later_today(start):
    with pytest.raises(BookingError) as caught:
        calendar.check_lead_time(make_calendar(), start, NOW)

    assert caught.value.code == "lead_time"
    assert caught.value.field == "start"


def test_check_lead_time_today_with_reason_returns_true():
    start = jst(2026, 12, 1, 14, 0)

    assert calendar.check_lead_time(make_calendar(), start, NOW, "本人から電話で依頼") is True


@pytest.mark.parametrize(
    "reason",
    ["", " ", "  \t\n", "\u3000"],
    ids=["empty", "space", "whitespace", "full-width-space"],
)
def test_check_lead_time_blank_reason_rejects_today(reason):
    with pytest.raises(BookingError) as caught:
        calendar.check_lead_time(make_calendar(), jst(2026, 12, 1, 14, 0), NOW, reason)

    assert caught.value.code == "lead_time"
    assert caught.value.field == "start"


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(jst(2026, 12, 1, 9, 0), id="this-morning"),
        pytest.param(jst(2026, 12, 1, 9, 59), id="one-minute-ago"),
        pytest.param(jst(2026, 11, 30, 10, 0), id="yesterday"),
        pytest.param(jst(2025, 12, 1, 10, 0), id="last-year"),
    ],
)
@pytest.mark.parametrize("reason", ["", "本人から電話で依頼"], ids=["no-reason", "with-reason"])
def test_check_lead_time_rejects_past(start, reason):
    with pytest.raises(BookingError) as caught:
        calendar.check_lead_time(make_calendar(), start, NOW, reason)

    assert caught.value.code == "lead_time"
    assert caught.value.field == "start"


def test_check_lead_time_accepts_tomorrow_one_minute_before_midnight():
    now = jst(2026, 12, 1, 23, 59)

    assert calendar.check_lead_time(make_calendar(), jst(2026, 12, 2, 9, 0), now) is False


def test_check_lead_time_accepts_tomorrow_one_minute_before_midnight_utc_clock():
    now = utc(2026, 12, 1, 14, 59)  # 2026-12-01 23:59 JST

    assert calendar.check_lead_time(make_calendar(), jst(2026, 12, 2, 9, 0), now) is False


def test_check_lead_time_rejects_today_just_after_tokyo_midnight():
    now = utc(2026, 12, 1, 15, 30)  # 2026-12-02 00:30 JST: 2 December is already today

    with pytest.raises(BookingError) as caught:
        calendar.check_lead_time(make_calendar(), jst(2026, 12, 2, 9, 0), now)

    assert caught.value.code == "lead_time"
    assert caught.value.field == "start"
    assert calendar.check_lead_time(make_calendar(), jst(2026, 12, 3, 9, 0), now) is False


def test_check_lead_time_with_two_days_notice():
    cal = make_calendar(lead_days=2)

    with pytest.raises(BookingError) as caught:
        calendar.check_lead_time(cal, jst(2026, 12, 2, 9, 0), NOW)

    assert caught.value.code == "lead_time"
    assert calendar.check_lead_time(cal, jst(2026, 12, 3, 9, 0), NOW) is False


def test_check_lead_time_with_no_notice_accepts_later_today():
    cal = make_calendar(lead_days=0)

    assert calendar.check_lead_time(cal, jst(2026, 12, 1, 14, 0), NOW) is False


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(jst(2026, 12, 1, 10, 0), D(2026, 12, 2), id="tokyo-morning"),
        pytest.param(jst(2026, 12, 1, 23, 59), D(2026, 12, 2), id="tokyo-before-midnight"),
        pytest.param(utc(2026, 12, 1, 14, 59), D(2026, 12, 2), id="utc-before-tokyo-midnight"),
        pytest.param(utc(2026, 12, 1, 15, 0), D(2026, 12, 3), id="utc-at-tokyo-midnight"),
        pytest.param(utc(2026, 12, 1, 15, 30), D(2026, 12, 3), id="utc-after-tokyo-midnight"),
    ],
)
def test_earliest_bookable_date_is_next_tokyo_day(now, expected):
    assert calendar.earliest_bookable_date(make_calendar(), now) == expected


# --- window_starts -----------------------------------------------------------------


def test_window_starts_lists_60_minute_starts():
    starts = list(calendar.window_starts(make_calendar(), D(2026, 12, 2), 60))

    assert starts == [
        jst(2026, 12, 2, 9, 0),
        jst(2026, 12, 2, 9, 15),
        jst(2026, 12, 2, 9, 30),
        jst(2026, 12, 2, 9, 45),
        jst(2026, 12, 2, 10, 0),
        jst(2026, 12, 2, 10, 15),
        jst(2026, 12, 2, 10, 30),
        jst(2026, 12, 2, 10, 45),
        jst(2026, 12, 2, 11, 0),
        jst(2026, 12, 2, 13, 0),
        jst(2026, 12, 2, 13, 15),
        jst(2026, 12, 2, 13, 30),
        jst(2026, 12, 2, 13, 45),
        jst(2026, 12, 2, 14, 0),
        jst(2026, 12, 2, 14, 15),
        jst(2026, 12, 2, 14, 30),
        jst(2026, 12, 2, 14, 45),
        jst(2026, 12, 2, 15, 0),
    ]
    assert {start.utcoffset() for start in starts} == {dt.timedelta(hours=9)}


@pytest.mark.parametrize(
    ("minutes", "step", "count", "last"),
    [
        pytest.param(30, 15, 22, jst(2026, 12, 2, 15, 30), id="30-min-step-15"),
        pytest.param(45, 15, 20, jst(2026, 12, 2, 15, 15), id="45-min-step-15"),
        pytest.param(60, 15, 18, jst(2026, 12, 2, 15, 0), id="60-min-step-15"),
        pytest.param(30, 30, 12, jst(2026, 12, 2, 15, 30), id="30-min-step-30"),
        pytest.param(30, 5, 62, jst(2026, 12, 2, 15, 30), id="30-min-step-5"),
    ],
)
def test_window_starts_counts(minutes, step, count, last):
    cal = make_calendar(slot_step_minutes=step)

    starts = list(calendar.window_starts(cal, D(2026, 12, 2), minutes))

    assert len(starts) == count
    assert starts[0] == jst(2026, 12, 2, 9, 0)
    assert starts[-1] == last


@pytest.mark.parametrize("minutes", [30, 45, 60], ids=["30", "45", "60"])
def test_window_starts_each_passes_check_time(minutes):
    cal = make_calendar()

    for start in calendar.window_starts(cal, D(2026, 12, 2), minutes):
        calendar.check_time(cal, start, minutes)


def test_window_starts_with_window_exactly_one_length():
    cal = make_calendar(windows=((dt.time(10, 0), dt.time(11, 0)),))

    assert list(calendar.window_starts(cal, D(2026, 12, 2), 60)) == [jst(2026, 12, 2, 10, 0)]
    assert list(calendar.window_starts(cal, D(2026, 12, 2), 90)) == []


# --- grid_cells --------------------------------------------------------------------


def test_grid_cells_covers_hour_in_utc():
    cells = calendar.grid_cells(jst(2026, 12, 2, 10, 0), jst(2026, 12, 2, 11, 0))

    assert cells == [utc(2026, 12, 2, 1, 0) + dt.timedelta(minutes=5 * n) for n in range(12)]
    assert {cell.tzinfo for cell in cells} == {UTC}


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            jst(2026, 12, 2, 10, 2),
            jst(2026, 12, 2, 10, 13),
            [utc(2026, 12, 2, 1, 0), utc(2026, 12, 2, 1, 5), utc(2026, 12, 2, 1, 10)],
            id="partial-both-ends",
        ),
        pytest.param(
            jst(2026, 12, 2, 10, 0),
            jst(2026, 12, 2, 10, 5),
            [utc(2026, 12, 2, 1, 0)],
            id="one-whole-cell-end-exclusive",
        ),
        pytest.param(
            jst(2026, 12, 2, 10, 0),
            jst(2026, 12, 2, 10, 5, 1),
            [utc(2026, 12, 2, 1, 0), utc(2026, 12, 2, 1, 5)],
            id="one-second-into-next-cell",
        ),
        pytest.param(
            jst(2026, 12, 2, 10, 4, 59, 999999),
            jst(2026, 12, 2, 10, 5),
            [utc(2026, 12, 2, 1, 0)],
            id="last-microsecond-of-cell",
        ),
        pytest.param(
            jst(2026, 12, 2, 10, 0, 30),
            jst(2026, 12, 2, 10, 1),
            [utc(2026, 12, 2, 1, 0)],
            id="within-one-cell",
        ),
        pytest.param(
            utc(2026, 12, 2, 1, 0),
            jst(2026, 12, 2, 10, 10),
            [utc(2026, 12, 2, 1, 0), utc(2026, 12, 2, 1, 5)],
            id="mixed-offsets",
        ),
        pytest.param(
            jst(2026, 12, 2, 8, 55),
            jst(2026, 12, 2, 9, 5),
            [utc(2026, 12, 1, 23, 55), utc(2026, 12, 2, 0, 0)],
            id="across-utc-midnight",
        ),
        pytest.param(jst(2026, 12, 2, 10, 0), jst(2026, 12, 2, 10, 0), [], id="empty"),
        pytest.param(jst(2026, 12, 2, 10, 5), jst(2026, 12, 2, 10, 0), [], id="reversed"),
    ],
)
def test_grid_cells_partial_cells_count_whole(start, end, expected):
    assert calendar.grid_cells(start, end) == expected


def test_grid_cells_adjacent_consultations_share_no_cell():
    first = calendar.grid_cells(jst(2026, 12, 2, 10, 0), jst(2026, 12, 2, 10, 30))
    second = calendar.grid_cells(jst(2026, 12, 2, 10, 30), jst(2026, 12, 2, 11, 0))

    assert set(first) & set(second) == set()


def test_grid_cells_overlapping_consultations_share_cell():
    first = calendar.grid_cells(jst(2026, 12, 2, 10, 0), jst(2026, 12, 2, 10, 31))
    second = calendar.grid_cells(jst(2026, 12, 2, 10, 30), jst(2026, 12, 2, 11, 0))

    assert set(first) & set(second) == {utc(2026, 12, 2, 1, 30)}
