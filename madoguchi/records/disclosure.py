"""Disclosure of personal data (R20, R21): the register of authorities' requests, and a
seeker's own-data export (開示請求).

An archive is a ZIP of one JSON file per data category and `manifest.json`, which lists
the SHA-256 of every file and is signed with an HMAC-SHA256 keyed from SECRET_KEY
(django.core.signing's salted HMAC, salt `SIGNING_SALT`). The signature is shown on the
page, so a copy handed back later can be checked with `archive_verify`.

An authority's archive is produced once: the archive is built in the same transaction
that marks the request exported, streamed to the manager, and never stored. Keeping it
would be a second copy of the personal data to protect and delete; only its hash and
signature are kept, which is enough to recognise the copy the authority received. If the
download breaks, a new request must be recorded and approved.

This module reads the other apps' models (records.models and records.audit do not), so
nothing of ours that the audit helper needs imports it.
"""

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from madoguchi.bookings.models import Channel, Consultation, Request
from madoguchi.errors import BookingError
from madoguchi.meetings.models import MeetingEvent
from madoguchi.notifications.models import OutboxMail
from madoguchi.offices.models import Office, Staff
from madoguchi.records.audit import audit_record
from madoguchi.records.models import DisclosureRequest, PageView
from madoguchi.seekers.models import Seeker
from madoguchi.seekers.numbers import normalize_job_seeker_number
from madoguchi.terms.models import Consent

SIGNING_SALT = "madoguchi.records.disclosure"
Category = DisclosureRequest.Category
ALL_CATEGORIES = tuple(Category.values)


# --- What is held about a seeker, per category -------------------------------------------


@dataclass(frozen=True)
class Scope:
    categories: tuple[str, ...]
    date_from: dt.date | None = None  # office-local days, both ends included
    date_to: dt.date | None = None


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _between(qs, field: str, scope: Scope, office: Office):
    """Rows whose `field` (a datetime) falls on the scope's office-local days."""
    if scope.date_from is not None:
        start = dt.datetime.combine(scope.date_from, dt.time(), tzinfo=office.tz)
        qs = qs.filter(**{f"{field}__gte": start})
    if scope.date_to is not None:
        end = dt.datetime.combine(scope.date_to + dt.timedelta(days=1), dt.time(), tzinfo=office.tz)
        qs = qs.filter(**{f"{field}__lt": end})
    return qs


def _registry(seeker: Seeker, scope: Scope) -> dict[str, Any]:
    consents = _between(
        Consent.objects.filter(seeker=seeker).select_related("version"),
        "given_at",
        scope,
        seeker.office,
    )
    return {
        "job_seeker_number": seeker.number,
        "name": seeker.name,
        "name_kana": seeker.name_kana,
        "email": seeker.email,
        "phone": seeker.phone,
        "language": seeker.language,
        "counselor": seeker.counselor.username if seeker.counselor else None,
        "registered_on": _iso(seeker.registered_on),
        "expires_on": _iso(seeker.expires_on),
        "status": seeker.status,
        "restriction": seeker.restriction,
        "restriction_reason": seeker.restriction_reason,
        "restriction_since": _iso(seeker.restriction_since),
        "anonymised_at": _iso(seeker.anonymised_at),
        "consents": [
            {
                "terms_version": c.version.number,
                "terms_title": c.version.title,
                "channel": c.channel,
                "given_at": _iso(c.given_at),
            }
            for c in consents
        ],
    }


def _consultations(seeker: Seeker, scope: Scope) -> dict[str, Any]:
    requests = _between(
        Request.objects.filter(seeker=seeker).order_by("created_at", "id"),
        "created_at",
        scope,
        seeker.office,
    )
    consultations = _between(
        Consultation.objects.filter(seeker=seeker).select_related("counselor__user"),
        "start",
        scope,
        seeker.office,
    ).order_by("start", "id")
    return {
        "requests": [
            {
                "id": r.pk,
                "name_as_given": r.name,
                "channel": r.channel,
                "status": r.status,
                "preferences": r.preferences,
                "declarations": r.declarations,
                "interpreter_language": r.interpreter_language,
                "assistant": r.assistant,
                "decline_reason": r.decline_reason,
                "created_at": _iso(r.created_at),
                "status_changed_at": _iso(r.status_changed_at),
            }
            for r in requests
        ],
        "consultations": [
            {
                "id": c.pk,
                "request": c.request_id,
                "counselor": c.counselor.username,
                "start": _iso(c.start),
                "end": _iso(c.end),
                "status": c.status,
                "actual_start": _iso(c.actual_start),
                "actual_end": _iso(c.actual_end),
                "seeker_joined_at": _iso(c.seeker_joined_at),
                "cancel_channel": c.cancel_channel,
                "cancel_reason": c.cancel_reason,
                "stop_reason_code": c.stop_reason_code,
                "created_at": _iso(c.created_at),
            }
            for c in consultations
        ],
        "no_shows": [
            _iso(c.start) for c in consultations if c.status == Consultation.Status.NO_SHOW
        ],
    }


