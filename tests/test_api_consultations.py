"""The consultation API: the calendar and every change of state (R10, R12–R15, SPEC §4).

Consultations are arranged through the booking services (as the office would make
them) and then acted on over HTTP. The clock starts frozen on Tuesday 2026-12-01
10:00 JST; tests that need the consultation's own time move it with `frozen_now`.
"""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Consultation, Occupancy, Request
from madoguchi.offices.models import Staff
from madoguchi.records.models import AuditEntry
from madoguchi.seekers.models import Seeker
from tests.factories import ALL_DECLARATIONS, local, make_seeker

URL = "/api/v1/consultations"
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}
WED_10 = local(2026, 12, 2, 10, 0)
THU_10 = local(2026, 12, 3, 10, 0)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


# Helpers ------------------------------------------------------------------------------


def make_request(world, seeker: Seeker | None = None) -> Request:
    seeker = seeker or world.seeker
    return booking_services.request_create(
        office=seeker.office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(WED_10, 60)],
        channel="phone",
        declarations=ALL_DECLARATIONS,
        actor=world.coordinator,
    )


def book(
    world,
    seeker: Seeker | None = None,
    start: dt.datetime = WED_10,
    minutes: int = 60,
    counselor: Staff | None = None,
) -> Consultation:
    """A scheduled consultation, requested and scheduled through the services."""
    seeker = seeker or world.seeker
    actor = world.coordinator if seeker.office == world.office else world.other_counselor
    request = make_request(world, seeker)
    return booking_services.consultation_schedule(
        request_id=request.pk,
        start=start,
        duration_minutes=minutes,
        counselor=counselor.username if counselor else None,
        actor=actor,
    )


def schedule(api, request_id: int, start: dt.datetime, minutes: int = 60, **extra):
    body = {"start": start.isoformat(), "duration_minutes": minutes, **extra}
    return api.post(f"/api/v1/requests/{request_id}/schedule", body)


def db_state() -> dict[str, int]:
    return {
        "requests": Request.objects.count(),
        "consultations": Consultation.objects.count(),
        "occupancy": Occupancy.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert (body["status"], body["code"]) == (status, code)
    return body


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def cells(consultation: Consultation) -> list[dt.datetime]:
    return list(
        Occupancy.objects.filter(consultation=consultation)
        .order_by("cell")
        .values_list("cell", flat=True)
    )


def english(api):
    api.headers["Accept-Language"] = "en"
    return api


# The calendar -------------------------------------------------------------------------


@pytest.fixture
def calendar(world):
    """Three consultations of the office and one of another office."""
    first = book(world, world.seeker, WED_10)
    second = book(world, world.seeker2, THU_10)
    third = book(world, world.seeker, local(2026, 12, 4, 13, 0))
    booking_services.consultation_cancel(
        consultation_id=third.pk, channel="phone", reason="体調不良", actor=world.coordinator
    )
    book(world, world.other_seeker, WED_10)
    return {"first": first.pk, "second": second.pk, "third": third.pk}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({}, ["first", "second", "third"], id="all"),
        pytest.param({"date_from": "2026-12-03"}, ["second", "third"], id="from"),
        pytest.param({"date_to": "2026-12-02"}, ["first"], id="to"),
        pytest.param({"date_from": "2026-12-03", "date_to": "2026-12-03"}, ["second"], id="day"),
        pytest.param({"date_from": "2026-12-07"}, [], id="none-after"),
        pytest.param({"counselor": "suzuki"}, ["second"], id="counselor"),
        pytest.param({"counselor": "sato"}, ["first", "third"], id="counselor-sato"),
        pytest.param({"status": "cancelled"}, ["third"], id="status"),
        pytest.param({"status": "scheduled", "counselor": "sato"}, ["first"], id="combined"),
    ],
)
def test_consultation_list_filters(world, api_as, calendar, params, expected):
    api = api_as(world.coordinator)

    response = api.get(URL, **params)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(expected)
    assert [c["id"] for c in body["results"]] == [calendar[name] for name in expected]


def test_consultation_list_pages(world, api_as, calendar):
    api = api_as(world.coordinator)

    response = api.get(URL, limit=1, offset=1)

    body = response.json()
    assert (body["count"], [c["id"] for c in body["results"]]) == (3, [calendar["second"]])


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        pytest.param({"status": "bogus"}, 422, "invalid_input", id="status"),
        pytest.param({"counselor": "nobody"}, 404, "not_found", id="counselor"),
        pytest.param({"counselor": "takahashi"}, 404, "not_found", id="other-office-counselor"),
        pytest.param({"date_from": "2026-13-01"}, 422, "invalid_input", id="date"),
    ],
)
def test_consultation_list_refuses_bad_filter(world, api_as, calendar, params, status, code):
    api = api_as(world.coordinator)

    response = api.get(URL, **params)

    problem(response, status, code)


