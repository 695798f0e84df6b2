"""Logs never hold secrets or personal data (R21).

A whole booking runs end to end with the madoguchi and django loggers at DEBUG, writing
through the handler that settings.LOGGING configures (JSON lines, scrubbed); then the
captured output is searched for the seeker's name, number, e-mail and the passcode.
"""

import datetime as dt
import io
import json
import logging
import unicodedata
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client

from madoguchi.bookings.models import Consultation, Request
from madoguchi.meetings import webhooks
from madoguchi.notifications.models import OutboxMail
from madoguchi.records.logs import scrub
from tests.factories import ALL_DECLARATIONS, local
from tests.zoom_fixtures import USER, make_client

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "webhook-secret-for-log-tests"
WED_10 = local(2026, 12, 2, 10, 0)


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the configured console handler writes, madoguchi and django at DEBUG."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    old_stream = handler.setStream(stream)
    loggers = [logging.getLogger(name) for name in ("madoguchi", "django")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        handler.setStream(old_stream)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@pytest.fixture
def zoom(settings, zoom_server, world):
    from madoguchi.meetings import services as meeting_services

    settings.MADOGUCHI_MEETING_PROVIDER = "zoom"
    settings.ZOOM_ACCOUNT_ID = zoom_server.ACCOUNT_ID
    settings.ZOOM_CLIENT_ID = zoom_server.CLIENT_ID
    settings.ZOOM_CLIENT_SECRET = zoom_server.CLIENT_SECRET
    settings.ZOOM_API_BASE_URL = zoom_server.api_base_url
    settings.ZOOM_OAUTH_URL = zoom_server.oauth_url
    settings.ZOOM_WEBHOOK_SECRET = SECRET
    world.counselor.zoom_user = USER
    world.counselor.save()
    meeting_services._clients[meeting_services.zoom_client_key()] = make_client(zoom_server)
    yield zoom_server
    meeting_services._clients.clear()


def _worker() -> None:
    call_command("worker", "--once")


def _join(consultation: Consultation, joined: dt.datetime, seeker) -> None:
    body = {
        "event": "meeting.participant_joined",
        "event_ts": int(joined.timestamp() * 1000),
        "payload": {
            "account_id": "acc",
            "object": {
                "id": consultation.meeting_id,
                "uuid": "uuid-" + consultation.meeting_id,
                "host_id": "host-1",
                "type": 2,
                "participant": {
                    "user_id": "16778240",
                    "user_name": seeker.name,  # Zoom sends the name the seeker typed
                    "id": "",
                    "participant_uuid": "p-guest",
                    "join_time": joined.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "email": seeker.email,
                },
            },
        },
    }
    raw = json.dumps(body).encode()
    headers = webhooks.sign(secret=SECRET, body=raw, timestamp=int(joined.timestamp()))
    response = Client().post(
        "/webhooks/zoom",
        raw,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )
    assert response.status_code == 200


def _forms(number: str) -> list[str]:
    digits = number.replace("-", "")
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "－" for c in number)
    assert unicodedata.normalize("NFKC", full_width) == number
    return [number, digits, full_width]


