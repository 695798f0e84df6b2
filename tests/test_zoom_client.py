"""The Zoom client over real HTTP against the local stand-in (tests/zoomserver.py)."""

# The fixtures are imported by name until conftest registers them; pytest passes them in.

import base64
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured

from madoguchi.meetings import zoom
from madoguchi.meetings.zoom import (
    RecordingSettings,
    ZoomClient,
    ZoomError,
    ZoomMeeting,
    meeting_topic,
)
from tests.zoom_fixtures import OTHER_USER, USER, make_client
from tests.zoomserver import ZoomServer

TOKYO = ZoneInfo("Asia/Tokyo")
PASSCODE = "Q7mK2x9P"


def future_start(days: int = 30, hour: int = 9) -> datetime:
    """A start in Tokyo time, always ahead of the real clock the stand-in uses."""
    day = datetime.now(TOKYO).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, 30, tzinfo=TOKYO)


def create(client: ZoomClient, **overrides: object) -> ZoomMeeting:
    options: dict = {
        "topic": meeting_topic(),
        "start": future_start(),
        "duration_minutes": 45,
        "timezone": "Asia/Tokyo",
        "passcode": PASSCODE,
    }
    return client.create_meeting(USER, **{**options, **overrides})


# Server-to-Server OAuth


def test_token_fetched_once_and_cached(zoom_client, zoom_server):
    zoom_client.recording_settings(USER)
    zoom_client.recording_settings(USER)

    [token_request] = zoom_server.token_requests()
    basic = base64.b64encode(f"{ZoomServer.CLIENT_ID}:{ZoomServer.CLIENT_SECRET}".encode())
    assert token_request.headers["authorization"] == f"Basic {basic.decode()}"
    assert token_request.form == {
        "grant_type": "account_credentials",
        "account_id": ZoomServer.ACCOUNT_ID,
    }
    bearers = {request.bearer for request in zoom_server.api_requests()}
    assert len(bearers) == 1 and "" not in bearers


def test_token_renewed_when_less_than_a_minute_left(zoom_client, zoom_server, zoom_clock):
    zoom_client.recording_settings(USER)
    zoom_clock.advance(3600 - 61)
    zoom_client.recording_settings(USER)
    assert len(zoom_server.token_requests()) == 1

    zoom_clock.advance(2)
    zoom_client.recording_settings(USER)

    assert len(zoom_server.token_requests()) == 2
    first, second, third = (request.bearer for request in zoom_server.api_requests())
    assert first == second != third


def test_token_renewed_once_when_zoom_answers_401(zoom_client, zoom_server):
    zoom_client.recording_settings(USER)
    zoom_server.expire_tokens()

    settings = zoom_client.recording_settings(USER)

    assert settings.recording_off is True
    calls = [(r.method, r.path, r.status) for r in zoom_server.requests]
    assert calls == [
        ("POST", "/oauth/token", 200),
        ("GET", "/v2/users/counselor01%40office.example/settings", 200),
        ("GET", "/v2/users/counselor01%40office.example/settings", 401),
        ("POST", "/oauth/token", 200),
        ("GET", "/v2/users/counselor01%40office.example/settings", 200),
    ]


def test_token_renewed_only_once_when_401_persists(zoom_client, zoom_server):
    zoom_server.fail_next(401, times=3, body={"code": 124, "message": "Invalid access token."})

    with pytest.raises(ZoomError) as caught:
        zoom_client.recording_settings(USER)

    assert (caught.value.status, caught.value.code, caught.value.retryable) == (401, 124, False)
    assert len(zoom_server.token_requests()) == 2
    assert len(zoom_server.api_requests()) == 2


def test_threads_share_one_token(zoom_server):
    client = make_client(zoom_server)
    barrier = threading.Barrier(8)

    def call() -> bool:
        barrier.wait()
        return client.recording_settings(USER).recording_off

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: call(), range(8)))

    assert results == [True] * 8
    assert len(zoom_server.token_requests()) == 1
    assert len({r.bearer for r in zoom_server.api_requests()}) == 1


@pytest.mark.parametrize(
    ("override", "status"),
    [
        ({"client_secret": "wrong-secret"}, 401),
        ({"client_id": "wrong-client"}, 401),
        ({"account_id": "wrong-account"}, 400),
    ],
    ids=["secret", "client-id", "account-id"],
)
def test_bad_credentials_are_a_permanent_error(zoom_server, override, status):
    client = make_client(zoom_server, **override)

    with pytest.raises(ZoomError) as caught:
        client.recording_settings(USER)

    error = caught.value
    assert (error.status, error.retryable, error.retry_at) == (status, False, None)
    assert error.message.startswith("Zoom rejected the app credentials")
    assert ZoomServer.CLIENT_SECRET not in str(error)
    assert zoom_server.api_requests() == []