def test_consultation_list_query_count_does_not_grow_with_rows(world, api_as):
    api = api_as(world.coordinator)
    book(world, world.seeker, WED_10)
    api.get(URL)  # the token's first use writes last_used_at once
    with CaptureQueriesContext(connection) as one:
        api.get(URL)
    book(world, world.seeker2, THU_10)
    book(world, world.seeker, local(2026, 12, 4, 9, 0))
    book(world, make_seeker(world.office, world.counselor2), local(2026, 12, 4, 10, 0))

    with CaptureQueriesContext(connection) as four:
        response = api.get(URL)

    assert response.json()["count"] == 4
    assert len(four) == len(one) == 3


def test_consultation_get_answers_the_consultation(world, api_as):
    consultation = book(world)
    api = api_as(world.coordinator)

    response = api.get(f"{URL}/{consultation.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["counselor"], body["job_seeker_number"]) == (
        consultation.pk,
        "scheduled",
        "sato",
        "01040-12345678",
    )
    assert (when(body["start"]), when(body["end"])) == (WED_10, local(2026, 12, 2, 11, 0))
    assert body["meeting"] == {
        "provider": "fake",
        "id": consultation.meeting_id,
        "passcode": consultation.meeting_passcode,
        "join_url": consultation.meeting_join_url,
        "state": "ready",
        "error": "",
    }


def test_consultation_get_unknown_answers_404(world, api_as):
    api = api_as(world.coordinator)

    problem(api.get(f"{URL}/999999"), 404, "not_found")


# Cancel (R12) -------------------------------------------------------------------------


def test_consultation_cancel_by_phone_records_channel_and_reason(world, api_as):
    consultation = book(world)
    api = api_as(world.coordinator)

    response = api.post(
        f"{URL}/{consultation.pk}/cancel", {"channel": "phone", "reason": "体調不良"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["cancel_channel"], body["cancel_reason"]) == (
        "cancelled",
        "phone",
        "体調不良",
    )
    consultation.refresh_from_db()
    assert (consultation.status, consultation.cancel_channel, consultation.cancel_reason) == (
        "cancelled",
        "phone",
        "体調不良",
    )
    assert cells(consultation) == []
    entry = AuditEntry.objects.get(action="consultation.cancelled")
    assert (entry.actor, entry.object_id, entry.details) == (
        world.coordinator.user,
        str(consultation.pk),
        {"from": "scheduled", "channel": "phone", "reason": "体調不良"},
    )


def test_consultation_cancel_frees_the_slot(world, api_as):
    consultation = book(world)
    other = make_request(world, world.seeker2)
    api = api_as(world.coordinator)
    assert schedule(api, other.pk, WED_10, counselor="sato").status_code == 409

    api.post(f"{URL}/{consultation.pk}/cancel", {"channel": "phone", "reason": "体調不良"})
    response = schedule(api, other.pk, WED_10, counselor="sato")

    assert response.status_code == 201, response.content
    assert (response.json()["counselor"], when(response.json()["start"])) == ("sato", WED_10)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"channel": "phone", "reason": ""}, "reason", id="empty-reason"),
        pytest.param({"channel": "phone", "reason": "   "}, "reason", id="blank-reason"),
        pytest.param({"channel": "fax", "reason": "体調不良"}, "body.channel", id="bad-channel"),
        pytest.param({"channel": "phone"}, "body.reason", id="no-reason"),
    ],
)
def test_consultation_cancel_refuses_bad_input(world, api_as, body, field):
    consultation = book(world)
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(f"{URL}/{consultation.pk}/cancel", body)

    found = problem(response, 422, "invalid_input")
    fields = [found["field"]] if "field" in found else [e["field"] for e in found["errors"]]
    assert fields == [field]
    assert db_state() == before
    assert Consultation.objects.get(pk=consultation.pk).status == "scheduled"


# Reschedule ---------------------------------------------------------------------------


def test_consultation_reschedule_moves_and_frees_old_slot(world, api_as):
    consultation = book(world)
    other = make_request(world, world.seeker2)
    api = api_as(world.coordinator)

    response = api.post(
        f"{URL}/{consultation.pk}/reschedule",
        {"start": THU_10.isoformat(), "duration_minutes": 45},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], when(body["start"]), when(body["end"]), body["counselor"]) == (
        "scheduled",
        THU_10,
        local(2026, 12, 3, 10, 45),
        "sato",
    )
    assert cells(consultation)[0] == THU_10
    assert len(cells(consultation)) == 9
    entry = AuditEntry.objects.get(action="consultation.rescheduled")
    assert (when(entry.details["before"]["start"]), entry.details["before"]["counselor"]) == (
        WED_10,
        "sato",
    )
    freed = schedule(api, other.pk, WED_10, counselor="sato")
    assert freed.status_code == 201, freed.content


