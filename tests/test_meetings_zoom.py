"""Consultations with real Zoom meetings: the provider `zoom`, the worker and the local
Zoom stand-in (tests/zoomserver.py) over real HTTP.

Zoom is only ever called by the worker: scheduling answers at once with the meeting
"being created", and the seeker is told once the meeting exists.
"""

import datetime as dt
from urllib.parse import quote

import pytest
from django.core.management import call_command

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Consultation, MeetingState
from madoguchi.meetings import services as meeting_services
from madoguchi.records.models import AuditEntry
from tests.factories import ALL_DECLARATIONS, booking_mail, delivered, local
from tests.zoom_fixtures import USER, make_client

pytestmark = pytest.mark.django_db(transaction=True)

WED_10 = local(2026, 12, 2, 10, 0)
THU_14 = local(2026, 12, 3, 14, 0)


@pytest.fixture
def zoom(settings, zoom_server, world):
    """Madoguchi pointed at the stand-in; the counselor hosts as USER."""
    settings.MADOGUCHI_MEETING_PROVIDER = "zoom"
    settings.ZOOM_ACCOUNT_ID = zoom_server.ACCOUNT_ID
    settings.ZOOM_CLIENT_ID = zoom_server.CLIENT_ID
    settings.ZOOM_CLIENT_SECRET = zoom_server.CLIENT_SECRET
    settings.ZOOM_API_BASE_URL = zoom_server.api_base_url
    settings.ZOOM_OAUTH_URL = zoom_server.oauth_url
    settings.ZOOM_DEFAULT_USER = ""
    world.counselor.zoom_user = USER
    world.counselor.save()
    sleeps: list[float] = []
    meeting_services._clients[meeting_services.zoom_client_key()] = make_client(
        zoom_server, sleep=sleeps.append
    )
    yield zoom_server
    meeting_services._clients.clear()


def schedule(world, api_as, start=WED_10, minutes=45):
    request = booking_services.request_create(
        office=world.office,
        job_seeker_number=world.seeker.number,
        name=world.seeker.name,
        preferences=[(start, minutes)],
        channel="phone",
        declarations=ALL_DECLARATIONS,
        actor=world.coordinator,
    )
    response = api_as(world.coordinator).post(
        f"/api/v1/requests/{request.pk}/schedule",
        {"start": start.isoformat(), "duration_minutes": minutes},
    )
    assert response.status_code == 201, response.content
    return response.json()


def worker() -> None:
    call_command("worker", "--once")


def creates(server) -> list:
    return [r for r in server.api_requests() if r.method == "POST" and r.path.endswith("/meetings")]


def test_scheduling_answers_before_zoom_and_the_worker_makes_a_private_meeting(
    world, api_as, zoom, frozen_now
):
    answer = schedule(world, api_as)
    assert answer["meeting"]["state"] == "create"
    assert answer["meeting"]["id"] == ""
    assert zoom.api_requests() == []  # no Zoom call inside the staff's request
    assert not booking_mail().exists()  # the seeker is told once the meeting exists

    worker()
    (create,) = creates(zoom)
    body = create.json
    assert create.path == f"/v2/users/{quote(USER)}/meetings"
    assert body["type"] == 2
    assert body["start_time"] == "2026-12-02T01:00:00Z"
    assert (body["duration"], body["timezone"]) == (45, "Asia/Tokyo")
    assert body["settings"]["waiting_room"] is True
    assert body["settings"]["join_before_host"] is False
    assert body["settings"]["auto_recording"] == "none"
    assert body["settings"]["auto_start_meeting_summary"] is False
    assert world.seeker.name not in body["topic"] and world.seeker.number not in str(body)
    consultation = Consultation.objects.get(pk=answer["id"])
    (meeting,) = zoom.meetings.values()
    assert consultation.meeting_state == MeetingState.READY
    assert consultation.meeting_id == str(meeting["id"])
    assert consultation.meeting_passcode == body["password"]
    assert consultation.meeting_join_url == meeting["join_url"]
    assert AuditEntry.objects.filter(action="meeting.created").count() == 1
    sent = [m for m in delivered() if consultation.meeting_join_url in m.body]
    assert len(sent) == 1
    worker()
    assert len(creates(zoom)) == 1 and len(delivered()) == 1


