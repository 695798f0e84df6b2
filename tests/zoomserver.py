"""A local stand-in for Zoom's API that keeps to the contract in shared/zoom.md.

The tests talk to it over real HTTP. It also runs on its own, for the demo:

    python tests/zoomserver.py --port 9090

Standard library only, so that it runs without the project installed. Scripted faults
(`fail_next`, `delay_next`) apply to API paths (/v2/...) unless given a `path_prefix`
such as "/oauth".
"""

import argparse
import base64
import json
import re
import secrets
import string
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ACCOUNT_ID = "madoguchi-test-account"
CLIENT_ID = "madoguchiTestClient"
CLIENT_SECRET = "madoguchi-test-client-secret-7f3a"
SCOPES = (
    "meeting:write:meeting:admin meeting:read:meeting:admin meeting:update:meeting:admin "
    "meeting:delete:meeting:admin user:read:settings:admin"
)
MAX_PAGE_SIZE = 300
RECORDING_DEFAULTS = {"local_recording": True, "cloud_recording": True, "auto_recording": "none"}
RECORDING_OFF = {"local_recording": False, "cloud_recording": False, "auto_recording": "none"}
MEETING_SETTINGS_DEFAULTS: dict[str, Any] = {
    "waiting_room": False,
    "join_before_host": False,
    "auto_recording": "none",
    "host_video": False,
    "participant_video": False,
    "mute_upon_entry": False,
    "meeting_authentication": False,
    "approval_type": 2,
    "use_pmi": False,
    "audio": "both",
    "email_notification": True,
    "auto_start_meeting_summary": False,
    "auto_start_ai_companion_questions": False,
}
SETTING_CHOICES: dict[str, tuple[Any, ...]] = {
    "auto_recording": ("local", "cloud", "none"),
    "approval_type": (0, 1, 2),
    "audio": ("both", "telephony", "voip", "thirdParty"),
}
START_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z?$")
PASSCODE = re.compile(r"^[A-Za-z0-9]{1,10}$")
PER_SECOND_LIMIT = (
    "You have reached the maximum per-second rate limit for this API. Try again later."
)
DAILY_LIMIT = (
    "You have reached the maximum daily rate limit for this API. Refer to the response header "
    "for details on when you can make another request."
)
LISTED_FIELDS = (
    "uuid",
    "id",
    "host_id",
    "topic",
    "type",
    "start_time",
    "duration",
    "timezone",
    "agenda",
    "created_at",
    "join_url",
)
UPCOMING_TYPES = ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings")


