"""Zoom webhook signatures and event parsing (shared/zoom.md §5); no database."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from madoguchi.meetings.webhooks import (
    Participant,
    WebhookRejected,
    ZoomEvent,
    parse_event,
    sign,
    url_validation_response,
    verify,
)

SECRET = "wh-secret-Zx81"
TS = 1772440260
SENT = datetime(2026, 3, 2, 8, 31, 0, tzinfo=UTC)
BODY = b'{"event":"meeting.started","event_ts":1772440260123}'
# Computed apart from the code under test: printf 'v0:<ts>:<body>' | openssl dgst -sha256 -hmac
BODY_SIGNATURE = "v0=29b365ef9a5e41f97273d025384132915848aa66227814a9f6745a7c4d8212fd"
PLAIN_TOKEN = "qgg8vlvZRS6UYooatFL8Aw"
PLAIN_TOKEN_HMAC = "6aa8fcba599ce7169cfc3a963e2427591873d46d0d8c1b0ffbbbd37f816b652c"
EVENT_TS = 1772440260123
EVENT_AT = datetime(2026, 3, 2, 8, 31, 0, 123000, tzinfo=UTC)
HOST_ID = "30R7kT7bTIKSNUFEuH_Qlg"


def envelope(event: str, obj: dict) -> bytes:
    payload = {"account_id": "AbCdEf", "object": obj}
    return json.dumps({"event": event, "event_ts": EVENT_TS, "payload": payload}).encode()


def outcome(**overrides: object) -> str:
    """ "accepted", or the reason verify() gave for rejecting the request."""
    options: dict = {
        "secret": SECRET,
        "body": BODY,
        "timestamp": str(TS),
        "signature": BODY_SIGNATURE,
        "now": SENT,
    }
    try:
        verify(**{**options, **overrides})
    except WebhookRejected as rejected:
        return rejected.reason
    return "accepted"


# Signatures


def test_sign_gives_zoom_headers():
    assert sign(secret=SECRET, body=BODY, timestamp=TS) == {
        "x-zm-signature": BODY_SIGNATURE,
        "x-zm-request-timestamp": "1772440260",
        "content-type": "application/json",
    }


@pytest.mark.parametrize("age", [0, 300, -300], ids=["now", "oldest", "newest"])
def test_verify_accepts_a_signed_body(age):
    headers = sign(secret=SECRET, body=BODY, timestamp=TS)

    result = outcome(
        timestamp=headers["x-zm-request-timestamp"],
        signature=headers["x-zm-signature"],
        now=SENT + timedelta(seconds=age),
    )

    assert result == "accepted"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"body": BODY.replace(b"started", b"ended")}, "bad_signature"),
        ({"body": BODY + b" "}, "bad_signature"),
        ({"secret": "another-secret"}, "bad_signature"),
        ({"timestamp": str(TS + 1)}, "bad_signature"),
        ({"signature": BODY_SIGNATURE.removeprefix("v0=")}, "bad_signature"),
        ({"signature": "v0=ｚｚ"}, "bad_signature"),
        ({"signature": None}, "missing_signature"),
        ({"signature": ""}, "missing_signature"),
        ({"timestamp": None}, "missing_signature"),
        ({"now": SENT + timedelta(seconds=301)}, "stale"),
        ({"now": SENT - timedelta(seconds=301)}, "stale"),
        ({"now": SENT + timedelta(seconds=61), "tolerance": 60}, "stale"),
    ],
    ids=[
        "tampered-body",
        "extra-byte",
        "wrong-secret",
        "other-timestamp",
        "no-version-prefix",
        "non-ascii",
        "no-signature",
        "empty-signature",
        "no-timestamp",
        "stale",
        "from-the-future",
        "own-tolerance",
    ],
)
def test_verify_rejects(overrides, reason):
    assert outcome(**overrides) == reason


def test_verify_rejects_a_genuine_signature_over_a_non_numeric_timestamp():
    timestamp = "1772440260.5"
    message = b"v0:" + timestamp.encode() + b":" + BODY
    genuine = "v0=" + hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()

    assert outcome(timestamp=timestamp, signature=genuine) == "malformed"


def test_verify_refuses_an_empty_secret():
    with pytest.raises(ValueError, match="secret"):
        verify(secret="", body=BODY, timestamp=str(TS), signature=BODY_SIGNATURE, now=SENT)


def test_url_validation_response_matches_hmac():
    assert url_validation_response(secret=SECRET, plain_token=PLAIN_TOKEN) == {
        "plainToken": PLAIN_TOKEN,
        "encryptedToken": PLAIN_TOKEN_HMAC,
    }


# Events


def test_parse_url_validation():
    body = json.dumps(
        {
            "event": "endpoint.url_validation",
            "event_ts": 1654503849680,
            "payload": {"plainToken": PLAIN_TOKEN},
        }
    ).encode()

    event = parse_event(body)

    assert (event.event, event.plain_token, event.meeting_id, event.participant) == (
        "endpoint.url_validation",
        PLAIN_TOKEN,
        None,
        None,
    )


def test_parse_participant_joined_with_a_string_id():
    body = envelope(
        "meeting.participant_joined",
        {
            "id": "85746065432",
            "uuid": "aDYlohsHRtCd4ii1uC2+hA==",
            "host_id": HOST_ID,
            "type": 2,
            "duration": 45,
            "participant": {
                "user_id": "16778240",
                "user_name": "Guest",
                "id": "",
                "participant_uuid": "p-uuid-1",
                "join_time": "2026-03-02T08:31:00Z",
                "email": "",
                "participant_user_id": "",
            },
        },
    )

    event = parse_event(body)

    assert event == ZoomEvent(
        event="meeting.participant_joined",
        event_ts=EVENT_AT,
        meeting_id=85746065432,
        meeting_uuid="aDYlohsHRtCd4ii1uC2+hA==",
        host_id=HOST_ID,
        start_time=None,
        end_time=None,
        participant=Participant(
            user_id="16778240",
            user_name="Guest",
            participant_uuid="p-uuid-1",
            zoom_user_id="",
            email="",
            at=datetime(2026, 3, 2, 8, 31, tzinfo=UTC),
            leave_reason="",
            is_host=False,
        ),
    )


def test_parse_meeting_started_with_a_numeric_id():
    body = envelope(
        "meeting.started",
        {
            "id": 85746065432,
            "uuid": "m-uuid",
            "host_id": HOST_ID,
            "topic": "オンライン職業相談",
            "type": 2,
            "start_time": "2026-03-02T08:30:12Z",
            "timezone": "Asia/Tokyo",
            "duration": 45,
        },
    )

    event = parse_event(body)

    assert (event.event, event.meeting_id, event.host_id, event.participant) == (
        "meeting.started",
        85746065432,
        HOST_ID,
        None,
    )
    assert event.start_time == datetime(2026, 3, 2, 8, 30, 12, tzinfo=UTC)
    assert event.end_time is None


def test_parse_meeting_ended():
    body = envelope(
        "meeting.ended",
        {
            "id": 85746065432,
            "uuid": "m-uuid",
            "host_id": HOST_ID,
            "start_time": "2026-03-02T08:30:12Z",
            "end_time": "2026-03-02T09:14:40Z",
        },
    )

    event = parse_event(body)

    assert event.end_time == datetime(2026, 3, 2, 9, 14, 40, tzinfo=UTC)


def test_parse_joined_waiting_room_uses_date_time():
    body = envelope(
        "meeting.participant_joined_waiting_room",
        {
            "id": "85746065432",
            "uuid": "m-uuid",
            "host_id": HOST_ID,
            "participant": {
                "user_id": "16778241",
                "user_name": "Guest",
                "participant_uuid": "p-uuid-2",
                "date_time": "2026-03-02T08:29:05Z",
            },
        },
    )

    event = parse_event(body)

    assert event.participant is not None
    assert event.participant.at == datetime(2026, 3, 2, 8, 29, 5, tzinfo=UTC)
    assert event.participant.user_id == "16778241"


def test_parse_jbh_waiting_without_time_uses_event_ts():
    body = envelope(
        "meeting.participant_jbh_waiting",
        {
            "id": 85746065432,
            "uuid": "m-uuid",
            "host_id": HOST_ID,
            "topic": "オンライン職業相談",
            "participant": {"id": "", "user_name": "Guest", "customer_key": ""},
        },
    )

    event = parse_event(body)

    assert event.participant is not None
    assert event.participant.at == EVENT_AT
    assert (event.participant.user_name, event.participant.is_host) == ("Guest", False)


def test_parse_participant_left_with_leave_reason():
    body = envelope(
        "meeting.participant_left",
        {
            "id": "85746065432",
            "uuid": "m-uuid",
            "host_id": HOST_ID,
            "participant": {
                "user_id": "16778240",
                "user_name": "Guest",
                "participant_uuid": "p-uuid-1",
                "join_time": "2026-03-02T08:31:00Z",
                "leave_time": "2026-03-02T09:10:30Z",
                "leave_reason": "left the meeting. Reason : left the meeting",
            },
        },
    )

    event = parse_event(body)

    assert event.participant is not None
    assert event.participant.at == datetime(2026, 3, 2, 9, 10, 30, tzinfo=UTC)
    assert event.participant.leave_reason == "left the meeting. Reason : left the meeting"


@pytest.mark.parametrize(
    ("participant", "is_host", "zoom_user_id"),
    [
        ({"id": HOST_ID}, True, HOST_ID),
        ({"id": "", "participant_user_id": HOST_ID}, True, HOST_ID),
        ({"id": "otherSignedInUser"}, False, "otherSignedInUser"),
        ({"id": ""}, False, ""),
        ({}, False, ""),
    ],
    ids=["host-id", "host-participant-user-id", "other-user", "guest", "no-id"],
)
def test_parse_spots_the_host(participant, is_host, zoom_user_id):
    body = envelope(
        "meeting.participant_joined",
        {"id": "85746065432", "uuid": "m-uuid", "host_id": HOST_ID, "participant": participant},
    )

    parsed = parse_event(body).participant

    assert parsed is not None
    assert (parsed.is_host, parsed.zoom_user_id) == (is_host, zoom_user_id)


def test_parse_never_calls_a_participant_host_when_host_id_is_missing():
    body = envelope("meeting.participant_joined", {"id": 1, "participant": {"id": ""}})

    parsed = parse_event(body).participant

    assert parsed is not None and parsed.is_host is False


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"event_ts": 1772440260123}',
        b'{"event": "meeting.started"}',
        b'{"event": "meeting.started", "event_ts": "soon"}',
        b'{"event": "meeting.started", "event_ts": 1, "payload": []}',
        b'{"event": "meeting.started", "event_ts": 1, "payload": {"object": {"id": "abc"}}}',
        b'{"event": "x", "event_ts": 1, "payload": {"object": {"id": 1, "participant": "p"}}}',
        b'{"event": "x", "event_ts": 1, "payload": {"object": {"start_time": "yesterday"}}}',
        b'{"event": "x", "event_ts": 1, "payload": {"object": {"participant": {"join_time": 5}}}}',
    ],
    ids=[
        "not-json",
        "not-utf8",
        "list",
        "no-event",
        "no-event-ts",
        "bad-event-ts",
        "payload-list",
        "bad-id",
        "participant-string",
        "bad-start-time",
        "bad-join-time",
    ],
)
def test_parse_rejects_malformed_bodies(body):
    with pytest.raises(WebhookRejected) as caught:
        parse_event(body)

    assert caught.value.reason == "malformed"


def joined(participant_uuid: str, event_ts: int = EVENT_TS, user_id: str = "16778240") -> bytes:
    obj = {
        "id": "85746065432",
        "uuid": "m-uuid",
        "host_id": HOST_ID,
        "participant": {"user_id": user_id, "participant_uuid": participant_uuid},
    }
    return json.dumps(
        {
            "event": "meeting.participant_joined",
            "event_ts": event_ts,
            "payload": {"object": obj},
        }
    ).encode()


def test_dedupe_key_is_stable_and_exact():
    key = parse_event(joined("p-uuid-1")).dedupe_key()

    assert key == parse_event(joined("p-uuid-1")).dedupe_key()
    assert key == "meeting.participant_joined|m-uuid|p-uuid-1|1772440260123"


@pytest.mark.parametrize(
    "other",
    [joined("p-uuid-2"), joined("p-uuid-1", event_ts=EVENT_TS + 1)],
    ids=["other-participant", "other-time"],
)
def test_dedupe_key_differs_for_another_event(other):
    assert parse_event(joined("p-uuid-1")).dedupe_key() != parse_event(other).dedupe_key()


def test_dedupe_key_falls_back_to_user_id():
    event = parse_event(joined("", user_id="16778299"))

    assert event.dedupe_key() == "meeting.participant_joined|m-uuid|16778299|1772440260123"
