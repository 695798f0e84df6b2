"""Booking workflows: requests, scheduling, and every change of a consultation's state.

Each function is one transaction. Locks are taken early and in a fixed order
(request, then consultation); the double-booking guard is the occupancy grid's unique
constraints (see `models.Occupancy`), so a race that slips past the Python checks
still ends in a clean `slot_taken` / `seeker_busy`, never in two bookings.
"""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any, TypeGuard

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.bookings import rules
from madoguchi.bookings.models import (
    BlockedTime,
    Channel,
    Consultation,
    MeetingState,
    Occupancy,
    Request,
)
from madoguchi.errors import BookingError, RateLimited
from madoguchi.joined import JoinedSelect, Table
from madoguchi.meetings.jobs import meeting_plan_create, meeting_plan_delete, meeting_plan_update
from madoguchi.notifications.outbox import mail_queue
from madoguchi.offices import calendar
from madoguchi.offices.models import Office, Staff
from madoguchi.records.audit import audit_entry, audit_record
from madoguchi.records.models import AuditEntry
from madoguchi.seekers.models import Seeker
from madoguchi.seekers.numbers import normalize_job_seeker_number
from madoguchi.seekers.services import counselor_resolve, seeker_flag_for_review, seeker_restrict
from madoguchi.terms.selectors import terms_in_force
from madoguchi.terms.services import consent_record


def _office_today(office: Office, now: dt.datetime) -> dt.date:
    return now.astimezone(office.tz).date()


# Requests ---------------------------------------------------------------------------


def request_create(
    *,
    office: Office,
    job_seeker_number: str,
    name: str,
    preferences: Sequence[tuple[dt.datetime, int]],
    channel: str,
    declarations: Mapping[str, Any],
    interpreter_language: str = "",
    assistant: bool = False,
    actor: Staff | None,
    device_check: Mapping[str, Any] | None = None,
) -> Request:
    """R1–R8: record a seeker's request and their consent to the terms in force (R4).

    Staff-taken requests (phone, counter, in consultation) are `requested` at once; a
    request from the online form waits for the seeker to verify it. `device_check` is
    what the device self-check page found in the seeker's browser, kept for R19.
    """
    if channel not in Channel.values:
        raise BookingError("invalid_input", _("Unknown channel."), field="channel")
    number = normalize_job_seeker_number(job_seeker_number)
    name = name.strip()
    if not name:
        raise BookingError("invalid_input", _("Give the seeker's name."), field="name")
    rules.check_declarations(declarations)
    now = timezone.now()
    rules.check_preferences(office.calendar(), preferences, now)
    with transaction.atomic():
        seeker = rules.check_seeker_can_book(
            Seeker.objects.filter(office=office, number=number).first(),
            _office_today(office, now),
        )
        for start, _minutes in preferences:
            rules.check_seeker_can_book(seeker, start.astimezone(office.tz).date())
        if channel == Channel.WEB:
            _check_online_requests_of(seeker, now)
        version = terms_in_force(office=office, at=now)
        status = (
            Request.Status.PENDING_VERIFICATION
            if channel == Channel.WEB
            else Request.Status.REQUESTED
        )
        request = Request.objects.create(
            office=office,
            seeker=seeker,
            name=name,
            channel=channel,
            status=status,
            preferences=[
                {"start": start.isoformat(), "duration_minutes": minutes}
                for start, minutes in preferences
            ],
            declarations={key: declarations[key] is True for key in declarations},
            interpreter_language=interpreter_language.strip(),
            assistant=assistant,
            terms_version=version,
            device_check=dict(device_check) if device_check else None,
            created_by=actor,
            created_at=now,
            status_changed_at=now,
        )
        consent_record(seeker=seeker, version=version, channel=channel, actor=actor)
        audit_record(
            actor=actor,
            action="request.created",
            obj=request,
            details={"channel": channel, "terms_version": version.number},
        )
        if status == Request.Status.PENDING_VERIFICATION:
            mail_queue(
                "verify_request",
                seeker=seeker,
                request=request,
                verify_url=request_verify_url(request),
            )
        else:
            mail_queue("request_received", seeker=seeker, request=request)
    return request