def test_token_endpoint_outage_is_retried(zoom_client, zoom_server, zoom_sleeps):
    zoom_server.fail_next(503, path_prefix="/oauth")

    zoom_client.recording_settings(USER)

    assert [r.status for r in zoom_server.token_requests()] == [503, 200]
    assert len(zoom_sleeps) == 1


def test_from_settings_needs_credentials(settings):
    settings.ZOOM_ACCOUNT_ID = "acc"
    settings.ZOOM_CLIENT_ID = ""
    settings.ZOOM_CLIENT_SECRET = " "

    with pytest.raises(ImproperlyConfigured) as caught:
        ZoomClient.from_settings()

    assert "ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET" in str(caught.value)
    assert "ZOOM_ACCOUNT_ID" not in str(caught.value)


def test_from_settings_reads_urls(settings, zoom_server):
    settings.ZOOM_ACCOUNT_ID = ZoomServer.ACCOUNT_ID
    settings.ZOOM_CLIENT_ID = ZoomServer.CLIENT_ID
    settings.ZOOM_CLIENT_SECRET = ZoomServer.CLIENT_SECRET
    settings.ZOOM_API_BASE_URL = zoom_server.api_base_url + "/"
    settings.ZOOM_OAUTH_URL = zoom_server.oauth_url

    client = ZoomClient.from_settings()

    assert client.recording_settings(USER).recording_off is True
    assert client.api_base_url == zoom_server.api_base_url


# Meetings


def test_create_sends_the_documented_body(zoom_client, zoom_server):
    start = future_start()

    meeting = create(zoom_client, start=start)

    [request] = zoom_server.api_requests()
    assert (request.method, request.path) == (
        "POST",
        "/v2/users/counselor01%40office.example/meetings",
    )
    assert request.json == {
        "topic": "オンライン職業相談",
        "type": 2,
        "start_time": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": "Asia/Tokyo",
        "duration": 45,
        "password": PASSCODE,
        "default_password": False,
        "settings": {
            "waiting_room": True,
            "join_before_host": False,
            "auto_recording": "none",
            "host_video": True,
            "participant_video": True,
            "mute_upon_entry": False,
            "meeting_authentication": False,
            "approval_type": 2,
            "use_pmi": False,
            "audio": "both",
            "email_notification": False,
            "auto_start_meeting_summary": False,
            "auto_start_ai_companion_questions": False,
        },
    }
    assert request.json["start_time"].endswith("Z")
    assert request.json["password"].isalnum() and len(request.json["password"]) <= 10
    assert list(zoom_server.meetings) == [meeting.id]


def test_create_returns_the_meeting(zoom_client, zoom_server):
    start = future_start()

    meeting = create(zoom_client, start=start, agenda="madoguchi:c-42")

    stored = zoom_server.meetings[meeting.id]
    assert isinstance(meeting.id, int) and len(str(meeting.id)) == 11
    assert meeting.passcode == PASSCODE
    assert meeting.join_url == stored["join_url"] and "?pwd=" in meeting.join_url
    assert f"/s/{meeting.id}?zak=" in meeting.start_url
    assert (meeting.host_email, meeting.topic, meeting.agenda) == (
        USER,
        "オンライン職業相談",
        "madoguchi:c-42",
    )
    assert (meeting.start_time, meeting.duration, meeting.status) == (start, 45, "waiting")
    assert stored["settings"]["waiting_room"] is True
    assert PASSCODE not in repr(meeting) and "zak=" not in repr(meeting)


def test_meeting_topic_carries_no_personal_data():
    assert meeting_topic() == "オンライン職業相談"
    assert meeting_topic("ja-jp") == "オンライン職業相談"
    assert meeting_topic("en") == "Online job consultation"


def test_create_refused_passcode_is_a_permanent_error(zoom_client, zoom_server):
    with pytest.raises(ZoomError) as caught:
        create(zoom_client, passcode="far-too-long-1")

    error = caught.value
    assert (error.status, error.code, error.retryable) == (400, 300, False)
    assert error.message == "Validation Failed. Fields: password."
    assert zoom_server.meetings == {}


