"""Writing terms versions and consents (R4, R5)."""

import datetime as dt

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.errors import BookingError
from madoguchi.offices.models import Office, Staff
from madoguchi.records.audit import audit_record
from madoguchi.seekers.models import Seeker
from madoguchi.terms.models import Consent, TermsVersion

TEMPLATE_TITLE = "オンライン職業相談 利用規約 / Online Job Consultation Terms of Use"
GENERIC_OFFICE_JA = "公共職業安定所（ハローワーク）"
GENERIC_OFFICE_EN = "the Public Employment Security Office (Hello Work)"
GENERIC_COURT = "当所の所在地を管轄する地方裁判所"
GENERIC_COURT_EN = "the district court with jurisdiction over the office's location"


def terms_template_render(office: Office | None) -> tuple[str, str]:
    """The shipped terms template in Japanese and English, filled from the office."""
    phone = office.phone if office and office.phone else "—"
    ja = render_to_string(
        "terms/template_ja.txt",
        {
            "office_name": office.name if office else GENERIC_OFFICE_JA,
            "office_phone": phone,
            "court": (office.court if office and office.court else GENERIC_COURT),
        },
    )
    en = render_to_string(
        "terms/template_en.txt",
        {
            "office_name": (office.name_en or office.name) if office else GENERIC_OFFICE_EN,
            "office_phone": phone,
            "court_en": (office.court if office and office.court else GENERIC_COURT_EN),
        },
    )
    return ja.strip(), en.strip()


def terms_create_initial(*, office: Office | None, effective_from: dt.datetime) -> TermsVersion:
    """Version 1 of an office's terms (or the deployment's, for `office=None`)."""
    body_ja, body_en = terms_template_render(office)
    return TermsVersion.objects.create(
        office=office,
        number=1,
        title=TEMPLATE_TITLE,
        body_ja=body_ja,
        body_en=body_en,
        effective_from=effective_from,
    )


@transaction.atomic
def terms_publish(
    *,
    office: Office,
    title: str,
    body_ja: str,
    body_en: str,
    changes_ja: str,
    changes_en: str,
    effective_from: dt.datetime | None,
    actor: Staff | None,
) -> TermsVersion:
    """Publish the office's next version, in force from `effective_from` (None: now).

    A published version is never edited (seekers consented to its exact words, R4). It
    takes effect now or later, never in the past, and not before the office's latest
    published version (so the numbers and the dates run in the same order). Locks the
    office's versions for the numbering; the audit entry is in the same transaction.
    """
    now = timezone.now()
    effective_from = effective_from or now
    if effective_from < now:
        raise BookingError(
            "invalid_input",
            _("The new version cannot take effect in the past."),
            field="effective_from",
        )
    rows = list(
        TermsVersion.objects.select_for_update()
        .filter(office=office)
        .values_list("number", "effective_from", "withdrawn_at")
    )
    latest = max((start for _n, start, withdrawn in rows if withdrawn is None), default=None)
    if latest is not None and effective_from < latest:
        raise BookingError(
            "invalid_input",
            _("The new version cannot take effect before the latest published version."),
            field="effective_from",
        )
    number = max((n for n, _start, _withdrawn in rows), default=0) + 1
    version = TermsVersion.objects.create(
        office=office,
        number=number,
        title=title,
        body_ja=body_ja,
        body_en=body_en,
        changes_ja=changes_ja,
        changes_en=changes_en,
        effective_from=effective_from,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="terms.published",
        obj=version,
        office=office,
        details={"number": number, "effective_from": effective_from.isoformat()},
    )
    return version


@transaction.atomic
def terms_withdraw(*, version: TermsVersion, actor: Staff | None) -> TermsVersion:
    """Withdraw a version that has not taken effect yet (nobody can have consented to it).

    Compare-and-set on "published and still upcoming", so a version that took effect a
    moment ago, or one withdrawn twice, is refused with `invalid_transition`.
    """
    now = timezone.now()
    changed = TermsVersion.objects.filter(
        pk=version.pk, withdrawn_at=None, effective_from__gt=now
    ).update(withdrawn_at=now)
    if changed != 1:
        raise BookingError(
            "invalid_transition", _("Only a version that has not taken effect can be withdrawn.")
        )
    version.withdrawn_at = now
    audit_record(
        actor=actor,
        action="terms.withdrawn",
        obj=version,
        office=version.office,
        details={"number": version.number, "effective_from": version.effective_from.isoformat()},
    )
    return version


def consent_record(
    *, seeker: Seeker, version: TermsVersion, channel: str, actor: Staff | None
) -> Consent:
    return Consent.objects.create(
        seeker=seeker,
        version=version,
        channel=channel,
        given_at=timezone.now(),
        recorded_by=actor,
    )