def test_reschedule_moves_and_cancel_deletes_the_zoom_meeting(world, api_as, zoom, frozen_now):
    answer = schedule(world, api_as)
    worker()
    consultation = Consultation.objects.get(pk=answer["id"])
    moved = api_as(world.coordinator).post(
        f"/api/v1/consultations/{consultation.pk}/reschedule",
        {"start": THU_14.isoformat(), "duration_minutes": 60},
    )
    assert moved.json()["meeting"]["state"] == "update"
    worker()
    meeting = zoom.meetings[int(consultation.meeting_id)]
    assert meeting["start_time"] == "2026-12-03T05:00:00Z"
    assert meeting["duration"] == 60
    consultation.refresh_from_db()
    assert consultation.meeting_state == MeetingState.READY

    cancelled = api_as(world.coordinator).post(
        f"/api/v1/consultations/{consultation.pk}/cancel", {"channel": "phone", "reason": "都合"}
    )
    assert cancelled.json()["meeting"]["state"] == "delete"
    worker()
    assert zoom.meetings == {}
    consultation.refresh_from_db()
    assert (consultation.meeting_state, consultation.meeting_passcode) == ("deleted", "")
    assert sorted(booking_mail().values_list("kind", flat=True)) == [
        "cancelled",
        "rescheduled",
        "scheduled",
    ]


def test_no_show_deletes_the_zoom_meeting(world, api_as, zoom, frozen_now):
    answer = schedule(world, api_as)
    worker()
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=10))
    worker()
    consultation = Consultation.objects.get(pk=answer["id"])
    # Kept until Zoom can no longer deliver a late join that would undo the no-show.
    assert (consultation.status, consultation.meeting_state) == ("no_show", "delete")
    assert len(zoom.meetings) == 1
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=80))
    worker()
    consultation.refresh_from_db()
    assert consultation.meeting_state == "deleted"
    assert zoom.meetings == {}


def test_zoom_down_keeps_the_meeting_pending_and_retries_until_it_is_made(
    world, api_as, zoom, frozen_now
):
    zoom.fail_next(503, times=4)  # every attempt of the first round
    answer = schedule(world, api_as)
    worker()
    consultation = Consultation.objects.get(pk=answer["id"])
    assert consultation.meeting_state == MeetingState.CREATE
    assert consultation.meeting_error
    assert consultation.meeting_next_attempt_at > dt.datetime.now(dt.UTC)
    shown = api_as(world.coordinator).get(f"/api/v1/consultations/{consultation.pk}").json()
    assert (shown["meeting"]["state"], bool(shown["meeting"]["error"])) == ("create", True)
    assert not booking_mail().exists()

    frozen_now.move_to(consultation.meeting_next_attempt_at)
    worker()
    consultation.refresh_from_db()
    assert consultation.meeting_state == MeetingState.READY
    assert len(zoom.meetings) == 1
    assert booking_mail().get().kind == "scheduled"


def test_a_daily_limit_waits_until_zoom_says(world, api_as, zoom, frozen_now):
    zoom.fail_next(429, daily=True, retry_after=3600)
    answer = schedule(world, api_as)
    worker()
    consultation = Consultation.objects.get(pk=answer["id"])
    assert consultation.meeting_state == MeetingState.CREATE
    wait = consultation.meeting_next_attempt_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=59) <= wait <= dt.timedelta(minutes=61)


