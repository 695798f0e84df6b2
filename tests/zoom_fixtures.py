"""Fixtures for Zoom over real HTTP against the local stand-in in tests/zoomserver.py.

`zoom_client` never really sleeps: its waits are appended to `zoom_sleeps`. Its clock is
Django's now (so time-machine moves it too) plus whatever `zoom_clock.advance` adds.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from madoguchi.meetings.zoom import ZoomClient
from tests.zoomserver import RECORDING_OFF, ZoomServer

USER = "counselor01@office.example"
OTHER_USER = "counselor02@office.example"


class MovableClock:
    """Django's clock moved forward by `advance`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return timezone.now() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def make_client(
    server: ZoomServer,
    *,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    **overrides: Any,
) -> ZoomClient:
    """A client for the stand-in's app; keyword arguments override ZoomClient's."""
    options: dict[str, Any] = {
        "account_id": ZoomServer.ACCOUNT_ID,
        "client_id": ZoomServer.CLIENT_ID,
        "client_secret": ZoomServer.CLIENT_SECRET,
        "api_base_url": server.api_base_url,
        "oauth_url": server.oauth_url,
        "timeout": 2.0,
        "sleep": sleep or (lambda seconds: None),
        "clock": clock or timezone.now,
    }
    return ZoomClient(**{**options, **overrides})


@pytest.fixture
def zoom_server() -> Iterator[ZoomServer]:
    """A started stand-in with USER (recording off) and OTHER_USER (Zoom's defaults)."""
    server = ZoomServer()
    server.add_user(USER, recording=RECORDING_OFF)
    server.add_user(OTHER_USER)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def zoom_sleeps() -> list[float]:
    return []


@pytest.fixture
def zoom_clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def zoom_client(
    zoom_server: ZoomServer, zoom_sleeps: list[float], zoom_clock: MovableClock
) -> ZoomClient:
    return make_client(zoom_server, sleep=zoom_sleeps.append, clock=zoom_clock)
