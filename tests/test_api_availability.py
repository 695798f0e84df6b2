"""Free start times of an office (R7, R8, R10, R20; SPEC §5 availability).

Anonymous callers get counts only; the office's own staff see which counselors are
free. The clock is frozen on Tuesday 2026-12-01 10:00 JST, so the first start shown
is Wednesday 2 December 09:00.
"""

import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Consultation
from madoguchi.offices.models import Closure
from tests.factories import local, make_consultation, make_staff

URL = "/api/v1/offices/01040/availability"
WED = {"date_from": "2026-12-02", "date_to": "2026-12-02"}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def public_get(path: str = URL, **params):
    return Client().get(path, params)


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= {"type", "title", "status", "code", "detail"}
    assert (body["status"], body["code"]) == (status, code)
    return body


def book(world, start: dt.datetime, minutes: int = 60, counselor=None) -> Consultation:
    seeker = world.seeker if counselor in (None, world.counselor) else world.seeker2
    return make_consultation(
        seeker,
        start,
        minutes=minutes,
        counselor=counselor or world.counselor,
        actor=world.coordinator,
    )


def starts(body: dict) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(s["start"]) for s in body["slots"]]


def days(body: dict) -> list[dt.date]:
    return sorted({start.date() for start in starts(body)})


def free_by_start(body: dict) -> dict[str, int]:
    return {
        dt.datetime.fromisoformat(s["start"]).strftime("%H:%M"): s["free"] for s in body["slots"]
    }


# Who sees what ------------------------------------------------------------------------


def test_availability_public_shows_counts_only(world):
    response = public_get(**WED)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["office"], body["duration_minutes"], len(body["slots"])) == ("01040", 60, 18)
    assert body["slots"][0] == {
        "start": "2026-12-02T09:00:00+09:00",
        "end": "2026-12-02T10:00:00+09:00",
        "free": 2,
    }
    assert all(set(slot) == {"start", "end", "free"} for slot in body["slots"])


@pytest.mark.parametrize("persona", ["counselor", "coordinator", "manager"])
def test_availability_office_staff_see_counselors(world, api_as, persona):
    api = api_as(getattr(world, persona))

    response = api.get(URL, **WED)

    assert response.status_code == 200, response.content
    slots = response.json()["slots"]
    assert slots[0] == {
        "start": "2026-12-02T09:00:00+09:00",
        "end": "2026-12-02T10:00:00+09:00",
        "free": 2,
        "counselors": ["sato", "suzuki"],
    }
    assert all(slot["counselors"] == ["sato", "suzuki"] for slot in slots)


@pytest.mark.parametrize(
    "persona",
    [pytest.param("other_counselor", id="other-office"), pytest.param("auditor", id="auditor")],
)
def test_availability_other_staff_see_counts_only(world, api_as, persona):
    api = api_as(getattr(world, persona))

    response = api.get(URL, **WED)

    assert response.status_code == 200, response.content
    assert all(set(slot) == {"start", "end", "free"} for slot in response.json()["slots"])


def test_availability_bad_token_answers_401_not_anonymous(world):
    response = Client().get(URL, WED, headers={"Authorization": "Bearer mdg_wrong"})

    problem(response, 401, "unauthorized")


# What is free -------------------------------------------------------------------------


def test_availability_booked_slot_reduces_free_for_overlapping_starts(world, api_as):
    book(world, local(2026, 12, 2, 10, 0))
    api = api_as(world.coordinator)

    public = public_get(**WED).json()
    staff = api.get(URL, **WED).json()

    assert {k: v for k, v in free_by_start(public).items() if k < "12:00"} == {
        "09:00": 2,
        "09:15": 1,
        "09:30": 1,
        "09:45": 1,
        "10:00": 1,
        "10:15": 1,
        "10:30": 1,
        "10:45": 1,
        "11:00": 2,
    }
    assert set(free_by_start(public).values()) - {1} == {2}
    assert [s["counselors"] for s in staff["slots"][1:8]] == [["suzuki"]] * 7


