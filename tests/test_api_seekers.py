"""The job-seeker registry API (R1, R3, R14, R21; SPEC §2 job-seeker number, §5 seeker)."""

import datetime as dt
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madoguchi.records.models import AuditEntry
from madoguchi.seekers.models import Seeker
from tests.conftest import NOW
from tests.factories import make_seeker

URL = "/api/v1/seekers"
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}

NEW_SEEKER = {
    "job_seeker_number": "０１０４０－２２２２３３３３",
    "name": "山田 花子",
    "name_kana": "ヤマダ ハナコ",
    "email": "hanako@example.org",
    "phone": "090-1234-5678",
    "counselor": "suzuki",
    "registered_on": "2026-11-02",
    "expires_on": "2027-11-01",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert (body["status"], body["code"]) == (status, code)
    return body


def registry_state() -> tuple[list, int]:
    """Every seeker's number and restriction, and the audit log's length."""
    rows = list(Seeker.objects.order_by("number").values_list("number", "name", "restriction"))
    return rows, AuditEntry.objects.count()


@pytest.fixture
def registry(world):
    """Two more seekers with names to search for, one in sato's caseload."""
    yamada = make_seeker(
        world.office, world.counselor, number="01040-33334444", name="山田 一郎", name_kana="ヤマダ"
    )
    kawai = make_seeker(
        world.office, world.counselor2, number="01040-55556666", name="川井 守", name_kana="カワイ"
    )
    return {"yamada": yamada, "kawai": kawai}


# Create -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_seeker_create_answers_201_with_fields(world, api_as, role):
    api = api_as(getattr(world, role))

    response = api.post(URL, NEW_SEEKER)

    assert response.status_code == 201, response.content
    assert response.json() == {
        "job_seeker_number": "01040-22223333",
        "name": "山田 花子",
        "name_kana": "ヤマダ ハナコ",
        "email": "hanako@example.org",
        "phone": "090-1234-5678",
        "counselor": "suzuki",
        "registered_on": "2026-11-02",
        "expires_on": "2027-11-01",
        "language": "ja",
        "status": "active",
        "restriction": "none",
        "restriction_reason": "",
    }
    seeker = Seeker.objects.get(number="01040-22223333")
    assert (seeker.office, seeker.counselor, seeker.expires_on) == (
        world.office,
        world.counselor2,
        dt.date(2027, 11, 1),
    )


def test_seeker_create_writes_audit_entry(world, api_as):
    api = api_as(world.manager)

    api.post(URL, NEW_SEEKER)

    entry = AuditEntry.objects.get(action="seeker.created")
    seeker = Seeker.objects.get(number="01040-22223333")
    assert (entry.actor, entry.office, entry.object_type, entry.object_id) == (
        world.manager.user,
        world.office,
        "seeker",
        str(seeker.pk),
    )


def test_seeker_create_without_counselor(world, api_as):
    api = api_as(world.manager)

    response = api.post(URL, {**NEW_SEEKER, "counselor": None, "language": "en"})

    assert response.status_code == 201, response.content
    assert (response.json()["counselor"], response.json()["language"]) == (None, "en")


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("01040-12345678", id="same-office"),
        pytest.param("０１０４０－１２３４５６７８", id="same-office-full-width"),
        pytest.param("0104012345678", id="same-office-no-hyphen"),
        pytest.param("01010-11112222", id="other-office"),
    ],
)
def test_seeker_create_refuses_duplicate_number(world, api_as, number):
    api = api_as(world.manager)
    before = registry_state()

    response = api.post(URL, {**NEW_SEEKER, "job_seeker_number": number})

    body = problem(response, 422, "invalid_input")
    assert body["detail"].startswith("number: ")
    assert registry_state() == before


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        pytest.param(
            {"job_seeker_number": "1040-22223333"}, 422, "invalid_job_seeker_number", id="number"
        ),
        pytest.param({"expires_on": "2026-11-01"}, 422, "invalid_input", id="expiry-before"),
        pytest.param({"email": "not-an-address"}, 422, "invalid_input", id="email"),
        pytest.param({"language": "fr"}, 422, "invalid_input", id="language"),
        pytest.param({"name": ""}, 422, "invalid_input", id="empty-name"),
        pytest.param({"registered_on": "2026-02-30"}, 422, "invalid_input", id="date"),
        pytest.param({"counselor": "nobody"}, 404, "not_found", id="unknown-counselor"),
        pytest.param({"counselor": "takahashi"}, 404, "not_found", id="other-office-counselor"),
        pytest.param({"counselor": "tanaka"}, 404, "not_found", id="not-a-counselor"),
    ],
)
def test_seeker_create_refuses_bad_input(world, api_as, changes, status, code):
    api = api_as(world.manager)
    before = registry_state()

    response = api.post(URL, {**NEW_SEEKER, **changes})

    problem(response, status, code)
    assert registry_state() == before


