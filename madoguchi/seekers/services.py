"""Writing the job-seeker registry."""

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from madoguchi.errors import BookingError
from madoguchi.joined import JoinedSelect, Table
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


# An office's active counselor by username, with their user: composed once per process
# (`madoguchi.joined`), as `Staff.objects.active().counselors()` with the user would read.
_ACTIVE_COUNSELOR = JoinedSelect(
    tables=(
        Table("s", Staff),
        Table("u", get_user_model(), 'INNER JOIN {table} u ON u."id" = s."user_id"'),
    ),
    where='s."office_id" = %s AND s."role" = %s AND u."is_active" = %s AND u."username" = %s',
)


def counselor_resolve(*, office: Office, username: str | None) -> Staff | None:
    """The active counselor `username` of `office`, or None for an empty name."""
    if not username:
        return None
    row = _ACTIVE_COUNSELOR.first([office.pk, Staff.Role.COUNSELOR.value, True, username])
    if row is None:
        raise BookingError(
            "not_found",
            _("There is no counselor %(name)s at this office.") % {"name": username},
            field="counselor",
        )
    counselor, user = row
    counselor.user = user
    return counselor


def _seeker_build(*, office: Office, number: str, counselor: Staff | None, **fields) -> Seeker:
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    seeker = Seeker(
        office=office, number=normalize_job_seeker_number(number), counselor=counselor, **fields
    )
    _seeker_check(seeker, validate_unique=True)
    return seeker


# Numbers are unique across offices, but staff must not learn where else a number is
# registered (R21): the same words wherever it is refused, naming no office.
NUMBER_ELSEWHERE = gettext_lazy(
    "This number cannot be registered here. Check the number, or ask the registry administrator."
)


def _seeker_check(seeker: Seeker, *, validate_unique: bool) -> None:
    """The model's checks, with the two problems people make said in their words, and a
    number registered at another office refused without saying so."""
    if (
        validate_unique
        and Seeker.objects.filter(number=seeker.number)
        .exclude(office_id=seeker.office_id)
        .exclude(pk=seeker.pk)
        .exists()
    ):
        raise ValidationError({"number": str(NUMBER_ELSEWHERE)})
    if not seeker.name:
        raise ValidationError({"name": _("Give the seeker's name.")})
    if (
        isinstance(seeker.registered_on, dt.date)
        and isinstance(seeker.expires_on, dt.date)
        and seeker.expires_on < seeker.registered_on
    ):
        raise ValidationError({"expires_on": _("The registration cannot expire before it starts.")})
    seeker.full_clean(validate_unique=validate_unique)


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


# Editing --------------------------------------------------------------------------------

EDITABLE_FIELDS = (
    "number",
    "name",
    "name_kana",
    "email",
    "phone",
    "counselor",
    "registered_on",
    "expires_on",
    "status",
    "language",
)


@transaction.atomic
def seeker_update(*, seeker: Seeker, actor: Staff | None, **changes: Any) -> list[str]:
    """Change a registered seeker's fields; returns the names of the fields that changed.

    `changes` take the names of EDITABLE_FIELDS; `counselor` is a username of one of the
    office's counselors (or empty for none) and `number` any accepted spelling, stored
    canonical. The row is locked, checked as a whole, saved, and the changed field names
    (never their values) are audited with the actor, in one transaction. Raises
    `invalid_input` (its cause the ValidationError, field by field),
    `invalid_job_seeker_number`, or `not_found` for an unknown counselor.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable seeker fields: {sorted(unknown)}")
    locked = Seeker.objects.select_for_update().get(pk=seeker.pk)
    values = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    if "number" in values:
        values["number"] = normalize_job_seeker_number(values["number"])
    if "counselor" in values:
        current = locked.counselor.user.username if locked.counselor else ""
        if values["counselor"] == current:  # kept, even if no longer an active counselor
            del values["counselor"]
        else:
            values["counselor"] = counselor_resolve(
                office=locked.office, username=values["counselor"]
            )
    changed = [key for key, value in values.items() if getattr(locked, key) != value]
    if not changed:
        return []
    for key in changed:
        setattr(locked, key, values[key])
    try:
        _seeker_check(locked, validate_unique="number" in changed)
    except ValidationError as error:
        raise BookingError("invalid_input", _validation_detail(error)) from error
    try:
        with transaction.atomic():
            locked.save(update_fields=[*changed, "updated_at"])
    except IntegrityError as error:  # the number, taken meanwhile: here or elsewhere
        raise BookingError("invalid_input", str(NUMBER_ELSEWHERE), field="number") from error
    audit_record(actor=actor, action="seeker.updated", obj=locked, details={"fields": changed})
    for key in changed:
        setattr(seeker, key, getattr(locked, key))
    return changed


# Import from CSV --------------------------------------------------------------------------

# A file's columns: what staff edit, but the registration's status.
IMPORT_COLUMNS = tuple(field for field in EDITABLE_FIELDS if field != "status")
REQUIRED_COLUMNS = ("number", "name", "registered_on", "expires_on")
# The fields a row sets (the whole record but its status and restriction).
IMPORT_FIELDS = (
    "name",
    "name_kana",
    "email",
    "phone",
    "counselor",
    "registered_on",
    "expires_on",
    "language",
)
# UTF-8 (with or without the BOM Excel writes), else Windows Shift_JIS, which is what
# Excel in Japan writes when told "CSV".
ENCODINGS = ("utf-8-sig", "cp932")
_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")


def csv_decode(data: bytes) -> str:
    """The text of a CSV file in UTF-8 (BOM or not) or Shift_JIS (cp932)."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BookingError("invalid_input", _("The file is neither UTF-8 nor Shift_JIS (cp932) text."))


