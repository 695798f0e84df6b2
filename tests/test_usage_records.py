"""Usage records (R19): public page views with device identifiers, kept apart from case
data, readable by managers and auditors only, deleted after the office's retention."""

import datetime as dt

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import resolve, reverse

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Request
from madoguchi.bookings.selectors import request_status_url
from madoguchi.meetings.models import MeetingEvent
from madoguchi.records import services as records_services
from madoguchi.records.models import AuditEntry, PageView, RetentionSweep
from madoguchi.web.middleware import UsageRecordMiddleware
from madoguchi.worker.clock import tick
from tests.conftest import World
from tests.factories import ALL_DECLARATIONS, local, make_consultation
from tests.signin import signed_in_client

HINTS = {
    "User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131.0 Mobile",
    "Sec-CH-UA": '"Chromium";v="131", "Google Chrome";v="131"',
    "Sec-CH-UA-Platform": '"Android"',
    "Sec-CH-UA-Platform-Version": '"14.0.0"',
    "Sec-CH-UA-Model": '"Pixel 8"',
    "Sec-CH-UA-Mobile": "?1",
}


def _online_request(world: World):
    return booking_services.request_create(
        office=world.office,
        job_seeker_number=world.seeker.number,
        name=world.seeker.name,
        preferences=[(local(2026, 12, 2, 10), 60)],
        channel="web",
        declarations=ALL_DECLARATIONS,
        actor=None,
    )


def _verify_path(request) -> str:
    return booking_services.request_verify_url(request).removeprefix("http://127.0.0.1:8000")


def _views() -> list[tuple]:
    return list(PageView.objects.order_by("id").values_list("page", "office_id", "seeker_id", "ip"))


def test_public_page_view_is_recorded_by_url_name_never_the_path(world):
    path = _verify_path(_online_request(world))

    response = Client().get(path, headers=HINTS)

    assert response.status_code == 200
    view = PageView.objects.get()
    assert (view.page, view.office_id, view.seeker_id, view.ip) == (
        "request-verify",
        None,
        None,
        "127.0.0.1",
    )
    assert (view.platform, view.platform_version, view.model, view.mobile) == (
        "Android",
        "14.0.0",
        "Pixel 8",
        True,
    )
    assert view.user_agent == HINTS["User-Agent"]
    assert view.browser == HINTS["Sec-CH-UA"]
    assert view.at == local(2026, 12, 1, 10, 0)
    assert response.headers["Accept-CH"].startswith("Sec-CH-UA-Platform-Version")


def test_seeker_view_records_its_office_and_seeker_once(world):
    path = _verify_path(_online_request(world))

    Client().post(path)

    assert _views() == [("request-verify", world.office.pk, world.seeker.pk, "127.0.0.1")]


@pytest.mark.parametrize(
    "path",
    ["/staff/login/", "/api/v1/terms/current", "/healthz", "/admin/login/", "/i18n/setlang/"],
    ids=["staff", "api", "healthz", "admin", "i18n"],
)
def test_non_public_paths_are_not_recorded(world, path):
    Client().get(path)

    assert _views() == []


def test_unknown_path_is_not_recorded(world):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert _views() == []


def test_usage_record_view_without_hints_keeps_blanks(world, rf):
    request = rf.get("/x/", REMOTE_ADDR="not-an-address")
    request.resolver_match = None

    view = records_services.usage_record_view(request, office=world.office, seeker=world.seeker)

    assert (view.page, view.ip, view.platform, view.mobile, view.user_agent) == (
        "",
        None,
        "",
        None,
        "",
    )


# The staff page -----------------------------------------------------------------------


def _page_views(world: World, n: int) -> None:
    PageView.objects.bulk_create(
        PageView(
            at=local(2026, 11, 30, 9) + dt.timedelta(minutes=i),
            office=world.office,
            seeker=world.seeker if i % 2 else None,
            page="request-verify",
            ip="192.0.2.1",
        )
        for i in range(n)
    )
    PageView.objects.create(at=local(2026, 11, 30), office=world.other_office, page="other")