def test_availability_slot_free_for_nobody_is_absent(world):
    book(world, local(2026, 12, 2, 10, 0), counselor=world.counselor)
    book(world, local(2026, 12, 2, 10, 0), counselor=world.counselor2)

    body = public_get(**WED).json()

    assert [k for k in free_by_start(body) if k < "12:00"] == ["09:00", "11:00"]


def test_availability_cancelled_consultation_frees_the_slot(world):
    consultation = book(world, local(2026, 12, 2, 10, 0))
    booking_services.consultation_cancel(
        consultation_id=consultation.pk, channel="phone", reason="体調不良", actor=world.coordinator
    )

    body = public_get(**WED).json()

    assert set(free_by_start(body).values()) == {2}


def test_availability_respects_blocked_time(world, api_as):
    booking_services.blocked_time_create(
        counselor=world.counselor2,
        start=local(2026, 12, 2, 13, 0),
        end=local(2026, 12, 2, 16, 0),
        reason="研修",
        actor=world.coordinator,
    )
    api = api_as(world.coordinator)

    body = api.get(URL, **WED).json()

    afternoon = [s for s in body["slots"] if s["start"] >= "2026-12-02T13:00"]
    assert (len(afternoon), {tuple(s["counselors"]) for s in afternoon}) == (9, {("sato",)})


def test_availability_inactive_counselor_not_counted(world):
    world.counselor2.user.is_active = False
    world.counselor2.user.save()

    body = public_get(**WED).json()

    assert set(free_by_start(body).values()) == {1}


def test_availability_new_counselor_counted(world):
    make_staff(world.office, "counselor", "yamamoto")

    body = public_get(**WED).json()

    assert set(free_by_start(body).values()) == {3}


# Which days and starts ----------------------------------------------------------------


def test_availability_starts_from_tomorrow_only(world):
    response = public_get(date_from="2026-11-30", date_to="2026-12-02")

    body = response.json()
    assert days(body) == [dt.date(2026, 12, 2)]
    assert body["slots"][0]["start"] == "2026-12-02T09:00:00+09:00"


@pytest.mark.parametrize(
    ("now", "first_day"),
    [
        pytest.param(local(2026, 12, 1, 23, 59), dt.date(2026, 12, 2), id="late-evening"),
        pytest.param(local(2026, 12, 2, 0, 30), dt.date(2026, 12, 3), id="after-midnight-jst"),
    ],
)
def test_availability_tomorrow_is_office_local(world, frozen_now, now, first_day):
    frozen_now.move_to(now)

    body = public_get(date_from="2026-12-01", date_to="2026-12-04").json()

    assert days(body)[0] == first_day


def test_availability_whole_range_in_the_past_is_empty(world):
    response = public_get(date_from="2026-11-02", date_to="2026-12-01")

    assert (response.status_code, response.json()["slots"]) == (200, [])


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        pytest.param("2026-12-04", "2026-12-07", ["2026-12-04", "2026-12-07"], id="weekend"),
        pytest.param(
            "2026-12-28", "2027-01-05", ["2026-12-28", "2027-01-04", "2027-01-05"], id="year-end"
        ),
        pytest.param("2027-01-08", "2027-01-12", ["2027-01-08", "2027-01-12"], id="seijin-no-hi"),
    ],
)
def test_availability_skips_days_the_office_is_closed(world, date_from, date_to, expected):
    body = public_get(date_from=date_from, date_to=date_to).json()

    assert [d.isoformat() for d in days(body)] == expected


def test_availability_skips_office_closure(world):
    Closure.objects.create(office=world.office, date=dt.date(2026, 12, 3), reason="研修")

    body = public_get(date_from="2026-12-02", date_to="2026-12-04").json()

    assert days(body) == [dt.date(2026, 12, 2), dt.date(2026, 12, 4)]


