"""The booking rules about the seeker and the request (R1–R3, R6–R8), without a database.

Seekers are unsaved `Seeker(...)` instances; the calendar is the spec's default one.
"""

import dataclasses
import datetime as dt
import zoneinfo

import pytest
from django.utils import translation

from madoguchi.bookings import rules
from madoguchi.bookings.models import DECLARATION_LABELS, REQUIRED_DECLARATIONS
from madoguchi.errors import STATUS_BY_CODE, BookingError
from madoguchi.offices.calendar import OfficeCalendar
from madoguchi.seekers.models import Seeker

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TOKYO)  # Tuesday; Wednesday 2 Dec is bookable
TODAY = NOW.date()

ALL_DECLARATIONS = {
    "device_ready": True,
    "continuing_support": True,
    "video_terms": True,
    "private_place": True,
    "no_recording": True,
}


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
    return dt.datetime(*args, tzinfo=TOKYO)


def make_seeker(**changes) -> Seeker:
    """An unsaved seeker, registered and active on TODAY, with no restriction."""
    fields = {
        "number": "01040-12345678",
        "name": "釧路 太郎",
        "registered_on": dt.date(2026, 4, 1),
        "expires_on": dt.date(2027, 3, 31),
        "status": Seeker.Status.ACTIVE,
        "restriction": Seeker.Restriction.NONE,
    }
    return Seeker(**(fields | changes))


# --- check_declarations (R2, R16, R17) ---------------------------------------------


def test_required_declarations_are_the_spec_five():
    names = ("device_ready", "continuing_support", "video_terms", "private_place", "no_recording")

    assert names == REQUIRED_DECLARATIONS


def test_check_declarations_accepts_all_true():
    assert rules.check_declarations(ALL_DECLARATIONS) is None


def test_check_declarations_ignores_extra_keys():
    assert rules.check_declarations(ALL_DECLARATIONS | {"newsletter": False}) is None


@pytest.mark.parametrize("name", REQUIRED_DECLARATIONS, ids=REQUIRED_DECLARATIONS)
def test_check_declarations_rejects_missing_one(name):
    declarations = {key: value for key, value in ALL_DECLARATIONS.items() if key != name}

    with translation.override("en"), pytest.raises(BookingError) as caught:
        rules.check_declarations(declarations)

    assert caught.value.code == "declaration_missing"
    assert caught.value.field == "declarations"
    with translation.override("en"):
        expected = f"Please confirm: {DECLARATION_LABELS[name]}."
    assert caught.value.detail == expected


@pytest.mark.parametrize(
    "value",
    [False, "true", "True", 1, "1", "yes", "on", None, [True]],
    ids=["false", "string-true", "string-True", "one", "string-one", "yes", "on", "none", "list"],
)
def test_check_declarations_accepts_only_literal_true(value):
    declarations = ALL_DECLARATIONS | {"video_terms": value}

    with translation.override("en"), pytest.raises(BookingError) as caught:
        rules.check_declarations(declarations)

    assert caught.value.code == "declaration_missing"
    assert caught.value.detail == "Please confirm: consent to the video service's own terms."


def test_check_declarations_names_every_missing_one():
    declarations = ALL_DECLARATIONS | {"device_ready": False, "no_recording": "true"}

    with translation.override("en"), pytest.raises(BookingError) as caught:
        rules.check_declarations(declarations)

    assert caught.value.detail == (
        "Please confirm: a camera-capable device with the meeting app ready, "
        "no recording of the consultation."
    )


def test_check_declarations_rejects_empty():
    with translation.override("en"), pytest.raises(BookingError) as caught:
        rules.check_declarations({})

    assert caught.value.code == "declaration_missing"
    with translation.override("en"):
        labels = ", ".join(str(label) for label in DECLARATION_LABELS.values())
    assert caught.value.detail == f"Please confirm: {labels}."


# --- check_preferences and check_slot (R6–R8) --------------------------------------

GOOD = [
    (jst(2026, 12, 2, 10, 0), 30),
    (jst(2026, 12, 3, 13, 0), 60),
    (jst(2026, 12, 4, 15, 15), 45),
]


@pytest.mark.parametrize("count", [1, 2, 3], ids=["one", "two", "three"])
def test_check_preferences_accepts_one_to_three(count):
    assert rules.check_preferences(make_calendar(), GOOD[:count], NOW) is None


@pytest.mark.parametrize(
    "preferences",
    [[], [*GOOD, (jst(2026, 12, 7, 10, 0), 30)]],
    ids=["none", "four"],
)
def test_check_preferences_rejects_count(preferences):
    with pytest.raises(BookingError) as caught:
        rules.check_preferences(make_calendar(), preferences, NOW)

    assert caught.value.code == "invalid_input"
    assert caught.value.field == "preferences"


@pytest.mark.parametrize(
    ("bad", "code", "field"),
    [
        pytest.param(
            (jst(2026, 12, 2, 10, 0), 40), "invalid_duration", "duration_minutes", id="duration"
        ),
        pytest.param((jst(2026, 12, 5, 10, 0), 30), "not_an_office_day", "start", id="saturday"),
        pytest.param((jst(2026, 12, 29, 10, 0), 30), "not_an_office_day", "start", id="year-end"),
        pytest.param(
            (jst(2026, 12, 2, 11, 45), 30), "outside_office_hours", "start", id="across-lunch"
        ),
        pytest.param((jst(2026, 12, 2, 10, 7), 30), "outside_office_hours", "start", id="off-grid"),
        pytest.param((jst(2026, 12, 1, 14, 0), 30), "lead_time", "start", id="today"),
        pytest.param((jst(2026, 11, 30, 10, 0), 30), "lead_time", "start", id="past"),
        pytest.param((dt.datetime(2026, 12, 2, 10, 0), 30), "invalid_input", "start", id="naive"),
    ],
)
def test_check_preferences_raises_bad_one_code(bad, code, field):
    preferences = [GOOD[0], bad, GOOD[2]]

    with pytest.raises(BookingError) as caught:
        rules.check_preferences(make_calendar(), preferences, NOW)

    assert caught.value.code == code
    assert caught.value.field == field


