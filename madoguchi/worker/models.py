from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """A running worker's last sign of life; /readyz reads it."""

    worker = models.CharField(_("worker"), max_length=100, unique=True)
    seen_at = models.DateTimeField(_("last seen"))
    started_at = models.DateTimeField(_("started"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker
