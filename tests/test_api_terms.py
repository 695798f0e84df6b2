"""The terms in force (R4, R5) and the API's OpenAPI document (SPEC §5).

A fresh installation has version 1 of the shipped template (office null); every office
made with `office_create` starts with its own version 1, filled from the office.
"""

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client

from madoguchi.offices.models import Office
from madoguchi.terms.models import Consent, TermsVersion
from madoguchi.terms.services import TEMPLATE_TITLE, terms_publish, terms_template_render
from tests.factories import ALL_DECLARATIONS, local

URL = "/api/v1/terms/current"
V2_FROM = local(2026, 12, 10, 0, 0)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= {"type", "title", "status", "code", "detail"}
    assert (body["status"], body["code"]) == (status, code)
    return body


def publish_v2(world):
    return terms_publish(
        office=world.office,
        title="オンライン職業相談 利用規約 第2版",
        body_ja="第2版の本文",
        body_en="Version 2",
        changes_ja="録画禁止の説明を追加",
        changes_en="Explains the recording ban",
        effective_from=V2_FROM,
        actor=world.manager,
    )


def current(**params):
    return Client().get(URL, params)


# The version in force -----------------------------------------------------------------


def test_terms_current_without_office_is_shipped_version_1(world):
    response = current()

    assert response.status_code == 200, response.content
    body = response.json()
    shipped_ja, shipped_en = terms_template_render(None)
    assert (body["office"], body["version"], body["title"]) == (None, 1, TEMPLATE_TITLE)
    assert (body["body_ja"], body["body_en"]) == (shipped_ja, shipped_en)
    assert (body["changes_ja"], body["changes_en"]) == ("初版", "First version")
    assert "オンライン職業相談" in body["body_ja"]
    assert "公共職業安定所（ハローワーク）" in body["body_ja"]


def test_terms_current_of_office_is_its_own_version_1(world):
    response = current(office="01040")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["office"], body["version"], body["title"]) == ("01040", 1, TEMPLATE_TITLE)
    assert "ハローワーク釧路" in body["body_ja"]
    assert "0154-41-1201" in body["body_ja"]
    assert body["body_ja"] == terms_template_render(world.office)[0]


def test_terms_current_of_other_office_names_that_office(world):
    body = current(office="01010").json()

    assert (body["office"], body["version"]) == ("01010", 1)
    assert "ハローワーク札幌" in body["body_ja"]
    assert "ハローワーク釧路" not in body["body_ja"]


def test_terms_current_office_without_own_version_falls_back_to_shipped(world):
    Office.objects.create(code="01020", name="ハローワーク函館")

    body = current(office="01020").json()

    assert (body["office"], body["version"]) == (None, 1)


@pytest.mark.parametrize("office", ["99999", "abc"])
def test_terms_current_unknown_office_answers_404(world, office):
    problem(current(office=office), 404, "not_found")


def test_terms_current_with_staff_token(world, api_as):
    api = api_as(world.counselor)

    response = api.get(URL, office="01040")

    assert (response.status_code, response.json()["office"]) == (200, "01040")


# A new version (R5) -------------------------------------------------------------------


def test_terms_current_future_version_not_yet_in_force(world):
    publish_v2(world)

    body = current(office="01040").json()

    assert (body["office"], body["version"], body["changes_ja"]) == ("01040", 1, "")


def test_terms_current_new_version_in_force_after_effective_date(world, frozen_now):
    publish_v2(world)
    frozen_now.move_to(V2_FROM)

    response = current(office="01040")

    body = response.json()
    assert (body["office"], body["version"], body["title"], body["body_ja"]) == (
        "01040",
        2,
        "オンライン職業相談 利用規約 第2版",
        "第2版の本文",
    )
    assert (body["changes_ja"], body["changes_en"]) == (
        "録画禁止の説明を追加",
        "Explains the recording ban",
    )
    assert dt.datetime.fromisoformat(body["effective_from"]) == V2_FROM


def test_terms_current_new_office_version_leaves_others(world, frozen_now):
    publish_v2(world)
    frozen_now.move_to(V2_FROM)

    shipped = current().json()
    other = current(office="01010").json()

    assert [(shipped["office"], shipped["version"]), (other["office"], other["version"])] == [
        (None, 1),
        ("01010", 1),
    ]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(local(2026, 12, 9, 23, 59), 1, id="the-day-before"),
        pytest.param(V2_FROM, 2, id="from-effective"),
    ],
)
def test_terms_request_consents_to_version_in_force(world, api_as, frozen_now, moment, expected):
    publish_v2(world)
    frozen_now.move_to(moment)
    api = api_as(world.coordinator)

    response = api.post(
        "/api/v1/requests",
        {
            "job_seeker_number": "01040-12345678",
            "name": "求職 太郎",
            "preferences": [{"start": "2026-12-11T10:00:00+09:00", "duration_minutes": 60}],
            "channel": "phone",
            "declarations": ALL_DECLARATIONS,
        },
    )

    assert response.status_code == 201, response.content
    assert response.json()["terms_version"] == expected
    version = TermsVersion.objects.get(office=world.office, number=expected)
    assert list(Consent.objects.values_list("version", "channel")) == [(version.pk, "phone")]


def test_terms_current_is_rate_limited(world, settings):
    settings.MADOGUCHI_PUBLIC_RATE_PER_MINUTE = 2
    cache.clear()
    allowed = [current().status_code for _ in range(2)]

    response = current()

    assert allowed == [200, 200]
    problem(response, 429, "rate_limited")
    assert response["Retry-After"] == "60"


# OpenAPI ------------------------------------------------------------------------------


CONTRACT_PATHS = {
    "/api/v1/offices/{office}/availability": ["get"],
    "/api/v1/requests": ["get", "post"],
    "/api/v1/requests/{request_id}/schedule": ["post"],
    "/api/v1/requests/{request_id}/decline": ["post"],
    "/api/v1/consultations": ["get"],
    "/api/v1/consultations/{consultation_id}/cancel": ["post"],
    "/api/v1/consultations/{consultation_id}/reschedule": ["post"],
    "/api/v1/consultations/{consultation_id}/start": ["post"],
    "/api/v1/consultations/{consultation_id}/complete": ["post"],
    "/api/v1/consultations/{consultation_id}/stop": ["post"],
    "/api/v1/consultations/{consultation_id}/no-show": ["post"],
    "/api/v1/seekers": ["get", "post"],
    "/api/v1/seekers/{number}/restrict": ["post"],
    "/api/v1/seekers/{number}/lift-restriction": ["post"],
    "/api/v1/terms/current": ["get"],
}


def test_openapi_lists_the_contract_paths(db):
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["info"]["title"] == "Madoguchi API"
    paths = document["paths"]
    assert {path: sorted(paths.get(path, {})) for path in CONTRACT_PATHS} == CONTRACT_PATHS


def test_openapi_schedule_documents_201_and_problems(db):
    document = Client().get("/api/v1/openapi.json").json()

    responses = document["paths"]["/api/v1/requests/{request_id}/schedule"]["post"]["responses"]

    assert sorted(responses) == ["201", "400", "401", "403", "404", "409", "422", "429"]
