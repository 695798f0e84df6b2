"""The Zoom adapter: the only module that talks to Zoom's REST API.

One client, one retry policy, one error type that says whether trying again can help.
Server-to-Server OAuth tokens are cached per client and renewed a minute before they expire,
or at once when Zoom answers 401. Keep one client per process to reuse its token; it holds
no open connections between calls, so there is nothing to close.

Nothing here logs or raises with a token, the client secret, a passcode, a meeting link or
an e-mail address: user paths are logged as `/users/…/…`.
"""

import functools
import logging
import random
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.timezone import now as django_now

logger = logging.getLogger("madoguchi.zoom")

RENEW_BEFORE = timedelta(seconds=60)
DEFAULT_TOKEN_TTL = 3600
BACKOFF_BASE = 0.5
MEETING_NOT_FOUND = 3001
MAX_PAGES = 100  # of 300 meetings: a guard against a next_page_token that never ends
EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
USER_PATH = re.compile(r"^/users/[^/]+")


class ZoomError(Exception):
    """A Zoom call that failed.

    `retryable` says whether the same call can succeed later; `retry_at` (aware UTC), when
    known, says from when. `code` is Zoom's error code from the JSON body.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        retryable: bool = False,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retryable = retryable
        self.retry_at = retry_at

    def __str__(self) -> str:
        details = [f"HTTP {self.status}"] if self.status is not None else []
        if self.code is not None:
            details.append(f"Zoom code {self.code}")
        return f"{self.message} ({', '.join(details)})" if details else self.message


@dataclass(frozen=True)
class ZoomMeeting:
    """A meeting as Zoom reports it. Credentials and links are left out of repr()."""

    id: int
    passcode: str = field(repr=False)
    join_url: str = field(repr=False)
    start_url: str = field(repr=False)
    host_email: str = field(repr=False)
    topic: str
    start_time: datetime | None
    duration: int | None
    status: str
    agenda: str = ""


@dataclass(frozen=True)
class RecordingSettings:
    """A Zoom user's recording settings; None where Zoom did not say."""

    local_recording: bool | None
    cloud_recording: bool | None
    auto_recording: str | None

    @property
    def recording_off(self) -> bool:
        """True only when both local and cloud recording are known to be off.

        With both off nothing can be recorded, so an absent `auto_recording` is accepted;
        a present one must still be "none". Unknown (None) recording flags count as on.
        """
        return (
            self.local_recording is False
            and self.cloud_recording is False
            and self.auto_recording in ("none", None)
        )


def meeting_topic(language: str = "ja") -> str:
    """A meeting topic with no personal data: Zoom shows it in reports and webhooks."""
    return "オンライン職業相談" if language.startswith("ja") else "Online job consultation"


