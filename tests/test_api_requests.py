"""The staff request API: taking, scheduling and declining requests (R1–R11, SPEC §5).

The clock is frozen on Tuesday 2026-12-01 10:00 JST (see conftest), so Wednesday
2 December is the first bookable day. Every refused call is checked twice: the
problem+json answer with its stable `code`, and a database that did not change.
"""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from madoguchi.api.models import ApiToken, hash_token
from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import (
    DECLARATION_LABELS,
    REQUIRED_DECLARATIONS,
    Consultation,
    Occupancy,
    Request,
)
from madoguchi.offices.models import Closure
from madoguchi.records.models import AuditEntry
from madoguchi.seekers.models import Seeker
from madoguchi.terms.models import Consent, TermsVersion
from tests.conftest import NOW
from tests.factories import ALL_DECLARATIONS, local, make_token

URL = "/api/v1/requests"
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}
WED_10 = local(2026, 12, 2, 10, 0)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit windows live in the cache and the clock is frozen: start each test clean."""
    cache.clear()


# Helpers ------------------------------------------------------------------------------


def request_body(
    number: str = "01040-12345678",
    start: str = "2026-12-02T10:00:00+09:00",
    minutes: int = 60,
    **changes,
) -> dict:
    body = {
        "job_seeker_number": number,
        "name": "求職 太郎",
        "preferences": [{"start": start, "duration_minutes": minutes}],
        "channel": "phone",
        "declarations": dict(ALL_DECLARATIONS),
    }
    body.update(changes)
    return body


def make_request(world, seeker: Seeker | None = None, channel: str = "phone") -> Request:
    """A `requested` request taken by the coordinator, made through the service."""
    seeker = seeker or world.seeker
    return booking_services.request_create(
        office=seeker.office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(WED_10, 60)],
        channel=channel,
        declarations=ALL_DECLARATIONS,
        actor=world.coordinator,
    )


def schedule(api, request_id: int, start: dt.datetime, minutes: int = 60, **extra):
    body = {"start": start.isoformat(), "duration_minutes": minutes, **extra}
    return api.post(f"{URL}/{request_id}/schedule", body)


def db_state() -> dict[str, int]:
    return {
        "requests": Request.objects.count(),
        "consultations": Consultation.objects.count(),
        "occupancy": Occupancy.objects.count(),
        "consents": Consent.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def problem(response, status: int, code: str) -> dict:
    """Assert a problem+json answer with `status` and `code`; return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert (body["status"], body["code"], body["type"]) == (
        status,
        code,
        f"urn:madoguchi:problem:{code}",
    )
    return body


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


# problem+json -------------------------------------------------------------------------


def test_problem_body_has_rfc9457_fields_and_code(world, api_as):
    api = api_as(world.coordinator)
    api.headers["Accept-Language"] = "en"

    response = api.post(URL, request_body(number="12345"))

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:madoguchi:problem:invalid_job_seeker_number",
        "title": "The job-seeker number is not valid.",
        "status": 422,
        "code": "invalid_job_seeker_number",
        "detail": "A job-seeker number has 13 digits, like 01040-12345678.",
        "field": "job_seeker_number",
    }


def test_problem_validation_error_lists_each_field(world, api_as):
    api = api_as(world.coordinator)
    body = request_body()
    del body["name"]

    response = api.post(URL, body)

    found = problem(response, 422, "invalid_input")
    assert found["errors"] == [{"field": "body.name", "message": "Field required"}]


def test_problem_unknown_api_path_is_problem_json(world, api_as):
    api = api_as(world.coordinator)

    response = api.get(f"{URL}/not-a-number")

    problem(response, 404, "not_found")


