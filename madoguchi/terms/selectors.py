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


def terms_public_history(*, office: Office) -> list[TermsVersion]:
    """The versions a seeker of `office` may read, newest first: the office's own published
    ones, or the deployment's when the office has none. Withdrawn versions are left out."""
    versions = list(TermsVersion.objects.published().filter(office=office).order_by("-number"))
    if not versions:
        versions = list(TermsVersion.objects.published().filter(office=None).order_by("-number"))
    return versions


def terms_office_version(
    *, office: Office, number: int
) -> tuple[TermsVersion, TermsVersion | None]:
    """For the staff web: the office's version `number`, withdrawn or not, and the published
    version it follows (what its diff is against). Raises TermsVersion.DoesNotExist."""
    version = TermsVersion.objects.select_related("created_by__user").get(
        office=office, number=number
    )
    previous = (
        TermsVersion.objects.published()
        .filter(office=office, number__lt=number)
        .order_by("-number")
        .first()
    )
    return version, previous


def terms_next_change(*, versions: list[TermsVersion], now: dt.datetime) -> dt.datetime | None:
    """When the next of `versions` takes effect, if one is still to come."""
    upcoming = [v.effective_from for v in versions if v.effective_from > now]
    return min(upcoming, default=None)