def test_consultation_reschedule_over_its_own_time(world, api_as):
    consultation = book(world)
    api = api_as(world.coordinator)

    response = api.post(
        f"{URL}/{consultation.pk}/reschedule",
        {"start": local(2026, 12, 2, 10, 30).isoformat(), "duration_minutes": 60},
    )

    assert response.status_code == 200, response.content
    assert cells(consultation)[0] == local(2026, 12, 2, 10, 30)


def test_consultation_reschedule_to_other_counselor(world, api_as):
    consultation = book(world)
    api = api_as(world.coordinator)

    response = api.post(
        f"{URL}/{consultation.pk}/reschedule",
        {"start": WED_10.isoformat(), "duration_minutes": 60, "counselor": "suzuki"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["counselor"] == "suzuki"
    assert set(Occupancy.objects.values_list("counselor__user__username", flat=True)) == {"suzuki"}


def test_consultation_reschedule_to_taken_slot_leaves_original(world, api_as):
    consultation = book(world)
    book(world, world.seeker2, THU_10, counselor=world.counselor)
    api = api_as(world.coordinator)
    held = cells(consultation)
    before = db_state()

    response = api.post(
        f"{URL}/{consultation.pk}/reschedule",
        {"start": local(2026, 12, 3, 10, 30).isoformat(), "duration_minutes": 30},
    )

    problem(response, 409, "slot_taken")
    consultation.refresh_from_db()
    assert (consultation.start, consultation.end, consultation.status) == (
        WED_10,
        local(2026, 12, 2, 11, 0),
        "scheduled",
    )
    assert cells(consultation) == held
    assert db_state() == before


def test_consultation_reschedule_onto_seekers_other_consultation_answers_seeker_busy(world, api_as):
    consultation = book(world)
    book(world, world.seeker, THU_10, counselor=world.counselor2)
    api = api_as(world.coordinator)
    held = cells(consultation)
    before = db_state()

    response = api.post(
        f"{URL}/{consultation.pk}/reschedule",
        {"start": local(2026, 12, 3, 10, 15).isoformat(), "duration_minutes": 30},
    )

    problem(response, 409, "seeker_busy")
    assert db_state() == before
    assert cells(consultation) == held


@pytest.mark.parametrize(
    ("start", "minutes", "code"),
    [
        pytest.param(local(2026, 12, 1, 14, 0), 60, "lead_time", id="today"),
        pytest.param(local(2026, 12, 5, 10, 0), 60, "not_an_office_day", id="saturday"),
        pytest.param(local(2026, 12, 2, 11, 30), 60, "outside_office_hours", id="lunch"),
        pytest.param(THU_10, 90, "invalid_duration", id="90-minutes"),
    ],
)
def test_consultation_reschedule_refuses_time(world, api_as, start, minutes, code):
    consultation = book(world)
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(
        f"{URL}/{consultation.pk}/reschedule",
        {"start": start.isoformat(), "duration_minutes": minutes},
    )

    problem(response, 422, code)
    assert db_state() == before
    assert Consultation.objects.get(pk=consultation.pk).start == WED_10


# Start, complete, stop (R15) ----------------------------------------------------------


def test_consultation_start_before_30_minutes_early_answers_invalid_transition(
    world, api_as, frozen_now
):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 9, 29))
    api = api_as(world.counselor)
    before = db_state()

    response = api.post(f"{URL}/{consultation.pk}/start")

    problem(response, 409, "invalid_transition")
    assert db_state() == before
    assert Consultation.objects.get(pk=consultation.pk).status == "scheduled"


def test_consultation_start_from_30_minutes_early(world, api_as, frozen_now):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 9, 30))
    api = api_as(world.counselor)

    response = api.post(f"{URL}/{consultation.pk}/start")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], when(body["actual_start"]), body["actual_end"]) == (
        "in_progress",
        local(2026, 12, 2, 9, 30),
        None,
    )
    assert cells(consultation) != []
    assert AuditEntry.objects.filter(action="consultation.in_progress").count() == 1