# Online requests (the web form and the public API call alike): sends per client address a
# minute and per job-seeker number an hour, counted by the callers' rate limits.
ONLINE_REQUESTS_PER_ADDRESS_PER_MINUTE = 10
ONLINE_REQUESTS_PER_NUMBER_PER_HOUR = 5
# A seeker's own requests that are sent a verification mail: at most this many a day,
# whoever sends them, so that someone who knows a number cannot flood its owner's inbox.
ONLINE_REQUESTS_PER_SEEKER_PER_DAY = 3
RESTRICTION_NOTICE_EVERY = dt.timedelta(days=1)


def _check_online_requests_of(seeker: Seeker, now: dt.datetime) -> None:
    """`RateLimited` when the seeker's online requests of the last day reached the cap;
    Retry-After is when the oldest of them leaves the day."""
    recent = list(
        Request.objects.filter(
            seeker=seeker, channel=Channel.WEB, created_at__gt=now - dt.timedelta(days=1)
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:ONLINE_REQUESTS_PER_SEEKER_PER_DAY]
    )
    if len(recent) == ONLINE_REQUESTS_PER_SEEKER_PER_DAY:
        wait = recent[-1] + dt.timedelta(days=1) - now
        raise RateLimited(retry_after=max(1, int(wait.total_seconds()) + 1))


def request_submit_online(
    *,
    office: Office,
    job_seeker_number: str,
    name: str,
    preferences: Sequence[tuple[dt.datetime, int]],
    declarations: Mapping[str, Any],
    interpreter_language: str = "",
    assistant: bool = False,
    device_check: Mapping[str, Any] | None = None,
) -> Request | None:
    """The seeker's online form: `request_create` that never tells who is registered.

    Whatever the number, the form answers "check your registered e-mail": a registered
    seeker gets the verification mail, a restricted one the notice to phone the office
    (R3), and an unknown or expired number nothing. Errors about the form itself (times,
    declarations, the number's shape) still come back as `BookingError`. Returns the
    request, or None when none was made.
    """
    try:
        return request_create(
            office=office,
            job_seeker_number=job_seeker_number,
            name=name,
            preferences=preferences,
            channel=Channel.WEB,
            declarations=declarations,
            interpreter_language=interpreter_language,
            assistant=assistant,
            actor=None,
            device_check=device_check,
        )
    except BookingError as error:
        if error.code == "seeker_restricted":
            seeker = Seeker.objects.get(
                office=office, number=normalize_job_seeker_number(job_seeker_number)
            )
            _restriction_notice_queue(seeker)
            return None
        if error.code in ("seeker_not_registered", "rate_limited"):
            # The page answers alike; a seeker over the day's cap already has their mails.
            return None
        raise


def _restriction_notice_queue(seeker: Seeker) -> None:
    """R3's "please phone the office", at most once a day whatever is sent in their name."""
    since = timezone.now() - RESTRICTION_NOTICE_EVERY
    if seeker.mails.filter(kind="restriction_notice", created_at__gt=since).exists():
        return
    with transaction.atomic():
        mail_queue("restriction_notice", seeker=seeker)


VERIFY_SALT = "madoguchi.request-verify"
VERIFY_WITHIN = dt.timedelta(hours=24)


def request_verify_url(request: Request) -> str:
    token = signing.dumps(request.pk, salt=VERIFY_SALT)
    return f"{settings.MADOGUCHI_BASE_URL.rstrip('/')}/requests/verify/{token}/"


def _verify_token_request(token: str) -> int:
    """The request id a verification link names; `invalid_transition` when it has expired
    (24 hours), `not_found` when it was tampered with."""
    try:
        return signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_WITHIN)
    except signing.SignatureExpired as error:
        raise BookingError(
            "invalid_transition",
            _("This link has expired (it is valid for 24 hours). Please send the request again."),
        ) from error
    except signing.BadSignature as error:
        raise BookingError("not_found", _("This link is not valid.")) from error


