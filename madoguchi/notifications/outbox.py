"""Queue mail in the transaction of its cause; render and send it after commit, once.

`mail_queue` writes the outbox row — which message, about what — and asks for a
`send_mail` task when the transaction commits. `outbox_send` (the task's body) takes the
row by lease, renders the message from the objects as they are *now* (so a mail that no
longer fits, such as "scheduled" for a consultation cancelled meanwhile, is withdrawn
instead of sent), sends it through Django's mail framework (any mail backend works) and
marks it sent, keeping what was sent. While the mail server is down it waits longer each
time. Nothing here logs an address.
"""

import base64
import datetime as dt
import logging
from collections.abc import Callable
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from madoguchi.notifications import messages
from madoguchi.notifications.messages import Mail
from madoguchi.notifications.models import OutboxMail
from madoguchi.worker import leases

logger = logging.getLogger("madoguchi.mail")

# About a day and a half of retries (30 s doubling to an hour) before a mail is given up.
MAX_ATTEMPTS = 40


def _mail_domain() -> str:
    return urlsplit(settings.MADOGUCHI_BASE_URL).hostname or "localhost"


def mail_queue(
    kind: str,
    *,
    seeker: Any,
    consultation: Any = None,
    request: Any = None,
    **params: Any,
) -> OutboxMail | None:
    """Put message `kind` about `consultation`, `request` or `seeker` in the outbox.

    Runs inside the caller's transaction. A seeker without an e-mail address gets
    nothing queued. `params` are JSON values (datetimes as ISO text).
    """
    from madoguchi.worker.tasks import enqueue_on_commit, send_mail

    if kind not in RENDER:
        raise ValueError(f"unknown mail {kind!r}")
    if not seeker.email:
        return None
    now = timezone.now()
    row = OutboxMail.objects.create(
        office_id=seeker.office_id,
        seeker=seeker,
        consultation=consultation,
        request=request,
        kind=kind,
        to=seeker.email,
        language=seeker.language,
        params={k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in params.items()},
        message_id=make_msgid(domain=_mail_domain()),
        next_attempt_at=now + leases.queue_grace(),
        created_at=now,
    )
    enqueue_on_commit(send_mail, row.pk)
    return row


# kind → (renders the Mail from the row, or None when it no longer fits)
def _consultation_mail(status: str, func: Callable[..., Mail | None], *, ready: bool = True):
    def render(row: OutboxMail) -> Mail | None:
        consultation = row.consultation
        if consultation is None or consultation.status != status:
            return None
        if ready and not (
            consultation.meeting_ready_at and consultation.meeting_state in ("ready", "update")
        ):
            return None  # the seeker has not had the meeting's details (yet)
        params = dict(row.params)
        if "previous_start" in params:
            params["previous_start"] = dt.datetime.fromisoformat(params["previous_start"])
        return func(consultation, **params)

    return render


def _request_mail(statuses: set[str] | None, func: Callable[..., Mail | None]):
    def render(row: OutboxMail) -> Mail | None:
        request = row.request
        if request is None or (statuses is not None and request.status not in statuses):
            return None
        return func(request, **row.params)

    return render


def _restriction(row: OutboxMail) -> Mail | None:
    seeker = row.seeker
    if seeker is None or seeker.restriction != "restricted":
        return None
    return messages.restriction_notice(seeker)


RENDER: dict[str, Callable[[OutboxMail], Mail | None]] = {
    "request_received": _request_mail(None, messages.request_received),
    "verify_request": _request_mail({"pending_verification"}, messages.verify_request),
    "declined": _request_mail({"declined"}, messages.declined),
    "scheduled": _consultation_mail("scheduled", messages.scheduled),
    "reminder_day_before": _consultation_mail(
        "scheduled", lambda c: messages.reminder(c, when="day_before")
    ),
    "reminder_hour_before": _consultation_mail(
        "scheduled", lambda c: messages.reminder(c, when="hour_before")
    ),
    "rescheduled": _consultation_mail("scheduled", messages.rescheduled),
    "cancelled": _consultation_mail("cancelled", messages.cancelled, ready=False),
    "no_show": _consultation_mail("no_show", messages.no_show, ready=False),
    "restriction_notice": _restriction,
}


def _message(row: OutboxMail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers={"Message-ID": row.message_id, "Auto-Submitted": "auto-generated"},
    )
    if row.html:
        message.attach_alternative(row.html, "text/html")
    for attachment in row.attachments:
        message.attach(
            attachment["filename"],
            base64.b64decode(attachment["content"]),
            attachment["mimetype"],
        )
    return message


def _render(row: OutboxMail) -> bool:
    """Fill the row with the message as it reads now; False if it no longer fits."""
    mail = RENDER[row.kind](row)
    if mail is None:
        return False
    row.language, row.to = mail.language, mail.to
    row.subject, row.text, row.html = mail.subject, mail.text, mail.html
    row.attachments = [
        {
            "filename": a.filename,
            "mimetype": a.mimetype,
            "content": base64.b64encode(a.content).decode("ascii"),
        }
        for a in mail.attachments
    ]
    return True


def outbox_send(*, outbox_id: int) -> str:
    """Render and send one queued mail; idempotent (a sent or leased row is left alone)."""
    now = timezone.now()
    rows = OutboxMail.objects.filter(pk=outbox_id, status=OutboxMail.Status.QUEUED)
    if not leases.claim(rows, field="claimed_until", now=now, counter="attempts"):
        return "skipped"
    row = OutboxMail.objects.select_related(
        "seeker__office",
        "consultation__office",
        "consultation__seeker",
        "consultation__counselor__user",
        "consultation__request",
        "request__office",
        "request__seeker",
    ).get(pk=outbox_id)
    if not _render(row):
        OutboxMail.objects.filter(pk=row.pk).update(
            status=OutboxMail.Status.WITHDRAWN, claimed_until=None
        )
        logger.info("mail %s (%s) no longer fits; withdrawn", row.pk, row.kind)
        return "withdrawn"
    try:
        _message(row).send()
    except Exception as error:  # any mail backend, any failure: keep the mail, try later
        failed = row.attempts >= MAX_ATTEMPTS
        reason = f"{type(error).__name__}: {getattr(error, 'smtp_code', '')}".rstrip(": ")
        OutboxMail.objects.filter(pk=row.pk).update(
            status=OutboxMail.Status.FAILED if failed else OutboxMail.Status.QUEUED,
            next_attempt_at=timezone.now() + leases.backoff(row.attempts),
            claimed_until=None,
            last_error=reason[:300],
        )
        logger.warning(
            "mail %s (%s) not sent, attempt %s: %s", row.pk, row.kind, row.attempts, reason
        )
        return "failed" if failed else "retry"
    OutboxMail.objects.filter(pk=row.pk).update(
        status=OutboxMail.Status.SENT,
        sent_at=timezone.now(),
        claimed_until=None,
        last_error="",
        language=row.language,
        to=row.to,
        subject=row.subject,
        text=row.text,
        html=row.html,
        attachments=row.attachments,
    )
    logger.info("mail %s (%s) sent", row.pk, row.kind)
    return "sent"


def outbox_requeue(*, now: dt.datetime, limit: int = 500) -> int:
    """The clock: queue again mail that is due and that no task holds."""
    from madoguchi.worker.tasks import send_mail

    return leases.requeue_due(
        OutboxMail.objects.filter(status=OutboxMail.Status.QUEUED),
        due_field="next_attempt_at",
        claim_field="claimed_until",
        task=send_mail,
        now=now,
        limit=limit,
    )
