"""The worker (R13, R14, reminders, the outbox) and the Zoom webhook, run for real.

Each test commits (transactional_db): the booking's after-commit hooks queue real
tasks in the database task backend, and `madoguchi worker --once` runs them in this
process, with the clock frozen and moved by time_machine.
"""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Consultation, MeetingState, Occupancy
from madoguchi.errors import BookingError
from madoguchi.meetings import webhooks
from madoguchi.meetings.models import MeetingEvent
from madoguchi.notifications.models import OutboxMail
from madoguchi.records.models import AuditEntry
from madoguchi.seekers.models import Seeker
from madoguchi.worker.models import Heartbeat
from tests.factories import ALL_DECLARATIONS, booking_mail, delivered, local, make_consultation

WED_10 = local(2026, 12, 2, 10, 0)
SECRET = "webhook-secret-for-tests"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.ZOOM_WEBHOOK_SECRET = SECRET


def run_worker() -> None:
    call_command("worker", "--once")


def book(world, start=WED_10, seeker: Seeker | None = None, minutes: int = 60) -> Consultation:
    return make_consultation(
        seeker or world.seeker, start, minutes=minutes, actor=world.coordinator
    )


def kinds() -> list[str]:
    """The mails queued, but for the request-received notes every booking starts with."""
    return sorted(
        OutboxMail.objects.exclude(kind="request_received").values_list("kind", flat=True)
    )


def deliver(body: dict, *, at: dt.datetime | None = None, secret: str = SECRET):
    """POST an event to /webhooks/zoom signed as Zoom signs it."""
    raw = json.dumps(body).encode()
    stamp = int((at or dt.datetime.now(dt.UTC)).timestamp())
    headers = webhooks.sign(secret=secret, body=raw, timestamp=stamp)
    return Client().post(
        "/webhooks/zoom",
        raw,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )


def join_event(consultation: Consultation, joined: dt.datetime, *, host: bool = False) -> dict:
    return {
        "event": "meeting.participant_joined",
        "event_ts": int(joined.timestamp() * 1000),
        "payload": {
            "account_id": "acc",
            "object": {
                "id": consultation.meeting_id,  # a string here, as Zoom sends it
                "uuid": "uuid-" + consultation.meeting_id,
                "host_id": "host-1",
                "type": 2,
                "participant": {
                    "user_id": "16778240",
                    "user_name": "Guest",
                    "id": "host-1" if host else "",
                    "participant_uuid": "p-" + ("host" if host else "guest"),
                    "join_time": joined.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "email": "",
                },
            },
        },
    }


# Mail through the outbox ---------------------------------------------------------------


def test_scheduling_queues_the_scheduled_mail_and_the_worker_sends_it_once(world):
    consultation = book(world)
    row = OutboxMail.objects.get(kind="scheduled")
    assert (row.kind, row.status, row.to) == ("scheduled", "queued", world.seeker.email)
    assert delivered() == []  # nothing leaves before the worker runs
    run_worker()
    assert len(delivered()) == 1
    sent = delivered()[0]
    assert sent.to == [world.seeker.email]
    assert consultation.meeting_passcode in sent.body
    assert sent.extra_headers["Message-ID"] == row.message_id
    (attachment,) = sent.attachments
    assert attachment[0] == f"consultation-{consultation.pk}.ics"
    assert attachment[2].startswith("text/calendar")
    assert "BEGIN:VEVENT" in str(attachment[1])
    assert sent.alternatives[0].mimetype == "text/html"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
    run_worker()
    assert len(delivered()) == 1  # never twice


def test_a_failed_booking_queues_no_mail(world):
    book(world)
    with pytest.raises(BookingError, match=r"slot_taken|seeker_busy"):
        book(world)
    assert kinds() == ["scheduled"]
    row = OutboxMail.objects.get(kind="scheduled")
    assert _mail_tasks_of(row) == 1  # the first booking's, and no other