def request_verify(*, token: str) -> Request:
    """The seeker opened the link in the verification mail: the request goes to the office.

    Idempotent: a second press answers the request as it is now.
    """
    request_id = _verify_token_request(token)
    with transaction.atomic():
        request = _request_lock(request_id)
        if request.status != Request.Status.PENDING_VERIFICATION:
            return request
        _request_transition(request, Request.Status.REQUESTED, actor=None)
        # R5: terms that took effect since the form was sent are accepted by confirming
        # (the page said so before the seeker pressed the button).
        current = terms_in_force(office=request.office, at=timezone.now())
        if current.pk != request.terms_version_id:
            consent_record(seeker=request.seeker, version=current, channel=Channel.WEB, actor=None)
        mail_queue("request_received", seeker=request.seeker, request=request)
    return request


def request_for_verify(*, token: str) -> Request:
    """The request behind a verification link, read only (the page before confirming)."""
    request_id = _verify_token_request(token)
    found = Request.objects.select_related("office", "seeker").filter(pk=request_id).first()
    if found is None:
        raise BookingError("not_found", _("This link is not valid."))
    return found


def requests_expire(*, now: dt.datetime) -> int:
    """The clock: online requests never verified within 24 hours expire."""
    stale = Request.objects.filter(
        status=Request.Status.PENDING_VERIFICATION, created_at__lt=now - VERIFY_WITHIN
    ).values_list("pk", flat=True)[:1000]
    expired = 0
    for pk in stale:
        with transaction.atomic():
            request = _request_lock(pk)
            if request.status == Request.Status.PENDING_VERIFICATION:
                _request_transition(request, Request.Status.EXPIRED, actor=None)
                expired += 1
    return expired


def _transition(
    obj: Request | Consultation,
    to: str,
    *,
    actor: Staff | None,
    illegal: str,
    raced: str,
    details: dict | None = None,
    audit_into: list | None = None,
    **fields: Any,
) -> None:
    """The one door for a request's or a consultation's status (SPEC §4).

    Checks the move is legal in the model's TRANSITIONS, saves by compare-and-set on
    the old status (so a worker and a person acting at once cannot both win), and
    writes the audit entry. `illegal` (with %(status)s and %(to)s) and `raced` are the
    messages for the two refusals. Runs in the caller's transaction.
    """
    model = type(obj)
    if to not in model.TRANSITIONS.get(obj.status, frozenset()):
        raise BookingError(
            "invalid_transition",
            illegal % {"status": obj.get_status_display(), "to": model.Status(to).label},
        )
    now = timezone.now()
    changed = model.objects.filter(pk=obj.pk, status=obj.status).update(
        status=to, status_changed_at=now, **fields
    )
    if changed != 1:
        raise BookingError("invalid_transition", raced)
    previous = obj.status
    obj.status, obj.status_changed_at = to, now
    for key, value in fields.items():
        setattr(obj, key, value)
    entry = audit_entry(
        actor=actor,
        action=f"{model._meta.model_name}.{to}",
        obj=obj,
        details={"from": previous, **(details or {})},
    )
    if audit_into is None:
        entry.save()
    else:
        audit_into.append(entry)  # the caller saves it with its own, in one statement


def _request_transition(
    request: Request,
    to: str,
    *,
    actor: Staff | None,
    details: dict | None = None,
    audit_into: list | None = None,
    **fields,
) -> None:
    _transition(
        request,
        to,
        actor=actor,
        illegal=_("A request that is %(status)s cannot be %(to)s."),
        raced=_("The request was changed by someone else."),
        details=details,
        audit_into=audit_into,
        **fields,
    )


def request_decline(*, request_id: int, reason: str, actor: Staff) -> Request:
    """R9: decline with a reason the seeker is told."""
    if not reason.strip():
        raise BookingError("invalid_input", _("Give a reason for declining."), field="reason")
    with transaction.atomic():
        request = _request_lock(request_id)
        _request_transition(
            request, Request.Status.DECLINED, actor=actor, decline_reason=reason.strip()
        )
        mail_queue("declined", seeker=request.seeker, request=request)
    return request


# The request locked, with its office, seeker and the seeker's counselor (and user): one
# statement composed once per process, as `select_related` would load them.
_REQUEST_LOCKED = JoinedSelect(
    tables=(
        Table("r", Request),
        Table("o", Office, 'INNER JOIN {table} o ON o."id" = r."office_id"'),
        Table("s", Seeker, 'INNER JOIN {table} s ON s."id" = r."seeker_id"'),
        Table("c", Staff, 'LEFT OUTER JOIN {table} c ON c."id" = s."counselor_id"'),
        Table("cu", get_user_model(), 'LEFT OUTER JOIN {table} cu ON cu."id" = c."user_id"'),
    ),
    where='r."id" = %s',
    lock_first=True,
)


