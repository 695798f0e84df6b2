"""The seeker's own request through the API: `POST /api/v1/offices/{office}/requests` (R6).

The clock is frozen on Tuesday 2026-12-01 10:00 JST (see conftest): Wednesday 2 December
is the first bookable day.
"""

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client

from madoguchi.bookings.models import Request
from madoguchi.notifications.models import OutboxMail
from madoguchi.seekers.models import Seeker
from tests.factories import ALL_DECLARATIONS

URL = "/api/v1/offices/01040/requests"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def body(number: str = "01040-12345678", **changes) -> dict:
    sent = {
        "job_seeker_number": number,
        "name": "求職 太郎",
        "preferences": [{"start": "2026-12-02T10:00:00+09:00", "duration_minutes": 60}],
        "declarations": dict(ALL_DECLARATIONS),
        "companions": {"interpreter_language": "vi", "assistant": False},
    }
    sent.update(changes)
    return sent


def post(sent: dict, url: str = URL, **headers):
    return Client().post(url, sent, content_type="application/json", **headers)


def test_online_request_waits_for_the_link_mailed_to_the_registered_address(world):
    response = post(body(number="０１０４０－１２３４５６７８", email="typed@example.org"))

    created = Request.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": created.pk,
        "status": "pending_verification",
        "office": "01040",
        "verification": "mailed",
    }
    assert (created.seeker, created.channel, created.interpreter_language) == (
        world.seeker,
        "web",
        "vi",
    )
    assert created.created_by is None
    mail = OutboxMail.objects.get()
    assert (mail.kind, mail.seeker, mail.request) == ("verify_request", world.seeker, created)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("01040-99999999", "seeker_not_registered"),
        ("12345", "invalid_job_seeker_number"),
    ],
    ids=["unregistered", "malformed"],
)
def test_online_request_refuses_a_number_it_cannot_book(world, number, code):
    response = post(body(number=number))

    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert Request.objects.count() == 0
    assert OutboxMail.objects.count() == 0


def test_online_request_tells_a_restricted_seeker_to_phone(world):
    Seeker.objects.filter(pk=world.seeker.pk).update(restriction=Seeker.Restriction.RESTRICTED)

    response = post(body())

    assert response.status_code == 422
    assert response.json()["code"] == "seeker_restricted"
    assert Request.objects.count() == 0


def test_online_request_needs_every_declaration(world):
    declarations = dict(ALL_DECLARATIONS, no_recording=False)

    response = post(body(declarations=declarations))

    assert response.json()["code"] == "declaration_missing"
    assert Request.objects.count() == 0


def test_online_request_refuses_another_channel(world):
    response = post(body(channel="phone"))

    assert response.status_code == 422
    assert Request.objects.count() == 0


def test_online_request_for_an_unknown_office_is_not_found(world):
    response = post(body(), url="/api/v1/offices/99999/requests")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_online_request_is_rate_limited_per_number(world):
    """Five sends an hour per number; the fourth of a registered seeker's day is already
    refused by the cap on their verification mails."""
    answers = [post(body(number="01040-99999999"), REMOTE_ADDR=f"192.0.2.{n}") for n in range(6)]

    assert [a.json()["code"] for a in answers] == [
        *["seeker_not_registered"] * 5,
        "rate_limited",
    ]
    assert int(answers[-1]["Retry-After"]) > 0


def test_online_request_mails_a_seeker_at_most_three_times_a_day(world, frozen_now):
    answers = [post(body(), REMOTE_ADDR=f"192.0.2.{n}") for n in range(4)]
    frozen_now.shift(dt.timedelta(days=1, seconds=1))
    cache.clear()
    next_day = post(
        body(preferences=[{"start": "2026-12-03T10:00:00+09:00", "duration_minutes": 60}])
    )

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert 86_000 < int(answers[-1]["Retry-After"]) <= 86_401
    assert next_day.status_code == 201
    assert OutboxMail.objects.filter(kind="verify_request").count() == 4


def test_online_request_is_rate_limited_per_address(world):
    numbers = [f"01040-000000{n:02d}" for n in range(11)]

    answers = [post(body(number=number)) for number in numbers]

    assert [a.status_code for a in answers].count(429) == 1
    assert answers[-1].json()["code"] == "rate_limited"


def test_online_request_counts_an_ipv6_network_as_one_client(world):
    """Addresses of one /64 share an allowance: a subscriber holds the whole network."""
    numbers = [f"01040-000001{n:02d}" for n in range(11)]

    answers = [
        post(body(number=number), REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
        for n, number in enumerate(numbers)
    ]
    other_network = post(body(number="01040-00000200"), REMOTE_ADDR="2001:db8:1:3::1")

    assert [a.status_code for a in answers].count(429) == 1
    assert answers[-1].status_code == 429
    assert other_network.json()["code"] != "rate_limited"