def test_create_for_unknown_user_masks_the_address(zoom_client):
    with pytest.raises(ZoomError) as caught:
        zoom_client.create_meeting(
            "nobody@office.example",
            topic=meeting_topic(),
            start=future_start(),
            duration_minutes=45,
            timezone="Asia/Tokyo",
            passcode=PASSCODE,
        )

    error = caught.value
    assert (error.status, error.code, error.retryable) == (404, 1001, False)
    assert error.message == "User does not exist: …"
    assert "nobody" not in str(error)


def test_create_needs_an_aware_start(zoom_client, zoom_server):
    with pytest.raises(ValueError, match="aware"):
        create(zoom_client, start=datetime(2030, 1, 1, 9, 0))

    assert zoom_server.requests == []


def test_get_returns_a_fresh_start_url(zoom_client):
    created = create(zoom_client)

    first = zoom_client.get_meeting(created.id)
    second = zoom_client.get_meeting(created.id)

    assert (first.id, first.passcode, first.join_url) == (
        created.id,
        created.passcode,
        created.join_url,
    )
    assert len({created.start_url, first.start_url, second.start_url}) == 3
    assert first.start_url.startswith(created.start_url.split("?")[0] + "?zak=")


def test_update_moves_the_meeting(zoom_client, zoom_server):
    meeting = create(zoom_client)
    new_start = future_start(days=31, hour=14)

    result = zoom_client.update_meeting(
        meeting.id, start=new_start, duration_minutes=30, timezone="Asia/Tokyo"
    )

    assert result is None
    request = zoom_server.api_requests()[-1]
    assert (request.method, request.path, request.status) == (
        "PATCH",
        f"/v2/meetings/{meeting.id}",
        204,
    )
    expected_start = new_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert request.json == {"start_time": expected_start, "duration": 30, "timezone": "Asia/Tokyo"}
    stored = zoom_server.meetings[meeting.id]
    assert (stored["start_time"], stored["duration"]) == (expected_start, 30)


def test_update_into_the_past_is_refused(zoom_client):
    meeting = create(zoom_client)

    with pytest.raises(ZoomError) as caught:
        zoom_client.update_meeting(
            meeting.id,
            start=datetime.now(UTC) - timedelta(hours=1),
            duration_minutes=30,
            timezone="Asia/Tokyo",
        )

    assert (caught.value.status, caught.value.code, caught.value.retryable) == (400, 300, False)


def test_delete_removes_the_meeting_without_mail(zoom_client, zoom_server):
    meeting = create(zoom_client)

    zoom_client.delete_meeting(meeting.id)

    assert zoom_server.meetings == {}
    request = zoom_server.api_requests()[-1]
    assert (request.method, request.path, request.status) == (
        "DELETE",
        f"/v2/meetings/{meeting.id}",
        204,
    )
    assert request.query == {"schedule_for_reminder": "false", "cancel_meeting_reminder": "false"}


def test_delete_of_a_meeting_already_gone_succeeds(zoom_client, zoom_server):
    zoom_client.delete_meeting(85746065432)

    assert [(r.method, r.status) for r in zoom_server.api_requests()] == [("DELETE", 404)]


def test_delete_with_a_404_that_is_not_3001_fails(zoom_client, zoom_server):
    zoom_server.fail_next(404, body={"code": 404, "message": "Not Found."})

    with pytest.raises(ZoomError) as caught:
        zoom_client.delete_meeting(85746065432)

    assert (caught.value.status, caught.value.code) == (404, 404)


def test_list_upcoming_follows_pagination(zoom_client, zoom_server):
    zoom_server.max_page_size = 2
    starts = [future_start(days=days) for days in (5, 3, 4, 1, 2)]
    created = {
        create(zoom_client, start=start, agenda=f"ref-{i}").id for i, start in enumerate(starts)
    }
    create(zoom_client, start=datetime.now(UTC) - timedelta(days=1))
    zoom_client.create_meeting(
        OTHER_USER,
        topic=meeting_topic(),
        start=future_start(),
        duration_minutes=45,
        timezone="Asia/Tokyo",
        passcode=PASSCODE,
    )

    meetings = zoom_client.list_upcoming_meetings(USER)

    assert {m.id for m in meetings} == created
    assert [m.start_time for m in meetings] == sorted(start.astimezone(UTC) for start in starts)
    assert sorted(m.agenda for m in meetings) == [f"ref-{i}" for i in range(5)]
    lists = [r for r in zoom_server.api_requests() if r.method == "GET"]
    assert [r.query.get("next_page_token", "") == "" for r in lists] == [True, False, False]
    assert {(r.query["type"], r.query["page_size"]) for r in lists} == {("upcoming", "300")}