def test_the_mail_task_is_queued_in_the_bookings_own_transaction(world):
    """With the database queue the task's row commits (or rolls back) with the booking:
    it is there before the commit, and a rollback takes it away."""
    tasks_before = DBTaskResult.objects.count()
    with transaction.atomic():
        book(world)
        row = OutboxMail.objects.get(kind="scheduled")
        assert _mail_tasks_of(row) == 1  # before the commit
        transaction.set_rollback(True)

    assert DBTaskResult.objects.count() == tasks_before
    assert not OutboxMail.objects.filter(kind="scheduled").exists()


def _mail_tasks_of(row: OutboxMail) -> int:
    return sum(
        1
        for task in DBTaskResult.objects.all()
        if (task.task_path, task.args_kwargs["args"])
        == ("madoguchi.worker.tasks.send_mail", [row.pk])
    )


def test_cancel_decline_and_reschedule_each_tell_the_seeker(world, frozen_now):
    consultation = book(world)
    run_worker()
    booking_services.consultation_reschedule(
        consultation_id=consultation.pk,
        start=local(2026, 12, 3, 10, 0),
        duration_minutes=45,
        actor=world.coordinator,
    )
    run_worker()
    booking_services.consultation_cancel(
        consultation_id=consultation.pk, channel="phone", reason="体調不良", actor=world.coordinator
    )
    request = booking_services.request_create(
        office=world.office,
        job_seeker_number=world.seeker2.number,
        name=world.seeker2.name,
        preferences=[(WED_10, 60)],
        channel="phone",
        declarations=ALL_DECLARATIONS,
        actor=world.coordinator,
    )
    booking_services.request_decline(request_id=request.pk, reason="定員", actor=world.coordinator)
    assert kinds() == ["cancelled", "declined", "rescheduled", "scheduled"]
    run_worker()
    assert len(delivered()) == 4
    assert set(booking_mail().values_list("status", flat=True)) == {"sent"}
    consultation.refresh_from_db()
    assert consultation.calendar_sequence == 2


def test_restricting_a_seeker_tells_them_once(world):
    from madoguchi.seekers.services import seeker_restrict

    seeker_restrict(seeker=world.seeker, reason="暴言", actor=world.manager)
    seeker_restrict(seeker=world.seeker, reason="暴言（再）", actor=world.manager)
    assert kinds() == ["restriction_notice"]
    run_worker()
    assert "暴言" not in delivered()[0].body  # the internal reason stays internal


# No-shows (R13, R14) ----------------------------------------------------------------


def test_no_show_waits_for_start_plus_grace(world, frozen_now):
    consultation = book(world)
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=9, seconds=59))
    run_worker()
    consultation.refresh_from_db()
    assert consultation.status == "scheduled"
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=10))
    run_worker()
    consultation.refresh_from_db()
    assert consultation.status == "no_show"
    assert consultation.meeting_state == MeetingState.DELETED
    assert not Occupancy.objects.filter(consultation=consultation).exists()
    assert AuditEntry.objects.filter(action="consultation.no_show", actor__isnull=True).exists()
    assert kinds() == ["no_show", "scheduled"]
    assert len(delivered()) == 2


def test_no_show_is_found_after_the_worker_was_down_for_days(world, frozen_now):
    consultation = book(world)
    frozen_now.move_to(WED_10 + dt.timedelta(days=3))
    run_worker()
    consultation.refresh_from_db()
    assert consultation.status == "no_show"


@pytest.mark.parametrize("how", ["contact", "joined", "started"])
def test_no_no_show_when_the_seeker_joined_called_or_the_session_started(world, frozen_now, how):
    consultation = book(world)
    if how == "contact":
        booking_services.consultation_record_contact(
            consultation_id=consultation.pk, actor=world.coordinator
        )
    elif how == "joined":
        frozen_now.move_to(WED_10 + dt.timedelta(minutes=2))
        assert (
            deliver(join_event(consultation, WED_10 + dt.timedelta(minutes=2))).status_code == 200
        )
    else:
        frozen_now.move_to(WED_10)
        booking_services.consultation_start(consultation_id=consultation.pk, actor=world.counselor)
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=30))
    run_worker()
    consultation.refresh_from_db()
    assert consultation.status != "no_show"


