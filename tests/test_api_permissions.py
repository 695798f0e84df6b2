"""Who may do what through the API (R21 least privilege; SPEC §5 403/404).

Personas: counselor `sato` (caseload: seeker), counselor `suzuki` (caseload: seeker2),
coordinator `tanaka`, manager `ito`, auditor `watanabe`; in another office counselor
`takahashi` and coordinator `kobayashi`. Another office's objects answer 404 and never
any of their data.
"""

import pytest
from django.core.cache import cache
from django.test import Client

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import BlockedTime, Consultation, Occupancy, Request
from madoguchi.records.models import AuditEntry
from madoguchi.seekers.models import Seeker
from tests.factories import ALL_DECLARATIONS, local, make_staff, make_token

WED_10 = local(2026, 12, 2, 10, 0)
THU_10 = local(2026, 12, 3, 10, 0)
PROBLEM_KEYS = {"type", "title", "status", "code", "detail", "field"}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def make_request(seeker: Seeker, actor, channel: str = "phone") -> Request:
    return booking_services.request_create(
        office=seeker.office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(WED_10, 60)],
        channel=channel,
        declarations=ALL_DECLARATIONS,
        actor=actor,
    )


def book(seeker: Seeker, actor, start) -> Consultation:
    request = make_request(seeker, actor)
    return booking_services.consultation_schedule(
        request_id=request.pk, start=start, duration_minutes=60, actor=actor
    )


def db_state() -> dict:
    return {
        "requests": list(Request.objects.order_by("id").values_list("id", "status")),
        "consultations": list(Consultation.objects.order_by("id").values_list("id", "status")),
        "seekers": list(Seeker.objects.order_by("id").values_list("id", "restriction")),
        "occupancy": Occupancy.objects.count(),
        "blocked": BlockedTime.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= {"type", "title", "status", "code", "detail"}
    assert (body["status"], body["code"]) == (status, code)
    return body


@pytest.fixture
def objects(world):
    """A request and a consultation per seeker, and the same in another office."""
    other_coordinator = make_staff(world.other_office, "coordinator", "kobayashi")
    return {
        "request": make_request(world.seeker, world.coordinator),
        "request2": make_request(world.seeker2, world.coordinator),
        "consultation": book(world.seeker, world.coordinator, WED_10),
        "consultation2": book(world.seeker2, world.coordinator, THU_10),
        "other_request": make_request(world.other_seeker, other_coordinator),
        "other_consultation": book(world.other_seeker, other_coordinator, WED_10),
        "other_coordinator": other_coordinator,
    }


# The auditor: no personal data, no writes ---------------------------------------------

MOVE = {"start": "2026-12-04T10:00:00+09:00", "duration_minutes": 60}
NEW_REQUEST = {
    "job_seeker_number": "01040-12345678",
    "name": "求職 太郎",
    "preferences": [{"start": "2026-12-04T10:00:00+09:00", "duration_minutes": 60}],
    "channel": "phone",
    "declarations": ALL_DECLARATIONS,
}
NEW_SEEKER = {
    "job_seeker_number": "01040-22223333",
    "name": "山田 花子",
    "registered_on": "2026-11-02",
    "expires_on": "2027-11-01",
}
WRITES = [
    pytest.param("/api/v1/requests", NEW_REQUEST, id="request-create"),
    pytest.param("/api/v1/requests/{request}/schedule", MOVE, id="request-schedule"),
    pytest.param("/api/v1/requests/{request}/decline", {"reason": "x"}, id="request-decline"),
    pytest.param(
        "/api/v1/consultations/{consultation}/cancel",
        {"channel": "phone", "reason": "x"},
        id="consultation-cancel",
    ),
    pytest.param("/api/v1/consultations/{consultation}/reschedule", MOVE, id="reschedule"),
    pytest.param("/api/v1/consultations/{consultation}/start", None, id="start"),
    pytest.param("/api/v1/consultations/{consultation}/complete", None, id="complete"),
    pytest.param("/api/v1/consultations/{consultation}/stop", {"reason_code": "other"}, id="stop"),
    pytest.param("/api/v1/consultations/{consultation}/no-show", None, id="no-show"),
    pytest.param("/api/v1/consultations/{consultation}/contact", None, id="contact"),
    pytest.param("/api/v1/seekers", NEW_SEEKER, id="seeker-create"),
    pytest.param("/api/v1/seekers/01040-12345678/restrict", {"reason": "x"}, id="restrict"),
    pytest.param("/api/v1/seekers/01040-12345678/lift-restriction", None, id="lift"),
    pytest.param(
        "/api/v1/blocked-times",
        {
            "counselor": "sato",
            "start": "2026-12-04T09:00:00+09:00",
            "end": "2026-12-04T10:00:00+09:00",
        },
        id="block-time",
    ),
]


@pytest.mark.parametrize(("path", "body"), WRITES)
def test_permission_auditor_cannot_write(world, api_as, objects, path, body):
    api = api_as(world.auditor)
    path = path.format(request=objects["request"].pk, consultation=objects["consultation"].pk)
    before = db_state()

    response = api.post(path, body)

    problem(response, 403, "forbidden")
    assert db_state() == before


READS = [
    pytest.param("/api/v1/seekers", id="seekers"),
    pytest.param("/api/v1/seekers/01040-12345678", id="seeker"),
    pytest.param("/api/v1/requests", id="requests"),
    pytest.param("/api/v1/requests/{request}", id="request"),
    pytest.param("/api/v1/consultations", id="consultations"),
    pytest.param("/api/v1/consultations/{consultation}", id="consultation"),
]


@pytest.mark.parametrize("path", READS)
def test_permission_auditor_cannot_read_personal_data(world, api_as, objects, path):
    api = api_as(world.auditor)

    response = api.get(
        path.format(request=objects["request"].pk, consultation=objects["consultation"].pk)
    )

    body = problem(response, 403, "forbidden")
    assert set(body) <= PROBLEM_KEYS
    assert world.seeker.name not in response.content.decode()


# Reading the registry, persona by persona ---------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status", "numbers"),
    [
        pytest.param("counselor", 200, ["01040-12345678"], id="counselor"),
        pytest.param("counselor2", 200, ["01040-87654321"], id="counselor2"),
        pytest.param("coordinator", 200, ["01040-12345678", "01040-87654321"], id="coordinator"),
        pytest.param("manager", 200, ["01040-12345678", "01040-87654321"], id="manager"),
        pytest.param("auditor", 403, None, id="auditor"),
        pytest.param("other_counselor", 200, ["01010-11112222"], id="other-office"),
    ],
)
def test_permission_seeker_list_by_persona(world, api_as, persona, status, numbers):
    api = api_as(getattr(world, persona))

    response = api.get("/api/v1/seekers")

    assert response.status_code == status, response.content
    if numbers is not None:
        assert [s["job_seeker_number"] for s in response.json()["results"]] == numbers