def test_list_upcoming_stops_at_the_page_limit(zoom_client, zoom_server, monkeypatch):
    monkeypatch.setattr(zoom, "MAX_PAGES", 2)
    zoom_server.max_page_size = 1
    for days in (1, 2, 3):
        create(zoom_client, start=future_start(days=days))

    with pytest.raises(ZoomError) as caught:
        zoom_client.list_upcoming_meetings(USER)

    assert caught.value.message == "Zoom listed more than 2 pages of upcoming meetings."
    assert len([r for r in zoom_server.api_requests() if r.method == "GET"]) == 2


def test_recording_settings_are_read(zoom_client, zoom_server):
    off = zoom_client.recording_settings(USER)
    on = zoom_client.recording_settings(OTHER_USER)

    assert off == RecordingSettings(False, False, "none")
    assert off.recording_off is True
    assert on == RecordingSettings(True, True, "none")
    assert on.recording_off is False


@pytest.mark.parametrize(
    ("settings", "off"),
    [
        (RecordingSettings(False, False, "none"), True),
        (RecordingSettings(False, False, None), True),
        (RecordingSettings(False, False, "cloud"), False),
        (RecordingSettings(True, False, "none"), False),
        (RecordingSettings(False, True, "none"), False),
        (RecordingSettings(None, False, "none"), False),
    ],
    ids=["all-off", "auto-unknown", "auto-cloud", "local-on", "cloud-on", "local-unknown"],
)
def test_recording_off_only_when_known_off(settings, off):
    assert settings.recording_off is off


# Retries


def test_429_with_a_short_retry_after_waits_and_retries(zoom_client, zoom_server, zoom_sleeps):
    zoom_server.fail_next(429, retry_after=2)

    meeting = create(zoom_client)

    assert zoom_sleeps == [2.0]
    assert [r.status for r in zoom_server.api_requests()] == [429, 201]
    assert list(zoom_server.meetings) == [meeting.id]


def test_429_with_a_far_retry_after_raises_with_retry_at(zoom_server, zoom_sleeps):
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    client = make_client(zoom_server, sleep=zoom_sleeps.append, clock=lambda: now)
    zoom_server.fail_next(429, retry_after=3600, daily=True)

    with pytest.raises(ZoomError) as caught:
        create(client)

    error = caught.value
    assert (error.status, error.code, error.retryable) == (429, 429, True)
    assert error.retry_at == now + timedelta(hours=1)
    assert zoom_sleeps == []
    assert zoom_server.meetings == {}


def test_429_with_a_retry_after_date(zoom_server, zoom_sleeps):
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    client = make_client(zoom_server, sleep=zoom_sleeps.append, clock=lambda: now)
    zoom_server.fail_next(429, retry_after="Mon, 02 Mar 2026 08:00:05 GMT")

    client.recording_settings(USER)

    assert zoom_sleeps == [5.0]


def test_daily_429_without_retry_after_waits_for_utc_midnight(zoom_server, zoom_sleeps):
    now = datetime(2026, 3, 3, 8, 10, tzinfo=TOKYO)  # 23:10 UTC the day before
    client = make_client(zoom_server, sleep=zoom_sleeps.append, clock=lambda: now)
    zoom_server.fail_next(429, daily=True)

    with pytest.raises(ZoomError) as caught:
        create(client)

    assert caught.value.retryable is True
    assert caught.value.retry_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert zoom_sleeps == []


def test_per_second_429_without_retry_after_backs_off(zoom_client, zoom_server, zoom_sleeps):
    zoom_server.fail_next(429)

    zoom_client.recording_settings(USER)

    assert len(zoom_sleeps) == 1 and 0.25 <= zoom_sleeps[0] <= 0.5
    assert [r.status for r in zoom_server.api_requests()] == [429, 200]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_with_backoff(zoom_client, zoom_server, zoom_sleeps, status):
    meeting = create(zoom_client)
    zoom_server.fail_next(status, times=2)

    fetched = zoom_client.get_meeting(meeting.id)

    assert fetched.id == meeting.id
    assert [r.status for r in zoom_server.api_requests()] == [201, status, status, 200]
    assert len(zoom_sleeps) == 2
    assert 0.25 <= zoom_sleeps[0] <= 0.5 and 0.5 <= zoom_sleeps[1] <= 1.0


def test_persistent_5xx_is_a_retryable_error(zoom_client, zoom_server, zoom_sleeps):
    zoom_server.fail_next(503, times=10)

    with pytest.raises(ZoomError) as caught:
        zoom_client.get_meeting(85746065432)

    error = caught.value
    assert (error.status, error.code, error.retryable) == (503, None, True)
    assert error.message == "Zoom answered HTTP 503 Service Unavailable"
    assert len(zoom_server.api_requests()) == 4
    assert len(zoom_sleeps) == 3
    assert 1.0 <= zoom_sleeps[2] <= 2.0