def test_seeker_create_refuses_blank_name(world, api_as):
    api = api_as(world.manager)
    before = registry_state()

    response = api.post(URL, {**NEW_SEEKER, "name": "   "})

    problem(response, 422, "invalid_input")
    assert registry_state() == before


@pytest.mark.parametrize("role", ["counselor", "auditor"])
def test_seeker_create_by_counselor_or_auditor_answers_forbidden(world, api_as, role):
    api = api_as(getattr(world, role))
    before = registry_state()

    response = api.post(URL, NEW_SEEKER)

    problem(response, 403, "forbidden")
    assert registry_state() == before


# List and search ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param(
            "", ["01040-12345678", "01040-33334444", "01040-55556666", "01040-87654321"], id="all"
        ),
        pytest.param("山田", ["01040-33334444"], id="name"),
        pytest.param("川井 守", ["01040-55556666"], id="full-name"),
        pytest.param("ヤマダ", ["01040-33334444"], id="kana"),
        pytest.param("カワイ", ["01040-55556666"], id="kana-2"),
        pytest.param("33334444", ["01040-33334444"], id="number-part"),
        pytest.param("01040-5555", ["01040-55556666"], id="number-prefix"),
        pytest.param("11112222", [], id="other-office-number"),
        pytest.param("佐藤", [], id="nobody"),
    ],
)
def test_seeker_list_searches_office_registry(world, api_as, registry, q, expected):
    api = api_as(world.coordinator)

    response = api.get(URL, q=q)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], [s["job_seeker_number"] for s in body["results"]]) == (
        len(expected),
        expected,
    )


@pytest.mark.parametrize(
    "q",
    [
        pytest.param("０１０４０－３３３３４４４４", id="full-width"),
        pytest.param("0104033334444", id="no-hyphen"),
    ],
)
def test_seeker_list_search_accepts_number_formats(world, api_as, registry, q):
    api = api_as(world.coordinator)

    response = api.get(URL, q=q)

    assert [s["job_seeker_number"] for s in response.json()["results"]] == ["01040-33334444"]


def test_seeker_list_pages(world, api_as, registry):
    api = api_as(world.manager)

    response = api.get(URL, limit=2, offset=1)

    body = response.json()
    assert (body["count"], [s["job_seeker_number"] for s in body["results"]]) == (
        4,
        ["01040-33334444", "01040-55556666"],
    )


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("", ["01040-12345678", "01040-33334444"], id="all"),
        pytest.param("カワイ", [], id="not-in-caseload"),
        pytest.param("ヤマダ", ["01040-33334444"], id="in-caseload"),
    ],
)
def test_seeker_list_counselor_sees_only_caseload(world, api_as, registry, q, expected):
    api = api_as(world.counselor)

    response = api.get(URL, q=q)

    assert response.status_code == 200, response.content
    assert [s["job_seeker_number"] for s in response.json()["results"]] == expected


def test_seeker_list_query_count_does_not_grow_with_rows(world, api_as):
    api = api_as(world.coordinator)
    api.get(URL)  # the token's first use writes last_used_at once
    with CaptureQueriesContext(connection) as two:
        api.get(URL)
    for _ in range(3):
        make_seeker(world.office, world.counselor2)

    with CaptureQueriesContext(connection) as five:
        response = api.get(URL)

    assert response.json()["count"] == 5
    assert len(five) == len(two) == 3


# Get ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("01040-12345678", id="canonical"),
        pytest.param("０１０４０－１２３４５６７８", id="full-width"),
        pytest.param("0104012345678", id="no-hyphen"),
        pytest.param("01040 12345678", id="space"),
        pytest.param("01040ー12345678", id="katakana-long-mark"),
    ],
)
def test_seeker_get_by_number_in_any_accepted_format(world, api_as, typed):
    api = api_as(world.coordinator)

    response = api.get(f"{URL}/{quote(typed)}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["job_seeker_number"], body["name"], body["counselor"]) == (
        "01040-12345678",
        world.seeker.name,
        "sato",
    )