def _request_lock(request_id: int) -> Request:
    row = _REQUEST_LOCKED.first([request_id])
    if row is None:
        raise BookingError("not_found")
    request, office, seeker, counselor, user = row
    if counselor is not None:
        counselor.user = user
    seeker.counselor = counselor
    request.office, request.seeker = office, seeker
    return request


# Scheduling -------------------------------------------------------------------------


def _counselor_for(*, office: Office, username: str | None, seeker: Seeker) -> Staff:
    """The counselor named by `username`, or else the seeker's own, if they may take it.

    The seeker's own counselor, already read with the request, stands in for the
    lookup by name when the names match and they may take it; otherwise the lookup's
    `not_found` is the answer."""
    counselor = seeker.counselor
    if username and not (_may_take(counselor, office) and counselor.username == username):
        counselor = counselor_resolve(office=office, username=username)
    if not _may_take(counselor, office):
        raise BookingError(
            "invalid_input",
            _("This job seeker has no available counselor; choose one."),
            field="counselor",
        )
    return counselor


def _may_take(counselor: Staff | None, office: Office) -> TypeGuard[Staff]:
    return (
        counselor is not None
        and counselor.office_id == office.pk
        and counselor.is_counselor
        and counselor.user.is_active
    )


def _claim_time(consultation: Consultation) -> None:
    """Claim the consultation's grid cells for its counselor and its seeker.

    The unique constraints are the guard; only when they refuse does the friendly check
    run, to say which conflict it is (so a booking that fits costs no extra query).
    Must run inside the caller's transaction.
    """
    cells = calendar.grid_cells(consultation.start, consultation.end)
    rows = [
        Occupancy(
            cell=cell,
            counselor=consultation.counselor,
            seeker=consultation.seeker,
            consultation=consultation,
        )
        for cell in cells
    ]
    _insert_claims(
        rows,
        office_id=consultation.office_id,
        seeker=consultation.seeker,
        explain=lambda: _check_time_free(consultation, cells),
    )


def _check_time_free(consultation: Consultation, cells: list[dt.datetime]) -> None:
    """Friendly `slot_taken` / `seeker_busy` before the insert; the constraints are the
    guard. One query for both: the counselor's own claims sort first."""
    clash = (
        Occupancy.objects.filter(
            Q(counselor=consultation.counselor) | Q(seeker=consultation.seeker), cell__in=cells
        )
        .order_by(Case(When(counselor=consultation.counselor, then=Value(0)), default=Value(1)))
        .values_list("counselor_id", "blocked_time_id")
        .first()
    )
    if clash is not None:
        if clash[0] == consultation.counselor_id:
            _refuse_counselor(consultation.counselor, blocked=clash[1] is not None)
        raise BookingError("seeker_busy")


def _insert_claims(
    rows: list[Occupancy],
    *,
    office_id: int,
    seeker: Seeker | None = None,
    explain: Callable[[], None] | None = None,
) -> None:
    """Insert occupancy claims; the unique constraints refuse a cell already held.

    On a refusal, `explain` (when given) raises the friendly error naming the clash;
    otherwise, or should it find none, the error is `seeker_busy` or `slot_taken`. The
    savepoint keeps the caller's transaction usable for those queries.
    """
    try:
        with transaction.atomic():
            Occupancy.objects.bulk_create(rows)
    except IntegrityError as error:
        if explain is not None:
            try:
                explain()
            except BookingError as friendly:
                raise friendly from error
        cells = [row.cell for row in rows]
        seeker_clash = (
            seeker is not None and Occupancy.objects.filter(seeker=seeker, cell__in=cells).exists()
        )
        raise BookingError("seeker_busy" if seeker_clash else "slot_taken") from error
    Office.calendar_changed(office_id)


def _check_counselor_free(counselor: Staff, cells: list[dt.datetime]) -> None:
    """Friendly `slot_taken` naming what holds the time; the constraint is the guard."""
    clash = list(
        Occupancy.objects.filter(counselor=counselor, cell__in=cells).values_list(
            "blocked_time_id", flat=True
        )[:1]
    )
    if clash:
        _refuse_counselor(counselor, blocked=clash[0] is not None)