@pytest.mark.parametrize(
    ("persona", "number", "status"),
    [
        pytest.param("counselor", "01040-12345678", 200, id="own-caseload"),
        pytest.param("counselor", "01040-87654321", 403, id="other-caseload"),
        pytest.param("counselor2", "01040-12345678", 403, id="other-caseload-2"),
        pytest.param("coordinator", "01040-87654321", 200, id="coordinator"),
        pytest.param("counselor", "01010-11112222", 404, id="other-office"),
        pytest.param("coordinator", "01010-11112222", 404, id="coordinator-other-office"),
        pytest.param("other_counselor", "01040-12345678", 404, id="from-other-office"),
    ],
)
def test_permission_seeker_get_by_persona(world, api_as, persona, number, status):
    api = api_as(getattr(world, persona))

    response = api.get(f"/api/v1/seekers/{number}")

    assert response.status_code == status, response.content
    if status != 200:
        assert set(response.json()) <= PROBLEM_KEYS


# A counselor and another counselor's seeker -------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/seekers/01040-87654321", id="seeker"),
        pytest.param("/api/v1/requests/{request2}", id="request"),
        pytest.param("/api/v1/consultations/{consultation2}", id="consultation"),
    ],
)
def test_permission_counselor_cannot_read_other_counselors_seeker(world, api_as, objects, path):
    api = api_as(world.counselor)

    response = api.get(
        path.format(request2=objects["request2"].pk, consultation2=objects["consultation2"].pk)
    )

    problem(response, 403, "forbidden")
    assert world.seeker2.name not in response.content.decode()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(
            "/api/v1/requests",
            {**NEW_REQUEST, "job_seeker_number": "01040-87654321"},
            id="request-create",
        ),
        pytest.param("/api/v1/requests/{request2}/schedule", MOVE, id="request-schedule"),
        pytest.param(
            "/api/v1/consultations/{consultation2}/cancel",
            {"channel": "phone", "reason": "x"},
            id="consultation-cancel",
        ),
        pytest.param("/api/v1/consultations/{consultation2}/reschedule", MOVE, id="reschedule"),
        pytest.param("/api/v1/seekers/01040-87654321/restrict", {"reason": "x"}, id="restrict"),
    ],
)
def test_permission_counselor_cannot_act_for_other_counselors_seeker(
    world, api_as, objects, path, body
):
    api = api_as(world.counselor)
    path = path.format(request2=objects["request2"].pk, consultation2=objects["consultation2"].pk)
    before = db_state()

    response = api.post(path, body)

    problem(response, 403, "forbidden")
    assert db_state() == before


