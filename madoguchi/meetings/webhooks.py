"""Zoom webhooks: signature checks and event parsing, as pure functions (no database).

Zoom signs `v0:{x-zm-request-timestamp}:{raw body}` with the app's secret token
(HMAC-SHA256, hex) and sends it as `x-zm-signature: v0=<hex>`. Zoom sets no replay window;
we reject requests more than `tolerance` seconds away from our clock.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
URL_VALIDATION = "endpoint.url_validation"


class WebhookRejected(Exception):
    """A request we will not act on; `reason` is one of REASONS."""

    REASONS = ("missing_signature", "bad_signature", "stale", "malformed")

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Participant:
    """Who joined, waited or left. `user_id` is per meeting; `zoom_user_id` is set only for
    signed-in Zoom users; `at` falls back to the event time when Zoom sends none."""

    user_id: str
    user_name: str
    participant_uuid: str
    zoom_user_id: str
    email: str
    at: datetime | None
    leave_reason: str
    is_host: bool


@dataclass(frozen=True)
class ZoomEvent:
    """One webhook event; times are aware UTC, `event_ts` exact to the millisecond."""

    event: str
    event_ts: datetime
    meeting_id: int | None
    meeting_uuid: str
    host_id: str
    start_time: datetime | None
    end_time: datetime | None
    participant: Participant | None
    plain_token: str = ""

    def dedupe_key(self) -> str:
        """Same for a redelivery of this event, different for any other event."""
        who = ""
        if self.participant is not None:
            who = self.participant.participant_uuid or self.participant.user_id
        millis = (self.event_ts - EPOCH) // timedelta(milliseconds=1)
        return f"{self.event}|{self.meeting_uuid}|{who}|{millis}"


def _signature(*, secret: str, body: bytes, timestamp: str) -> str:
    """The `x-zm-signature` value Zoom sends for this body and timestamp."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    *,
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
    tolerance: int = 300,
) -> None:
    """Raise WebhookRejected unless Zoom signed this body within `tolerance` seconds of now.

    The signature is checked before the age, so "stale" always means a genuine request
    that came late (worth logging: whether Zoom re-signs its retries is not documented).
    An empty secret is a configuration error (ValueError): anyone could sign with it.
    """
    if not secret:
        raise ValueError("the webhook secret token is not configured")
    if not timestamp or not signature:
        raise WebhookRejected("missing_signature")
    expected = _signature(secret=secret, body=body, timestamp=timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise WebhookRejected("bad_signature")
    try:
        sent = datetime.fromtimestamp(int(timestamp), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise WebhookRejected("malformed", "timestamp is not Unix seconds") from exc
    if abs((now - sent).total_seconds()) > tolerance:
        raise WebhookRejected("stale", f"sent at {sent.isoformat()}")


def url_validation_response(*, secret: str, plain_token: str) -> dict[str, str]:
    """The answer to Zoom's endpoint.url_validation challenge."""
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


def sign(*, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers Zoom would send with this body, for tests and the demo's fake provider."""
    return {
        "x-zm-signature": _signature(secret=secret, body=body, timestamp=str(timestamp)),
        "x-zm-request-timestamp": str(timestamp),
        "content-type": "application/json",
    }


def parse_event(body: bytes) -> ZoomEvent:
    """The event in a (verified) webhook body; WebhookRejected("malformed") if it is not one.

    `object.id` comes as a string in participant events and a number in others; both are
    read as int. For endpoint.url_validation only `event`, `event_ts` and `plain_token` are set.
    """
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise WebhookRejected("malformed", "body is not JSON") from exc
    if not isinstance(data, dict):
        raise WebhookRejected("malformed", "body is not a JSON object")
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise WebhookRejected("malformed", "no event")
    millis = _integer(data.get("event_ts"), "event_ts")
    if millis is None:
        raise WebhookRejected("malformed", "no event_ts")
    event_ts = EPOCH + timedelta(milliseconds=millis)
    payload = _mapping(data.get("payload"), "payload")
    obj = _mapping(payload.get("object"), "payload.object")
    host_id = _string(obj.get("host_id"))
    raw_participant = obj.get("participant")
    participant = None
    if raw_participant is not None:
        participant = _participant(
            _mapping(raw_participant, "participant"), event, event_ts, host_id
        )
    return ZoomEvent(
        event=event,
        event_ts=event_ts,
        meeting_id=_integer(obj.get("id"), "object.id"),
        meeting_uuid=_string(obj.get("uuid")),
        host_id=host_id,
        start_time=_time(obj.get("start_time"), "start_time"),
        end_time=_time(obj.get("end_time"), "end_time"),
        participant=participant,
        plain_token=_string(payload.get("plainToken")) if event == URL_VALIDATION else "",
    )


def _participant(data: dict[str, Any], event: str, event_ts: datetime, host_id: str) -> Participant:
    """A participant; `at` is leave_time for a leave, else join_time or date_time."""
    names = ("join_time", "date_time", "leave_time")
    if event.endswith("participant_left"):
        names = ("leave_time", "join_time", "date_time")
    at = next((_time(data.get(name), name) for name in names if data.get(name)), None)
    zoom_user_id = _string(data.get("id")) or _string(data.get("participant_user_id"))
    return Participant(
        user_id=_string(data.get("user_id")),
        user_name=_string(data.get("user_name")),
        participant_uuid=_string(data.get("participant_uuid")),
        zoom_user_id=zoom_user_id,
        email=_string(data.get("email")),
        at=at or event_ts,
        leave_reason=_string(data.get("leave_reason")),
        is_host=bool(zoom_user_id) and zoom_user_id == host_id,
    )


def _mapping(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WebhookRejected("malformed", f"{name} is not an object")
    return value


def _string(value: Any) -> str:
    """Zoom's ids come as strings or numbers; read both as text."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, str | int) else ""


def _integer(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise WebhookRejected("malformed", f"{name} is not an integer")


def _time(value: Any, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise WebhookRejected("malformed", f"{name} is not a time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise WebhookRejected("malformed", f"{name} is not a time") from exc
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