def test_an_unknown_zoom_user_fails_clearly_and_tells_nobody(world, api_as, zoom, frozen_now):
    world.counselor.zoom_user = "nobody@office.example"
    world.counselor.save()
    answer = schedule(world, api_as)
    worker()
    consultation = Consultation.objects.get(pk=answer["id"])
    assert consultation.meeting_state == MeetingState.FAILED
    assert "1001" in consultation.meeting_error or "exist" in consultation.meeting_error
    assert AuditEntry.objects.filter(action="meeting.failed").exists()
    assert not booking_mail().exists()


def test_no_zoom_user_anywhere_is_shown_as_no_host(world, api_as, zoom, frozen_now):
    world.counselor.zoom_user = ""
    world.counselor.save()
    answer = schedule(world, api_as)
    assert answer["meeting"]["state"] == "no_host"
    worker()
    assert zoom.api_requests() == []


def test_the_office_user_then_the_default_user_host_when_the_counselor_has_none(
    world, api_as, zoom, settings, frozen_now
):
    world.counselor.zoom_user = ""
    world.counselor.save()
    settings.ZOOM_DEFAULT_USER = USER
    schedule(world, api_as)
    worker()
    assert creates(zoom)[0].path == f"/v2/users/{quote(USER)}/meetings"


def test_cancel_before_the_worker_ran_makes_no_zoom_call(world, api_as, zoom, frozen_now):
    answer = schedule(world, api_as)
    api_as(world.coordinator).post(
        f"/api/v1/consultations/{answer['id']}/cancel", {"channel": "phone", "reason": "都合"}
    )
    worker()
    assert zoom.api_requests() == []
    assert Consultation.objects.get(pk=answer["id"]).meeting_state == MeetingState.DELETED


def test_a_meeting_made_before_a_crash_is_adopted_not_made_twice(world, api_as, zoom, frozen_now):
    answer = schedule(world, api_as)
    consultation = Consultation.objects.get(pk=answer["id"])
    # The worker created the meeting in Zoom, then died before saving it.
    made = meeting_services.zoom_client().create_meeting(
        USER,
        topic="オンライン職業相談",
        start=consultation.start,
        duration_minutes=45,
        timezone="Asia/Tokyo",
        passcode="a1B2c3D4",
        agenda=f"ref {consultation.meeting_ref}",
    )
    Consultation.objects.filter(pk=consultation.pk).update(
        meeting_attempts=1, meeting_next_attempt_at=dt.datetime.now(dt.UTC)
    )
    worker()
    consultation.refresh_from_db()
    assert len(zoom.meetings) == 1
    assert consultation.meeting_id == str(made.id)
    assert consultation.meeting_passcode == "a1B2c3D4"  # read back: Zoom's list omits it
    assert consultation.meeting_state == MeetingState.READY


def test_start_link_is_fetched_fresh_and_never_cached(world, api_as, zoom, frozen_now):
    answer = schedule(world, api_as)
    worker()
    response = api_as(world.counselor).post(f"/api/v1/consultations/{answer['id']}/start-link")
    assert response.status_code == 200
    assert "zak=" in response.json()["start_url"]
    assert response["Cache-Control"] == "no-store"
    assert [r.method for r in zoom.api_requests()][-1] == "GET"
    assert AuditEntry.objects.filter(action="meeting.start_link_fetched").count() == 1


def test_start_link_when_zoom_is_down_is_a_clear_503(world, api_as, zoom, frozen_now):
    answer = schedule(world, api_as)
    worker()
    zoom.fail_next(503, times=4)
    response = api_as(world.counselor).post(f"/api/v1/consultations/{answer['id']}/start-link")
    assert response.status_code == 503
    assert response.json()["code"] == "meeting_unavailable"


