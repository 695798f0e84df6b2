"""The outbox against a real SMTP server (aiosmtpd on 127.0.0.1): a mail server that is
down loses no mail and, once it is back, gets each mail exactly once."""

import datetime as dt
import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core.management import call_command

from madoguchi.notifications.models import OutboxMail
from tests.factories import booking_mail, local, make_consultation

pytestmark = pytest.mark.django_db(transaction=True)

WED_10 = local(2026, 12, 2, 10, 0)


class Inbox:
    """Keeps what the server accepted; `refuse` answers 451 (try later) instead."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "451 4.3.0 Try again later"
        self.messages.append(
            email.message_from_bytes(envelope.original_content or b"", policy=policy.default)
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port(settings) -> int:
    port = free_port()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    return port


def start_server(port: int, inbox: Inbox) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def schedule(world):
    return make_consultation(world.seeker, WED_10, actor=world.coordinator)


def test_mail_waits_while_smtp_is_down_and_goes_once_when_it_is_back(world, frozen_now, smtp_port):
    consultation = schedule(world)
    call_command("worker", "--once")  # nothing listens on the port yet
    row = booking_mail().get()
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error.startswith("ConnectionRefusedError")
    assert row.next_attempt_at == dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)

    frozen_now.shift(dt.timedelta(seconds=29))
    call_command("worker", "--once")
    row.refresh_from_db()
    assert row.attempts == 1  # not due yet

    frozen_now.shift(dt.timedelta(seconds=1))
    call_command("worker", "--once")
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("queued", 2)
    assert row.next_attempt_at == dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)

    inbox = Inbox()
    server = start_server(smtp_port, inbox)
    try:
        frozen_now.shift(dt.timedelta(seconds=60))
        call_command("worker", "--once")
        call_command("worker", "--once")
    finally:
        server.stop()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, "")
    # Every mail arrived exactly once (the request-received note and the scheduled mail).
    arrived = sorted(m["Message-ID"] for m in inbox.messages)
    assert arrived == sorted(OutboxMail.objects.values_list("message_id", flat=True))
    (message,) = [m for m in inbox.messages if m["Message-ID"] == row.message_id]
    assert message["To"] == world.seeker.email
    assert message["Message-ID"] == row.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html", "text/calendar"} <= parts
    assert consultation.meeting_passcode in message.get_body(("plain",)).get_content()


def test_a_temporary_refusal_is_retried(world, frozen_now, smtp_port):
    inbox = Inbox()
    inbox.refuse = True
    server = start_server(smtp_port, inbox)
    try:
        schedule(world)
        call_command("worker", "--once")
        row = booking_mail().get()
        assert (row.status, row.attempts) == ("queued", 1)
        assert "451" in row.last_error
        inbox.refuse = False
        frozen_now.shift(dt.timedelta(seconds=30))
        call_command("worker", "--once")
    finally:
        server.stop()
    row.refresh_from_db()
    assert row.status == "sent"
    arrived = sorted(m["Message-ID"] for m in inbox.messages)
    assert arrived == sorted(OutboxMail.objects.values_list("message_id", flat=True))


def test_logs_name_no_address(world, frozen_now, smtp_port, caplog):
    schedule(world)
    call_command("worker", "--once")
    assert "not sent" in caplog.text
    assert world.seeker.email not in caplog.text
    assert world.seeker.name not in caplog.text
