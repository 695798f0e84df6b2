"""Every list of the staff web: paginated (or bounded by its nature), and its query count
pinned with one row and with thirty, so that a query per row (N+1) would show.

The counts include the signed-in request's own: the session, the user and staff member,
the second factor's device, the sign-in generation; and the page's audit entry where a
page of personal data is audited.
"""

import datetime as dt

import pytest
from django.urls import reverse

from madoguchi.bookings import services as booking_services
from madoguchi.offices import calendar
from madoguchi.offices.services import closure_add
from tests.factories import ALL_DECLARATIONS, local, make_consultation, make_seeker, make_staff
from tests.signin import signed_in_client

EN = {"Accept-Language": "en"}  # the bands' words asserted in the source language
ROWS = [pytest.param(1, id="1-row"), pytest.param(30, id="30-rows")]
BOOKABLE_DAYS = [dt.date(2026, 12, 2), dt.date(2026, 12, 3), dt.date(2026, 12, 4)]


def half_hours(days: list[dt.date]):
    """Every 30-minute start in the default windows of `days`, in order."""
    for day in days:
        for hour in (9, 10, 11, 13, 14, 15):
            for minute in (0, 30):
                yield local(day.year, day.month, day.day, hour, minute)


def book(world, count: int, *, days: list[dt.date], seeker=None) -> None:
    """`count` 30-minute consultations, spread over three counselors, each with its own
    seeker unless `seeker` is given (then all with that seeker and its counselor)."""
    counselors = [world.counselor, world.counselor2, make_staff(world.office, "counselor")]
    slots = [(start, c) for start in half_hours(days) for c in counselors]
    if seeker is not None:
        slots = [(start, seeker.counselor) for start in half_hours(days)]
    for start, counselor in slots[:count]:
        make_consultation(
            seeker or make_seeker(world.office, counselor),
            start,
            actor=world.coordinator,
            minutes=30,
            counselor=counselor,
        )


@pytest.mark.parametrize("rows", ROWS)
def test_inbox_query_count_is_pinned(world, rows, django_assert_num_queries):
    for _ in range(rows):
        booking_services.request_create(
            office=world.office,
            job_seeker_number=make_seeker(world.office, world.counselor).number,
            name="求職 太郎",
            preferences=[(local(2026, 12, 2, 10, 0), 60), (local(2026, 12, 3, 10, 0), 60)],
            channel="phone",
            declarations=ALL_DECLARATIONS,
            actor=world.coordinator,
        )
    client = signed_in_client(world.coordinator)

    with django_assert_num_queries(10):
        page = client.get(reverse("staff:inbox"))

    assert len(page.context["items"]) == min(rows, 20)