# Creating a request -------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["phone", "counter", "in_consultation"])
def test_request_create_by_staff_answers_201_requested(world, api_as, channel):
    api = api_as(world.coordinator)

    response = api.post(URL, request_body(channel=channel))

    assert response.status_code == 201, response.content
    body = response.json()
    created = Request.objects.get()
    assert body == {
        "id": created.pk,
        "status": "requested",
        "office": "01040",
        "job_seeker_number": "01040-12345678",
        "name": "求職 太郎",
        "channel": channel,
        "preferences": [{"start": "2026-12-02T10:00:00+09:00", "duration_minutes": 60}],
        "declarations": ALL_DECLARATIONS,
        "companions": {"interpreter_language": "", "assistant": False},
        "terms_version": 1,
        "decline_reason": "",
        "consultation": None,
        "created_at": body["created_at"],
    }
    assert when(body["created_at"]) == NOW
    assert (created.seeker, created.status, created.created_by) == (
        world.seeker,
        Request.Status.REQUESTED,
        world.coordinator,
    )


@pytest.mark.parametrize("channel", ["phone", "counter", "in_consultation"])
def test_request_create_records_consent_to_terms_in_force_with_channel(world, api_as, channel):
    api = api_as(world.coordinator)
    in_force = TermsVersion.objects.get(office=world.office, number=1)

    api.post(URL, request_body(channel=channel))

    assert list(
        Consent.objects.values_list("seeker", "version", "channel", "given_at", "recorded_by")
    ) == [(world.seeker.pk, in_force.pk, channel, NOW, world.coordinator.pk)]


def test_request_create_writes_audit_entry(world, api_as):
    api = api_as(world.coordinator)

    response = api.post(URL, request_body(channel="counter"))

    entry = AuditEntry.objects.get(action="request.created")
    assert (entry.actor, entry.office, entry.object_type, entry.object_id, entry.details) == (
        world.coordinator.user,
        world.office,
        "request",
        str(response.json()["id"]),
        {"channel": "counter", "terms_version": 1},
    )


def test_request_create_keeps_companions_and_all_preferences(world, api_as):
    api = api_as(world.coordinator)
    preferences = [
        {"start": "2026-12-02T09:00:00+09:00", "duration_minutes": 30},
        {"start": "2026-12-03T13:00:00+09:00", "duration_minutes": 45},
        {"start": "2026-12-04T15:00:00+09:00", "duration_minutes": 60},
    ]
    companions = {"interpreter_language": " ベトナム語 ", "assistant": True}

    response = api.post(URL, request_body(preferences=preferences, companions=companions))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["preferences"] == preferences
    assert body["companions"] == {"interpreter_language": "ベトナム語", "assistant": True}


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("０１０４０－１２３４５６７８", id="full-width"),
        pytest.param("0104012345678", id="no-hyphen"),
        pytest.param(" 01040 12345678 ", id="spaces"),
    ],
)
def test_request_create_canonicalises_job_seeker_number(world, api_as, typed):
    api = api_as(world.coordinator)

    response = api.post(URL, request_body(number=typed))

    assert response.status_code == 201, response.content
    assert response.json()["job_seeker_number"] == "01040-12345678"
    assert Request.objects.get().seeker == world.seeker


def test_request_create_allows_seeker_flagged_for_review(world, api_as):
    Seeker.objects.filter(pk=world.seeker.pk).update(restriction=Seeker.Restriction.REVIEW)
    api = api_as(world.coordinator)

    response = api.post(URL, request_body())

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "requested"


def _expire(seeker: Seeker) -> None:
    seeker.expires_on = dt.date(2026, 11, 30)
    seeker.save()


def _close(seeker: Seeker) -> None:
    seeker.status = Seeker.Status.INACTIVE
    seeker.save()


def _register_tomorrow(seeker: Seeker) -> None:
    seeker.registered_on = dt.date(2026, 12, 2)
    seeker.save()


def _restrict(seeker: Seeker) -> None:
    seeker.restriction = Seeker.Restriction.RESTRICTED
    seeker.save()


def _leave(seeker: Seeker) -> None:
    """Nothing to change."""


