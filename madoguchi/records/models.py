"""The audit log: who did what to which object, and when (R21); and the usage records
of R19 (page views), kept apart from case data and deleted after the office's
retention period."""

from typing import cast

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AppendOnlyError(Exception):
    """The audit log is append-only: entries are never changed or deleted from Django."""


class AuditEntryQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[override]
        """Several entries in one statement; sealed after commit (records.chain)."""
        from madoguchi.records.chain import chain_seal_later

        created = super().bulk_create(objs, *args, **kwargs)
        chain_seal_later(entry.office_id for entry in cast("list[AuditEntry]", created))
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
    # PROTECT: an office with entries stays, or its chain would move to the system's and
    # break both for good.
    office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
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
        chain_seal_later([self.office_id])

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


class DisclosureRequest(models.Model):
    """R20: an authority's request for personal data under law, with its approval and export.

    Recorded by one manager, approved or rejected by another, exported once. The
    archive itself is not kept (only its hash and signature): see records/disclosure.py.
    """

    class LegalBasis(models.TextChoices):
        CRIMINAL_PROCEDURE = "cpc_197_2", _("Code of Criminal Procedure, art. 197(2)")
        ATTORNEYS_ACT = "attorneys_23_2", _("Attorneys Act, art. 23-2")
        OTHER = "other", _("Other (give the provision)")

    class Category(models.TextChoices):
        REGISTRY = "registry", _("Registry record (and consents)")
        CONSULTATIONS = "consultations", _("Requests and consultations")
        NOTES = "notes", _("Outcome and counselor's notes")
        USAGE = "usage", _("Usage records (meeting events; page views with IP address and device)")
        MAILS = "mails", _("Mails sent")

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("disclosure", "Awaiting approval")
        APPROVED = "approved", pgettext_lazy("disclosure", "Approved")
        REJECTED = "rejected", pgettext_lazy("disclosure", "Rejected")
        EXPORTED = "exported", pgettext_lazy("disclosure", "Exported")

    office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="disclosure_requests"
    )
    requesting_body = models.CharField(_("requesting body"), max_length=200)
    requesting_person = models.CharField(_("requesting person"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    legal_basis_text = models.CharField(_("legal basis (other)"), max_length=300, blank=True)
    reference = models.CharField(_("reference number"), max_length=100)
    seeker_numbers = models.JSONField(_("job-seeker numbers"), default=list)
    categories = models.JSONField(_("data categories"), default=list)
    date_from = models.DateField(_("data from"))
    date_to = models.DateField(_("data until"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=500, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    export_sha256 = models.CharField(_("SHA-256 of the archive"), max_length=64, blank=True)
    export_signature = models.CharField(_("signature of the manifest"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("disclosure request")
        verbose_name_plural = _("disclosure register")
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_to__gte=models.F("date_from")),
                name="disclosure_range_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("recorded_by")),
                name="disclosure_second_manager_decides",
            ),
            # The check above passes on a NULL decider: only a pending request may lack one.
            models.CheckConstraint(
                condition=models.Q(status="pending") | models.Q(decided_by__isnull=False),
                name="disclosure_decided_has_a_decider",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="exported")
                | models.Q(exported_by__isnull=False, export_sha256__gt=""),
                name="disclosure_exported_has_exporter_and_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_status_display()})"

    @property
    def legal_basis_label(self) -> str:
        if self.legal_basis == self.LegalBasis.OTHER:
            return self.legal_basis_text
        return str(self.get_legal_basis_display())

    @property
    def overdue(self) -> bool:
        """Still unanswered after the due date (office local day)."""
        return (
            self.status in (self.Status.PENDING, self.Status.APPROVED)
            and self.due_on < timezone.localdate()
        )

    def category_labels(self) -> list[str]:
        labels = dict(self.Category.choices)
        return [str(labels.get(c, c)) for c in self.categories]