class ZoomClient:
    """Zoom's meetings API for one Server-to-Server OAuth app. Safe to share between threads."""

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        api_base_url: str = "https://api.zoom.us/v2",
        oauth_url: str = "https://zoom.us/oauth/token",
        timeout: float = 10.0,
        max_attempts: int = 4,
        max_inline_wait: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = django_now,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._account_id = account_id
        self._client_id = client_id
        self._client_secret = client_secret
        self.api_base_url = api_base_url.rstrip("/")
        self.oauth_url = oauth_url
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_inline_wait = max_inline_wait
        self._sleep = sleep
        self._clock = clock
        self._transport = transport
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = datetime.min.replace(tzinfo=UTC)

    @classmethod
    def from_settings(cls) -> "ZoomClient":
        """A client for the app in ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET."""
        credentials = {
            name: str(getattr(settings, name, "")).strip()
            for name in ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET")
        }
        missing = [name for name, value in credentials.items() if not value]
        if missing:
            raise ImproperlyConfigured(
                f"The Zoom meeting provider needs {', '.join(missing)}: the Server-to-Server "
                "OAuth app's credentials from the Zoom App Marketplace."
            )
        return cls(
            account_id=credentials["ZOOM_ACCOUNT_ID"],
            client_id=credentials["ZOOM_CLIENT_ID"],
            client_secret=credentials["ZOOM_CLIENT_SECRET"],
            api_base_url=settings.ZOOM_API_BASE_URL,
            oauth_url=settings.ZOOM_OAUTH_URL,
        )

    # Meetings

    def create_meeting(
        self,
        user: str,
        *,
        topic: str,
        start: datetime,
        duration_minutes: int,
        timezone: str,
        passcode: str,
        agenda: str = "",
    ) -> ZoomMeeting:
        """Schedule a meeting hosted by `user` (Zoom user id or e-mail).

        Only failures that surely did not reach Zoom are retried here; after any other the
        meeting may exist, so look for it (list_upcoming_meetings) before trying again.
        """
        body: dict[str, Any] = {
            "topic": topic,
            "type": 2,
            "start_time": _utc(start),
            "timezone": timezone,
            "duration": duration_minutes,
            "password": passcode,
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
        if agenda:
            body["agenda"] = agenda
        response = self._call(
            "POST", f"/users/{_segment(user)}/meetings", json=body, idempotent=False
        )
        return _meeting(_json(response))

    def get_meeting(self, meeting_id: int) -> ZoomMeeting:
        """The meeting with a freshly issued start_url (it expires two hours after issue)."""
        return _meeting(_json(self._call("GET", f"/meetings/{int(meeting_id)}")))

    def update_meeting(
        self, meeting_id: int, *, start: datetime, duration_minutes: int, timezone: str
    ) -> None:
        """Move the meeting; the new start must be in the future."""
        body = {"start_time": _utc(start), "duration": duration_minutes, "timezone": timezone}
        self._call("PATCH", f"/meetings/{int(meeting_id)}", json=body)

    def delete_meeting(self, meeting_id: int) -> None:
        """Delete the meeting without mailing anyone; a meeting already gone counts as deleted.

        Only a 404 with Zoom's code 3001 means "gone": a bare 404 (say, a wrong base URL)
        stays an error, so that no meeting is left behind unnoticed.
        """
        params = {"schedule_for_reminder": "false", "cancel_meeting_reminder": "false"}
        try:
            self._call("DELETE", f"/meetings/{int(meeting_id)}", params=params)
        except ZoomError as error:
            if error.status != 404 or error.code != MEETING_NOT_FOUND:
                raise
            logger.info("zoom meeting %s was already gone", int(meeting_id))

    def list_upcoming_meetings(self, user: str) -> list[ZoomMeeting]:
        """All upcoming meetings of `user`, every page. List entries carry no passcode or
        start_url (those are ""); use get_meeting for them."""
        path = f"/users/{_segment(user)}/meetings"
        meetings: list[ZoomMeeting] = []
        page_token = ""
        for _page in range(MAX_PAGES):
            params = {"type": "upcoming", "page_size": "300"}
            if page_token:
                params["next_page_token"] = page_token
            body = _json(self._call("GET", path, params=params))
            entries = body.get("meetings")
            if not isinstance(entries, list):
                raise _unexpected("GET", _masked(path))
            meetings.extend(_meeting(entry) for entry in entries)
            page_token = _text(body.get("next_page_token"))
            if not page_token:
                return meetings
        raise ZoomError(f"Zoom listed more than {MAX_PAGES} pages of upcoming meetings.")

    def recording_settings(self, user: str) -> RecordingSettings:
        """The user's recording settings, to check that recording is switched off."""
        body = _json(self._call("GET", f"/users/{_segment(user)}/settings"))
        recording = body.get("recording")
        if not isinstance(recording, dict):
            recording = {}
        auto = recording.get("auto_recording")
        return RecordingSettings(
            local_recording=_flag(recording.get("local_recording")),
            cloud_recording=_flag(recording.get("cloud_recording")),
            auto_recording=auto if isinstance(auto, str) else None,
        )

    # HTTP

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """One API call: token, retries, one renewal on 401; a ZoomError unless it is 2xx."""
        log_path = _masked(path)

        def send(http: httpx.Client, token: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"}
            return self._exchange(
                http,
                method,
                self.api_base_url + path,
                log_path=log_path,
                idempotent=idempotent,
                params=params,
                json=json,
                headers=headers,
            )

        with self._http() as http:
            token = self._access_token(http)
            response = send(http, token)
            if response.status_code == 401:
                self._forget_token(token)
                response = send(http, self._access_token(http))
        if not response.is_success:
            raise _error(response)
        return response

    def _exchange(
        self,
        http: httpx.Client,
        method: str,
        url: str,
        *,
        log_path: str,
        idempotent: bool,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request, retrying transport errors, 5xx and 429 within max_attempts.

        Other answers are returned as they are. A request that is not idempotent is retried
        only when it surely did not reach Zoom (no connection) or was refused by a 429.
        """
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            started = time.perf_counter()
            try:
                response = http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                _log(logging.WARNING, method, log_path, type(exc).__name__, started)
                if last or not (idempotent or _not_sent(exc)):
                    raise ZoomError(
                        f"Zoom did not answer {method} {log_path}: {type(exc).__name__}.",
                        retryable=True,
                    ) from exc
                self._sleep(self._backoff(attempt))
                continue
            status = response.status_code
            _log(
                logging.INFO if status < 400 else logging.WARNING, method, log_path, status, started
            )
            if status == 429:
                retry_at, wait = self._rate_limit_wait(response, attempt)
                if last or wait is None:
                    raise _error(response, retryable=True, retry_at=retry_at)
                self._sleep(wait)
            elif status >= 500:
                if last or not idempotent:
                    raise _error(response, retryable=True)
                self._sleep(self._backoff(attempt))
            else:
                return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _rate_limit_wait(
        self, response: httpx.Response, attempt: int
    ) -> tuple[datetime | None, float | None]:
        """When Zoom allows the next call, and how long to wait inline (None: don't)."""
        now = self._clock()
        retry_at = _retry_after(response.headers.get("Retry-After", ""), now)
        if retry_at is not None:
            wait = max((retry_at - now).total_seconds(), 0.0)
            return retry_at, wait if wait <= self.max_inline_wait else None
        if _daily_limit(response):
            tomorrow = now.astimezone(UTC).date() + timedelta(days=1)
            return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC), None
        return None, self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff from 0.5 s with jitter (50-100 % of the step)."""
        step = min(BACKOFF_BASE * 2 ** (attempt - 1), self.max_inline_wait)
        return step * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret

    def _http(self) -> httpx.Client:
        if self._transport is not None:
            return httpx.Client(timeout=self.timeout, transport=_Borrowed(self._transport))
        return httpx.Client(timeout=self.timeout, verify=_ssl_context())

    # Server-to-Server OAuth

    def _access_token(self, http: httpx.Client) -> str:
        with self._lock:
            if self._token is None or self._token_expires - self._clock() < RENEW_BEFORE:
                self._token, self._token_expires = self._fetch_token(http)
            return self._token

    def _forget_token(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch_token(self, http: httpx.Client) -> tuple[str, datetime]:
        fetched_at = self._clock()
        response = self._exchange(
            http,
            "POST",
            self.oauth_url,
            log_path="/oauth/token",
            idempotent=True,
            data={"grant_type": "account_credentials", "account_id": self._account_id},
            auth=(self._client_id, self._client_secret),
        )
        if response.status_code in (400, 401):
            error = _error(response)
            raise ZoomError(
                "Zoom rejected the app credentials (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, "
                f"ZOOM_CLIENT_SECRET): {error.message}",
                status=error.status,
                code=error.code,
            )
        if not response.is_success:
            raise _error(response)
        body = _json(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise ZoomError("Zoom's token answer has no access_token.", status=response.status_code)
        ttl = body.get("expires_in")
        if not isinstance(ttl, int) or isinstance(ttl, bool):
            ttl = DEFAULT_TOKEN_TTL
        return token, fetched_at + timedelta(seconds=ttl)


class _Borrowed(httpx.BaseTransport):
    """An injected transport lent to one short-lived httpx.Client; its owner closes it."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _log(level: int, method: str, log_path: str, outcome: object, started: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    logger.log(level, "zoom %s %s -> %s in %.0f ms", method, log_path, outcome, elapsed_ms)


def _not_sent(exc: httpx.TransportError) -> bool:
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _segment(user: str) -> str:
    return quote(user, safe="")


def _masked(path: str) -> str:
    return USER_PATH.sub("/users/…", path)


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("Zoom meeting times must be aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _retry_after(value: str, now: datetime) -> datetime | None:
    """Retry-After as seconds, an HTTP date or an ISO 8601 time (Zoom's form is unconfirmed)."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _daily_limit(response: httpx.Response) -> bool:
    if "daily" in response.headers.get("X-RateLimit-Type", "").lower():
        return True
    return "daily" in _error(response).message.lower()


def _error(
    response: httpx.Response, *, retryable: bool = False, retry_at: datetime | None = None
) -> ZoomError:
    """A ZoomError from Zoom's answer: its code and message, e-mail addresses masked."""
    code: int | None = None
    message = f"Zoom answered HTTP {response.status_code} {response.reason_phrase}".rstrip()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("code"), int):
            code = body["code"]
        text = body.get("message") or body.get("reason") or body.get("error")
        if isinstance(text, str) and text:
            message = text
        fields = [
            item["field"]
            for item in body.get("errors") or []
            if isinstance(item, dict) and isinstance(item.get("field"), str)
        ]
        if fields:
            message = f"{message} Fields: {', '.join(fields)}."
    return ZoomError(
        EMAIL.sub("…", message),
        status=response.status_code,
        code=code,
        retryable=retryable,
        retry_at=retry_at,
    )


def _unexpected(method: str, log_path: str) -> ZoomError:
    return ZoomError(f"Zoom's answer to {method} {log_path} is not shaped as documented.")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ZoomError("Zoom's answer is not a JSON object.", status=response.status_code)
    return body


def _meeting(data: Any) -> ZoomMeeting:
    meeting_id = _number(data.get("id")) if isinstance(data, dict) else None
    if meeting_id is None:
        raise ZoomError("Zoom's meeting has no usable id.")
    return ZoomMeeting(
        id=meeting_id,
        passcode=_text(data.get("password")),
        join_url=_text(data.get("join_url")),
        start_url=_text(data.get("start_url")),
        host_email=_text(data.get("host_email")),
        topic=_text(data.get("topic")),
        start_time=_time(data.get("start_time")),
        duration=_number(data.get("duration")),
        status=_text(data.get("status")),
        agenda=_text(data.get("agenda")),
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
