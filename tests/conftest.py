"""Shared fixtures: an office with its personas, and a clock frozen on an office day.

The clock: Tuesday 2026-12-01 10:00 in Tokyo, so Wednesday 2 December is the first
bookable day (R8) and Thursday 3 December the next.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.test import Client

from madoguchi.offices.models import Office, Staff
from madoguchi.seekers.models import Seeker
from tests.factories import local, make_office, make_seeker, make_staff, make_token
from tests.zoom_fixtures import zoom_client, zoom_clock, zoom_server, zoom_sleeps  # noqa: F401

NOW = local(2026, 12, 1, 10, 0)


@pytest.fixture
def frozen_now() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@dataclass
class World:
    office: Office
    counselor: Staff
    counselor2: Staff
    coordinator: Staff
    manager: Staff
    auditor: Staff
    seeker: Seeker
    seeker2: Seeker
    other_office: Office
    other_counselor: Staff
    other_seeker: Seeker


@pytest.fixture
def world(db, frozen_now) -> World:
    office = make_office()
    counselor = make_staff(office, "counselor", "sato")
    counselor2 = make_staff(office, "counselor", "suzuki")
    other_office = make_office(code="01010", name="ハローワーク札幌")
    other_counselor = make_staff(other_office, "counselor", "takahashi")
    return World(
        office=office,
        counselor=counselor,
        counselor2=counselor2,
        coordinator=make_staff(office, "coordinator", "tanaka"),
        manager=make_staff(office, "manager", "ito"),
        auditor=make_staff(office, "auditor", "watanabe"),
        seeker=make_seeker(office, counselor, number="01040-12345678"),
        seeker2=make_seeker(office, counselor2, number="01040-87654321"),
        other_office=other_office,
        other_counselor=other_counselor,
        other_seeker=make_seeker(other_office, other_counselor, number="01010-11112222"),
    )


class ApiClient:
    """A Django test client that speaks JSON with a staff member's bearer token."""

    def __init__(self, staff: Staff | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {make_token(staff)}"} if staff else {}

    def get(self, path: str, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(
            path, body or {}, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def api_as(world):
    """`api_as(world.coordinator)` gives a JSON client signed in with that staff's token."""
    return ApiClient


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; with a frozen clock every test shares a minute."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
