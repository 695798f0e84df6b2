"""The mails Madoguchi sends to job seekers: one function per message.

Each function builds a `Mail` (subject, plain text, HTML, attachments) in the seeker's
language, with times in the office's time zone, or returns None when the seeker has no
e-mail address. Nothing is sent here: the caller hands the `Mail` to the mail task.

Templates are found by name: `notifications/emails/<language>/<kind>.subject.txt`,
`.txt` and `.html`. The text templates switch autoescaping off themselves.
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from madoguchi.notifications.ics import (
    consultation_ics,
    format_meeting_id,
    language_for,
)

if TYPE_CHECKING:
    from madoguchi.bookings.models import Consultation, Request
    from madoguchi.offices.models import Office
    from madoguchi.seekers.models import Seeker

TEMPLATES = "notifications/emails"
REMINDER_WHENS = ("day_before", "hour_before")
ICS_MIMETYPE = "text/calendar"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class Mail:
    kind: str
    to: str
    language: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


# Public messages ----------------------------------------------------------------------


def request_received(request: "Request") -> Mail | None:
    """We have the request; staff will set a time. Not yet a booking."""
    return _compose(
        "request_received",
        seeker=request.seeker,
        office=request.office,
        context=_request_context(request),
    )


def verify_request(request: "Request", *, verify_url: str) -> Mail | None:
    """Ask the seeker to confirm an online request by opening `verify_url` (24 hours)."""
    return _compose(
        "verify_request",
        seeker=request.seeker,
        office=request.office,
        # The status link comes with the mails after this one: one link to press here.
        context={**_request_context(request), "verify_url": verify_url, "status_url": ""},
    )


def scheduled(consultation: "Consultation") -> Mail | None:
    """R9: the date, time, counselor and meeting details, with the .ics and the rules."""
    return _compose(
        "scheduled",
        seeker=consultation.seeker,
        office=consultation.office,
        context=_consultation_context(consultation),
        attachments=_ics_attachments(consultation),
    )


def reminder(consultation: "Consultation", *, when: str) -> Mail | None:
    """A reminder the day before (`day_before`) or just before (`hour_before`).

    The mail's kind is `reminder_day_before` or `reminder_hour_before`.
    """
    if when not in REMINDER_WHENS:
        raise ValueError(f"when must be one of {', '.join(REMINDER_WHENS)}, not {when!r}")
    return _compose(
        "reminder",
        kind=f"reminder_{when}",
        seeker=consultation.seeker,
        office=consultation.office,
        context={**_consultation_context(consultation), "when": when},
    )


def rescheduled(consultation: "Consultation", *, previous_start: dt.datetime) -> Mail | None:
    """The new time and the old one; the .ics keeps its UID, with the raised SEQUENCE."""
    return _compose(
        "rescheduled",
        seeker=consultation.seeker,
        office=consultation.office,
        context={**_consultation_context(consultation), "previous_start": previous_start},
        attachments=_ics_attachments(consultation),
    )


def cancelled(consultation: "Consultation") -> Mail | None:
    """R12: the consultation is off, with staff's reason if they gave one; .ics CANCEL."""
    return _compose(
        "cancelled",
        seeker=consultation.seeker,
        office=consultation.office,
        context={
            **_consultation_context(consultation),
            "cancel_reason": consultation.cancel_reason.strip(),
        },
        attachments=_ics_attachments(consultation, cancel=True),
    )


def no_show(consultation: "Consultation", *, no_show_count: int, flagged: bool) -> Mail | None:
    """R13/R14 in plain words: cancelled because nobody joined in time; if `flagged`,
    the office will review further use and asks the seeker to phone."""
    office = consultation.office
    return _compose(
        "no_show",
        seeker=consultation.seeker,
        office=office,
        context={
            **_consultation_context(consultation),
            "no_show_count": no_show_count,
            "flagged": flagged,
            "strike_threshold": office.strike_threshold,
            "strike_window_days": office.strike_window_days,
        },
        attachments=_ics_attachments(consultation, cancel=True),
    )