def test_second_no_show_flags_the_seeker_for_review_and_says_so(world, frozen_now):
    first = book(world)
    second = book(world, start=local(2026, 12, 3, 10, 0))
    frozen_now.move_to(local(2026, 12, 3, 11, 0))
    run_worker()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("no_show", "no_show")
    world.seeker.refresh_from_db()
    assert world.seeker.restriction == Seeker.Restriction.REVIEW
    notices = OutboxMail.objects.filter(kind="no_show").order_by("id")
    assert notices.count() == 2
    assert notices[0].text != notices[1].text  # the second says the office will review


def test_a_join_that_arrives_late_but_happened_in_time_overturns_the_no_show(world, frozen_now):
    consultation = book(world)
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=10))
    call_command("worker", "--once")
    consultation.refresh_from_db()
    assert consultation.status == "no_show"
    # Zoom retried the delivery 5 minutes later; the join itself was at 10:04.
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=15))
    response = deliver(join_event(consultation, WED_10 + dt.timedelta(minutes=4)))
    assert response.json() == {"status": "no_show_overturned"}
    consultation.refresh_from_db()
    assert consultation.status == "scheduled"
    assert consultation.seeker_joined_at == WED_10 + dt.timedelta(minutes=4)
    assert Occupancy.objects.filter(consultation=consultation).count() == 12
    assert AuditEntry.objects.filter(action="consultation.no_show_overturned").count() == 1


def test_a_join_after_the_no_show_moment_does_not_overturn(world, frozen_now):
    consultation = book(world)
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=10))
    run_worker()
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=12))
    response = deliver(join_event(consultation, WED_10 + dt.timedelta(minutes=11)))
    assert response.json() == {"status": "seeker_joined"}
    consultation.refresh_from_db()
    assert consultation.status == "no_show"


# Reminders ------------------------------------------------------------------------------


def test_day_before_and_hour_before_reminders_go_once_each(world, frozen_now):
    book(world)
    run_worker()
    frozen_now.move_to(local(2026, 12, 1, 16, 59))
    run_worker()
    assert kinds() == ["scheduled"]
    frozen_now.move_to(local(2026, 12, 1, 17, 0))
    run_worker()
    run_worker()
    assert kinds() == ["reminder_day_before", "scheduled"]
    frozen_now.move_to(local(2026, 12, 2, 9, 0))
    run_worker()
    run_worker()
    assert kinds() == ["reminder_day_before", "reminder_hour_before", "scheduled"]
    assert len(delivered()) == 3


def test_no_day_before_reminder_for_a_booking_made_after_its_moment(world, frozen_now):
    frozen_now.move_to(local(2026, 12, 1, 17, 30))
    book(world)
    frozen_now.move_to(local(2026, 12, 1, 18, 0))
    run_worker()
    assert kinds() == ["scheduled"]


# Webhooks --------------------------------------------------------------------------------


def test_webhook_answers_zoom_url_validation(world):
    response = deliver(
        {"event": "endpoint.url_validation", "event_ts": 1, "payload": {"plainToken": "abc"}}
    )
    assert response.status_code == 200
    expected = webhooks.url_validation_response(secret=SECRET, plain_token="abc")
    assert response.json() == expected


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "stale", "no_signature"],
)
def test_webhook_refuses_forged_and_stale_deliveries(world, frozen_now, tamper, caplog):
    consultation = book(world)
    event = join_event(consultation, WED_10)
    if tamper == "wrong_secret":
        response = deliver(event, secret="guess")
    elif tamper == "stale":
        response = deliver(event, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=91))
    else:
        response = Client().post("/webhooks/zoom", event, content_type="application/json")
    assert response.status_code == 401
    consultation.refresh_from_db()
    assert consultation.seeker_joined_at is None
    assert not MeetingEvent.objects.exists()
    assert "webhook refused" in caplog.text


