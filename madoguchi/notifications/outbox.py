"""Queue mail in the transaction of its cause; send it after commit, once.

`mail_queue` writes the outbox row and asks for a `send_mail` task when the
transaction commits. `outbox_send` (the task's body) takes the row by lease, sends it
through Django's mail framework (so any mail backend works) and marks it sent; while
the mail server is down it waits longer each time. Nothing here logs an address.
"""

import base64
import logging
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from madoguchi.notifications.messages import Mail
from madoguchi.notifications.models import OutboxMail
from madoguchi.worker import leases

logger = logging.getLogger("madoguchi.mail")

# About a day and a half of retries (30 s doubling to an hour) before a mail is given up.
MAX_ATTEMPTS = 40


def _mail_domain() -> str:
    return urlsplit(settings.MADOGUCHI_BASE_URL).hostname or "localhost"


def mail_queue(
    mail: Mail | None, *, office=None, seeker=None, consultation=None
) -> OutboxMail | None:
    """Put `mail` in the outbox (inside the caller's transaction). None queues nothing."""
    from madoguchi.worker.tasks import enqueue_on_commit, send_mail

    if mail is None:
        return None
    now = timezone.now()
    row = OutboxMail.objects.create(
        office=office,
        seeker=seeker,
        consultation=consultation,
        kind=mail.kind,
        language=mail.language,
        to=mail.to,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        attachments=[
            {
                "filename": a.filename,
                "mimetype": a.mimetype,
                "content": base64.b64encode(a.content).decode("ascii"),
            }
            for a in mail.attachments
        ],
        message_id=make_msgid(domain=_mail_domain()),
        next_attempt_at=now + leases.queue_grace(),
        created_at=now,
    )
    enqueue_on_commit(send_mail, row.pk)
    return row


def outbox_withdraw(*, consultation_id: int, kind: str) -> int:
    """Take back mail of `kind` about a consultation that has not gone out yet."""
    return OutboxMail.objects.filter(
        consultation_id=consultation_id, kind=kind, status=OutboxMail.Status.QUEUED
    ).update(status=OutboxMail.Status.WITHDRAWN, claimed_until=None)


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


def outbox_send(*, outbox_id: int) -> str:
    """Send one queued mail; idempotent (a sent or leased row is left alone)."""
    now = timezone.now()
    rows = OutboxMail.objects.filter(pk=outbox_id, status=OutboxMail.Status.QUEUED)
    if not leases.claim(rows, field="claimed_until", now=now, counter="attempts"):
        return "skipped"
    row = OutboxMail.objects.get(pk=outbox_id)
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
        status=OutboxMail.Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    logger.info("mail %s (%s) sent", row.pk, row.kind)
    return "sent"


def outbox_requeue(*, now, limit: int = 500) -> int:
    """The clock: queue again mail that is due and that no task holds."""
    from madoguchi.worker.tasks import send_mail

    due = list(
        OutboxMail.objects.filter(status=OutboxMail.Status.QUEUED, next_attempt_at__lte=now)
        .exclude(claimed_until__gt=now)
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return 0
    OutboxMail.objects.filter(pk__in=due).update(next_attempt_at=now + leases.queue_grace())
    for pk in due:
        send_mail.enqueue(pk)
    return len(due)