@dataclass
class RecordedRequest:
    """One request as the server saw it; header names in lower case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    status: int = 0

    @property
    def bearer(self) -> str:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""


@dataclass
class _Fault:
    status: int | None
    delay: float
    remaining: int
    path_prefix: str
    retry_after: int | str | None = None
    daily: bool = False
    body: dict[str, Any] | None = None


class _Reply(Exception):
    """Ends a request early with an answer."""

    def __init__(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _zoom_error(status: int, code: int, message: str, **extra: Any) -> _Reply:
    return _Reply(status, {"code": code, "message": message, **extra})


def _validation_failed(fields: list[str]) -> _Reply:
    errors = [{"field": name, "message": "Invalid field."} for name in fields]
    return _zoom_error(400, 300, "Validation Failed.", errors=errors)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _random_text(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class ZoomServer:
    """Zoom's OAuth endpoint and the meetings API, in memory, on a local port."""

    ACCOUNT_ID = ACCOUNT_ID
    CLIENT_ID = CLIENT_ID
    CLIENT_SECRET = CLIENT_SECRET

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_ttl: int = 3600,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.token_ttl = token_ttl
        self.verbose = verbose
        self.max_page_size = MAX_PAGE_SIZE
        self.meetings: dict[int, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, float] = {}
        self._pages: dict[str, tuple[str, int]] = {}
        self._faults: list[_Fault] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Life cycle

    def start(self) -> "ZoomServer":
        self._httpd = _HTTPServer((self.host, self.port), _Handler)
        self._httpd.zoom = self
        self.port = self._httpd.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake delayed requests and wait for every handler to finish."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> "ZoomServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.url}/v2"

    @property
    def oauth_url(self) -> str:
        return f"{self.url}/oauth/token"

    # Set-up and inspection

    def add_user(self, email_or_id: str, *, recording: dict[str, Any] | None = None) -> str:
        """Add a Zoom user (an e-mail, or an id); recording settings default to Zoom's own
        (local and cloud recording on). Returns the user's id."""
        if "@" in email_or_id:
            user_id, email = _random_text(22), email_or_id
        else:
            user_id, email = email_or_id, f"{email_or_id.lower()}@zoom.example"
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "email": email,
                "recording": {**RECORDING_DEFAULTS, **(recording or {})},
            }
        return user_id

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def api_requests(self) -> list[RecordedRequest]:
        """The requests to the API, without those for tokens."""
        return [request for request in self.requests if request.path.startswith("/v2/")]

    def token_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == "/oauth/token"]

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: int | str | None = None,
        path_prefix: str | None = None,
        daily: bool = False,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status`.

        429 carries Zoom's per-second (or, with `daily`, daily) message and Retry-After when
        given; 502-504 an HTML page; anything else `body` or a Zoom-like JSON error.
        """
        fault = _Fault(status, 0.0, times, path_prefix or "/v2/", retry_after, daily, body)
        with self._lock:
            self._faults.append(fault)

    def delay_next(self, seconds: float, *, times: int = 1, path_prefix: str | None = None) -> None:
        """Hold the next `times` matching requests for `seconds` before answering them."""
        with self._lock:
            self._faults.append(_Fault(None, seconds, times, path_prefix or "/v2/"))

    def expire_tokens(self) -> None:
        """Expire every token issued so far, as Zoom does after an hour."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    # Requests

    def _handle(self, handler: "_Handler") -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        record = RecordedRequest(
            method=handler.command,
            path=split.path,
            query={name: values[-1] for name, values in parse_qs(split.query).items()},
            headers={name.lower(): value for name, value in handler.headers.items()},
            json=None,
            form={},
        )
        with self._lock:
            self._requests.append(record)
        try:
            if "json" in content_type and raw:
                try:
                    record.json = json.loads(raw)
                except ValueError:
                    raise _zoom_error(
                        400, 300, "Request Body should be a valid JSON object."
                    ) from None
            if "x-www-form-urlencoded" in content_type:
                record.form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            self._apply_fault(record.path)
            reply = self._route(record)
        except _Reply as answer:
            reply = answer
        record.status = reply.status
        handler.reply(reply.status, reply.body, reply.headers)

    def _apply_fault(self, path: str) -> None:
        with self._lock:
            fault = next(
                (f for f in self._faults if f.remaining > 0 and path.startswith(f.path_prefix)),
                None,
            )
            if fault is None:
                return
            fault.remaining -= 1
            self._faults = [f for f in self._faults if f.remaining > 0]
        if fault.status is None:
            self._stopping.wait(fault.delay)
            return
        raise self._fault_reply(fault)

    @staticmethod
    def _fault_reply(fault: _Fault) -> _Reply:
        status = fault.status or 500
        if status == 429:
            headers = {
                "X-RateLimit-Category": "Medium",
                "X-RateLimit-Type": "Daily-limit" if fault.daily else "QPS",
            }
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            message = DAILY_LIMIT if fault.daily else PER_SECOND_LIMIT
            return _Reply(429, {"code": 429, "message": message}, headers)
        if fault.body is not None:
            return _Reply(status, fault.body)
        if status in (502, 503, 504):
            phrase = HTTPStatus(status).phrase
            return _Reply(status, f"<html><body><h1>{status} {phrase}</h1></body></html>")
        return _zoom_error(status, status, HTTPStatus(status).phrase + ".")

    def _route(self, request: RecordedRequest) -> _Reply:
        if request.path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if not request.path.startswith("/v2/"):
            raise _zoom_error(404, 404, "Not Found.")
        self._authorize(request)
        path = request.path.removeprefix("/v2")
        routes = (
            (r"/users/([^/]+)/meetings", {"POST": self._create, "GET": self._list}),
            (r"/users/([^/]+)/settings", {"GET": self._user_settings}),
            (
                r"/meetings/([^/]+)",
                {"GET": self._get, "PATCH": self._update, "DELETE": self._delete},
            ),
        )
        for pattern, methods in routes:
            match = re.fullmatch(pattern, path)
            if match and request.method in methods:
                return methods[request.method](request, unquote(match.group(1)))
        raise _zoom_error(404, 404, "Not Found.")

    # OAuth

    def _token(self, request: RecordedRequest) -> _Reply:
        params = {**request.query, **request.form}
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            raise _Reply(
                401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
            )
        if params.get("grant_type") != "account_credentials":
            raise _Reply(
                400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}
            )
        if params.get("account_id") != ACCOUNT_ID:
            raise _Reply(400, {"reason": "Invalid account_id", "error": "invalid_request"})
        token = "eyJ" + secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = time.time() + self.token_ttl
        body = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": self.token_ttl,
            "scope": SCOPES,
            "api_url": self.url,
        }
        return _Reply(200, body)

    def _authorize(self, request: RecordedRequest) -> None:
        with self._lock:
            expires = self._tokens.get(request.bearer) if request.bearer else None
        if expires is None:
            raise _zoom_error(401, 124, "Invalid access token.")
        if expires <= time.time():
            raise _zoom_error(401, 124, "Access token is expired.")

    # Users

    def _user(self, key: str) -> dict[str, Any]:
        with self._lock:
            for user in self._users.values():
                if key == user["id"] or key.lower() == user["email"].lower():
                    return user
        raise _zoom_error(404, 1001, f"User does not exist: {key}.")

    def _user_settings(self, request: RecordedRequest, key: str) -> _Reply:
        user = self._user(key)
        body = {
            "recording": dict(user["recording"]),
            "schedule_meeting": {"require_password_for_scheduling_new_meetings": True},
            "in_meeting": {"waiting_room": False},
        }
        return _Reply(200, body)

    # Meetings

    def _create(self, request: RecordedRequest, key: str) -> _Reply:
        user = self._user(key)
        body = request.json
        if not isinstance(body, dict):
            raise _zoom_error(400, 300, "Request Body should be a valid JSON object.")
        errors = self._check_fields(body, creating=True)
        if errors:
            raise _validation_failed(errors)
        meeting_id = secrets.randbelow(9 * 10**10) + 10**10
        password = body.get("password")
        if password is None and body.get("default_password", True) is not False:
            password = _random_text(8)
        settings = {**MEETING_SETTINGS_DEFAULTS, **(body.get("settings") or {})}
        if settings["waiting_room"]:
            settings["join_before_host"] = False
        encrypted = _random_text(32)
        meeting = {
            "id": meeting_id,
            "uuid": base64.b64encode(secrets.token_bytes(16)).decode(),
            "host_id": user["id"],
            "host_email": user["email"],
            "topic": body.get("topic") or "Zoom Meeting",
            "type": 2,
            "status": "waiting",
            "start_time": self._start_time(body),
            "duration": body["duration"],
            "timezone": body.get("timezone") or "UTC",
            "agenda": body.get("agenda", ""),
            "created_at": _utc_text(datetime.now(UTC)),
            "password": password or "",
            "h323_password": _random_text(8, string.digits),
            "pstn_password": _random_text(8, string.digits),
            "encrypted_password": encrypted,
            "join_url": f"{self.url}/j/{meeting_id}?pwd={encrypted}",
            "settings": settings,
        }
        with self._lock:
            self.meetings[meeting_id] = meeting
        return _Reply(201, self._meeting_body(meeting))

    def _check_fields(self, body: dict[str, Any], *, creating: bool) -> list[str]:
        """Names of the fields Zoom would refuse, as zoom.md describes them."""
        errors = []
        if creating and body.get("type") != 2:
            errors.append("type")
        checks_start = creating or "start_time" in body
        if checks_start and not self._valid_start(body, future=not creating):
            errors.append("start_time")
        if "timezone" in body and not self._valid_zone(body["timezone"]):
            errors.append("timezone")
        duration = body.get("duration")
        if (creating or "duration" in body) and not (
            isinstance(duration, int) and not isinstance(duration, bool) and 0 < duration <= 1440
        ):
            errors.append("duration")
        if "password" in body and not (
            isinstance(body["password"], str) and PASSCODE.fullmatch(body["password"])
        ):
            errors.append("password")
        topic = body.get("topic", "")
        if not isinstance(topic, str) or len(topic) > 200:
            errors.append("topic")
        agenda = body.get("agenda", "")
        if not isinstance(agenda, str) or len(agenda) > 2000:
            errors.append("agenda")
        return errors + self._check_settings(body.get("settings"))

    @staticmethod
    def _check_settings(settings: Any) -> list[str]:
        if settings is None:
            return []
        if not isinstance(settings, dict):
            return ["settings"]
        errors = []
        for name, value in settings.items():
            default = MEETING_SETTINGS_DEFAULTS.get(name)
            if name in SETTING_CHOICES:
                if value not in SETTING_CHOICES[name] or isinstance(value, bool):
                    errors.append(f"settings.{name}")
            elif isinstance(default, bool) and not isinstance(value, bool):
                errors.append(f"settings.{name}")
        return errors

    @staticmethod
    def _valid_zone(name: Any) -> bool:
        if not isinstance(name, str) or not name:
            return False
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return False
        return True

    def _valid_start(self, body: dict[str, Any], *, future: bool) -> bool:
        value = body.get("start_time")
        if not isinstance(value, str) or not START_TIME.fullmatch(value):
            return False
        if not value.endswith("Z") and not self._valid_zone(body.get("timezone", "UTC")):
            return False
        try:
            start = datetime.fromisoformat(self._start_time(body))
        except ValueError:
            return False
        return not future or start > datetime.now(UTC)

    @staticmethod
    def _start_time(body: dict[str, Any]) -> str:
        """The start in UTC: a local time is read in `timezone` (the account's is UTC here)."""
        value = body["start_time"]
        if value.endswith("Z"):
            return str(value)
        local = datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(body.get("timezone", "UTC")))
        return _utc_text(local)

    def _meeting_body(self, meeting: dict[str, Any]) -> dict[str, Any]:
        """The meeting with a freshly issued start_url, as Zoom answers create and get."""
        zak = secrets.token_urlsafe(32)
        return {**meeting, "start_url": f"{self.url}/s/{meeting['id']}?zak={zak}"}

    def _meeting(self, key: str) -> dict[str, Any]:
        with self._lock:
            meeting = self.meetings.get(int(key)) if key.isdigit() else None
        if meeting is None:
            raise _zoom_error(404, 3001, f"Meeting does not exist: {key}.")
        return meeting

    def _get(self, request: RecordedRequest, key: str) -> _Reply:
        return _Reply(200, self._meeting_body(self._meeting(key)))

    def _update(self, request: RecordedRequest, key: str) -> _Reply:
        meeting = self._meeting(key)
        body = request.json
        if not isinstance(body, dict):
            raise _zoom_error(400, 300, "Request Body should be a valid JSON object.")
        errors = self._check_fields(body, creating=False)
        if errors:
            raise _validation_failed(errors)
        with self._lock:
            for name in ("topic", "duration", "timezone", "password", "agenda"):
                if name in body:
                    meeting[name] = body[name]
            if "start_time" in body:
                meeting["start_time"] = self._start_time({**meeting, **body})
            meeting["settings"] = {**meeting["settings"], **(body.get("settings") or {})}
        return _Reply(204)

    def _delete(self, request: RecordedRequest, key: str) -> _Reply:
        meeting = self._meeting(key)
        with self._lock:
            self.meetings.pop(meeting["id"], None)
        return _Reply(204)

    def _list(self, request: RecordedRequest, key: str) -> _Reply:
        user = self._user(key)
        kind = request.query.get("type", "scheduled")
        page_size = request.query.get("page_size", "30")
        if kind not in UPCOMING_TYPES or not page_size.isdigit() or int(page_size) < 1:
            raise _validation_failed(["type" if kind not in UPCOMING_TYPES else "page_size"])
        size = min(int(page_size), self.max_page_size)
        offset = 0
        page_token = request.query.get("next_page_token", "")
        with self._lock:
            if page_token:
                if self._pages.get(page_token, ("", 0))[0] != user["id"]:
                    raise _validation_failed(["next_page_token"])
                offset = self._pages[page_token][1]
            mine = sorted(
                (m for m in self.meetings.values() if m["host_id"] == user["id"]),
                key=lambda m: m["start_time"],
            )
        if kind in ("upcoming", "upcoming_meetings"):
            now = datetime.now(UTC)
            mine = [
                m
                for m in mine
                if datetime.fromisoformat(m["start_time"]) + timedelta(minutes=m["duration"]) > now
            ]
        page = mine[offset : offset + size]
        next_token = ""
        if offset + size < len(mine):
            next_token = secrets.token_urlsafe(24)
            with self._lock:
                self._pages[next_token] = (user["id"], offset + size)
        listed = [{name: m[name] for name in LISTED_FIELDS} for m in page]
        body = {
            "page_size": size,
            "total_records": len(mine),
            "next_page_token": next_token,
            "meetings": listed,
        }
        return _Reply(200, body)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    zoom: ZoomServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout test) is expected; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "ZoomStandIn/1.0"

    def do_GET(self) -> None:
        self.server.zoom._handle(self)

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET

    def reply(self, status: int, body: Any, headers: dict[str, str]) -> None:
        if body is None:
            payload, content_type = b"", ""
        elif isinstance(body, str):
            payload, content_type = body.encode(), "text/html; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json;charset=UTF-8"
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except ConnectionError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.zoom.verbose:
            super().log_message(format, *args)


def main() -> None:
    parser = argparse.ArgumentParser(description="A local stand-in for Zoom's meetings API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    parser.add_argument("--token-ttl", type=int, default=3600, help="token lifetime, seconds")
    args = parser.parse_args()
    server = ZoomServer(host=args.host, port=args.port, token_ttl=args.token_ttl, verbose=True)
    server.add_user("counselor01@office.example", recording=RECORDING_OFF)
    server.add_user("counselor02@office.example")
    server.start()
    print("Zoom stand-in serving. Point Madoguchi at it with:\n")
    print("export MADOGUCHI_MEETING_PROVIDER=zoom")
    print(f"export ZOOM_ACCOUNT_ID={ACCOUNT_ID}")
    print(f"export ZOOM_CLIENT_ID={CLIENT_ID}")
    print(f"export ZOOM_CLIENT_SECRET={CLIENT_SECRET}")
    print(f"export ZOOM_API_BASE_URL={server.api_base_url}")
    print(f"export ZOOM_OAUTH_URL={server.oauth_url}")
    print("\nZoom users:")
    print("  counselor01@office.example  (recording off, as operators should set it)")
    print("  counselor02@office.example  (Zoom's defaults: local and cloud recording on)")
    print("\nCtrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