@pytest.mark.parametrize(
    ("duration", "count", "last_morning", "last"),
    [
        pytest.param(30, 22, "11:30", "15:30", id="30"),
        pytest.param(45, 20, "11:15", "15:15", id="45"),
        pytest.param(60, 18, "11:00", "15:00", id="60"),
    ],
)
def test_availability_starts_fit_windows(world, duration, count, last_morning, last):
    body = public_get(**WED, duration=duration).json()

    times = list(free_by_start(body))
    assert (body["duration_minutes"], len(times)) == (duration, count)
    assert (times[0], max(t for t in times if t < "12:00"), times[-1]) == (
        "09:00",
        last_morning,
        last,
    )
    assert min(t for t in times if t >= "12:00") == "13:00"
    ends = [
        dt.datetime.fromisoformat(s["end"]) - dt.datetime.fromisoformat(s["start"])
        for s in body["slots"]
    ]
    assert set(ends) == {dt.timedelta(minutes=duration)}


# Refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("duration", [20, 50, 90])
def test_availability_refuses_duration(world, duration):
    body = problem(public_get(**WED, duration=duration), 422, "invalid_duration")

    assert body["field"] == "duration_minutes"


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [
        pytest.param("2026-12-02", "2027-02-02", id="63-days"),
        pytest.param("2026-12-03", "2026-12-02", id="backwards"),
    ],
)
def test_availability_refuses_range(world, date_from, date_to):
    body = problem(public_get(date_from=date_from, date_to=date_to), 422, "invalid_input")

    assert body["field"] == "date_to"


def test_availability_accepts_62_days(world):
    response = public_get(date_from="2026-12-02", date_to="2027-02-01")

    assert response.status_code == 200, response.content
    assert days(response.json())[-1] == dt.date(2027, 2, 1)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"date_to": "2026-12-02"}, id="no-date-from"),
        pytest.param({"date_from": "2026-12-02", "date_to": "soon"}, id="bad-date"),
    ],
)
def test_availability_refuses_malformed_query(world, params):
    problem(public_get(**params), 422, "invalid_input")


def test_availability_unknown_office_answers_404(world):
    problem(public_get("/api/v1/offices/99999/availability", **WED), 404, "not_found")


# Cost and rate limit ------------------------------------------------------------------


def test_availability_query_count_does_not_grow_with_range(world):
    with CaptureQueriesContext(connection) as one_day:
        public_get(**WED)
    cache.clear()
    with CaptureQueriesContext(connection) as two_months:
        public_get(date_from="2026-12-02", date_to="2027-01-31")

    # office version (all a cached answer needs), office, closures, counselors,
    # consultations, blocked times
    assert len(one_day) == len(two_months) == 6


def test_availability_cached_answer_costs_one_query(world):
    first = public_get(**WED)
    with CaptureQueriesContext(connection) as cached:
        second = public_get(**WED)

    assert len(cached) == 1
    assert "calendar_version" in cached.captured_queries[0]["sql"]
    assert second.json() == first.json()


def test_availability_staff_cached_answer_for_own_office_costs_the_token_query(world, api_as):
    api = api_as(world.coordinator)
    first = api.get(URL, **WED)
    with CaptureQueriesContext(connection) as cached:
        second = api.get(URL, **WED)

    assert len(cached) == 1  # the token, with the caller's office and its calendar version
    assert "api_apitoken" in cached.captured_queries[0]["sql"]
    assert second.json() == first.json()
    assert "counselors" in second.json()["slots"][0]


def test_availability_staff_cached_answer_for_another_office_reads_its_version(world, api_as):
    api = api_as(world.other_counselor)
    first = api.get(URL, **WED)
    with CaptureQueriesContext(connection) as cached:
        second = api.get(URL, **WED)

    assert len(cached) == 2  # the token, then the asked office's calendar version
    assert "calendar_version" in cached.captured_queries[1]["sql"]
    assert second.json() == first.json()
    assert "counselors" not in second.json()["slots"][0]