def _refuse_counselor(counselor: Staff, *, blocked: bool) -> None:
    message = (
        _("%(name)s is not available then (blocked time).")
        if blocked
        else _("%(name)s already has a consultation then.")
    )
    raise BookingError("slot_taken", message % {"name": counselor})


def consultation_schedule(
    *,
    request_id: int,
    start: dt.datetime,
    duration_minutes: int,
    counselor: str | None = None,
    override_reason: str = "",
    actor: Staff,
    authorize: Callable[[Request], None] | None = None,
) -> Consultation:
    """R9–R11: turn a request into a consultation with a meeting.

    `counselor` is a username of the office's counselors; by default the seeker's own.
    Short notice (R8) needs `override_reason`, which is recorded. `authorize` (the API's
    permission check) sees the locked request first, so it is read only once.
    """
    with transaction.atomic():
        request = _request_lock(request_id)
        if authorize is not None:
            authorize(request)
        if request.status != Request.Status.REQUESTED:
            raise BookingError(
                "invalid_transition",
                _("Only a request waiting to be scheduled can be scheduled; this one is %(s)s.")
                % {"s": request.get_status_display()},
            )
        office, seeker = request.office, request.seeker
        now = timezone.now()
        override = rules.check_slot(
            office.calendar(), start, duration_minutes, now, override_reason
        )
        rules.check_seeker_can_book(seeker, _office_today(office, now))
        rules.check_seeker_can_book(seeker, start.astimezone(office.tz).date())
        chosen = _counselor_for(office=office, username=counselor, seeker=seeker)
        consultation = Consultation(
            office=office,
            seeker=seeker,
            counselor=chosen,
            request=request,
            start=start,
            end=start + dt.timedelta(minutes=duration_minutes),
            status=Consultation.Status.SCHEDULED,
            status_changed_at=now,
            override_reason=override_reason.strip() if override else "",
            created_by=actor,
            created_at=now,
        )
        meeting = meeting_plan_create(consultation, save=False)
        consultation.save(force_insert=True)
        if meeting == MeetingState.READY:
            _tell(consultation, "scheduled")
        # Otherwise the seeker is told once the meeting exists (meetings.services).
        entries: list = []
        _request_transition(
            request,
            Request.Status.SCHEDULED,
            actor=actor,
            details={"consultation": consultation.pk},
            audit_into=entries,
        )
        entries.append(
            audit_entry(
                actor=actor,
                action="consultation.scheduled",
                obj=consultation,
                details={
                    "start": consultation.start.isoformat(),
                    "duration_minutes": duration_minutes,
                    "counselor": chosen.username,
                    "override_reason": consultation.override_reason,
                },
            )
        )
        AuditEntry.objects.bulk_create(entries)
        # The guard, and the calendar version: last, so that on PostgreSQL the office's
        # row is locked only from here to the commit.
        _claim_time(consultation)
    return consultation


def _tell(consultation: Consultation, kind: str, **params: Any) -> None:
    """Queue a mail to the consultation's seeker, in the current transaction."""
    mail_queue(kind, seeker=consultation.seeker, consultation=consultation, **params)