def _notes(seeker: Seeker, scope: Scope) -> list[dict[str, Any]]:
    consultations = _between(
        Consultation.objects.filter(seeker=seeker), "start", scope, seeker.office
    ).order_by("start", "id")
    return [
        {
            "consultation": c.pk,
            "start": _iso(c.start),
            "outcome": c.outcome,
            "notes": c.notes,
            "stop_note": c.stop_note,
        }
        for c in consultations
        if c.outcome or c.notes or c.stop_note
    ]


def _usage(seeker: Seeker, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """R19's records about the seeker: their meetings' events and their page views."""
    events = _between(
        MeetingEvent.objects.filter(consultation__seeker=seeker), "at", scope, seeker.office
    ).order_by("at", "id")
    views = _between(PageView.objects.filter(seeker=seeker), "at", scope, seeker.office)
    return {
        "meeting_events": [
            {
                "consultation": e.consultation_id,
                "event": e.event,
                "at": _iso(e.at),
                "host": e.is_host,
                "participant": e.participant,
                "leave_reason": e.leave_reason,
            }
            for e in events
        ],
        "page_views": [
            {
                "at": _iso(v.at),
                "page": v.page,
                "ip": v.ip,
                "user_agent": v.user_agent,
                "platform": v.platform,
                "platform_version": v.platform_version,
                "browser": v.browser,
                "model": v.model,
                "mobile": v.mobile,
            }
            for v in views.order_by("at", "id")
        ],
    }


REMOVED = "[removed]"
# What in a mail still opens something: the status and verification links (signed, so
# they keep working), and the meeting's join link and passcode (as the mail templates
# write them, in either language), besides the seeker's meetings' own values.
_MAIL_SECRETS = (
    (re.compile(r"https?://\S*?/requests/(?:status|verify)/\S+"), REMOVED),
    (re.compile(r"(Passcode: |パスコード：)\S+"), rf"\1{REMOVED}"),
    (re.compile(r"(Join link:\s*|参加用リンク：\s*)\S+"), rf"\1{REMOVED}"),
)


def _mail_text(text: str, secrets: list[str]) -> str:
    """The mail's text without the links and codes that would still let one in."""
    for pattern, replacement in _MAIL_SECRETS:
        text = pattern.sub(replacement, text)
    for secret in secrets:
        text = text.replace(secret, REMOVED)
    return text


def _mails(seeker: Seeker, scope: Scope) -> list[dict[str, Any]]:
    """The mails sent to the seeker, without working links or passcodes: neither the
    authority nor the seeker's own archive needs them, and both may travel far."""
    secrets = sorted(
        {
            value
            for pair in Consultation.objects.filter(seeker=seeker).values_list(
                "meeting_join_url", "meeting_passcode"
            )
            for value in pair
            if value
        },
        key=len,
        reverse=True,
    )
    mails = _between(
        OutboxMail.objects.filter(seeker=seeker).order_by("created_at", "id"),
        "created_at",
        scope,
        seeker.office,
    )
    return [
        {
            "kind": m.kind,
            "status": m.status,
            "to": m.to,
            "subject": m.subject,
            "text": _mail_text(m.text, secrets),
            "queued_at": _iso(m.created_at),
            "sent_at": _iso(m.sent_at),
        }
        for m in mails
    ]


COLLECTORS: dict[str, Callable[[Seeker, Scope], Any]] = {
    Category.REGISTRY: _registry,
    Category.CONSULTATIONS: _consultations,
    Category.NOTES: _notes,
    Category.USAGE: _usage,
    Category.MAILS: _mails,
}


def seeker_data(*, seeker: Seeker, scope: Scope) -> dict[str, Any]:
    """Everything held about `seeker` in the scope's categories and days, by category."""
    return {category: COLLECTORS[category](seeker, scope) for category in scope.categories}


# --- The signed archive -----------------------------------------------------------------


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode()


def _sign(manifest: dict[str, Any]) -> str:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    payload = json.dumps(unsigned, ensure_ascii=False, sort_keys=True)
    return signing.Signer(salt=SIGNING_SALT, algorithm="sha256").signature(payload)


@dataclass(frozen=True)
class Archive:
    content: bytes
    sha256: str
    signature: str
    filename: str


def archive_build(*, files: dict[str, bytes], about: dict[str, Any], filename: str) -> Archive:
    """A ZIP of `files` and a signed `manifest.json` (`about` plus each file's SHA-256)."""
    manifest: dict[str, Any] = {
        **about,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        "algorithm": f"HMAC-SHA256 (django.core.signing, salt {SIGNING_SALT})",
    }
    manifest["signature"] = _sign(manifest)
    buffer = io.BytesIO()
    stamp = timezone.localtime().timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*files.items(), ("manifest.json", _json_bytes(manifest))]:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data)
    content = buffer.getvalue()
    return Archive(
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        signature=manifest["signature"],
        filename=filename,
    )