@pytest.mark.parametrize("rows", ROWS)
def test_day_query_count_is_pinned(world, rows, django_assert_num_queries):
    book(world, rows, days=BOOKABLE_DAYS[:1])
    client = signed_in_client(world.coordinator)

    with django_assert_num_queries(10):
        page = client.get(reverse("staff:day"), {"date": "2026-12-02"})

    assert sum(len(column["entries"]) for column in page.context["columns"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_week_query_count_is_pinned(world, rows, django_assert_num_queries):
    book(world, rows, days=BOOKABLE_DAYS)
    client = signed_in_client(world.coordinator)

    with django_assert_num_queries(10):
        page = client.get(reverse("staff:week"), {"date": "2026-12-02"})

    shown = sum(
        len(segment["entries"])
        for row in page.context["rows"]
        for cell in row["cells"]
        for segment in cell
    )
    assert shown == rows


@pytest.mark.parametrize("rows", ROWS)
def test_blocked_time_query_count_is_pinned(world, rows, django_assert_num_queries):
    for start in list(half_hours(BOOKABLE_DAYS))[:rows]:
        booking_services.blocked_time_create(
            counselor=world.counselor,
            start=start,
            end=start + dt.timedelta(minutes=30),
            reason="研修",
            actor=world.counselor,
        )
    client = signed_in_client(world.counselor)

    with django_assert_num_queries(8):
        page = client.get(reverse("staff:blocks"))

    assert len(page.context["blocks"]) == min(rows, 20)
    assert page.context["page"].paginator.count == rows


@pytest.mark.parametrize("rows", ROWS)
def test_seeker_registry_query_count_is_pinned(world, rows, django_assert_num_queries):
    for _ in range(rows):
        make_seeker(world.office, world.counselor)
    client = signed_in_client(world.coordinator)

    with django_assert_num_queries(9):  # 8, and the audit entry of the view (R21)
        page = client.get(reverse("staff:seekers"))

    assert page.context["page"].paginator.count == rows + 2  # and the world's two


@pytest.mark.parametrize("rows", ROWS)
def test_seeker_record_history_query_count_is_pinned(world, rows, django_assert_num_queries):
    book(world, rows, days=BOOKABLE_DAYS, seeker=world.seeker)
    client = signed_in_client(world.coordinator)

    with django_assert_num_queries(11):
        page = client.get(reverse("staff:seeker", args=[world.seeker.number]))

    assert len(page.context["history"]) == min(rows, 20)
    assert page.context["history"].paginator.count == rows


def test_seeker_record_history_pages_on(world):
    book(world, 21, days=BOOKABLE_DAYS, seeker=world.seeker)
    client = signed_in_client(world.coordinator)

    second = client.get(reverse("staff:seeker", args=[world.seeker.number]), {"page": 2})

    [oldest] = second.context["history"]
    assert oldest.start == local(2026, 12, 2, 9, 0)
    assert "?page=1" in second.content.decode()


@pytest.mark.parametrize("rows", ROWS)
def test_office_closures_query_count_is_pinned(world, rows, django_assert_num_queries):
    first = dt.date(2027, 2, 1)
    for n in range(rows):
        closure_add(
            office=world.office,
            date=first + dt.timedelta(days=n),
            reason="研修",
            actor=world.manager,
        )
    client = signed_in_client(world.manager)

    with django_assert_num_queries(8):
        page = client.get(reverse("staff:office"))

    assert len(page.context["closures"]) == min(rows, 20)


@pytest.mark.parametrize("rows", ROWS)
def test_team_query_count_is_pinned(world, rows, django_assert_num_queries):
    for _ in range(rows):
        make_staff(world.office, "counselor")
    client = signed_in_client(world.manager)

    with django_assert_num_queries(9):
        page = client.get(reverse("staff:team"))

    assert page.context["page"].paginator.count == rows + 5  # and the world's five


# Calendars: the windows and the lunch break as bands ------------------------------------


def test_day_bands_are_the_windows_and_the_gap_between():
    windows = ((dt.time(13, 0), dt.time(16, 0)), (dt.time(9, 0), dt.time(12, 0)))

    bands = calendar.day_bands(windows)

    assert bands == [
        calendar.Band("window", dt.time(9, 0), dt.time(12, 0)),
        calendar.Band("break", dt.time(12, 0), dt.time(13, 0)),
        calendar.Band("window", dt.time(13, 0), dt.time(16, 0)),
    ]
    assert calendar.day_bands(((dt.time(9, 0), dt.time(16, 0)),)) == [
        calendar.Band("window", dt.time(9, 0), dt.time(16, 0))
    ]


def test_day_view_lays_entries_on_the_windows_and_shows_lunch(world):
    make_consultation(world.seeker, local(2026, 12, 2, 13, 0), actor=world.coordinator)
    booking_services.blocked_time_create(
        counselor=world.counselor,
        start=local(2026, 12, 2, 12, 0),
        end=local(2026, 12, 2, 13, 0),
        reason="昼当番",
        actor=world.counselor,
    )
    booking_services.blocked_time_create(
        counselor=world.counselor,
        start=local(2026, 12, 2, 17, 0),
        end=local(2026, 12, 2, 18, 0),
        reason="会議",
        actor=world.counselor,
    )

    page = signed_in_client(world.coordinator).get(
        reverse("staff:day"), {"date": "2026-12-02"}, headers=EN
    )

    [sato] = [c for c in page.context["columns"] if c["counselor"] == world.counselor]
    laid = [
        (s["kind"], [e["start"].strftime("%H:%M") for e in s["entries"]]) for s in sato["segments"]
    ]
    assert laid == [
        ("window", []),
        ("break", ["12:00"]),
        ("window", ["13:00"]),
        ("outside", ["17:00"]),
    ]
    html = page.content.decode()
    assert 'class="band band-break"' in html
    assert "Lunch break 12:00–13:00" in html
    assert "style=" not in html


def test_week_view_shows_bands_on_open_days_only(world):
    closure_add(office=world.office, date=dt.date(2026, 12, 4), reason="研修", actor=world.manager)

    page = signed_in_client(world.coordinator).get(
        reverse("staff:week"), {"date": "2026-12-02"}, headers=EN
    )

    [row] = [r for r in page.context["rows"] if r["counselor"] == world.counselor]
    kinds = [[s["kind"] for s in cell] for cell in row["cells"]]
    assert kinds == [["window", "break", "window"]] * 4 + [[]]
    assert page.content.decode().count("Lunch break 12:00–13:00") == 4 * 2  # two counselors