def consultation_reschedule(
    *,
    consultation_id: int,
    start: dt.datetime,
    duration_minutes: int,
    counselor: str | None = None,
    override_reason: str = "",
    actor: Staff,
) -> Consultation:
    """Move a scheduled consultation; its old time is freed in the same transaction."""
    with transaction.atomic():
        consultation = _consultation_lock(consultation_id)
        if consultation.status != Consultation.Status.SCHEDULED:
            raise BookingError(
                "invalid_transition", _("Only a scheduled consultation can be moved.")
            )
        office = consultation.office
        now = timezone.now()
        override = rules.check_slot(
            office.calendar(), start, duration_minutes, now, override_reason
        )
        chosen = (
            counselor_resolve(office=office, username=counselor)
            if counselor
            else consultation.counselor
        )
        assert chosen is not None
        before = {"start": consultation.start.isoformat(), "counselor": str(consultation.counselor)}
        previous_start = consultation.start
        Occupancy.objects.filter(consultation=consultation).delete()
        consultation.start = start
        consultation.end = start + dt.timedelta(minutes=duration_minutes)
        consultation.counselor = chosen
        consultation.override_reason = override_reason.strip() if override else ""
        consultation.calendar_sequence += 1
        consultation.reminded_day_before_at = consultation.reminded_hour_before_at = None
        consultation.save(
            update_fields=[
                "start",
                "end",
                "counselor",
                "override_reason",
                "calendar_sequence",
                "reminded_day_before_at",
                "reminded_hour_before_at",
            ]
        )
        _claim_time(consultation)
        told = consultation.meeting_ready_at is not None
        meeting_plan_update(consultation)
        if told:
            # Same meeting ID and passcode; a Zoom meeting's new time follows from the worker.
            _tell(consultation, "rescheduled", previous_start=previous_start)
        audit_record(
            actor=actor,
            action="consultation.rescheduled",
            obj=consultation,
            details={
                "before": before,
                "start": start.isoformat(),
                "duration_minutes": duration_minutes,
                "counselor": chosen.username,
                "override_reason": consultation.override_reason,
            },
        )
    return consultation


# State changes ----------------------------------------------------------------------


