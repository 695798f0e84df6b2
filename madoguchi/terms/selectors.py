"""Reading terms versions."""

import datetime as dt

from django.utils import timezone

from madoguchi.offices.models import Office
from madoguchi.seekers.models import Seeker
from madoguchi.terms.models import Consent, TermsVersion


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


def terms_changes_since(
    *, seeker: Seeker, office: Office, before: dt.datetime, at: dt.datetime | None = None
) -> list[TermsVersion]:
    """R5: the versions that took effect since the seeker's last consent given before
    `before`, oldest first, ending with the one in force at `at`.

    Empty when the seeker never consented before (the form showed them the terms) or
    when their last consent is to the version in force.
    """
    current = terms_in_force(office=office, at=at)
    last = (
        Consent.objects.filter(seeker=seeker, given_at__lt=before)
        .select_related("version")
        .order_by("-given_at", "-id")
        .first()
    )
    if last is None or last.version_id == current.pk:
        return []
    if last.version.office_id != current.office_id:
        return [current]
    return list(
        TermsVersion.objects.filter(
            office=current.office_id, number__gt=last.version.number, number__lte=current.number
        ).order_by("number")
    )