def test_zoom_check_reports_recording_per_counselor(world, zoom, capsys):
    from django.core.management.base import CommandError

    from tests.zoom_fixtures import OTHER_USER

    world.counselor2.zoom_user = OTHER_USER  # Zoom's defaults: recording allowed
    world.counselor2.save()
    with pytest.raises(CommandError, match="1 counselor"):
        call_command("zoom-check", "--office", world.office.code)
    out = capsys.readouterr().out
    assert f"{world.counselor.user.username}" in out and "ok: recording off" in out
    assert "RECORDING ON" in out
    world.counselor2.zoom_user = USER
    world.counselor2.save()
    call_command("zoom-check", "--office", world.office.code)
    assert "RECORDING ON" not in capsys.readouterr().out


def test_moving_twice_while_zoom_is_behind_tells_the_seeker_both_times(
    world, api_as, zoom, frozen_now
):
    answer = schedule(world, api_as)
    worker()
    zoom.fail_next(503, times=4)
    for start in (THU_14, local(2026, 12, 4, 14, 0)):
        moved = api_as(world.coordinator).post(
            f"/api/v1/consultations/{answer['id']}/reschedule",
            {"start": start.isoformat(), "duration_minutes": 45},
        )
        assert moved.status_code == 200
        worker()
    rescheduled = booking_mail().filter(kind="rescheduled")
    assert list(rescheduled.values_list("status", flat=True)) == ["sent", "sent"]


def test_a_new_counselor_on_a_move_gets_a_new_meeting_under_their_own_user(
    world, api_as, zoom, frozen_now
):
    from tests.zoom_fixtures import OTHER_USER

    world.counselor2.zoom_user = OTHER_USER
    world.counselor2.save()
    answer = schedule(world, api_as)
    worker()
    old_id = int(Consultation.objects.get(pk=answer["id"]).meeting_id)
    api_as(world.coordinator).post(
        f"/api/v1/consultations/{answer['id']}/reschedule",
        {"start": THU_14.isoformat(), "duration_minutes": 45, "counselor": "suzuki"},
    )
    worker()
    consultation = Consultation.objects.get(pk=answer["id"])
    assert old_id not in zoom.meetings
    (meeting,) = zoom.meetings.values()
    assert meeting["host_email"] == OTHER_USER
    assert consultation.meeting_id == str(meeting["id"])
    assert consultation.meeting_state == MeetingState.READY
    sent = booking_mail().filter(kind="scheduled", status="sent")
    assert sent.count() == 2  # the new meeting's details went out


def test_start_link_is_the_hosting_counselors_alone(world, api_as, zoom, frozen_now):
    answer = schedule(world, api_as)
    worker()
    for other in (world.coordinator, world.manager, world.counselor2, world.auditor):
        response = api_as(other).post(f"/api/v1/consultations/{answer['id']}/start-link")
        assert response.status_code in (403, 404), other


def test_typed_meeting_details_cannot_replace_a_zoom_meeting(world, api_as, zoom, frozen_now):
    answer = schedule(world, api_as)
    worker()
    response = api_as(world.coordinator).post(
        f"/api/v1/consultations/{answer['id']}/meeting",
        {"meeting_id": "123 4567 8901", "passcode": "x", "join_url": "https://zoom.us/j/1"},
    )
    assert response.status_code == 409
    assert Consultation.objects.get(pk=answer["id"]).meeting_provider == "zoom"


def test_when_zoom_cannot_make_it_staff_may_type_in_a_meeting_they_made(
    world, api_as, zoom, frozen_now
):
    world.counselor.zoom_user = "nobody@office.example"
    world.counselor.save()
    answer = schedule(world, api_as)
    worker()
    response = api_as(world.coordinator).post(
        f"/api/v1/consultations/{answer['id']}/meeting",
        {"meeting_id": "123 4567 8901", "passcode": "abc123", "join_url": "https://zoom.us/j/1"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["meeting"] | {"join_url": ""} == {
        "provider": "manual",
        "id": "12345678901",
        "passcode": "abc123",
        "join_url": "",
        "state": "ready",
        "error": "",
    }
    worker()
    assert booking_mail().get(kind="scheduled").status == "sent"
