"""The job-seeker registry (R1, R3, R14).

Only what the consultation needs is kept (R21): no field for race, creed, family
origin, domicile of origin, union membership or anything like them.
"""

import datetime as dt
import unicodedata

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from madoguchi.errors import BookingError
from madoguchi.offices.models import Office, Staff
from madoguchi.seekers.numbers import normalize_job_seeker_number


class SeekerQuerySet(models.QuerySet["Seeker"]):
    def of_office(self, office: Office) -> "SeekerQuerySet":
        return self.filter(office=office)

    def caseload_of(self, counselor: Staff) -> "SeekerQuerySet":
        return self.filter(counselor=counselor)

    def search(self, text: str) -> "SeekerQuerySet":
        """By number (any accepted spelling, or a part of it), name or kana."""
        text = unicodedata.normalize("NFKC", text).strip()
        if not text:
            return self
        try:
            number = normalize_job_seeker_number(text)
        except BookingError:
            number = text
        return self.filter(
            models.Q(number__contains=number)
            | models.Q(name__icontains=text)
            | models.Q(name_kana__icontains=text)
        )


class Seeker(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("registration", "Active")
        INACTIVE = "inactive", pgettext_lazy("registration", "Closed")

    class Restriction(models.TextChoices):
        NONE = "none", pgettext_lazy("restriction", "None")
        REVIEW = "review", pgettext_lazy("restriction", "Flagged for review")
        RESTRICTED = "restricted", pgettext_lazy("restriction", "Restricted")

    class Language(models.TextChoices):
        JA = "ja", _("Japanese")
        EN = "en", _("English")

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="seekers")
    number = models.CharField(_("job-seeker number"), max_length=14, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_kana = models.CharField(_("name (kana)"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.JA
    )
    counselor = models.ForeignKey(
        Staff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="caseload",
        verbose_name=_("counselor"),
    )
    registered_on = models.DateField(_("registered on"))
    expires_on = models.DateField(_("registration expires on"))
    status = models.CharField(
        _("registration"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    restriction = models.CharField(
        _("restriction"), max_length=12, choices=Restriction.choices, default=Restriction.NONE
    )
    restriction_reason = models.CharField(_("restriction reason"), max_length=500, blank=True)
    restriction_since = models.DateTimeField(_("restricted since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Personal fields blanked once the registration expired past the office's retention.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    objects = SeekerQuerySet.as_manager()

    class Meta:
        verbose_name = _("job seeker")
        verbose_name_plural = _("job seekers")
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__gte=models.F("registered_on")),
                name="seeker_expiry_after_registration",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def is_registered_on(self, day: dt.date) -> bool:
        """R1: active and not expired on `day`."""
        return self.status == self.Status.ACTIVE and self.registered_on <= day <= self.expires_on

    @property
    def is_restricted(self) -> bool:
        """R3: restricted seekers cannot request (a review flag alone does not stop them)."""
        return self.restriction == self.Restriction.RESTRICTED
