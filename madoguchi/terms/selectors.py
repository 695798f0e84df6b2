"""Reading terms versions."""

import datetime as dt

from django.utils import timezone

from madoguchi.offices.models import Office
from madoguchi.terms.models import TermsVersion


def terms_in_force(*, office: Office | None, at: dt.datetime | None = None) -> TermsVersion:
    """The version in force for `office` at `at`; the deployment's own when the office has none.

    A fresh installation always has the deployment's version 1 (data migration), so this
    never comes back empty.
    """
    at = at or timezone.now()
    version = None
    if office is not None:
        version = TermsVersion.objects.in_force_at(office, at)
    if version is None:
        version = TermsVersion.objects.in_force_at(None, at)
    if version is None:
        version = TermsVersion.objects.filter(office=None).order_by("number").first()
    if version is None:
        raise TermsVersion.DoesNotExist("the shipped terms version is missing; run migrate")
    return version


def terms_history(*, office: Office | None) -> list[TermsVersion]:
    return list(TermsVersion.objects.filter(office=office).order_by("-number"))
