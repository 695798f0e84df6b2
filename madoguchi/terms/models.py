"""Versioned terms of use and the consents given to them (R4, R5)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.offices.models import Office, Staff
from madoguchi.seekers.models import Seeker


class TermsVersionQuerySet(models.QuerySet["TermsVersion"]):
    def published(self) -> "TermsVersionQuerySet":
        """Versions not withdrawn: the ones that are, were or will be in force."""
        return self.filter(withdrawn_at=None)

    def in_force_at(self, office: Office | None, moment) -> "TermsVersion | None":
        return (
            self.published()
            .filter(office=office, effective_from__lte=moment)
            .order_by("-effective_from", "-number")
            .first()
        )


class TermsVersion(models.Model):
    """One version of the terms. `office` empty: the deployment's shipped template."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, null=True, blank=True, related_name="terms_versions"
    )
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body_ja = models.TextField(_("text (Japanese)"))
    body_en = models.TextField(_("text (English)"))
    changes_ja = models.TextField(_("what changed (Japanese)"), blank=True)
    changes_en = models.TextField(_("what changed (English)"), blank=True)
    effective_from = models.DateTimeField(_("in force from"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A version withdrawn before it took effect: never in force, kept for the record.
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    objects = TermsVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("terms version")
        verbose_name_plural = _("terms versions")
        ordering = ["office", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "number"], name="one_terms_number_per_office"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    def body(self, language: str) -> str:
        return self.body_ja if language.startswith("ja") else self.body_en

    def changes(self, language: str) -> str:
        return self.changes_ja if language.startswith("ja") else self.changes_en

    def is_upcoming(self, now) -> bool:
        return self.withdrawn_at is None and self.effective_from > now


class Consent(models.Model):
    """R4: who consented to which version, when, and through which channel."""

    seeker = models.ForeignKey(Seeker, on_delete=models.CASCADE, related_name="consents")
    version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="consents")
    channel = models.CharField(_("channel"), max_length=20)
    given_at = models.DateTimeField(_("given at"))
    recorded_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"{self.seeker} → {self.version}"