def test_permission_counselor_lists_only_own_requests_and_calendar(world, api_as, objects):
    api = api_as(world.counselor)

    requests = api.get("/api/v1/requests").json()
    consultations = api.get("/api/v1/consultations").json()

    assert [r["job_seeker_number"] for r in requests["results"]] == ["01040-12345678"] * 2
    assert [c["id"] for c in consultations["results"]] == [objects["consultation"].pk]


def test_permission_counselor_cannot_list_other_counselors_calendar(world, api_as, objects):
    api = api_as(world.counselor)

    response = api.get("/api/v1/consultations", counselor="suzuki")

    problem(response, 403, "forbidden")


# Another office -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["other_counselor", "other_coordinator"])
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/seekers/01040-12345678", id="seeker"),
        pytest.param("/api/v1/requests/{request}", id="request"),
        pytest.param("/api/v1/consultations/{consultation}", id="consultation"),
    ],
)
def test_permission_other_office_reads_answer_404_without_data(
    world, api_as, objects, persona, path
):
    staff = objects[persona] if persona in objects else getattr(world, persona)
    api = api_as(staff)
    consultation = objects["consultation"]

    response = api.get(path.format(request=objects["request"].pk, consultation=consultation.pk))

    body = problem(response, 404, "not_found")
    assert set(body) <= PROBLEM_KEYS
    text = response.content.decode()
    for secret in (
        world.seeker.name,
        world.seeker.number,
        world.seeker.email,
        consultation.meeting_id,
        consultation.meeting_passcode,
    ):
        assert secret not in text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(
            "/api/v1/consultations/{consultation}/cancel",
            {"channel": "phone", "reason": "x"},
            id="cancel",
        ),
        pytest.param("/api/v1/consultations/{consultation}/reschedule", MOVE, id="reschedule"),
        pytest.param("/api/v1/consultations/{consultation}/contact", None, id="contact"),
        pytest.param("/api/v1/requests/{request}/schedule", MOVE, id="schedule"),
        pytest.param("/api/v1/requests/{request}/decline", {"reason": "x"}, id="decline"),
        pytest.param("/api/v1/seekers/01010-11112222/restrict", {"reason": "x"}, id="restrict"),
    ],
)
def test_permission_coordinator_cannot_act_on_other_office(world, api_as, objects, path, body):
    api = api_as(world.manager if "restrict" in path else world.coordinator)
    path = path.format(
        request=objects["other_request"].pk, consultation=objects["other_consultation"].pk
    )
    before = db_state()

    response = api.post(path, body)

    body = problem(response, 404, "not_found")
    assert set(body) <= PROBLEM_KEYS
    assert world.other_seeker.name not in response.content.decode()
    assert db_state() == before


def test_permission_other_office_consultations_never_listed(world, api_as, objects):
    api = api_as(world.coordinator)

    response = api.get("/api/v1/consultations")

    assert [c["id"] for c in response.json()["results"]] == [
        objects["consultation"].pk,
        objects["consultation2"].pk,
    ]


def test_permission_request_for_other_office_seeker_is_not_registered(world, api_as):
    api = api_as(world.coordinator)
    before = db_state()

    response = api.post("/api/v1/requests", {**NEW_REQUEST, "job_seeker_number": "01010-11112222"})

    problem(response, 422, "seeker_not_registered")
    assert db_state() == before


# A counselor books the next consultation during the current one (R11) -----------------