def _consultation_lock(consultation_id: int) -> Consultation:
    consultation = (
        Consultation.objects.select_for_update(of=("self",))
        .select_related("office", "seeker", "counselor__user")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise BookingError("not_found")
    return consultation


def _consultation_transition(
    consultation: Consultation,
    to: str,
    *,
    actor: Staff | None,
    details: dict | None = None,
    **fields: Any,
) -> Consultation:
    """`_transition` for a consultation; also frees its time when it no longer holds it."""
    _transition(
        consultation,
        to,
        actor=actor,
        illegal=_("A consultation that is %(status)s cannot become %(to)s."),
        raced=_("The consultation was changed by someone else."),
        details=details,
        **fields,
    )
    if to not in Consultation.HOLDING_TIME:
        Occupancy.objects.filter(consultation=consultation).delete()
        Office.calendar_changed(consultation.office_id)
    return consultation


def consultation_cancel(
    *, consultation_id: int, channel: str, reason: str, actor: Staff | None
) -> Consultation:
    """R12: staff record a cancellation with its channel and reason; the meeting goes."""
    if channel not in Channel.values:
        raise BookingError("invalid_input", _("Unknown channel."), field="channel")
    if not reason.strip():
        raise BookingError("invalid_input", _("Give a reason for cancelling."), field="reason")
    with transaction.atomic():
        consultation = _consultation_lock(consultation_id)
        _consultation_transition(
            consultation,
            Consultation.Status.CANCELLED,
            actor=actor,
            details={"channel": channel, "reason": reason.strip()},
            cancel_channel=channel,
            cancel_reason=reason.strip(),
            calendar_sequence=consultation.calendar_sequence + 1,
        )
        meeting_plan_delete(consultation)
        _tell(consultation, "cancelled")
    return consultation


def consultation_cancel_by_seeker(*, consultation_id: int, reason: str) -> Consultation:
    """R12: the seeker cancels online, only where the office allows it and only before
    the start; otherwise they phone. Recorded with channel web and no staff actor."""
    found = Consultation.objects.select_related("office").filter(pk=consultation_id).first()
    if found is None:
        raise BookingError("not_found")
    if not found.office.self_cancel_enabled:
        raise BookingError(
            "forbidden", _("This office takes cancellations by phone. Please call the office.")
        )
    if found.start <= timezone.now():
        raise BookingError(
            "invalid_transition",
            _("The consultation has already started. Please call the office."),
        )
    return consultation_cancel(
        consultation_id=consultation_id, channel=Channel.WEB, reason=reason, actor=None
    )


START_EARLY = dt.timedelta(minutes=30)


def consultation_start(*, consultation_id: int, actor: Staff) -> Consultation:
    with transaction.atomic():
        consultation = _consultation_lock(consultation_id)
        now = timezone.now()
        if consultation.status == Consultation.Status.SCHEDULED and now < (
            consultation.start - START_EARLY
        ):
            raise BookingError(
                "invalid_transition",
                _("A consultation can be started from 30 minutes before its time."),
            )
        return _consultation_transition(
            consultation, Consultation.Status.IN_PROGRESS, actor=actor, actual_start=now
        )


def consultation_complete(*, consultation_id: int, actor: Staff) -> Consultation:
    with transaction.atomic():
        consultation = _consultation_lock(consultation_id)
        return _consultation_transition(
            consultation, Consultation.Status.COMPLETED, actor=actor, actual_end=timezone.now()
        )


def consultation_stop(
    *,
    consultation_id: int,
    reason_code: str,
    note: str = "",
    restrict_seeker: bool = False,
    actor: Staff,
) -> Consultation:
    """R15: stop a consultation for threats, abuse or a non-job purpose.

    With `restrict_seeker` the seeker is also refused further use, in the same
    transaction (the caller checks that the actor may restrict).
    """
    if reason_code not in Consultation.StopReason.values:
        raise BookingError(
            "invalid_input",
            _("reason_code is one of %(codes)s.")
            % {"codes": ", ".join(Consultation.StopReason.values)},
            field="reason_code",
        )
    with transaction.atomic():
        consultation = _consultation_lock(consultation_id)
        _consultation_transition(
            consultation,
            Consultation.Status.STOPPED,
            actor=actor,
            details={"reason_code": reason_code},
            stop_reason_code=reason_code,
            stop_note=note.strip(),
            actual_end=timezone.now(),
        )
        if restrict_seeker:
            seeker_restrict(
                seeker=consultation.seeker,
                reason=str(Consultation.StopReason(reason_code).label),
                actor=actor,
            )
    return consultation


def consultation_record_contact(*, consultation_id: int, actor: Staff) -> Consultation:
    """R13: the office heard from the seeker, so the consultation is not a no-show."""
    with transaction.atomic():
        consultation = _consultation_lock(consultation_id)
        if consultation.status != Consultation.Status.SCHEDULED:
            raise BookingError(
                "invalid_transition", _("Contact is recorded for scheduled consultations.")
            )
        consultation.contact_recorded_at = timezone.now()
        consultation.save(update_fields=["contact_recorded_at"])
        audit_record(actor=actor, action="consultation.contact_recorded", obj=consultation)
    return consultation


def consultation_record_notes(
    *, consultation_id: int, outcome: str, notes: str, actor: Staff
) -> Consultation:
    """The counselor's outcome and notes (R21: audited, the text itself not copied)."""
    with transaction.atomic():
        consultation = _consultation_lock(consultation_id)
        if consultation.status not in (
            Consultation.Status.IN_PROGRESS,
            Consultation.Status.COMPLETED,
            Consultation.Status.STOPPED,
        ):
            raise BookingError(
                "invalid_transition", _("Notes are kept for consultations that took place.")
            )
        consultation.outcome = outcome.strip()[:500]
        consultation.notes = notes.strip()
        consultation.save(update_fields=["outcome", "notes"])
        audit_record(
            actor=actor,
            action="consultation.notes_updated",
            obj=consultation,
            details={"outcome_length": len(consultation.outcome), "notes_length": len(notes)},
        )
    return consultation


def consultation_mark_no_show(*, consultation_id: int, actor: Staff | None) -> Consultation:
    """R13/R14: nobody joined and nobody called by start + grace.

    Counts the seeker's no-shows in the office's period and flags them for review at
    the office's threshold. `actor` None is the worker.
    """
    with transaction.atomic():
        consultation = _consultation_lock(consultation_id)
        office = consultation.office
        due = consultation.start + dt.timedelta(minutes=office.no_show_grace_minutes)
        if consultation.status == Consultation.Status.SCHEDULED and timezone.now() < due:
            raise BookingError(
                "invalid_transition",
                _("A no-show can be recorded from %(time)s.")
                % {"time": due.astimezone(office.tz).strftime("%H:%M")},
            )
        if consultation.seeker_joined_at or consultation.contact_recorded_at:
            raise BookingError(
                "invalid_transition",
                _("The seeker joined or contacted the office; this is not a no-show."),
            )
        if consultation.meeting_ready_at is None or consultation.meeting_ready_at > due:
            raise BookingError(
                "invalid_transition",
                _("The seeker did not have the meeting details in time; this is not a no-show."),
            )
        _consultation_transition(
            consultation,
            Consultation.Status.NO_SHOW,
            actor=actor,
            calendar_sequence=consultation.calendar_sequence + 1,
        )
        # The meeting goes once Zoom can no longer deliver a late join (its last retry
        # comes an hour after the event), so an undone no-show still has its meeting.
        meeting_plan_delete(consultation, delay=NO_SHOW_MEETING_KEPT)
        # Lock the seeker before counting, so two no-shows at once both see each other.
        seeker = Seeker.objects.select_for_update().get(pk=consultation.seeker_id)
        consultation.seeker = seeker
        since = timezone.now() - dt.timedelta(days=office.strike_window_days)
        no_shows = Consultation.objects.filter(
            seeker=seeker, status=Consultation.Status.NO_SHOW, start__gte=since
        ).count()
        flagged = no_shows >= office.strike_threshold
        if flagged:
            seeker_flag_for_review(seeker=seeker, no_shows=no_shows, actor=actor)
        _tell(consultation, "no_show", no_show_count=no_shows, flagged=flagged)
    return consultation


NO_SHOW_MEETING_KEPT = dt.timedelta(minutes=70)


def consultation_overturn_no_show(*, consultation: Consultation, joined_at: dt.datetime) -> None:
    """A join that happened before the no-show moment reached us late: undo the no-show.

    The consultation is scheduled again (its time claimed again); its no-show mail, if
    still waiting in the outbox, no longer fits and is withdrawn when its turn comes. Runs
    in the caller's transaction with the consultation locked. A seeker flagged for review
    stays flagged for staff to lift.
    """
    _transition(
        consultation,
        Consultation.Status.SCHEDULED,
        actor=None,
        illegal=_("A consultation that is %(status)s cannot become %(to)s."),
        raced=_("The consultation was changed by someone else."),
        details={"reason": "seeker joined in time", "joined_at": joined_at.isoformat()},
    )
    with suppress(BookingError):
        # If the freed time was booked meanwhile, the record of the join still stands.
        _claim_time(consultation)
    if consultation.meeting_state == MeetingState.DELETE and not consultation.meeting_attempts:
        Consultation.objects.filter(pk=consultation.pk).update(
            meeting_state=MeetingState.READY, meeting_next_attempt_at=None
        )
    audit_record(
        actor=None,
        action="consultation.no_show_overturned",
        obj=consultation,
        details={"joined_at": joined_at.isoformat()},
    )


# Blocked time -----------------------------------------------------------------------

MAX_BLOCK = dt.timedelta(days=31)


def blocked_time_create(
    *, counselor: Staff, start: dt.datetime, end: dt.datetime, reason: str = "", actor: Staff
) -> BlockedTime:
    """Block a counselor's time; refused where a consultation already holds it."""
    calendar.require_aware(start)
    calendar.require_aware(end, "end")
    if end <= start:
        raise BookingError("invalid_input", _("The end must be after the start."), field="end")
    if end - start > MAX_BLOCK:
        raise BookingError("invalid_input", _("Block at most 31 days at a time."), field="end")
    with transaction.atomic():
        block = BlockedTime.objects.create(
            counselor=counselor,
            start=start,
            end=end,
            reason=reason.strip(),
            created_by=actor,
            created_at=timezone.now(),
        )
        cells = calendar.grid_cells(start, end)
        _check_counselor_free(counselor, cells)
        _insert_claims(
            [Occupancy(cell=c, counselor=counselor, blocked_time=block) for c in cells],
            office_id=counselor.office_id,
        )
        audit_record(
            actor=actor,
            action="blocked_time.created",
            obj=block,
            office=counselor.office,
            details={"start": start.isoformat(), "end": end.isoformat()},
        )
    return block


def blocked_time_delete(*, block_id: int, actor: Staff) -> None:
    with transaction.atomic():
        block = BlockedTime.objects.select_related("counselor__office").filter(pk=block_id).first()
        if block is None:
            raise BookingError("not_found")
        audit_record(
            actor=actor,
            action="blocked_time.deleted",
            obj=block,
            office=block.counselor.office,
            details={"start": block.start.isoformat(), "end": block.end.isoformat()},
        )
        block.delete()
        Office.calendar_changed(block.counselor.office_id)