def test_webhook_repeat_is_acknowledged_and_changes_nothing(world, frozen_now):
    consultation = book(world)
    event = join_event(consultation, WED_10)
    assert deliver(event).json() == {"status": "seeker_joined"}
    assert deliver(event).json() == {"status": "duplicate"}
    assert MeetingEvent.objects.count() == 1


def test_webhook_host_join_is_not_the_seeker(world, frozen_now):
    consultation = book(world)
    assert deliver(join_event(consultation, WED_10, host=True)).json() == {"status": "recorded"}
    consultation.refresh_from_db()
    assert consultation.seeker_joined_at is None
    assert MeetingEvent.objects.get().is_host


def test_webhook_started_and_ended_record_actual_times(world, frozen_now):
    consultation = book(world)
    obj = {"id": int(consultation.meeting_id), "uuid": "u", "host_id": "h", "type": 2}
    started = {
        "event": "meeting.started",
        "event_ts": 1,
        "payload": {"object": {**obj, "start_time": "2026-12-02T01:01:00Z"}},
    }
    ended = {
        "event": "meeting.ended",
        "event_ts": 2,
        "payload": {
            "object": {
                **obj,
                "start_time": "2026-12-02T01:01:00Z",
                "end_time": "2026-12-02T01:50:00Z",
            }
        },
    }
    assert deliver(started).status_code == 200
    assert deliver(ended).status_code == 200
    consultation.refresh_from_db()
    assert consultation.actual_start == WED_10 + dt.timedelta(minutes=1)
    assert consultation.actual_end == WED_10 + dt.timedelta(minutes=50)


def test_webhook_unknown_event_and_unknown_meeting_are_acknowledged(world):
    assert deliver(
        {"event": "recording.completed", "event_ts": 1, "payload": {"object": {"id": 1}}}
    ).json() == {"status": "ignored"}
    event = {
        "event": "meeting.started",
        "event_ts": 1,
        "payload": {"object": {"id": 99999999999, "uuid": "x", "host_id": "h"}},
    }
    assert deliver(event).json() == {"status": "unknown_meeting"}


def test_webhook_without_a_configured_secret_refuses(world, settings):
    settings.ZOOM_WEBHOOK_SECRET = ""
    response = deliver({"event": "meeting.started", "event_ts": 1, "payload": {}}, secret="x")
    assert response.status_code == 503


def test_fake_meeting_page_joins_through_the_signed_webhook(world, frozen_now):
    consultation = book(world)
    frozen_now.move_to(WED_10 - dt.timedelta(minutes=5))
    client = Client()
    page = client.get(f"/meetings/fake/{consultation.meeting_id}/")
    assert page.status_code == 200
    assert client.post(f"/meetings/fake/{consultation.meeting_id}/").status_code == 200
    consultation.refresh_from_db()
    assert consultation.seeker_joined_at == WED_10 - dt.timedelta(minutes=5)
    assert MeetingEvent.objects.get().event == "meeting.participant_joined"


# Readiness and the heartbeat ----------------------------------------------------------


def test_readyz_needs_a_worker_seen_lately(world, frozen_now):
    assert Client().get("/readyz").status_code == 503
    run_worker()
    assert Heartbeat.objects.count() == 1
    assert Client().get("/readyz").json()["worker"] == "ok"
    frozen_now.shift(dt.timedelta(minutes=3))
    assert Client().get("/readyz").status_code == 503


# Online requests: verification ----------------------------------------------------------


def web_request(world):
    return booking_services.request_create(
        office=world.office,
        job_seeker_number=world.seeker.number,
        name=world.seeker.name,
        preferences=[(WED_10, 60)],
        channel="web",
        declarations=ALL_DECLARATIONS,
        actor=None,
    )


def verify_link() -> str:
    run_worker()
    row = OutboxMail.objects.get(kind="verify_request", status="sent")
    (link,) = [w for w in row.text.split() if "/requests/verify/" in w]
    return link.removeprefix("http://127.0.0.1:8000")