def test_check_preferences_raises_first_bad_one():
    preferences = [GOOD[0], (jst(2026, 12, 5, 10, 0), 30), (jst(2026, 12, 2, 10, 0), 40)]

    with pytest.raises(BookingError) as caught:
        rules.check_preferences(make_calendar(), preferences, NOW)

    assert caught.value.code == "not_an_office_day"


def test_check_slot_accepts_tomorrow_without_override():
    assert rules.check_slot(make_calendar(), jst(2026, 12, 2, 10, 0), 30, NOW) is False


def test_check_slot_today_with_reason_uses_override():
    start = jst(2026, 12, 1, 14, 0)

    assert rules.check_slot(make_calendar(), start, 30, NOW, override_reason="急ぎ") is True


def test_check_slot_today_without_reason_rejects():
    with pytest.raises(BookingError) as caught:
        rules.check_slot(make_calendar(), jst(2026, 12, 1, 14, 0), 30, NOW)

    assert caught.value.code == "lead_time"


def test_check_slot_override_does_not_open_lunch():
    with pytest.raises(BookingError) as caught:
        rules.check_slot(make_calendar(), jst(2026, 12, 1, 11, 45), 30, NOW, "急ぎ")

    assert caught.value.code == "outside_office_hours"


def test_check_slot_checks_duration_first():
    with pytest.raises(BookingError) as caught:
        rules.check_slot(make_calendar(), jst(2026, 12, 5, 10, 7), 40, NOW)

    assert caught.value.code == "invalid_duration"


# --- check_seeker_can_book (R1, R3, R14) -------------------------------------------


def test_check_seeker_can_book_returns_registered_seeker():
    seeker = make_seeker()

    assert rules.check_seeker_can_book(seeker, TODAY) is seeker


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"registered_on": TODAY}, id="registered-today"),
        pytest.param({"expires_on": TODAY}, id="expires-today"),
        pytest.param({"restriction": Seeker.Restriction.REVIEW}, id="review-flag-alone"),
    ],
)
def test_check_seeker_can_book_allows(changes):
    seeker = make_seeker(**changes)

    assert rules.check_seeker_can_book(seeker, TODAY) is seeker


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(None, id="unknown-number"),
        pytest.param({"expires_on": dt.date(2026, 11, 30)}, id="expired-yesterday"),
        pytest.param(
            {"registered_on": dt.date(2025, 4, 1), "expires_on": dt.date(2025, 12, 31)},
            id="expired-long-ago",
        ),
        pytest.param({"registered_on": dt.date(2026, 12, 2)}, id="not-yet-registered"),
        pytest.param({"status": Seeker.Status.INACTIVE}, id="inactive"),
        pytest.param(
            {"status": Seeker.Status.INACTIVE, "restriction": Seeker.Restriction.RESTRICTED},
            id="inactive-and-restricted",
        ),
    ],
)
def test_check_seeker_can_book_rejects_not_registered(changes):
    seeker = None if changes is None else make_seeker(**changes)

    with pytest.raises(BookingError) as caught:
        rules.check_seeker_can_book(seeker, TODAY)

    assert caught.value.code == "seeker_not_registered"
    assert caught.value.field == "job_seeker_number"
    assert caught.value.status == 422


def test_check_seeker_can_book_rejects_restricted():
    seeker = make_seeker(restriction=Seeker.Restriction.RESTRICTED)

    with translation.override("en"), pytest.raises(BookingError) as caught:
        rules.check_seeker_can_book(seeker, TODAY)

    assert caught.value.code == "seeker_restricted"
    assert caught.value.field == "job_seeker_number"
    assert caught.value.detail == (
        "Online consultation is not available for this job seeker. Please call the office."
    )


# --- BookingError: the API's stable codes (SPEC §5) --------------------------------


@pytest.mark.parametrize(
    ("code", "statuses"),
    [
        pytest.param("invalid_job_seeker_number", {400, 422}, id="invalid_job_seeker_number"),
        pytest.param("seeker_not_registered", {400, 422}, id="seeker_not_registered"),
        pytest.param("seeker_restricted", {400, 422}, id="seeker_restricted"),
        pytest.param("declaration_missing", {400, 422}, id="declaration_missing"),
        pytest.param("outside_office_hours", {400, 422}, id="outside_office_hours"),
        pytest.param("not_an_office_day", {400, 422}, id="not_an_office_day"),
        pytest.param("lead_time", {400, 422}, id="lead_time"),
        pytest.param("invalid_duration", {400, 422}, id="invalid_duration"),
        pytest.param("slot_taken", {409}, id="slot_taken"),
        pytest.param("seeker_busy", {409}, id="seeker_busy"),
        pytest.param("invalid_transition", {409}, id="invalid_transition"),
        pytest.param("not_found", {404}, id="not_found"),
        pytest.param("forbidden", {403}, id="forbidden"),
        pytest.param("rate_limited", {429}, id="rate_limited"),
    ],
)
def test_booking_error_status_follows_spec(code, statuses):
    error = BookingError(code)

    assert error.status in statuses
    assert STATUS_BY_CODE[code] == error.status
    assert error.detail == error.title


def test_booking_error_rejects_unknown_code():
    with pytest.raises(ValueError, match="unknown error code 'no_such_code'"):
        BookingError("no_such_code")