def test_availability_staff_cached_answer_follows_a_booking(world, api_as):
    api = api_as(world.coordinator)
    before = free_by_start(api.get(URL, **WED).json())

    book(world, local(2026, 12, 2, 10))
    after = free_by_start(api.get(URL, **WED).json())

    assert after["10:00"] == before["10:00"] - 1


@pytest.mark.parametrize("change", ["book", "cancel", "block"])
def test_availability_cache_never_outlives_a_booking_change(world, change):
    booked = book(world, local(2026, 12, 2, 10)) if change == "cancel" else None
    before = free_by_start(public_get(**WED).json())

    if change == "book":
        book(world, local(2026, 12, 2, 10))
    elif change == "cancel":
        assert booked is not None
        booking_services.consultation_cancel(
            consultation_id=booked.pk, channel="phone", reason="体調不良", actor=world.coordinator
        )
    else:
        booking_services.blocked_time_create(
            counselor=world.counselor,
            start=local(2026, 12, 2, 10),
            end=local(2026, 12, 2, 11),
            actor=world.counselor,
        )
    after = free_by_start(public_get(**WED).json())

    expected = before["10:00"] + (1 if change == "cancel" else -1)
    assert after["10:00"] == expected


def test_availability_multi_day_blocked_time_removes_every_start(world, api_as):
    booking_services.blocked_time_create(
        counselor=world.counselor,
        start=local(2026, 12, 2, 11, 50),
        end=local(2026, 12, 3, 13, 10),
        actor=world.counselor,
    )
    body = (
        api_as(world.coordinator)
        .get(URL, date_from="2026-12-02", date_to="2026-12-03", duration=60)
        .json()
    )

    sato = {s["start"] for s in body["slots"] if "sato" in s["counselors"]}
    assert sato == {
        "2026-12-02T09:00:00+09:00",
        "2026-12-02T09:15:00+09:00",
        "2026-12-02T09:30:00+09:00",
        "2026-12-02T09:45:00+09:00",
        "2026-12-02T10:00:00+09:00",
        "2026-12-02T10:15:00+09:00",
        "2026-12-02T10:30:00+09:00",
        "2026-12-02T10:45:00+09:00",
        "2026-12-03T13:15:00+09:00",
        "2026-12-03T13:30:00+09:00",
        "2026-12-03T13:45:00+09:00",
        "2026-12-03T14:00:00+09:00",
        "2026-12-03T14:15:00+09:00",
        "2026-12-03T14:30:00+09:00",
        "2026-12-03T14:45:00+09:00",
        "2026-12-03T15:00:00+09:00",
    }


def test_availability_public_rate_limit_answers_429(world, settings):
    settings.MADOGUCHI_PUBLIC_RATE_PER_MINUTE = 3
    cache.clear()
    allowed = [public_get(**WED).status_code for _ in range(3)]

    response = public_get(**WED)

    assert allowed == [200, 200, 200]
    body = problem(response, 429, "rate_limited")
    assert body["type"] == "urn:madoguchi:problem:rate_limited"
    assert response["Retry-After"] == "60"


def test_availability_rate_limit_window_passes(world, settings, frozen_now):
    settings.MADOGUCHI_PUBLIC_RATE_PER_MINUTE = 3
    cache.clear()
    for _ in range(4):
        public_get(**WED)
    frozen_now.shift(60)

    response = public_get(**WED)

    assert response.status_code == 200, response.content


def test_availability_staff_are_not_rate_limited(world, api_as, settings):
    settings.MADOGUCHI_PUBLIC_RATE_PER_MINUTE = 3
    cache.clear()
    api = api_as(world.coordinator)

    codes = [api.get(URL, **WED).status_code for _ in itertools.repeat(None, 5)]

    assert codes == [200] * 5
