"""The outbox: every mail is a row, written in the transaction of the change that causes it.

The row names the message (`kind`), its object and parameters; the worker renders and
sends it after commit and marks it sent; while the mail server is down a row waits with
growing pauses, so a mail is never lost and, once marked sent, never sent again.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMail(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    office = models.ForeignKey(
        "offices.Office", on_delete=models.CASCADE, related_name="outbox", null=True, blank=True
    )
    seeker = models.ForeignKey(
        "seekers.Seeker", on_delete=models.CASCADE, related_name="mails", null=True, blank=True
    )
    consultation = models.ForeignKey(
        "bookings.Consultation",
        on_delete=models.SET_NULL,
        related_name="mails",
        null=True,
        blank=True,
    )
    request = models.ForeignKey(
        "bookings.Request", on_delete=models.SET_NULL, related_name="mails", null=True, blank=True
    )
    kind = models.CharField(_("kind"), max_length=40)
    # What the message function needs besides its object (e.g. the previous start).
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # Rendered when sent, from the objects as they are then; kept as sent.
    language = models.CharField(_("language"), max_length=5, blank=True)
    to = models.EmailField(_("to"), blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    # [{"filename", "mimetype", "content" (base64)}]
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("queued at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mail")
        verbose_name_plural = _("mails")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
