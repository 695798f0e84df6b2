"""Writing the job-seeker registry."""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.errors import BookingError
from madoguchi.offices.models import Office, Staff
from madoguchi.records.audit import audit_record
from madoguchi.seekers.models import Seeker
from madoguchi.seekers.numbers import normalize_job_seeker_number

SEEKER_FIELDS = (
    "name",
    "name_kana",
    "email",
    "phone",
    "language",
    "registered_on",
    "expires_on",
)


def counselor_resolve(*, office: Office, username: str | None) -> Staff | None:
    """The active counselor `username` of `office`, or None for an empty name."""
    if not username:
        return None
    counselor = (
        Staff.objects.active()
        .counselors()
        .of_office(office)
        .select_related("user")
        .filter(user__username=username)
        .first()
    )
    if counselor is None:
        raise BookingError(
            "not_found",
            _("There is no counselor %(name)s at this office.") % {"name": username},
            field="counselor",
        )
    return counselor


def _seeker_build(*, office: Office, number: str, counselor: Staff | None, **fields) -> Seeker:
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    if not fields.get("name"):
        raise ValidationError({"name": _("Give the seeker's name.")})
    seeker = Seeker(
        office=office, number=normalize_job_seeker_number(number), counselor=counselor, **fields
    )
    seeker.full_clean(validate_unique=True)
    return seeker


def _validation_detail(error: ValidationError) -> str:
    return "; ".join(
        f"{name}: {' '.join(str(m) for m in messages)}"
        for name, messages in error.message_dict.items()
    )


@transaction.atomic
def seeker_create(
    *, office: Office, number: str, counselor: str | None = None, actor: Staff | None, **fields
) -> Seeker:
    """Register a job seeker; `counselor` is the username of one of the office's counselors."""
    try:
        seeker = _seeker_build(
            office=office,
            number=number,
            counselor=counselor_resolve(office=office, username=counselor),
            **fields,
        )
    except ValidationError as error:
        raise BookingError("invalid_input", _validation_detail(error)) from error
    seeker.save()
    audit_record(actor=actor, action="seeker.created", obj=seeker)
    return seeker


def _seeker_set_restriction(
    *, seeker: Seeker, restriction: str, reason: str, actor: Staff | None, action: str
) -> Seeker:
    seeker.restriction = restriction
    seeker.restriction_reason = reason
    seeker.restriction_since = timezone.now() if restriction != Seeker.Restriction.NONE else None
    seeker.save(
        update_fields=["restriction", "restriction_reason", "restriction_since", "updated_at"]
    )
    audit_record(actor=actor, action=action, obj=seeker, details={"reason": reason})
    return seeker


@transaction.atomic
def seeker_restrict(*, seeker: Seeker, reason: str, actor: Staff | None) -> Seeker:
    """R3/R14/R15: refuse further online consultations until lifted; the seeker is told."""
    from madoguchi.notifications.outbox import mail_queue

    if not reason.strip():
        raise BookingError("invalid_input", _("Give a reason for the restriction."), field="reason")
    told = seeker.restriction == Seeker.Restriction.RESTRICTED
    _seeker_set_restriction(
        seeker=seeker,
        restriction=Seeker.Restriction.RESTRICTED,
        reason=reason.strip(),
        actor=actor,
        action="seeker.restricted",
    )
    if not told:
        mail_queue("restriction_notice", seeker=seeker)
    return seeker


@transaction.atomic
def seeker_lift_restriction(*, seeker: Seeker, reason: str = "", actor: Staff | None) -> Seeker:
    if seeker.restriction == Seeker.Restriction.NONE:
        raise BookingError("invalid_transition", _("This job seeker is not restricted."))
    return _seeker_set_restriction(
        seeker=seeker,
        restriction=Seeker.Restriction.NONE,
        reason=reason.strip(),
        actor=actor,
        action="seeker.restriction_lifted",
    )


def seeker_flag_for_review(*, seeker: Seeker, no_shows: int, actor: Staff | None) -> None:
    """R14: at the office's threshold a seeker is flagged; staff decide whether to restrict."""
    if seeker.restriction != Seeker.Restriction.NONE:
        return
    _seeker_set_restriction(
        seeker=seeker,
        restriction=Seeker.Restriction.REVIEW,
        reason=_("%(count)s no-shows") % {"count": no_shows},
        actor=actor,
        action="seeker.flagged_for_review",
    )


def seeker_view_record(*, seeker: Seeker, actor: Staff) -> None:
    """R21: a staff member saw this seeker's personal data."""
    audit_record(actor=actor, action="seeker.viewed", obj=seeker)


@dataclass
class ImportResult:
    created: list[Seeker] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


IMPORT_COLUMNS = (
    "number",
    "name",
    "name_kana",
    "email",
    "phone",
    "counselor",
    "registered_on",
    "expires_on",
    "language",
)
REQUIRED_COLUMNS = ("number", "name", "registered_on", "expires_on")


def seekers_import(*, office: Office, text: str, actor: Staff | None) -> ImportResult:
    """Import seekers from CSV text with a header; all rows or none.

    Every row is checked first; if any row is wrong, `errors` lists each one with its
    line number and nothing is saved.
    """
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append((1, _("missing columns: %(c)s") % {"c": ", ".join(missing)}))
        return result
    seekers: list[Seeker] = []
    seen: dict[str, int] = {}
    counselors: dict[str, Staff | None] = {}
    for row in reader:
        line = reader.line_num
        try:
            seeker = _import_row(office=office, row=row, counselors=counselors)
        except (BookingError, ValidationError, ValueError) as error:
            result.errors.append((line, _import_error_text(error)))
            continue
        if seeker.number in seen:
            result.errors.append(
                (line, _("number also on line %(n)s") % {"n": seen[seeker.number]})
            )
            continue
        seen[seeker.number] = line
        seekers.append(seeker)
    if result.errors:
        return result
    with transaction.atomic():
        result.created = Seeker.objects.bulk_create(seekers)
        audit_record(
            actor=actor,
            action="seeker.imported",
            obj=office,
            office=office,
            details={"count": len(seekers)},
        )
    return result


def _import_row(*, office: Office, row: dict, counselors: dict[str, Staff | None]) -> Seeker:
    values = {k: (row.get(k) or "").strip() for k in IMPORT_COLUMNS}
    username = values.pop("counselor")
    if username not in counselors:
        counselors[username] = counselor_resolve(office=office, username=username)
    number = values.pop("number")
    values["registered_on"] = dt.date.fromisoformat(values["registered_on"])
    values["expires_on"] = dt.date.fromisoformat(values["expires_on"])
    values["language"] = values["language"] or Seeker.Language.JA
    return _seeker_build(office=office, number=number, counselor=counselors[username], **values)


def _import_error_text(error: Exception) -> str:
    if isinstance(error, BookingError):
        return error.detail
    if isinstance(error, ValidationError) and hasattr(error, "message_dict"):
        return _validation_detail(error)
    return str(error)