def test_consultation_complete_records_actual_end(world, api_as, frozen_now):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 0))
    api = api_as(world.counselor)
    api.post(f"{URL}/{consultation.pk}/start")
    frozen_now.move_to(local(2026, 12, 2, 10, 55))

    response = api.post(f"{URL}/{consultation.pk}/complete")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], when(body["actual_start"]), when(body["actual_end"])) == (
        "completed",
        local(2026, 12, 2, 10, 0),
        local(2026, 12, 2, 10, 55),
    )
    assert AuditEntry.objects.filter(action="consultation.completed").count() == 1


@pytest.mark.parametrize("reason_code", ["threat", "abuse", "non_job_purpose", "other"])
def test_consultation_stop_records_reason_code(world, api_as, frozen_now, reason_code):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 5))
    api = api_as(world.counselor)
    api.post(f"{URL}/{consultation.pk}/start")

    response = api.post(f"{URL}/{consultation.pk}/stop", {"reason_code": reason_code, "note": "x"})

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["stop_reason_code"]) == (
        "stopped",
        reason_code,
    )
    consultation.refresh_from_db()
    assert (consultation.stop_reason_code, consultation.stop_note) == (reason_code, "x")
    entry = AuditEntry.objects.get(action="consultation.stopped")
    assert entry.details == {"from": "in_progress", "reason_code": reason_code}
    assert Seeker.objects.get(pk=world.seeker.pk).restriction == "none"


def test_consultation_stop_refuses_unknown_reason_code(world, api_as, frozen_now):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 5))
    api = api_as(world.counselor)
    api.post(f"{URL}/{consultation.pk}/start")
    before = db_state()

    response = api.post(f"{URL}/{consultation.pk}/stop", {"reason_code": "rude"})

    body = problem(response, 422, "invalid_input")
    assert [e["field"] for e in body["errors"]] == ["body.reason_code"]
    assert db_state() == before
    assert Consultation.objects.get(pk=consultation.pk).status == "in_progress"


def test_consultation_stop_with_restrict_seeker_restricts(world, api_as, frozen_now):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 5))
    api = english(api_as(world.manager))
    api.post(f"{URL}/{consultation.pk}/start")

    response = api.post(
        f"{URL}/{consultation.pk}/stop", {"reason_code": "threat", "restrict_seeker": True}
    )

    assert response.status_code == 200, response.content
    seeker = Seeker.objects.get(pk=world.seeker.pk)
    assert (seeker.restriction, seeker.restriction_reason, seeker.restriction_since) == (
        "restricted",
        "Threats",
        local(2026, 12, 2, 10, 5),
    )
    assert AuditEntry.objects.filter(action="seeker.restricted").count() == 1


def test_consultation_stop_not_started_does_not_restrict(world, api_as):
    consultation = book(world)
    api = api_as(world.manager)
    before = db_state()

    response = api.post(
        f"{URL}/{consultation.pk}/stop", {"reason_code": "abuse", "restrict_seeker": True}
    )

    problem(response, 409, "invalid_transition")
    assert db_state() == before
    assert Seeker.objects.get(pk=world.seeker.pk).restriction == "none"


# No-show (R13, R14) -------------------------------------------------------------------


def test_consultation_no_show_before_grace_answers_invalid_transition(world, api_as, frozen_now):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 9))
    api = api_as(world.counselor)
    before = db_state()

    response = api.post(f"{URL}/{consultation.pk}/no-show")

    problem(response, 409, "invalid_transition")
    assert db_state() == before
    assert Consultation.objects.get(pk=consultation.pk).status == "scheduled"


def test_consultation_no_show_from_start_plus_10_minutes(world, api_as, frozen_now):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 10))
    api = api_as(world.counselor)

    response = api.post(f"{URL}/{consultation.pk}/no-show")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "no_show"
    assert cells(consultation) == []
    entry = AuditEntry.objects.get(action="consultation.no_show")
    assert (entry.actor, entry.details) == (world.counselor.user, {"from": "scheduled"})
    assert Seeker.objects.get(pk=world.seeker.pk).restriction == "none"