@pytest.mark.parametrize(
    ("number", "prepare", "code"),
    [
        pytest.param("01040-1234567", _leave, "invalid_job_seeker_number", id="12-digits"),
        pytest.param("01040-1234567a", _leave, "invalid_job_seeker_number", id="letter"),
        pytest.param("01040-99999999", _leave, "seeker_not_registered", id="unknown"),
        pytest.param("01010-11112222", _leave, "seeker_not_registered", id="other-office"),
        pytest.param("01040-12345678", _expire, "seeker_not_registered", id="expired"),
        pytest.param("01040-12345678", _close, "seeker_not_registered", id="inactive"),
        pytest.param(
            "01040-12345678", _register_tomorrow, "seeker_not_registered", id="not-yet-registered"
        ),
        pytest.param("01040-12345678", _restrict, "seeker_restricted", id="restricted"),
    ],
)
def test_request_create_refuses_seeker(world, api_as, number, prepare, code):
    prepare(world.seeker)
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(number=number))

    body = problem(response, 422, code)
    assert body["field"] == "job_seeker_number"
    assert db_state() == before


@pytest.mark.parametrize("missing", REQUIRED_DECLARATIONS)
def test_request_create_refuses_unconfirmed_declaration(world, api_as, missing):
    api = api_as(world.coordinator)
    api.headers["Accept-Language"] = "en"
    before = db_state()

    response = api.post(URL, request_body(declarations={**ALL_DECLARATIONS, missing: False}))

    body = problem(response, 422, "declaration_missing")
    with translation.override("en"):
        label = str(DECLARATION_LABELS[missing])
    assert (body["field"], body["detail"]) == ("declarations", f"Please confirm: {label}.")
    assert db_state() == before


@pytest.mark.parametrize("missing", REQUIRED_DECLARATIONS)
def test_request_create_refuses_absent_declaration(world, api_as, missing):
    api = api_as(world.coordinator)
    declarations = {k: v for k, v in ALL_DECLARATIONS.items() if k != missing}
    before = db_state()

    response = api.post(URL, request_body(declarations=declarations))

    assert problem(response, 422, "declaration_missing")["field"] == "declarations"
    assert db_state() == before


def test_request_create_refuses_naive_datetime(world, api_as):
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(start="2026-12-02T10:00:00"))

    body = problem(response, 422, "invalid_input")
    assert body["errors"] == [
        {"field": "body.preferences.0.start", "message": "Input should have timezone info"}
    ]
    assert db_state() == before


@pytest.mark.parametrize("count", [pytest.param(0, id="none"), pytest.param(4, id="four")])
def test_request_create_refuses_preference_count(world, api_as, count):
    api = api_as(world.coordinator)
    starts = ["2026-12-02T09:00", "2026-12-02T10:00", "2026-12-03T09:00", "2026-12-03T10:00"]
    preferences = [{"start": f"{s}:00+09:00", "duration_minutes": 60} for s in starts[:count]]
    before = db_state()

    response = api.post(URL, request_body(preferences=preferences))

    body = problem(response, 422, "invalid_input")
    assert [e["field"] for e in body["errors"]] == ["body.preferences"]
    assert db_state() == before


@pytest.mark.parametrize(
    "minutes",
    [
        pytest.param(20, id="too-short"),
        pytest.param(90, id="too-long"),
        pytest.param(50, id="not-offered"),
    ],
)
def test_request_create_refuses_duration(world, api_as, minutes):
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(minutes=minutes))

    body = problem(response, 422, "invalid_duration")
    assert body["field"] == "duration_minutes"
    assert db_state() == before


@pytest.mark.parametrize(
    ("start", "minutes", "code"),
    [
        pytest.param("2026-12-02T11:30:00+09:00", 60, "outside_office_hours", id="lunch"),
        pytest.param("2026-12-02T08:45:00+09:00", 30, "outside_office_hours", id="early"),
        pytest.param("2026-12-02T15:30:00+09:00", 45, "outside_office_hours", id="late"),
        pytest.param("2026-12-02T12:00:00+09:00", 30, "outside_office_hours", id="noon"),
        pytest.param("2026-12-02T10:07:00+09:00", 30, "outside_office_hours", id="off-grid"),
        pytest.param("2026-12-05T10:00:00+09:00", 60, "not_an_office_day", id="saturday"),
        pytest.param("2026-12-06T10:00:00+09:00", 60, "not_an_office_day", id="sunday"),
        pytest.param("2026-12-29T10:00:00+09:00", 60, "not_an_office_day", id="year-end"),
        pytest.param("2026-12-04T16:00:00-08:00", 60, "not_an_office_day", id="local-saturday"),
        pytest.param("2026-12-01T14:00:00+09:00", 60, "lead_time", id="today"),
        pytest.param("2026-11-30T10:00:00+09:00", 60, "lead_time", id="past"),
    ],
)
def test_request_create_refuses_time(world, api_as, start, minutes, code):
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(start=start, minutes=minutes))

    body = problem(response, 422, code)
    assert body["field"] == "start"
    assert db_state() == before