def test_logs_of_a_whole_booking_hold_no_personal_data_or_passcode(
    world, api_as, zoom, frozen_now, captured_logs
):
    seeker = world.seeker
    # The seeker's online request through the web form (full-width number, as typed on
    # a phone), and the verification mail the worker sends.
    client = Client()
    client.get("/offices/01040/request/")
    sent = client.post(
        "/offices/01040/request/",
        {
            "name": seeker.name,
            "job_seeker_number": "０１０４０－１２３４５６７８",
            "duration": "60",
            "start_1": WED_10.isoformat(),
            "start_2": "",
            "start_3": "",
            "interpreter_language": "",
            "accept_terms": "on",
            "website": "",
            **{key: "on" for key in ALL_DECLARATIONS},
        },
    )
    assert sent.status_code == 302
    request = Request.objects.get(seeker=seeker)
    _worker()
    mail = OutboxMail.objects.get(kind="verify_request", status="sent")
    (link,) = [w for w in mail.text.split() if "/requests/verify/" in w]
    link = link.removeprefix("http://127.0.0.1:8000")
    assert Client().post(link).status_code == 200
    assert Client().get(link + "?utm=mail").status_code == 200
    # The office schedules it through the API; the worker makes the Zoom meeting and
    # mails the details.
    answer = api_as(world.coordinator).post(
        f"/api/v1/requests/{request.pk}/schedule",
        {"start": WED_10.isoformat(), "duration_minutes": 60},
    )
    assert answer.status_code == 201
    _worker()
    consultation = Consultation.objects.get(pk=answer.json()["id"])
    assert consultation.meeting_passcode
    # A forged webhook delivery is refused (and logged), then the seeker joins.
    assert Client().post("/webhooks/zoom", b"{}", content_type="application/json").status_code
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=1))
    _join(consultation, WED_10 + dt.timedelta(minutes=1), seeker)
    counselor = api_as(world.counselor)
    assert counselor.post(f"/api/v1/consultations/{consultation.pk}/start").status_code == 200
    frozen_now.move_to(WED_10 + dt.timedelta(minutes=55))
    assert counselor.post(f"/api/v1/consultations/{consultation.pk}/complete").status_code == 200
    _worker()
    # A day later the link has expired: the refusal is logged with the path.
    frozen_now.move_to(WED_10 + dt.timedelta(days=1))
    assert Client().post(link).status_code == 409

    output = captured_logs.getvalue()
    consultation.refresh_from_db()
    assert Request.objects.get(pk=request.pk).status == "scheduled"
    assert consultation.status == "completed"
    assert consultation.seeker_joined_at == WED_10 + dt.timedelta(minutes=1)
    lines = output.splitlines()
    assert len(lines) >= 5  # the worker's rounds, mail sent, the refused webhook...
    assert all(json.loads(line)["logger"] for line in lines)  # every line is JSON
    assert any("webhook refused" in line for line in lines)
    assert any("/requests/verify/[token]/" in line for line in lines)
    secrets = [
        seeker.name,
        *seeker.name.split(),
        seeker.email,
        *_forms(seeker.number),
        consultation.meeting_passcode,
        link.split("/")[-2],
    ]
    found = {secret: secret in output for secret in secrets}
    assert found == dict.fromkeys(secrets, False)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("mail to taro@example.org sent", "mail to [email] sent"),
        ("no 01040-12345678.", "no [number]."),
        ("no ０１０４０－１２３４５６７８", "no [number]"),
        ("no 0104012345678", "no [number]"),
        ("passcode=123456 ok", "passcode=*** ok"),
        ("the passcode 12ab56 was sent", "the passcode *** was sent"),
        ("zoom POST /oauth/token -> 200 in 16 ms", "zoom POST /oauth/token -> 200 in 16 ms"),
        ('{"passcode": "654321"}', '{"passcode": "***"}'),
        ("Authorization: Bearer mdg_abcdefghijkl", "Authorization: *** ***"),
        (
            "GET https://zoom.us/j/1234?pwd=abc HTTP/1.1",
            "GET https://zoom.us/j/1234?[query] HTTP/1.1",
        ),
        (
            "/requests/verify/MTI:1vEx3Q:Zk9aX3cB6rDdVd2JqMmNhY3lJZk5OQ0hR/",
            "/requests/verify/[token]/",
        ),
        (
            "consultation 12 at 2026-12-02T10:00:00+09:00",
            "consultation 12 at 2026-12-02T10:00:00+09:00",
        ),
    ],
    ids=[
        "email",
        "number",
        "full-width",
        "no-dash",
        "kv",
        "prose",
        "zoom-line",
        "json",
        "auth",
        "query",
        "signed",
        "kept",
    ],
)
def test_scrub_masks_secrets_and_keeps_the_rest(line, expected):
    assert scrub(line) == expected


def test_scrub_filter_masks_arguments_and_exceptions():
    from madoguchi.records.logs import JsonFormatter, ScrubFilter

    try:
        raise ValueError("bad address taro@example.org")
    except ValueError:
        record = logging.LogRecord(
            "madoguchi.t", logging.ERROR, __file__, 1, "to %s", ("a@b.jp",), exc_info=True
        )
        import sys

        record.exc_info = sys.exc_info()

    ScrubFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "to [email]"
    assert line["exception"].endswith("ValueError: bad address [email]")
    assert (line["level"], line["logger"]) == ("ERROR", "madoguchi.t")