def test_an_online_request_waits_for_the_seeker_to_confirm_it(world, frozen_now):
    request = web_request(world)
    assert request.status == "pending_verification"
    assert kinds() == ["verify_request"]
    link = verify_link()
    client = Client()
    page = client.get(link)
    assert page.status_code == 200
    request.refresh_from_db()
    assert request.status == "pending_verification"  # opening the link is not confirming
    assert client.post(link).status_code == 200
    assert client.post(link).status_code == 200  # a second press changes nothing
    request.refresh_from_db()
    assert request.status == "requested"
    assert OutboxMail.objects.filter(kind="request_received").count() == 1


def test_a_verification_link_expires_after_a_day_and_the_request_with_it(world, frozen_now):
    request = web_request(world)
    link = verify_link()
    frozen_now.shift(dt.timedelta(hours=24, seconds=1))
    response = Client().post(link)
    assert response.status_code == 409
    assert "24" in response.content.decode()
    run_worker()
    request.refresh_from_db()
    assert request.status == "expired"


def test_a_forged_verification_link_is_refused(world):
    request = web_request(world)
    forged = verify_link()[:-3] + "xx/"
    assert Client().post(forged).status_code == 404
    request.refresh_from_db()
    assert request.status == "pending_verification"


def test_an_overturned_no_show_withdraws_its_mail_if_it_has_not_gone(world, frozen_now):
    consultation = book(world)
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=10))
    booking_services.consultation_mark_no_show(consultation_id=consultation.pk, actor=None)
    assert booking_mail().get(kind="no_show").status == "queued"
    deliver(join_event(consultation, WED_10 + dt.timedelta(minutes=3)))
    run_worker()
    assert booking_mail().get(kind="no_show").status == "withdrawn"
    assert sorted(m.subject for m in delivered()) == sorted(
        booking_mail().filter(status="sent").values_list("subject", flat=True)
    )
    assert booking_mail().filter(kind="no_show", status="sent").count() == 0


def test_mail_that_no_longer_fits_when_its_turn_comes_is_withdrawn_not_sent(world, frozen_now):
    consultation = book(world)  # "scheduled" queued, not yet sent
    booking_services.consultation_cancel(
        consultation_id=consultation.pk, channel="phone", reason="都合", actor=world.coordinator
    )
    run_worker()
    assert dict(booking_mail().values_list("kind", "status")) == {
        "scheduled": "withdrawn",
        "cancelled": "sent",
    }
    assert [m.extra_headers["Message-ID"] for m in delivered()] == [
        booking_mail().get(kind="cancelled").message_id
    ]


# Review findings: what must not happen ---------------------------------------------------


def test_no_no_show_for_a_seeker_who_never_had_the_meeting_details(world, frozen_now):
    consultation = book(world)
    Consultation.objects.filter(pk=consultation.pk).update(
        meeting_state=MeetingState.NO_HOST, meeting_ready_at=None
    )
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=30))
    run_worker()
    consultation.refresh_from_db()
    assert consultation.status == "scheduled"
    assert "no_show" not in kinds()


def test_a_retry_zoom_signed_twenty_minutes_ago_is_taken(world, frozen_now):
    consultation = book(world)
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=25))
    event = join_event(consultation, WED_10 + dt.timedelta(minutes=4))
    response = deliver(event, at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20))
    assert response.status_code == 200


def test_a_join_long_before_the_consultation_is_a_device_test_not_a_show(world, frozen_now):
    consultation = book(world)
    frozen_now.move_to(WED_10 - dt.timedelta(hours=20))
    assert deliver(join_event(consultation, WED_10 - dt.timedelta(hours=20))).json() == {
        "status": "join_outside_time"
    }
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=10))
    run_worker()
    consultation.refresh_from_db()
    assert consultation.status == "no_show"


def test_an_event_for_a_reused_meeting_id_goes_to_the_consultation_at_that_time(world, frozen_now):
    first = book(world)
    second = book(world, start=local(2026, 12, 3, 10, 0))
    Consultation.objects.filter(pk=second.pk).update(meeting_id=first.meeting_id)
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=2))
    deliver(join_event(first, WED_10 + dt.timedelta(minutes=2)))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.seeker_joined_at is not None
    assert second.seeker_joined_at is None