def declined(request: "Request") -> Mail | None:
    """R9: the office cannot take the request, with its reason, and what to do next."""
    return _compose(
        "declined",
        seeker=request.seeker,
        office=request.office,
        context={**_request_context(request), "decline_reason": request.decline_reason.strip()},
    )


def restriction_notice(seeker: "Seeker") -> Mail | None:
    """R3: online consultations are not available for now; phone the office.

    The internal restriction reason is never part of the mail.
    """
    return _compose("restriction_notice", seeker=seeker, office=seeker.office, context={})


# Rendering -------------------------------------------------------------------------------


def _compose(
    template: str,
    *,
    seeker: "Seeker",
    office: "Office",
    context: dict[str, Any],
    attachments: tuple[Attachment, ...] = (),
    kind: str | None = None,
) -> Mail | None:
    if not seeker.email:
        return None
    language = language_for(seeker)
    context = {**_common_context(seeker, office, language), **context}
    prefix = f"{TEMPLATES}/{language}/{template}"
    with translation.override(language), timezone.override(office.tz):
        subject = " ".join(render_to_string(f"{prefix}.subject.txt", context).split())
        text = render_to_string(f"{prefix}.txt", context)
        html = render_to_string(f"{prefix}.html", {**context, "subject": subject})
    return Mail(
        kind=kind or template,
        to=seeker.email,
        language=language,
        subject=subject,
        text=_tidy_text(text),
        html=html,
        attachments=attachments,
    )


def _tidy_text(text: str) -> str:
    """Template tags leave blank lines and trailing spaces; keep at most one blank line."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _common_context(seeker: "Seeker", office: "Office", language: str) -> dict[str, Any]:
    return {
        "language": language,
        "name": seeker.name,
        "office_name": (office.name_en or office.name) if language == "en" else office.name,
        "office_phone": office.phone,
        "time_zone": office.time_zone,
        "check_url": f"{settings.MADOGUCHI_BASE_URL.rstrip('/')}/check/",
    }


def _request_context(request: "Request") -> dict[str, Any]:
    preferences = [
        {"start": start, "end": start + dt.timedelta(minutes=minutes)}
        for start, minutes in request.preferred_starts()
    ]
    return {
        "preferences": preferences,
        "interpreter_language": request.interpreter_language.strip(),
        "assistant": request.assistant,
        "status_url": _status_url(request),
    }


def _status_url(request: "Request | None") -> str:
    """The seeker's status page for the request (none for a consultation without one)."""
    from madoguchi.bookings.selectors import request_status_url

    return request_status_url(request) if request is not None else ""


def _consultation_context(consultation: "Consultation") -> dict[str, Any]:
    grace = dt.timedelta(minutes=consultation.office.no_show_grace_minutes)
    request = consultation.request
    return {
        "start": consultation.start,
        "end": consultation.end,
        "duration_minutes": consultation.duration_minutes,
        "counselor_name": consultation.counselor.display_name,
        "meeting_id": format_meeting_id(consultation.meeting_id),
        "meeting_passcode": consultation.meeting_passcode,
        "join_url": consultation.meeting_join_url,
        "grace_minutes": consultation.office.no_show_grace_minutes,
        "no_show_at": consultation.no_show_at(grace),
        "interpreter_language": request.interpreter_language.strip() if request else "",
        "assistant": request.assistant if request else False,
        "status_url": _status_url(request),
    }


def _ics_attachments(
    consultation: "Consultation", *, cancel: bool = False
) -> tuple[Attachment, ...]:
    content = consultation_ics(
        consultation,
        sequence=consultation.calendar_sequence,
        cancel=cancel,
        language=language_for(consultation.seeker),
    )
    filename = f"consultation-{consultation.pk}.ics"
    return (Attachment(filename=filename, content=content, mimetype=ICS_MIMETYPE),)