@pytest.mark.parametrize("role", ["manager", "auditor"])
def test_usage_page_lists_the_office_views_newest_first_and_is_audited(world, role):
    _page_views(world, 3)
    person = getattr(world, role)

    response = signed_in_client(person).get(reverse("staff:usage"))

    rows = [(v.at, v.seeker_id) for v in response.context["page"].object_list]
    assert rows == [
        (local(2026, 11, 30, 9, 2), None),
        (local(2026, 11, 30, 9, 1), world.seeker.pk),
        (local(2026, 11, 30, 9, 0), None),
    ]
    assert world.seeker.number in response.content.decode()
    opened = AuditEntry.objects.get(action="usage.viewed")
    assert (opened.actor_label, opened.office_id, opened.details) == (
        person.user.username,
        world.office.pk,
        {"page": 1},
    )


@pytest.mark.parametrize("role", ["counselor", "coordinator", "other_counselor"])
def test_usage_page_refuses_other_roles(world, role):
    response = signed_in_client(getattr(world, role)).get(reverse("staff:usage"))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="usage.viewed").exists()


def test_usage_page_paginates_with_a_pinned_query_count(world, django_assert_num_queries):
    _page_views(world, 45)
    client = signed_in_client(world.auditor)
    client.get(reverse("staff:usage"))

    # Session, user, OTP device, sign-out generation, staff, office; the count; the
    # page with its seekers; the opening's audit entry (sealed after the commit).
    with django_assert_num_queries(9):
        response = client.get(reverse("staff:usage"), {"page": 3})

    assert response.context["page"].number == 3
    assert len(response.context["page"].object_list) == 5


# Retention ----------------------------------------------------------------------------


def _event(consultation, at: dt.datetime, key: str) -> MeetingEvent:
    return MeetingEvent.objects.create(
        consultation=consultation,
        dedupe_key=key,
        event="meeting.participant_joined",
        meeting_id=consultation.meeting_id if consultation else "",
        at=at,
        received_at=at,
    )


def test_retention_deletes_old_usage_records_per_office_and_audits_counts(world, frozen_now):
    world.other_office.retention_days = 30
    world.other_office.save(update_fields=["retention_days"])
    consultation = make_consultation(world.seeker, local(2026, 12, 2, 10), actor=world.manager)
    old, young = local(2025, 11, 30, 9), local(2025, 12, 2, 9)  # 366 and 364 days back
    for at in (old, young):
        PageView.objects.create(at=at, office=world.office, page="p", seeker=world.seeker)
    PageView.objects.create(at=local(2026, 10, 1), office=world.other_office, page="p")
    PageView.objects.create(at=local(2026, 11, 20), office=world.other_office, page="p")
    _event(consultation, old, "old")
    _event(consultation, young, "young")

    found = tick()["retention"]

    assert found == 3
    assert sorted(PageView.objects.values_list("office_id", "at")) == sorted(
        [(world.office.pk, young), (world.other_office.pk, local(2026, 11, 20))]
    )
    assert list(MeetingEvent.objects.values_list("dedupe_key", flat=True)) == ["young"]
    entry = AuditEntry.objects.get(action="usage.retention_deleted", office=world.office)
    assert (entry.actor_label, entry.object_type, entry.details) == (
        "system",
        "office",
        {
            "page_views": 1,
            "meeting_events": 1,
            "device_checks": 0,
            "before": "2025-12-01T01:00:00+00:00",
        },
    )
    other = AuditEntry.objects.get(action="usage.retention_deleted", office=world.other_office)
    assert other.details["page_views"] == 1


def test_retention_runs_once_a_day(world, frozen_now):
    tick()
    PageView.objects.create(at=local(2025, 1, 1), office=world.office, page="p")

    again = tick()["retention"]

    assert again == 0
    assert PageView.objects.count() == 1
    assert AuditEntry.objects.filter(action="usage.retention_deleted").count() == 2
    frozen_now.move_to(local(2026, 12, 2, 0, 1))
    assert tick()["retention"] == 1
    assert PageView.objects.count() == 0
    assert RetentionSweep.objects.filter(office=world.office).count() == 2