def test_request_create_refuses_office_closure_day(world, api_as):
    Closure.objects.create(office=world.office, date=dt.date(2026, 12, 3), reason="研修")
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(start="2026-12-03T10:00:00+09:00"))

    problem(response, 422, "not_an_office_day")
    assert db_state() == before


def test_request_create_refuses_national_holiday(world, api_as, frozen_now):
    frozen_now.move_to(local(2026, 11, 19, 10, 0))  # Thursday before 勤労感謝の日
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(start="2026-11-23T10:00:00+09:00"))

    body = problem(response, 422, "not_an_office_day")
    assert "勤労感謝の日" in body["detail"]
    assert db_state() == before


def test_request_create_lead_time_uses_office_local_day(world, api_as, frozen_now):
    frozen_now.move_to(local(2026, 12, 2, 0, 30))  # still 1 December in UTC
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(start="2026-12-02T10:00:00+09:00"))

    problem(response, 422, "lead_time")
    assert db_state() == before


def test_request_create_registration_day_is_office_local(world, api_as, frozen_now):
    Seeker.objects.filter(pk=world.seeker.pk).update(expires_on=dt.date(2026, 12, 1))
    frozen_now.move_to(local(2026, 12, 2, 0, 30))  # still 1 December in UTC
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(start="2026-12-03T10:00:00+09:00"))

    problem(response, 422, "seeker_not_registered")
    assert db_state() == before


def test_request_create_refuses_web_channel_from_staff(world, api_as):
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(channel="web"))

    body = problem(response, 422, "invalid_input")
    assert [e["field"] for e in body["errors"]] == ["body.channel"]
    assert db_state() == before


def test_request_create_refuses_blank_name(world, api_as):
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(URL, request_body(name="  "))

    body = problem(response, 422, "invalid_input")
    assert body["field"] == "name"
    assert db_state() == before


# Authentication -----------------------------------------------------------------------


def test_request_create_without_token_answers_401(world):
    before = db_state()

    response = Client().post(
        URL, request_body(), content_type="application/json", headers={"Accept-Language": "en"}
    )

    body = problem(response, 401, "unauthorized")
    assert body["detail"] == "Authentication is required."
    assert response["WWW-Authenticate"] == "Bearer"
    assert db_state() == before


def test_request_create_without_token_and_bad_body_answers_401(world):
    response = Client().post(URL, {}, content_type="application/json")

    problem(response, 401, "unauthorized")


def _revoke(world) -> str:
    token = make_token(world.coordinator)
    ApiToken.objects.filter(token_hash=hash_token(token)).update(revoked_at=NOW)
    return f"Bearer {token}"


def _deactivate(world) -> str:
    token = make_token(world.coordinator)
    world.coordinator.user.is_active = False
    world.coordinator.user.save()
    return f"Bearer {token}"


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(lambda world: "Bearer mdg_not-a-real-token", id="unknown"),
        pytest.param(lambda world: f"Basic {make_token(world.coordinator)}", id="wrong-scheme"),
        pytest.param(lambda world: "Bearer ", id="empty"),
        pytest.param(_revoke, id="revoked"),
        pytest.param(_deactivate, id="inactive-user"),
    ],
)
def test_request_create_with_bad_token_answers_401(world, authorization):
    header = authorization(world)
    before = db_state()

    response = Client().post(
        URL, request_body(), content_type="application/json", headers={"Authorization": header}
    )

    problem(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Bearer"
    assert db_state() == before


# Reading requests ---------------------------------------------------------------------


def test_request_get_answers_the_request(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)

    response = api.get(f"{URL}/{created.pk}")

    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["status"]) == (created.pk, "requested")