class ImportAction(models.TextChoices):
    NEW = "new", pgettext_lazy("import row", "New")
    UPDATE = "update", pgettext_lazy("import row", "Update")
    UNCHANGED = "unchanged", pgettext_lazy("import row", "Unchanged")


@dataclass
class ImportRow:
    """One row of the file as the import would apply it; `seeker` is unsaved."""

    line: int
    number: str
    name: str
    action: str = ""
    changed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seeker: Seeker | None = None

    def get_action_display(self) -> str:
        return str(ImportAction(self.action).label) if self.action else ""

    @property
    def changed_labels(self) -> list[str]:
        return [_label(name) for name in self.changed]


@dataclass
class ImportPreview:
    """Every row checked; nothing saved. `errors` are (line, message), file-level first."""

    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[tuple[int, str]]:
        return self.file_errors + [(row.line, e) for row in self.rows for e in row.errors]

    @property
    def error_lines(self) -> list[int]:
        return sorted({line for line, _message in self.errors})

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action and not row.errors)

    @property
    def new(self) -> int:
        return self.count(ImportAction.NEW)

    @property
    def updated(self) -> int:
        return self.count(ImportAction.UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(ImportAction.UNCHANGED)


@dataclass
class ImportResult:
    created: list[Seeker] = field(default_factory=list)
    updated: list[Seeker] = field(default_factory=list)
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def seekers_import_preview(
    *, office: Office, text: str, max_rows: int | None = None, lock: bool = False
) -> ImportPreview:
    """Check every row of CSV `text` (with a header) against `office`'s registry and say
    what importing it would do: a new seeker, an update of one (which fields), or nothing.

    Saves nothing. Reads the office's counselors and the rows' existing seekers in two
    queries whatever the file's length; `lock` takes those seekers' row locks (for the
    import's own transaction). More than `max_rows` rows is an error of the file.
    """
    preview = ImportPreview()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        preview.file_errors.append((1, _("missing columns: %(c)s") % {"c": ", ".join(missing)}))
        return preview
    # Excel leaves rows of empty cells (",,,,") under the data: they are not rows.
    rows = [(reader.line_num, row) for row in reader if any(_cells(row))]
    if max_rows is not None and len(rows) > max_rows:
        preview.file_errors.append(
            (1, _("The file has more than %(n)s rows; split it.") % {"n": max_rows})
        )
        return preview
    counselors = {
        c.user.username: c
        for c in Staff.objects.active().counselors().of_office(office).select_related("user")
    }
    numbers = {}
    for line, row in rows:
        try:
            numbers[line] = normalize_job_seeker_number(row.get("number") or "")
        except BookingError:
            continue
    existing_qs = Seeker.objects.filter(number__in=set(numbers.values())).order_by("pk")
    if lock:
        existing_qs = existing_qs.select_for_update()
    existing = {s.number: s for s in existing_qs}
    seen: dict[str, int] = {}
    for line, row in rows:
        preview.rows.append(
            _import_row_check(
                office=office,
                line=line,
                row=row,
                number=numbers.get(line),
                counselors=counselors,
                existing=existing,
                seen=seen,
            )
        )
    return preview


def _cells(row: dict) -> list[str]:
    return [v.strip() for v in row.values() if isinstance(v, str) and v.strip()]


def _import_row_check(
    *,
    office: Office,
    line: int,
    row: dict,
    number: str | None,
    counselors: dict[str, Staff],
    existing: dict[str, Seeker],
    seen: dict[str, int],
) -> ImportRow:
    values = {k: (row.get(k) or "").strip() for k in IMPORT_COLUMNS}
    checked = ImportRow(line=line, number=number or values["number"], name=values["name"])
    if number is None:
        try:
            normalize_job_seeker_number(values["number"])
        except BookingError as error:
            checked.errors.append(error.detail)
    elif number in seen:
        checked.errors.append(_("number also on line %(n)s") % {"n": seen[number]})
    else:
        seen[number] = line
    fields: dict[str, Any] = {
        "name": values["name"],
        "name_kana": values["name_kana"],
        "email": values["email"],
        "phone": values["phone"],
        "language": values["language"] or Seeker.Language.JA,
    }
    username = values["counselor"]
    fields["counselor"] = counselors.get(username) if username else None
    if username and fields["counselor"] is None:
        checked.errors.append(
            _("There is no counselor %(name)s at this office.") % {"name": username}
        )
    for key in ("registered_on", "expires_on"):
        try:
            fields[key] = _import_date(values[key], label=_label(key))
        except ValueError as error:
            checked.errors.append(str(error))
    if not values["name"]:
        checked.errors.append(_("Give the seeker's name."))
    if checked.errors:
        return checked
    assert number is not None
    current = existing.get(number)
    if current is not None and current.office_id != office.pk:
        checked.errors.append(str(NUMBER_ELSEWHERE))
        return checked
    seeker = current or Seeker(office=office, number=number)
    checked.changed = [k for k in IMPORT_FIELDS if _import_value(seeker, k) != fields[k]]
    for key, value in fields.items():
        setattr(seeker, key, value)
    try:
        # Without the checks that would query the database row by row: the number's
        # uniqueness is known from `existing`, the office and counselor are the office's.
        seeker.full_clean(
            exclude=["office", "counselor"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        checked.errors.extend(_import_validation_texts(error))
    if seeker.expires_on < seeker.registered_on:
        checked.errors.append(_("The registration cannot expire before it starts."))
    if current is None:
        checked.action = ImportAction.NEW
    elif checked.changed:
        checked.action = ImportAction.UPDATE
    else:
        checked.action = ImportAction.UNCHANGED
    checked.seeker = seeker
    return checked


def _import_value(seeker: Seeker, name: str) -> Any:
    if name == "counselor":  # without loading the counselor
        return seeker.counselor_id and Staff(pk=seeker.counselor_id)
    return getattr(seeker, name)


def _label(name: str) -> str:
    """A seeker field's name as people read it ("E-mail")."""
    return str(capfirst(getattr(Seeker._meta.get_field(name), "verbose_name", name)))


def _import_date(text: str, *, label: str) -> dt.date:
    """A date as ISO writes it (2026-04-01) or as Excel in Japan does (2026/4/1)."""
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError(_("%(field)s: write the date like 2026-04-01.") % {"field": label})
    year, month, day = (int(part) for part in match.groups())
    return dt.date(year, month, day)  # its ValueError says what is out of range


def _import_validation_texts(error: ValidationError) -> list[str]:
    return [
        f"{_label(name)}: {message}" if name != NON_FIELD_ERRORS else str(message)
        for name, messages in error.message_dict.items()
        for message in messages
    ]


def seekers_import(
    *, office: Office, text: str, actor: Staff | None, max_rows: int | None = None
) -> ImportResult:
    """Import seekers from CSV text with a header; all rows or none.

    Every row is checked first (the same check as `seekers_import_preview`, with the
    rows' existing seekers locked); if any row is wrong, `errors` lists each problem with
    its line number and nothing is saved. Otherwise new seekers are created and changed
    ones updated in one transaction, audited once with the counts (no names).
    """
    with transaction.atomic():
        preview = seekers_import_preview(office=office, text=text, max_rows=max_rows, lock=True)
        if preview.errors:
            return ImportResult(errors=preview.errors)
        now = timezone.now()
        new = [r.seeker for r in preview.rows if r.action == ImportAction.NEW and r.seeker]
        changed = [r for r in preview.rows if r.action == ImportAction.UPDATE and r.seeker]
        for row in changed:
            assert row.seeker is not None
            row.seeker.updated_at = now
        try:
            with transaction.atomic():
                created = Seeker.objects.bulk_create(new)
        except IntegrityError as error:
            raise BookingError(
                "invalid_input",
                _("Someone registered one of these numbers meanwhile; check the file again."),
            ) from error
        updated = [row.seeker for row in changed if row.seeker is not None]
        Seeker.objects.bulk_update(updated, [*IMPORT_FIELDS, "updated_at"], batch_size=500)
        result = ImportResult(
            created=created, updated=updated, unchanged=preview.count(ImportAction.UNCHANGED)
        )
        audit_record(
            actor=actor,
            action="seeker.imported",
            obj=office,
            office=office,
            details={
                "count": len(created),
                "updated": len(updated),
                "unchanged": result.unchanged,
            },
        )
    return result
