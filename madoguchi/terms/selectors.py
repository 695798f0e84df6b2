"""Reading terms versions."""

import datetime as dt
from dataclasses import dataclass

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


@dataclass(frozen=True)
class PublicTerms:
    """The terms a seeker of an office may read at `now`: the published versions, newest
    first, and which one is in force."""

    versions: list[TermsVersion]
    in_force: TermsVersion
    now: dt.datetime

    def state(self, version: TermsVersion) -> str:
        """The version's state for seekers: upcoming, current or past."""
        if version.effective_from > self.now:
            return "upcoming"
        return "current" if version == self.in_force else "past"

    def upcoming(self) -> list[TermsVersion]:
        return sorted(
            (v for v in self.versions if v.effective_from > self.now),
            key=lambda v: v.effective_from,
        )

    def next_change(self) -> dt.datetime | None:
        """When the next version takes effect, if one is still to come."""
        return min((v.effective_from for v in self.upcoming()), default=None)

    def find(self, number: int) -> tuple[TermsVersion, TermsVersion | None]:
        """Version `number` and the one before it; TermsVersion.DoesNotExist if unpublished."""
        for index, version in enumerate(self.versions):
            if version.number == number:
                before = self.versions[index + 1 : index + 2]
                return version, (before[0] if before else None)
        raise TermsVersion.DoesNotExist(f"no published terms version {number}")


def terms_public(*, office: Office, at: dt.datetime | None = None) -> PublicTerms:
    """The office's own published versions, or the deployment's when it has none (withdrawn
    ones left out), and the one in force at `at` (as `terms_in_force` finds it)."""
    at = at or timezone.now()
    published = TermsVersion.objects.published().order_by("-number")
    versions = list(published.filter(office=office)) or list(published.filter(office=None))
    started = [v for v in versions if v.effective_from <= at]
    if started:
        in_force = max(started, key=lambda v: (v.effective_from, v.number))
    else:
        in_force = terms_in_force(office=office, at=at)
    return PublicTerms(versions=versions, in_force=in_force, now=at)


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
        TermsVersion.objects.published()
        .filter(
            office=current.office_id, number__gt=last.version.number, number__lte=current.number
        )
        .order_by("number")
    )