def test_request_get_unknown_answers_404(world, api_as):
    api = api_as(world.coordinator)

    response = api.get(f"{URL}/999999")

    problem(response, 404, "not_found")


def test_request_list_filters_by_status(world, api_as):
    first = make_request(world)
    second = make_request(world, world.seeker2)
    booking_services.request_decline(request_id=second.pk, reason="対象外", actor=world.manager)
    api = api_as(world.coordinator)

    everything = api.get(URL).json()
    declined = api.get(URL, status="declined").json()

    assert (everything["count"], [r["id"] for r in everything["results"]]) == (
        2,
        [first.pk, second.pk],
    )
    assert [r["id"] for r in declined["results"]] == [second.pk]


def test_request_list_query_count_does_not_grow_with_rows(world, api_as):
    api = api_as(world.coordinator)
    make_request(world)
    api.get(URL)  # the token's first use writes last_used_at once
    with CaptureQueriesContext(connection) as one:
        api.get(URL)
    scheduled = make_request(world, world.seeker2)
    booking_services.consultation_schedule(
        request_id=scheduled.pk, start=WED_10, duration_minutes=60, actor=world.coordinator
    )
    make_request(world)

    with CaptureQueriesContext(connection) as three:
        response = api.get(URL)

    assert response.json()["count"] == 3
    assert len(three) == len(one) == 3


# Scheduling ---------------------------------------------------------------------------


def test_request_schedule_answers_201_with_meeting(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)

    response = schedule(api, created.pk, WED_10)

    assert response.status_code == 201, response.content
    body = response.json()
    consultation = Consultation.objects.get()
    meeting = body.pop("meeting")
    assert {k: body[k] for k in ("id", "status", "office", "counselor", "job_seeker_number")} == {
        "id": consultation.pk,
        "status": "scheduled",
        "office": "01040",
        "counselor": "sato",
        "job_seeker_number": "01040-12345678",
    }
    assert (when(body["start"]), when(body["end"]), body["duration_minutes"]) == (
        WED_10,
        local(2026, 12, 2, 11, 0),
        60,
    )
    assert (body["request"], body["override_reason"]) == (created.pk, "")
    assert meeting["provider"] == "fake"
    assert re.fullmatch(r"\d{11}", meeting["id"])
    assert re.fullmatch(r"[A-Za-z0-9]{8}", meeting["passcode"])
    base = settings.MADOGUCHI_BASE_URL.rstrip("/")
    assert meeting["join_url"] == f"{base}/meetings/fake/{meeting['id']}/"
    assert (consultation.meeting_id, consultation.meeting_passcode) == (
        meeting["id"],
        meeting["passcode"],
    )


def test_request_schedule_moves_request_to_scheduled_and_audits(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)

    response = schedule(api, created.pk, WED_10)

    consultation_id = response.json()["id"]
    created.refresh_from_db()
    assert created.status == Request.Status.SCHEDULED
    assert api.get(f"{URL}/{created.pk}").json()["consultation"] == consultation_id
    assert list(
        AuditEntry.objects.filter(action__in=["request.scheduled", "consultation.scheduled"])
        .order_by("id")
        .values_list("action", "object_id", "actor")
    ) == [
        ("request.scheduled", str(created.pk), world.coordinator.user.pk),
        ("consultation.scheduled", str(consultation_id), world.coordinator.user.pk),
    ]
    assert Occupancy.objects.filter(consultation_id=consultation_id).count() == 12


@pytest.mark.parametrize(
    ("seeker_attr", "counselor", "expected"),
    [
        pytest.param("seeker", None, "sato", id="own-counselor-of-seeker"),
        pytest.param("seeker2", None, "suzuki", id="own-counselor-of-seeker2"),
        pytest.param("seeker", "suzuki", "suzuki", id="explicit-other"),
        pytest.param("seeker", "", "sato", id="empty-means-own"),
    ],
)
def test_request_schedule_picks_counselor(world, api_as, seeker_attr, counselor, expected):
    created = make_request(world, getattr(world, seeker_attr))
    api = api_as(world.coordinator)
    extra = {} if counselor is None else {"counselor": counselor}

    response = schedule(api, created.pk, WED_10, **extra)

    assert response.status_code == 201, response.content
    assert response.json()["counselor"] == expected
    assert Consultation.objects.get().counselor.username == expected


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("nobody", id="unknown"),
        pytest.param("takahashi", id="other-office"),
        pytest.param("tanaka", id="coordinator-not-counselor"),
    ],
)
def test_request_schedule_refuses_unknown_counselor(world, api_as, username):
    created = make_request(world)
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, WED_10, counselor=username)

    body = problem(response, 404, "not_found")
    assert body["field"] == "counselor"
    assert db_state() == before
    assert Request.objects.get(pk=created.pk).status == Request.Status.REQUESTED