def archive_verify(*, content: bytes) -> bool:
    """True if the archive's manifest is ours, unchanged, and every file matches its hash."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            names = set(archive.namelist()) - {"manifest.json"}
            if names != set(manifest.get("files", {})):
                return False
            for name, digest in manifest["files"].items():
                if hashlib.sha256(archive.read(name)).hexdigest() != digest:
                    return False
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError):
        return False  # not a ZIP, no manifest, or a manifest of another shape
    return constant_time_compare(manifest.get("signature", ""), _sign(manifest))


# --- The register of authorities' requests (R20) -----------------------------------------


def _require_manager(staff: Staff) -> None:
    if staff.role != Staff.Role.MANAGER:
        raise BookingError("forbidden", _("Only a manager may do this."))


def _numbers(office: Office, numbers: list[str]) -> list[str]:
    try:
        canonical = sorted({normalize_job_seeker_number(n) for n in numbers if n.strip()})
    except BookingError as error:
        raise BookingError(error.code, error.detail, field="numbers") from error
    if not canonical:
        raise BookingError("invalid_input", _("Name at least one job seeker."), field="numbers")
    known = set(
        Seeker.objects.filter(office=office, number__in=canonical).values_list("number", flat=True)
    )
    unknown = [n for n in canonical if n not in known]
    if unknown:
        raise BookingError(
            "invalid_input",
            _("Not in this office's registry: %(numbers)s") % {"numbers": ", ".join(unknown)},
            field="numbers",
        )
    return canonical


@transaction.atomic
def disclosure_record(
    *,
    actor: Staff,
    requesting_body: str,
    requesting_person: str,
    legal_basis: str,
    legal_basis_text: str = "",
    reference: str,
    numbers: list[str],
    categories: list[str],
    date_from: dt.date,
    date_to: dt.date,
    due_on: dt.date,
) -> DisclosureRequest:
    """A manager records an authority's request; it waits for another manager's decision."""
    _require_manager(actor)
    if legal_basis not in DisclosureRequest.LegalBasis.values:
        raise BookingError("invalid_input", _("Choose the legal basis."), field="legal_basis")
    if legal_basis == DisclosureRequest.LegalBasis.OTHER and not legal_basis_text.strip():
        raise BookingError(
            "invalid_input",
            _("Give the provision the request relies on."),
            field="legal_basis_text",
        )
    chosen = [c for c in ALL_CATEGORIES if c in categories]
    if not chosen or len(chosen) != len(set(categories)):
        raise BookingError("invalid_input", _("Choose the data categories."), field="categories")
    if date_to < date_from:
        raise BookingError("invalid_input", _("The period ends before it starts."), field="date_to")
    disclosure = DisclosureRequest.objects.create(
        office=actor.office,
        requesting_body=requesting_body.strip(),
        requesting_person=requesting_person.strip(),
        legal_basis=legal_basis,
        legal_basis_text=(
            legal_basis_text.strip() if legal_basis == DisclosureRequest.LegalBasis.OTHER else ""
        ),
        reference=reference.strip(),
        seeker_numbers=_numbers(actor.office, numbers),
        categories=chosen,
        date_from=date_from,
        date_to=date_to,
        due_on=due_on,
        recorded_by=actor.user,
        recorded_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="disclosure.recorded",
        obj=disclosure,
        details={
            "reference": disclosure.reference,
            "legal_basis": legal_basis,
            "seekers": disclosure.seeker_numbers,
            "categories": chosen,
            "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(),
        },
    )
    return disclosure


def _locked(disclosure_id: int, actor: Staff) -> DisclosureRequest:
    disclosure = (
        DisclosureRequest.objects.select_for_update()
        .filter(pk=disclosure_id, office=actor.office)
        .first()
    )
    if disclosure is None:
        raise BookingError("not_found")
    return disclosure


@transaction.atomic
def disclosure_decide(
    *, disclosure_id: int, approve: bool, reason: str, actor: Staff
) -> DisclosureRequest:
    """A second manager — never the one who recorded it — approves or rejects, with a reason."""
    _require_manager(actor)
    disclosure = _locked(disclosure_id, actor)
    if disclosure.recorded_by_id == actor.user_id:
        raise BookingError(
            "forbidden",
            _("You recorded this request: another manager must approve or reject it."),
        )
    if disclosure.status != DisclosureRequest.Status.PENDING:
        raise BookingError("invalid_transition", _("This request has already been decided."))
    if not reason.strip():
        raise BookingError("invalid_input", _("Give a reason for the decision."), field="reason")
    disclosure.status = (
        DisclosureRequest.Status.APPROVED if approve else DisclosureRequest.Status.REJECTED
    )
    disclosure.decided_by = actor.user
    disclosure.decided_at = timezone.now()
    disclosure.decision_reason = reason.strip()
    disclosure.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit_record(
        actor=actor,
        action="disclosure.approved" if approve else "disclosure.rejected",
        obj=disclosure,
        details={"reason": disclosure.decision_reason},
    )
    return disclosure


@transaction.atomic
def disclosure_export(*, disclosure_id: int, actor: Staff) -> Archive:
    """The one archive of an approved request: exactly its seekers, categories and days.

    Marks the request exported in the same transaction, so a second attempt (or a
    concurrent one, which waits for the row lock) is refused; the archive is not kept.
    """
    _require_manager(actor)
    disclosure = _locked(disclosure_id, actor)
    if disclosure.status != DisclosureRequest.Status.APPROVED:
        raise BookingError(
            "invalid_transition",
            _("Only an approved request can be exported, and only once."),
        )
    scope = Scope(tuple(disclosure.categories), disclosure.date_from, disclosure.date_to)
    seekers = list(
        Seeker.objects.filter(office=disclosure.office, number__in=disclosure.seeker_numbers)
        .select_related("office", "counselor__user")
        .order_by("number")
    )
    per_category: dict[str, dict[str, Any]] = {c: {} for c in scope.categories}
    for seeker in seekers:
        for category, data in seeker_data(seeker=seeker, scope=scope).items():
            per_category[category][seeker.number] = data
    now = timezone.now()
    archive = archive_build(
        files={f"{c}.json": _json_bytes(per_category[c]) for c in scope.categories},
        about={
            "kind": "disclosure",
            "office": disclosure.office.code,
            "reference": disclosure.reference,
            "requesting_body": disclosure.requesting_body,
            "legal_basis": disclosure.legal_basis_label,
            "seekers": disclosure.seeker_numbers,
            "categories": list(scope.categories),
            "date_from": disclosure.date_from.isoformat(),
            "date_to": disclosure.date_to.isoformat(),
            "approved_by": disclosure.decided_by.get_username() if disclosure.decided_by else "",
            "exported_by": actor.username,
            "exported_at": now.isoformat(),
        },
        filename=f"disclosure-{disclosure.pk}.zip",
    )
    disclosure.status = DisclosureRequest.Status.EXPORTED
    disclosure.exported_by = actor.user
    disclosure.exported_at = now
    disclosure.export_sha256 = archive.sha256
    disclosure.export_signature = archive.signature
    disclosure.save(
        update_fields=[
            "status",
            "exported_by",
            "exported_at",
            "export_sha256",
            "export_signature",
        ]
    )
    audit_record(
        actor=actor,
        action="disclosure.exported",
        obj=disclosure,
        details={"sha256": archive.sha256, "signature": archive.signature},
    )
    return archive


def disclosure_view(*, disclosure: DisclosureRequest, actor: Staff) -> None:
    """R21: the request names job seekers; looking at it is recorded."""
    audit_record(actor=actor, action="disclosure.viewed", obj=disclosure)


# --- A seeker's own-data export (開示請求) ------------------------------------------------


def _when(value: str | None) -> str:
    if not value:
        return ""
    return timezone.localtime(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")


def _readable(data: dict[str, Any]) -> dict[str, Any]:
    """The export's data for the summary: local times and status names in the active
    language, added as `when` and `label` beside the codes."""
    labels = {
        **dict(Request.Status.choices),
        **dict(Channel.choices),
    }
    consultation_labels = dict(Consultation.Status.choices)
    mail_labels = dict(OutboxMail.Status.choices)
    readable = json.loads(json.dumps(data))
    for consent in readable.get(Category.REGISTRY, {}).get("consents", []):
        consent["when"] = _when(consent["given_at"])
        consent["label"] = str(labels.get(consent["channel"], consent["channel"]))
    bookings = readable.get(Category.CONSULTATIONS, {})
    for request in bookings.get("requests", []):
        request["when"] = _when(request["created_at"])
        request["label"] = " ".join(
            str(labels.get(request[key], request[key])) for key in ("channel", "status")
        )
    for consultation in bookings.get("consultations", []):
        consultation["when"] = f"{_when(consultation['start'])}–{_when(consultation['end'])[-5:]}"
        consultation["label"] = str(consultation_labels.get(consultation["status"], ""))
    if "no_shows" in bookings:
        bookings["no_shows"] = [_when(start) for start in bookings["no_shows"]]
    usage = readable.get(Category.USAGE, {})
    for rows, key in (
        (readable.get(Category.NOTES, []), "start"),
        (usage.get("meeting_events", []), "at"),
        (usage.get("page_views", []), "at"),
        (readable.get(Category.MAILS, []), "queued_at"),
    ):
        for row in rows:
            row["when"] = _when(row[key])
    for mail in readable.get(Category.MAILS, []):
        mail["label"] = str(mail_labels.get(mail["status"], mail["status"]))
    return readable


def seeker_export(*, seeker: Seeker, actor: Staff, withhold_notes_reason: str = "") -> Archive:
    """Everything held about `seeker`, for the seeker: JSON per category and a summary in
    Japanese (`summary.txt`).

    The counselor's notes are personal information about the seeker and are disclosed,
    unless the manager withholds them with a reason (non-disclosure where disclosure
    would hinder the proper conduct of the consultation service, 個人情報保護法第78条);
    the reason is written in the manifest and the audit entry.
    """
    _require_manager(actor)
    if seeker.office_id != actor.office_id:
        raise BookingError("not_found")
    reason = withhold_notes_reason.strip()
    categories = tuple(c for c in ALL_CATEGORIES if not (reason and c == Category.NOTES))
    data = seeker_data(seeker=seeker, scope=Scope(categories))
    files = {f"{c}.json": _json_bytes(data[c]) for c in categories}
    with translation.override("ja"):
        files["summary.txt"] = render_to_string(
            "records/own_data/summary.ja.txt",
            {
                "s": seeker,
                "data": _readable(data),
                "withheld": reason,
                "now": timezone.localtime(),
            },
        ).encode()
    with transaction.atomic():
        archive = archive_build(
            files=files,
            about={
                "kind": "own_data",
                "office": seeker.office.code,
                "job_seeker_number": seeker.number,
                "categories": list(categories),
                "notes_withheld": reason,
                "exported_by": actor.username,
                "exported_at": timezone.now().isoformat(),
            },
            filename=f"own-data-{seeker.number}.zip",
        )
        audit_record(
            actor=actor,
            action="seeker.exported",
            obj=seeker,
            details={"sha256": archive.sha256, "categories": list(categories), "withheld": reason},
        )
    return archive
