"""The audit log: who did what to which object, and when (R21)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


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
        USAGE = "usage", _("Usage records (meeting events)")
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
