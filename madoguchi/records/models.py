"""The audit log: who did what to which object, and when (R21); and the usage records
of R19 (page views), kept apart from case data and deleted after the office's
retention period."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """The audit log is append-only: entries are never changed or deleted from Django."""


class AuditEntryQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[override]
        """Several entries in one statement; sealed after commit (records.chain)."""
        from madoguchi.records.chain import chain_seal_later

        created = super().bulk_create(objs, *args, **kwargs)
        chain_seal_later()
        return created

    def update(self, **kwargs):  # type: ignore[override]
        raise AppendOnlyError("audit entries cannot be changed")

    def delete(self):  # type: ignore[override]
        raise AppendOnlyError("audit entries cannot be deleted")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(
        _("actor"), max_length=150, help_text=_("Username, or 'system' for the worker.")
    )
    office = models.ForeignKey(
        "offices.Office", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.CharField(_("object id"), max_length=50)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # The chain (records.chain): empty until sealed, right after the commit.
    seq = models.PositiveBigIntegerField(_("position in the chain"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["office", "at"]),
            models.Index(fields=["office", "seq"]),
            models.Index(fields=["id"], condition=Q(hash=""), name="records_audit_unsealed"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs) -> None:
        """Append only: a new entry is inserted (and sealed after commit); an existing
        one is refused."""
        if self.pk is not None or self.hash:
            raise AppendOnlyError("audit entries cannot be changed")
        from madoguchi.records.chain import chain_seal_later

        super().save(*args, **kwargs)
        chain_seal_later()

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise AppendOnlyError("audit entries cannot be deleted")


class AuditChainHead(models.Model):
    """The last hash of one chain (an office's, or `system` for entries without one).
    Locked while entries are sealed; its length lets the verifier see entries cut off
    the end."""

    key = models.CharField(max_length=20, unique=True)
    last_hash = models.CharField(max_length=64, blank=True)
    length = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.length}"


class PageView(models.Model):
    """One view of a public, seeker-facing page (R19). The page is its URL *name*, never
    the path: seekers' links carry signed tokens. Device identifiers are what the browser
    sends (user agent and client hints); nothing else about the person is kept."""

    at = models.DateTimeField(_("time"))
    office = models.ForeignKey(
        "offices.Office",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("office"),
    )
    seeker = models.ForeignKey(
        "seekers.Seeker",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("job seeker"),
    )
    page = models.CharField(_("page"), max_length=100)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)
    platform = models.CharField(_("platform"), max_length=60, blank=True)
    platform_version = models.CharField(_("platform version"), max_length=60, blank=True)
    browser = models.CharField(_("browser versions"), max_length=300, blank=True)
    model = models.CharField(_("device model"), max_length=100, blank=True)
    mobile = models.BooleanField(_("mobile"), null=True, blank=True)

    class Meta:
        verbose_name = _("page view")
        verbose_name_plural = _("page views")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["office", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.page}"


class RetentionSweep(models.Model):
    """One office's daily retention run, claimed once per office day (R19)."""

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "day"], name="retention_sweep_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.day}"