def test_request_schedule_refuses_the_seekers_own_counselor_by_name_once_inactive(world, api_as):
    """Named, the seeker's own counselor gets the same answer as any other name."""
    created = make_request(world)
    own = world.seeker.counselor
    own.user.is_active = False
    own.user.save()
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, WED_10, counselor=own.username)

    body = problem(response, 404, "not_found")
    assert body["field"] == "counselor"
    assert db_state() == before


def test_request_schedule_same_slot_twice_answers_slot_taken(world, api_as):
    first = make_request(world)
    second = make_request(world, world.seeker2)
    api = api_as(world.coordinator)
    assert schedule(api, first.pk, WED_10, counselor="sato").status_code == 201
    before = db_state()

    response = schedule(api, second.pk, WED_10, counselor="sato")

    problem(response, 409, "slot_taken")
    assert db_state() == before
    assert Request.objects.get(pk=second.pk).status == Request.Status.REQUESTED


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param((10, 0, 60), (10, 30, 30), id="inside"),
        pytest.param((10, 30, 30), (10, 0, 60), id="around"),
        pytest.param((10, 0, 60), (10, 45, 45), id="tail"),
        pytest.param((10, 0, 45), (9, 30, 45), id="head"),
    ],
)
def test_request_schedule_partial_overlap_answers_slot_taken(world, api_as, first, second):
    one = make_request(world)
    two = make_request(world, world.seeker2)
    api = api_as(world.coordinator)
    hour, minute, minutes = first
    booked = schedule(api, one.pk, local(2026, 12, 2, hour, minute), minutes, counselor="sato")
    assert booked.status_code == 201, booked.content
    before = db_state()
    hour, minute, minutes = second

    response = schedule(api, two.pk, local(2026, 12, 2, hour, minute), minutes, counselor="sato")

    problem(response, 409, "slot_taken")
    assert db_state() == before


def test_request_schedule_adjacent_slots_both_succeed(world, api_as):
    one = make_request(world)
    two = make_request(world, world.seeker2)
    api = api_as(world.coordinator)

    first = schedule(api, one.pk, WED_10, 30, counselor="sato")
    second = schedule(api, two.pk, local(2026, 12, 2, 10, 30), 30, counselor="sato")

    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert [(when(c["start"]), when(c["end"])) for c in (first.json(), second.json())] == [
        (WED_10, local(2026, 12, 2, 10, 30)),
        (local(2026, 12, 2, 10, 30), local(2026, 12, 2, 11, 0)),
    ]


def test_request_schedule_same_seeker_overlapping_answers_seeker_busy(world, api_as):
    one = make_request(world)
    two = make_request(world)
    api = api_as(world.coordinator)
    assert schedule(api, one.pk, WED_10, counselor="sato").status_code == 201
    before = db_state()

    response = schedule(api, two.pk, local(2026, 12, 2, 10, 30), 30, counselor="suzuki")

    problem(response, 409, "seeker_busy")
    assert db_state() == before


@pytest.mark.parametrize(
    ("hour", "minute"),
    [pytest.param(10, 15, id="overlapping-start"), pytest.param(11, 0, id="inside")],
)
def test_request_schedule_respects_blocked_time(world, api_as, hour, minute):
    booking_services.blocked_time_create(
        counselor=world.counselor,
        start=local(2026, 12, 2, 10, 30),
        end=local(2026, 12, 2, 11, 30),
        reason="会議",
        actor=world.coordinator,
    )
    created = make_request(world)
    api = api_as(world.coordinator)
    api.headers["Accept-Language"] = "en"
    before = db_state()

    response = schedule(api, created.pk, local(2026, 12, 2, hour, minute), 30)

    body = problem(response, 409, "slot_taken")
    assert body["detail"] == "sato is not available then (blocked time)."
    assert db_state() == before


