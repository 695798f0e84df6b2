"""What Zoom (or the fake provider) told us about a meeting: the usage record of R19."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MeetingEvent(models.Model):
    """One webhook event, kept once (`dedupe_key`), tied to its consultation if known.

    Only what the usage record needs is kept: the event, its time, whether it was the
    host, Zoom's per-meeting participant handle and the leave reason. Names and e-mail
    addresses that Zoom may send are not stored (R21).
    """

    consultation = models.ForeignKey(
        "bookings.Consultation",
        on_delete=models.CASCADE,
        related_name="meeting_events",
        null=True,
        blank=True,
    )
    dedupe_key = models.CharField(max_length=300, unique=True)
    event = models.CharField(_("event"), max_length=60)
    meeting_id = models.CharField(_("meeting ID"), max_length=50, blank=True)
    at = models.DateTimeField(_("time"))
    is_host = models.BooleanField(_("host"), default=False)
    participant = models.CharField(_("participant handle"), max_length=100, blank=True)
    leave_reason = models.CharField(_("leave reason"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received"))

    class Meta:
        verbose_name = _("meeting event")
        verbose_name_plural = _("meeting events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["meeting_id"])]

    def __str__(self) -> str:
        return f"{self.event} {self.at:%Y-%m-%d %H:%M:%S}"