def test_retention_deletes_in_batches(world, frozen_now, monkeypatch):
    monkeypatch.setattr(records_services, "RETENTION_BATCH", 7)
    PageView.objects.bulk_create(
        PageView(at=local(2025, 1, 1), office=world.office, page="p") for _ in range(30)
    )
    PageView.objects.create(at=local(2026, 11, 1), office=world.office, page="kept")

    tick()

    assert list(PageView.objects.values_list("page", flat=True)) == ["kept"]
    entry = AuditEntry.objects.get(action="usage.retention_deleted", office=world.office)
    assert entry.details["page_views"] == 30


def test_retention_deletes_records_without_an_office_after_the_longest_period(world, frozen_now):
    PageView.objects.create(at=local(2025, 11, 1), page="orphan-old")
    PageView.objects.create(at=local(2026, 1, 1), page="orphan-young")
    _event(None, local(2025, 11, 1), "orphan-event")

    tick()

    assert list(PageView.objects.values_list("page", flat=True)) == ["orphan-young"]
    assert not MeetingEvent.objects.exists()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (
            "山田 太郎 left the meeting.<br>Reason : Host ended the meeting.",
            "Host ended the meeting",
        ),
        ("left the meeting. Reason : left the meeting", "left the meeting"),
        ("Taro left the meeting", ""),
        ("", ""),
    ],
    ids=["named", "plain", "no-reason", "empty"],
)
def test_meeting_event_keeps_the_leave_reason_without_the_name(sent, kept):
    from madoguchi.meetings.services import leave_reason_kept

    assert leave_reason_kept(sent) == kept


def test_retention_on_a_swept_day_costs_two_queries(world, frozen_now, django_assert_num_queries):
    records_services.usage_retention_sweep(now=local(2026, 12, 1, 10))

    with django_assert_num_queries(2):  # the day's sweeps, the offices
        found = records_services.usage_retention_sweep(now=local(2026, 12, 1, 10, 5))

    assert found == 0


def test_seeker_pages_record_their_office_and_seeker(world):
    request = _online_request(world)
    status = request_status_url(request).removeprefix("http://127.0.0.1:8000")
    client = Client()

    client.get("/offices/01040/")
    client.get(status)

    assert _views() == [
        ("seeker-office", world.office.pk, None, "127.0.0.1"),
        ("seeker-request-status", world.office.pk, world.seeker.pk, "127.0.0.1"),
    ]


def test_rate_limited_flood_records_only_the_answered_views(world):
    client = Client(REMOTE_ADDR="10.0.0.7")
    statuses = [client.get("/offices/01040/request/").status_code for _ in range(65)]

    assert statuses == [200] * 60 + [429] * 5
    assert PageView.objects.filter(page="seeker-request", ip="10.0.0.7").count() == 60
    assert PageView.objects.count() == 60


def test_middleware_records_nothing_for_a_429_answer(world, rf):
    request = rf.get("/offices/01040/")
    request.resolver_match = resolve("/offices/01040/")
    refused = UsageRecordMiddleware(lambda _request: HttpResponse(status=429))
    answered = UsageRecordMiddleware(lambda _request: HttpResponse(status=200))

    refused(request)
    after_refused = _views()
    answered(request)

    assert after_refused == []
    assert _views() == [("seeker-office", None, None, "127.0.0.1")]


def test_retention_clears_device_checks_of_requests_older_than_the_retention(world, frozen_now):
    old = _online_request(world)
    young = booking_services.request_create(
        office=world.office,
        job_seeker_number=world.seeker2.number,
        name=world.seeker2.name,
        preferences=[(local(2026, 12, 2, 13), 60)],
        channel="web",
        declarations=ALL_DECLARATIONS,
        actor=None,
    )
    check = {"os": "iOS", "browser": "Safari", "verdict": "ok"}
    Request.objects.filter(pk=old.pk).update(device_check=check, created_at=local(2025, 11, 30))
    Request.objects.filter(pk=young.pk).update(device_check=check, created_at=local(2025, 12, 2))

    tick()

    assert dict(Request.objects.values_list("pk", "device_check")) == {
        old.pk: None,
        young.pk: check,
    }
    entry = AuditEntry.objects.get(action="usage.retention_deleted", office=world.office)
    assert entry.details["device_checks"] == 1