def test_create_is_not_repeated_after_a_5xx(zoom_client, zoom_server, zoom_sleeps):
    zoom_server.fail_next(500)

    with pytest.raises(ZoomError) as caught:
        create(zoom_client)

    assert (caught.value.status, caught.value.retryable) == (500, True)
    assert [r.method for r in zoom_server.api_requests()] == ["POST"]
    assert zoom_sleeps == []


def test_a_timeout_is_retried(zoom_server, zoom_sleeps):
    client = make_client(zoom_server, sleep=zoom_sleeps.append, timeout=0.2)
    zoom_server.delay_next(1.0)

    settings = client.recording_settings(USER)

    assert settings.recording_off is True
    assert len(zoom_server.api_requests()) == 2
    assert len(zoom_sleeps) == 1


def test_persistent_timeouts_are_a_retryable_error(zoom_server, zoom_sleeps):
    client = make_client(zoom_server, sleep=zoom_sleeps.append, timeout=0.2, max_attempts=2)
    zoom_server.delay_next(1.0, times=2)

    with pytest.raises(ZoomError) as caught:
        client.recording_settings(USER)

    error = caught.value
    assert (error.status, error.retryable) == (None, True)
    assert error.message == "Zoom did not answer GET /users/…/settings: ReadTimeout."
    assert len(zoom_server.api_requests()) == 2


def test_create_is_not_repeated_after_a_timeout(zoom_server, zoom_sleeps):
    client = make_client(zoom_server, sleep=zoom_sleeps.append, timeout=0.2)
    zoom_server.delay_next(1.0)

    with pytest.raises(ZoomError) as caught:
        create(client)

    assert caught.value.retryable is True
    assert [r.method for r in zoom_server.api_requests()] == ["POST"]
    assert zoom_sleeps == []


def test_connection_refused_is_retried_then_retryable(zoom_sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ZoomClient(
        account_id="a",
        client_id="b",
        client_secret="c",
        api_base_url=f"http://127.0.0.1:{port}/v2",
        oauth_url=f"http://127.0.0.1:{port}/oauth/token",
        sleep=zoom_sleeps.append,
        max_attempts=3,
    )

    with pytest.raises(ZoomError) as caught:
        client.recording_settings(USER)

    assert caught.value.retryable is True
    assert caught.value.message == "Zoom did not answer POST /oauth/token: ConnectError."
    assert len(zoom_sleeps) == 2


class CountingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.handled = 0
        self.exits = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.handled += 1
        return super().handle_request(request)

    def __exit__(self, *exc_info: Any) -> None:
        self.exits += 1
        super().__exit__(*exc_info)


def test_an_injected_transport_is_used_and_left_open(zoom_server):
    transport = CountingTransport()
    client = make_client(zoom_server, transport=transport)

    try:
        client.recording_settings(USER)
        client.recording_settings(OTHER_USER)
        assert (transport.handled, transport.exits) == (3, 0)
    finally:
        transport.close()


# Logs


def test_logs_carry_no_credentials_or_personal_data(zoom_client, zoom_server, caplog):
    caplog.set_level(logging.DEBUG, logger="madoguchi.zoom")
    meeting = create(zoom_client)
    fresh = zoom_client.get_meeting(meeting.id)
    zoom_server.expire_tokens()
    zoom_client.recording_settings(USER)
    with pytest.raises(ZoomError) as caught:
        zoom_client.create_meeting(
            "nobody@office.example",
            topic=meeting_topic(),
            start=future_start(),
            duration_minutes=45,
            timezone="Asia/Tokyo",
            passcode=PASSCODE,
        )

    ours = [r.getMessage() for r in caplog.records if r.name == "madoguchi.zoom"]
    text = "\n".join([*ours, str(caught.value)])
    tokens = {r.bearer for r in zoom_server.api_requests()}
    forbidden = [
        ZoomServer.CLIENT_SECRET,
        PASSCODE,
        USER,
        "nobody",
        "%40",
        meeting.join_url,
        fresh.start_url,
        "zak=",
        *tokens,
    ]
    assert len(tokens) == 2
    assert [value for value in forbidden if value in text] == []
    assert any("zoom POST /users/…/meetings -> 201 in " in line for line in ours)
    assert any("zoom GET /users/…/settings -> 401 in " in line for line in ours)
    assert any("zoom POST /oauth/token -> 200 in " in line for line in ours)