def test_request_schedule_next_to_blocked_time_succeeds(world, api_as):
    booking_services.blocked_time_create(
        counselor=world.counselor,
        start=local(2026, 12, 2, 10, 30),
        end=local(2026, 12, 2, 11, 30),
        reason="会議",
        actor=world.coordinator,
    )
    created = make_request(world)
    api = api_as(world.coordinator)

    response = schedule(api, created.pk, WED_10, 30)

    assert response.status_code == 201, response.content
    assert response.json()["counselor"] == "sato"


def test_request_schedule_today_without_override_answers_lead_time(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, local(2026, 12, 1, 14, 0))

    body = problem(response, 422, "lead_time")
    assert body["field"] == "start"
    assert db_state() == before


def test_request_schedule_today_with_override_is_recorded(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)

    response = schedule(api, created.pk, local(2026, 12, 1, 14, 0), override_reason=" 緊急 ")

    assert response.status_code == 201, response.content
    assert response.json()["override_reason"] == "緊急"
    assert Consultation.objects.get().override_reason == "緊急"
    entry = AuditEntry.objects.get(action="consultation.scheduled")
    assert entry.details["override_reason"] == "緊急"


def test_request_schedule_tomorrow_ignores_override_reason(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)

    response = schedule(api, created.pk, WED_10, override_reason="不要")

    assert response.status_code == 201, response.content
    assert response.json()["override_reason"] == ""


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(local(2026, 12, 1, 9, 0), id="earlier-today"),
        pytest.param(local(2026, 11, 30, 10, 0), id="yesterday"),
    ],
)
def test_request_schedule_past_with_override_answers_lead_time(world, api_as, start):
    created = make_request(world)
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, start, override_reason="緊急")

    problem(response, 422, "lead_time")
    assert db_state() == before


@pytest.mark.parametrize(
    ("start", "minutes", "code"),
    [
        pytest.param(local(2026, 12, 2, 11, 30), 60, "outside_office_hours", id="lunch"),
        pytest.param(local(2026, 12, 5, 10, 0), 60, "not_an_office_day", id="saturday"),
        pytest.param(WED_10, 90, "invalid_duration", id="90-minutes"),
    ],
)
def test_request_schedule_refuses_time(world, api_as, start, minutes, code):
    created = make_request(world)
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, start, minutes)

    problem(response, 422, code)
    assert db_state() == before


def test_request_schedule_scheduled_request_answers_invalid_transition(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)
    assert schedule(api, created.pk, WED_10).status_code == 201
    before = db_state()

    response = schedule(api, created.pk, local(2026, 12, 3, 10, 0))

    problem(response, 409, "invalid_transition")
    assert db_state() == before


def test_request_schedule_declined_request_answers_invalid_transition(world, api_as):
    created = make_request(world)
    booking_services.request_decline(request_id=created.pk, reason="対象外", actor=world.manager)
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, WED_10)

    problem(response, 409, "invalid_transition")
    assert db_state() == before
    assert Request.objects.get(pk=created.pk).status == Request.Status.DECLINED


def test_request_schedule_seeker_restricted_after_request(world, api_as):
    created = make_request(world)
    Seeker.objects.filter(pk=world.seeker.pk).update(restriction=Seeker.Restriction.RESTRICTED)
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, WED_10)

    problem(response, 422, "seeker_restricted")
    assert db_state() == before
    assert Request.objects.get(pk=created.pk).status == Request.Status.REQUESTED


def test_request_schedule_seeker_expired_after_request(world, api_as):
    created = make_request(world)
    Seeker.objects.filter(pk=world.seeker.pk).update(expires_on=dt.date(2026, 11, 30))
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, WED_10)

    problem(response, 422, "seeker_not_registered")
    assert db_state() == before