@pytest.mark.parametrize(
    ("number", "status", "code"),
    [
        pytest.param("01040-99999999", 404, "not_found", id="unknown"),
        pytest.param("01040-123", 422, "invalid_job_seeker_number", id="invalid"),
    ],
)
def test_seeker_get_refuses(world, api_as, number, status, code):
    api = api_as(world.coordinator)

    problem(api.get(f"{URL}/{number}"), status, code)


def test_seeker_get_is_audited(world, api_as):
    api = api_as(world.coordinator)

    api.get(f"{URL}/01040-12345678")

    entry = AuditEntry.objects.get(action="seeker.viewed")
    assert (entry.actor, entry.object_id) == (world.coordinator.user, str(world.seeker.pk))


# Restrict and lift (R3, R14) ----------------------------------------------------------


def test_seeker_restrict_by_manager(world, api_as):
    api = api_as(world.manager)

    response = api.post(f"{URL}/0104012345678/restrict", {"reason": " 暴言 "})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["job_seeker_number"], body["restriction"], body["restriction_reason"]) == (
        "01040-12345678",
        "restricted",
        "暴言",
    )
    seeker = Seeker.objects.get(pk=world.seeker.pk)
    assert (seeker.restriction, seeker.restriction_since) == ("restricted", NOW)
    entry = AuditEntry.objects.get(action="seeker.restricted")
    assert (entry.actor, entry.object_id, entry.details) == (
        world.manager.user,
        str(world.seeker.pk),
        {"reason": "暴言"},
    )


@pytest.mark.parametrize("role", ["coordinator", "counselor", "auditor"])
def test_seeker_restrict_by_non_manager_answers_forbidden(world, api_as, role):
    api = api_as(getattr(world, role))
    before = registry_state()

    response = api.post(f"{URL}/01040-12345678/restrict", {"reason": "暴言"})

    problem(response, 403, "forbidden")
    assert registry_state() == before


@pytest.mark.parametrize(
    "body", [pytest.param({"reason": "  "}, id="blank"), pytest.param({}, id="none")]
)
def test_seeker_restrict_without_reason_answers_invalid_input(world, api_as, body):
    api = api_as(world.manager)
    before = registry_state()

    response = api.post(f"{URL}/01040-12345678/restrict", body)

    assert problem(response, 422, "invalid_input")["field"] == "reason"
    assert registry_state() == before


@pytest.mark.parametrize("restriction", ["restricted", "review"])
def test_seeker_lift_restriction_by_manager(world, api_as, restriction):
    Seeker.objects.filter(pk=world.seeker.pk).update(
        restriction=restriction, restriction_reason="2 no-shows", restriction_since=NOW
    )
    api = api_as(world.manager)

    response = api.post(f"{URL}/01040-12345678/lift-restriction", {"reason": "面談で確認"})

    assert response.status_code == 200, response.content
    assert response.json()["restriction"] == "none"
    seeker = Seeker.objects.get(pk=world.seeker.pk)
    assert (seeker.restriction, seeker.restriction_since) == ("none", None)
    entry = AuditEntry.objects.get(action="seeker.restriction_lifted")
    assert (entry.actor, entry.details) == (world.manager.user, {"reason": "面談で確認"})


def test_seeker_lift_restriction_without_body(world, api_as):
    Seeker.objects.filter(pk=world.seeker.pk).update(restriction="restricted")
    api = api_as(world.manager)

    response = api.client.post(
        f"{URL}/01040-12345678/lift-restriction",
        b"",
        content_type="application/json",
        headers=api.headers,
    )

    assert response.status_code == 200, response.content
    assert response.json()["restriction"] == "none"


def test_seeker_lift_restriction_when_not_restricted_answers_invalid_transition(world, api_as):
    api = api_as(world.manager)
    before = registry_state()

    response = api.post(f"{URL}/01040-12345678/lift-restriction", {"reason": "x"})

    problem(response, 409, "invalid_transition")
    assert registry_state() == before


def test_seeker_lift_restriction_by_coordinator_answers_forbidden(world, api_as):
    Seeker.objects.filter(pk=world.seeker.pk).update(restriction="restricted")
    api = api_as(world.coordinator)
    before = registry_state()

    response = api.post(f"{URL}/01040-12345678/lift-restriction", {"reason": "x"})

    problem(response, 403, "forbidden")
    assert registry_state() == before