@pytest.mark.parametrize(
    "counselor", [pytest.param(None, id="default"), pytest.param("sato", id="self")]
)
def test_permission_counselor_books_next_consultation_for_self(world, api_as, counselor):
    api = api_as(world.counselor)
    created = api.post("/api/v1/requests", {**NEW_REQUEST, "channel": "in_consultation"})
    assert created.status_code == 201, created.content
    extra = {} if counselor is None else {"counselor": counselor}

    response = api.post(f"/api/v1/requests/{created.json()['id']}/schedule", {**MOVE, **extra})

    assert response.status_code == 201, response.content
    assert (response.json()["counselor"], response.json()["status"]) == ("sato", "scheduled")
    assert created.json()["channel"] == "in_consultation"
    assert Consultation.objects.get().created_by == world.counselor


def test_permission_counselor_cannot_schedule_for_other_counselor(world, api_as):
    api = api_as(world.counselor)
    created = api.post("/api/v1/requests", {**NEW_REQUEST, "channel": "in_consultation"})
    before = db_state()

    response = api.post(
        f"/api/v1/requests/{created.json()['id']}/schedule", {**MOVE, "counselor": "suzuki"}
    )

    problem(response, 403, "forbidden")
    assert db_state() == before


def test_permission_counselor_cannot_reschedule_to_other_counselor(world, api_as, objects):
    api = api_as(world.counselor)
    before = db_state()

    response = api.post(
        f"/api/v1/consultations/{objects['consultation'].pk}/reschedule",
        {**MOVE, "counselor": "suzuki"},
    )

    problem(response, 403, "forbidden")
    assert db_state() == before


# Blocked time -------------------------------------------------------------------------

BLOCK = {"start": "2026-12-04T09:00:00+09:00", "end": "2026-12-04T10:00:00+09:00"}


@pytest.mark.parametrize(
    ("persona", "counselor", "status"),
    [
        pytest.param("counselor", "sato", 201, id="own"),
        pytest.param("counselor", "suzuki", 403, id="other-counselor"),
        pytest.param("coordinator", "suzuki", 201, id="coordinator"),
        pytest.param("auditor", "sato", 403, id="auditor"),
        pytest.param("coordinator", "takahashi", 404, id="other-office"),
    ],
)
def test_permission_blocked_time_by_persona(world, api_as, persona, counselor, status):
    api = api_as(getattr(world, persona))

    response = api.post("/api/v1/blocked-times", {**BLOCK, "counselor": counselor})

    assert response.status_code == status, response.content
    assert BlockedTime.objects.count() == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("persona", "owner", "status"),
    [
        pytest.param("counselor", "counselor", 204, id="own"),
        pytest.param("counselor2", "counselor", 403, id="other-counselor"),
        pytest.param("coordinator", "counselor", 204, id="coordinator"),
        pytest.param("auditor", "counselor", 403, id="auditor"),
        pytest.param("other_counselor", "counselor", 404, id="other-office"),
    ],
)
def test_permission_blocked_time_delete_by_persona(world, api_as, persona, owner, status):
    block = booking_services.blocked_time_create(
        counselor=getattr(world, owner),
        start=local(2026, 12, 4, 9, 0),
        end=local(2026, 12, 4, 10, 0),
        actor=world.coordinator,
    )
    api = api_as(getattr(world, persona))

    response = api.client.delete(f"/api/v1/blocked-times/{block.pk}", headers=api.headers)

    assert response.status_code == status, response.content
    assert BlockedTime.objects.filter(pk=block.pk).exists() == (status != 204)


def test_permission_counselor_cannot_restrict_through_stop(world, api_as, objects, frozen_now):
    consultation = objects["consultation"]
    frozen_now.move_to(local(2026, 12, 2, 10, 5))
    booking_services.consultation_start(consultation_id=consultation.pk, actor=world.counselor)
    api = api_as(world.counselor)
    before = db_state()

    response = api.post(
        f"/api/v1/consultations/{consultation.pk}/stop",
        {"reason_code": "abuse", "restrict_seeker": True},
    )

    problem(response, 403, "forbidden")
    assert db_state() == before


def test_blocked_time_create_without_counselor_answers_invalid_input(world):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {make_token(world.coordinator)}"}
    before = db_state()

    response = client.post(
        "/api/v1/blocked-times",
        {**BLOCK, "counselor": ""},
        content_type="application/json",
        headers=headers,
    )

    problem(response, 422, "invalid_input")
    assert db_state() == before