def test_request_schedule_seeker_without_counselor_needs_one(world, api_as):
    Seeker.objects.filter(pk=world.seeker.pk).update(counselor=None)
    created = make_request(world)
    api = api_as(world.coordinator)
    before = db_state()

    refused = schedule(api, created.pk, WED_10)
    after_refusal = db_state()
    chosen = schedule(api, created.pk, WED_10, counselor="suzuki")

    assert problem(refused, 422, "invalid_input")["field"] == "counselor"
    assert after_refusal == before
    assert (chosen.status_code, chosen.json()["counselor"]) == (201, "suzuki")


def test_request_schedule_default_counselor_inactive_needs_another(world, api_as):
    created = make_request(world)
    world.counselor.user.is_active = False
    world.counselor.user.save()
    api = api_as(world.coordinator)
    before = db_state()

    response = schedule(api, created.pk, WED_10)

    assert problem(response, 422, "invalid_input")["field"] == "counselor"
    assert db_state() == before


def test_request_schedule_unknown_request_answers_404(world, api_as):
    api = api_as(world.coordinator)

    response = schedule(api, 999999, WED_10)

    problem(response, 404, "not_found")


# Declining ----------------------------------------------------------------------------


def test_request_decline_with_reason_answers_declined(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)

    response = api.post(f"{URL}/{created.pk}/decline", {"reason": " 対象外のご相談 "})

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["decline_reason"]) == (
        "declined",
        "対象外のご相談",
    )
    created.refresh_from_db()
    assert (created.status, created.decline_reason) == ("declined", "対象外のご相談")
    entry = AuditEntry.objects.get(action="request.declined")
    assert (entry.actor, entry.object_id, entry.details) == (
        world.coordinator.user,
        str(created.pk),
        {"from": "requested"},
    )


@pytest.mark.parametrize("reason", [pytest.param("", id="empty"), pytest.param("  ", id="blank")])
def test_request_decline_without_reason_answers_invalid_input(world, api_as, reason):
    created = make_request(world)
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post(f"{URL}/{created.pk}/decline", {"reason": reason})

    body = problem(response, 422, "invalid_input")
    assert body["field"] == "reason"
    assert db_state() == before
    assert Request.objects.get(pk=created.pk).status == Request.Status.REQUESTED


def test_request_decline_by_counselor_answers_forbidden(world, api_as):
    created = make_request(world)
    api = api_as(world.counselor)
    before = db_state()

    response = api.post(f"{URL}/{created.pk}/decline", {"reason": "対象外"})

    problem(response, 403, "forbidden")
    assert db_state() == before
    assert Request.objects.get(pk=created.pk).status == Request.Status.REQUESTED


def test_request_decline_scheduled_request_answers_invalid_transition(world, api_as):
    created = make_request(world)
    api = api_as(world.coordinator)
    assert schedule(api, created.pk, WED_10).status_code == 201
    before = db_state()

    response = api.post(f"{URL}/{created.pk}/decline", {"reason": "対象外"})

    problem(response, 409, "invalid_transition")
    assert db_state() == before


# Registration must cover the consultation's day (R1) ----------------------------------


def test_request_create_refuses_time_after_registration_expires(world, api_as):
    world.seeker.expires_on = dt.date(2026, 12, 2)
    world.seeker.save()
    before = db_state()

    response = api_as(world.coordinator).post(URL, request_body(start="2026-12-03T10:00:00+09:00"))

    problem(response, 422, "seeker_not_registered")
    assert db_state() == before


def test_request_schedule_refuses_time_after_registration_expires(world, api_as):
    request = make_request(world)
    world.seeker.expires_on = dt.date(2026, 12, 2)
    world.seeker.save()

    response = schedule(api_as(world.coordinator), request.pk, when("2026-12-03T10:00:00+09:00"))

    problem(response, 422, "seeker_not_registered")
    assert Consultation.objects.count() == 0


def test_request_schedule_answers_in_office_local_time(world, api_as):
    request = make_request(world)

    response = schedule(api_as(world.coordinator), request.pk, when("2026-12-02T01:00:00+00:00"))

    assert response.status_code == 201, response.content
    assert (response.json()["start"], response.json()["end"]) == (
        "2026-12-02T10:00:00+09:00",
        "2026-12-02T11:00:00+09:00",
    )