def test_consultation_second_no_show_flags_seeker_for_review(world, api_as, frozen_now):
    first = book(world, start=WED_10)
    second = book(world, start=THU_10)
    frozen_now.move_to(local(2026, 12, 3, 10, 10))
    api = english(api_as(world.coordinator))
    api.post(f"{URL}/{first.pk}/no-show")
    after_first = Seeker.objects.get(pk=world.seeker.pk).restriction

    response = api.post(f"{URL}/{second.pk}/no-show")

    assert response.status_code == 200, response.content
    seeker = Seeker.objects.get(pk=world.seeker.pk)
    assert (after_first, seeker.restriction, seeker.restriction_reason) == (
        "none",
        "review",
        "2 no-shows",
    )
    entry = AuditEntry.objects.get(action="seeker.flagged_for_review")
    assert (entry.object_id, entry.details) == (str(world.seeker.pk), {"reason": "2 no-shows"})


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        pytest.param(local(2026, 1, 7, 10, 0), "review", id="within-12-months"),
        pytest.param(local(2025, 11, 20, 10, 0), "none", id="older-than-12-months"),
    ],
)
def test_consultation_no_show_counts_only_12_months(world, api_as, frozen_now, earlier, expected):
    Consultation.objects.create(
        office=world.office,
        seeker=world.seeker,
        counselor=world.counselor,
        start=earlier,
        end=earlier + dt.timedelta(minutes=30),
        status=Consultation.Status.NO_SHOW,
        status_changed_at=earlier,
        created_at=earlier,
    )
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 10))
    api = api_as(world.coordinator)

    api.post(f"{URL}/{consultation.pk}/no-show")

    assert Seeker.objects.get(pk=world.seeker.pk).restriction == expected


def test_consultation_no_show_after_contact_answers_invalid_transition(world, api_as, frozen_now):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 5))
    api = api_as(world.coordinator)
    contact = api.post(f"{URL}/{consultation.pk}/contact")
    frozen_now.move_to(local(2026, 12, 2, 10, 15))
    before = db_state()

    response = api.post(f"{URL}/{consultation.pk}/no-show")

    assert when(contact.json()["contact_recorded_at"]) == local(2026, 12, 2, 10, 5)
    problem(response, 409, "invalid_transition")
    assert db_state() == before
    assert Consultation.objects.get(pk=consultation.pk).status == "scheduled"


# Illegal transitions (SPEC §4) --------------------------------------------------------


def _start(world, c):
    booking_services.consultation_start(consultation_id=c.pk, actor=world.counselor)


def _complete(world, c):
    _start(world, c)
    booking_services.consultation_complete(consultation_id=c.pk, actor=world.counselor)


def _stop(world, c):
    _start(world, c)
    booking_services.consultation_stop(
        consultation_id=c.pk, reason_code="abuse", actor=world.manager
    )


def _cancel(world, c):
    booking_services.consultation_cancel(
        consultation_id=c.pk, channel="phone", reason="体調不良", actor=world.coordinator
    )


def _no_show(world, c):
    booking_services.consultation_mark_no_show(consultation_id=c.pk, actor=None)


def _keep(world, c):
    """Leave it scheduled."""


CANCEL = {"channel": "phone", "reason": "体調不良"}
MOVE = {"start": "2026-12-03T10:00:00+09:00", "duration_minutes": 60}


@pytest.mark.parametrize(
    ("arrange", "action", "body"),
    [
        pytest.param(_keep, "complete", None, id="complete-scheduled"),
        pytest.param(_keep, "stop", {"reason_code": "other"}, id="stop-scheduled"),
        pytest.param(_complete, "cancel", CANCEL, id="cancel-completed"),
        pytest.param(_complete, "start", None, id="start-completed"),
        pytest.param(_complete, "no-show", None, id="no-show-completed"),
        pytest.param(_cancel, "start", None, id="start-cancelled"),
        pytest.param(_cancel, "cancel", CANCEL, id="cancel-cancelled"),
        pytest.param(_cancel, "reschedule", MOVE, id="reschedule-cancelled"),
        pytest.param(_cancel, "contact", None, id="contact-cancelled"),
        pytest.param(_start, "start", None, id="start-in-progress"),
        pytest.param(_start, "cancel", CANCEL, id="cancel-in-progress"),
        pytest.param(_start, "no-show", None, id="no-show-in-progress"),
        pytest.param(_start, "reschedule", MOVE, id="reschedule-in-progress"),
        pytest.param(_stop, "complete", None, id="complete-stopped"),
        pytest.param(_no_show, "start", None, id="start-no-show"),
        pytest.param(_no_show, "cancel", CANCEL, id="cancel-no-show"),
    ],
)
def test_consultation_illegal_transition_changes_nothing(
    world, api_as, frozen_now, arrange, action, body
):
    consultation = book(world)
    frozen_now.move_to(local(2026, 12, 2, 10, 10))
    arrange(world, consultation)
    consultation.refresh_from_db()
    status, held = consultation.status, cells(consultation)
    api = api_as(world.manager)
    before = db_state()

    response = api.post(f"{URL}/{consultation.pk}/{action}", body)

    problem(response, 409, "invalid_transition")
    assert db_state() == before
    assert Consultation.objects.get(pk=consultation.pk).status == status
    assert cells(consultation) == held
