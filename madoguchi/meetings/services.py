"""Meeting workflows: the worker's calls to Zoom, staff's manual details, and webhooks.

`meeting_sync` makes the one call a consultation's `meeting_state` asks for. The call
runs outside any database transaction; its result is saved afterwards by
compare-and-set against what the consultation says *now*, so a cancellation or a move
made while Zoom was answering is never lost: it just asks for the next call.
"""

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.bookings.models import Consultation, MeetingState
from madoguchi.errors import BookingError
from madoguchi.meetings import providers
from madoguchi.meetings.models import MeetingEvent
from madoguchi.meetings.webhooks import (
    WebhookRejected,
    ZoomEvent,
    parse_event,
    url_validation_response,
    verify,
)
from madoguchi.meetings.zoom import ZoomClient, ZoomError, ZoomMeeting, meeting_topic
from madoguchi.records.audit import audit_record
from madoguchi.worker import leases

logger = logging.getLogger("madoguchi.meetings")

_clients: dict[tuple, ZoomClient] = {}


def zoom_client_key() -> tuple:
    return (
        settings.ZOOM_ACCOUNT_ID,
        settings.ZOOM_CLIENT_ID,
        settings.ZOOM_CLIENT_SECRET,
        settings.ZOOM_API_BASE_URL,
        settings.ZOOM_OAUTH_URL,
    )


def zoom_client() -> ZoomClient:
    """One client per configuration, so its access token is shared by the process."""
    key = zoom_client_key()
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = ZoomClient.from_settings()
    return client


# The worker's calls ------------------------------------------------------------------


def _zoom_create(consultation: Consultation) -> ZoomMeeting:
    client = zoom_client()
    if consultation.meeting_replaced_id:
        client.delete_meeting(int(consultation.meeting_replaced_id))  # the old host's
    if consultation.meeting_attempts > 1 and consultation.meeting_ref:
        # An earlier attempt may have reached Zoom before the worker died: adopt it
        # (read in full: Zoom's list leaves the passcode out).
        for meeting in client.list_upcoming_meetings(consultation.meeting_host):
            if consultation.meeting_ref in meeting.agenda:
                return client.get_meeting(meeting.id)
    return client.create_meeting(
        consultation.meeting_host,
        topic=meeting_topic(consultation.seeker.language),
        start=consultation.start,
        duration_minutes=consultation.duration_minutes,
        timezone=consultation.office.time_zone,
        passcode=providers.random_passcode(),
        agenda=f"ref {consultation.meeting_ref}",
    )


def _zoom_delete(consultation: Consultation) -> None:
    client = zoom_client()
    meeting_id = consultation.meeting_id
    if not meeting_id and consultation.meeting_ref:
        for meeting in client.list_upcoming_meetings(consultation.meeting_host):
            if consultation.meeting_ref in meeting.agenda:
                meeting_id = str(meeting.id)
    if meeting_id:
        client.delete_meeting(int(meeting_id))
    if consultation.meeting_replaced_id:
        client.delete_meeting(int(consultation.meeting_replaced_id))


def meeting_sync(*, consultation_id: int) -> str:
    """Make the Zoom call the consultation's meeting state asks for; idempotent."""
    now = timezone.now()
    rows = Consultation.objects.filter(pk=consultation_id, meeting_state__in=MeetingState.pending())
    if not leases.claim(rows, field="meeting_claimed_until", now=now, counter="meeting_attempts"):
        return "skipped"
    consultation = Consultation.objects.select_related("office", "seeker", "counselor").get(
        pk=consultation_id
    )
    asked = consultation.meeting_state
    planned = (consultation.start, consultation.end)
    if asked == MeetingState.CREATE and now >= consultation.end:
        return _sync_failed(consultation, asked, _("The consultation's time has passed."))
    created: ZoomMeeting | None = None
    try:
        if asked == MeetingState.CREATE:
            created = _zoom_create(consultation)
        elif asked == MeetingState.UPDATE:
            zoom_client().update_meeting(
                int(consultation.meeting_id),
                start=consultation.start,
                duration_minutes=consultation.duration_minutes,
                timezone=consultation.office.time_zone,
            )
        else:
            _zoom_delete(consultation)
    except ZoomError as error:
        if error.retryable:
            return _sync_retry(consultation, error)
        return _sync_failed(consultation, asked, error.message)
    return _sync_done(consultation_id, asked, planned, created)


def _sync_retry(consultation: Consultation, error: ZoomError) -> str:
    pause = leases.backoff(consultation.meeting_attempts, base=15, cap=900)
    same = Consultation.objects.filter(
        pk=consultation.pk, meeting_state=consultation.meeting_state
    ).update(
        meeting_next_attempt_at=error.retry_at or timezone.now() + pause,
        meeting_claimed_until=None,
        meeting_error=error.message[:300],
    )
    if not same:  # staff changed what is wanted meanwhile: that call is due now
        Consultation.objects.filter(pk=consultation.pk).update(
            meeting_next_attempt_at=timezone.now(), meeting_claimed_until=None
        )
    logger.warning(
        "meeting call for consultation %s will be retried: %s", consultation.pk, error.message
    )
    return "retry"


def _sync_failed(consultation: Consultation, asked: str, message: str) -> str:
    with transaction.atomic():
        changed = Consultation.objects.filter(pk=consultation.pk, meeting_state=asked).update(
            meeting_state=MeetingState.FAILED,
            meeting_claimed_until=None,
            meeting_next_attempt_at=None,
            meeting_error=message[:300],
        )
        if changed:
            audit_record(
                actor=None,
                action="meeting.failed",
                obj=consultation,
                details={"call": asked, "error": message[:300]},
            )
    logger.error("meeting call for consultation %s failed: %s", consultation.pk, message)
    return "failed"


def _sync_done(
    consultation_id: int,
    asked: str,
    planned: tuple[dt.datetime, dt.datetime],
    created: ZoomMeeting | None,
) -> str:
    from madoguchi.notifications.outbox import mail_queue
    from madoguchi.worker.tasks import enqueue_on_commit, sync_meeting

    with transaction.atomic():
        consultation = (
            Consultation.objects.select_for_update(of=("self",))
            .select_related("office", "seeker")
            .get(pk=consultation_id)
        )
        now_state = consultation.meeting_state
        moved = (consultation.start, consultation.end) != planned
        fields: dict[str, Any] = {
            "meeting_claimed_until": None,
            "meeting_error": "",
            "meeting_next_attempt_at": None,
        }
        if created is not None:
            fields.update(
                meeting_id=str(created.id),
                meeting_passcode=created.passcode,
                meeting_join_url=created.join_url,
            )
        if asked in (MeetingState.CREATE, MeetingState.DELETE):
            fields["meeting_replaced_id"] = ""
        if asked == MeetingState.DELETE:
            fields.update(meeting_state=MeetingState.DELETED, meeting_passcode="")
        elif now_state == MeetingState.DELETE:
            fields.update(meeting_next_attempt_at=timezone.now())  # cancelled meanwhile
        elif moved:
            fields.update(meeting_state=MeetingState.UPDATE, meeting_next_attempt_at=timezone.now())
        else:
            fields.update(meeting_state=MeetingState.READY, meeting_attempts=0)
        for key, value in fields.items():
            setattr(consultation, key, value)
        consultation.save(update_fields=list(fields))
        audit_record(
            actor=None,
            action={
                str(MeetingState.CREATE): "meeting.created",
                str(MeetingState.UPDATE): "meeting.updated",
                str(MeetingState.DELETE): "meeting.deleted",
            }[asked],
            obj=consultation,
            details={"meeting_id": consultation.meeting_id},
        )
        if consultation.meeting_state in MeetingState.pending():
            enqueue_on_commit(sync_meeting, consultation.pk)
        if (
            asked == MeetingState.CREATE
            and consultation.meeting_state in (MeetingState.READY, MeetingState.UPDATE)
            and consultation.status == Consultation.Status.SCHEDULED
        ):
            # R9: the seeker is told once the meeting exists, not before (and again,
            # with the new details, when a change of host made a new meeting).
            if consultation.meeting_ready_at is None:
                consultation.meeting_ready_at = timezone.now()
                consultation.save(update_fields=["meeting_ready_at"])
            mail_queue("scheduled", seeker=consultation.seeker, consultation=consultation)
    return "done"


def meetings_requeue(*, now: dt.datetime, limit: int = 500) -> int:
    """The clock: queue again meeting calls that are due and that no task holds."""
    from madoguchi.worker.tasks import sync_meeting

    return leases.requeue_due(
        Consultation.objects.filter(meeting_state__in=MeetingState.pending()),
        due_field="meeting_next_attempt_at",
        claim_field="meeting_claimed_until",
        task=sync_meeting,
        now=now,
        limit=limit,
    )


# Staff ------------------------------------------------------------------------------


def meeting_enter_details(
    *, consultation_id: int, meeting_id: str, passcode: str, join_url: str, actor: Any
) -> Consultation:
    """Manual provider: staff made the meeting themselves and type its details in."""
    from madoguchi.notifications.outbox import mail_queue

    digits = "".join(ch for ch in meeting_id if ch.isdigit())
    if not 9 <= len(digits) <= 12:
        raise BookingError(
            "invalid_input", _("A meeting ID has 9 to 12 digits."), field="meeting_id"
        )
    if not join_url.startswith("https://"):
        raise BookingError(
            "invalid_input", _("The join link must start with https://."), field="join_url"
        )
    with transaction.atomic():
        consultation = (
            Consultation.objects.select_for_update(of=("self",))
            .select_related("office", "seeker")
            .filter(pk=consultation_id)
            .first()
        )
        if consultation is None:
            raise BookingError("not_found")
        if consultation.status != Consultation.Status.SCHEDULED:
            raise BookingError(
                "invalid_transition", _("Meeting details are for scheduled consultations.")
            )
        # Typed details replace no meeting we made: only manual meetings, or a Zoom one
        # that could not be made (staff then made it by hand).
        stuck = consultation.meeting_state in (MeetingState.FAILED, MeetingState.NO_HOST)
        if consultation.meeting_provider != "manual" and not (
            stuck and not consultation.meeting_id
        ):
            raise BookingError(
                "invalid_transition",
                _("This consultation's meeting is made by %(provider)s; it cannot be typed in.")
                % {"provider": consultation.meeting_provider},
            )
        consultation.meeting_provider = "manual"
        consultation.meeting_id = digits
        consultation.meeting_passcode = passcode.strip()[:20]
        consultation.meeting_join_url = join_url.strip()
        consultation.meeting_state = MeetingState.READY
        consultation.meeting_ready_at = consultation.meeting_ready_at or timezone.now()
        consultation.meeting_error = ""
        consultation.save(
            update_fields=[
                "meeting_error",
                "meeting_provider",
                "meeting_id",
                "meeting_passcode",
                "meeting_join_url",
                "meeting_state",
                "meeting_ready_at",
            ]
        )
        audit_record(
            actor=actor,
            action="meeting.details_entered",
            obj=consultation,
            details={"meeting_id": digits},
        )
        # First details: the scheduled mail; changed details: the same mail again.
        mail_queue("scheduled", seeker=consultation.seeker, consultation=consultation)
    return consultation


def meeting_start_url(*, consultation: Consultation, actor: Any) -> str:
    """The host's start link, fetched fresh (Zoom's expires two hours after it is made).

    The link signs its holder in as the meeting's host, so only the consultation's own
    counselor gets it, and each fetch is audited.
    """
    if consultation.counselor_id != actor.pk:
        raise BookingError("forbidden", _("Only the consultation's counselor can start it."))
    if consultation.meeting_state != MeetingState.READY or not consultation.meeting_id:
        raise BookingError("invalid_transition", _("This consultation has no meeting yet."))
    if consultation.meeting_provider == "fake":
        url = providers.fake_start_url(consultation)
    elif consultation.meeting_provider == "manual":
        url = consultation.meeting_join_url
    else:
        try:
            url = zoom_client().get_meeting(int(consultation.meeting_id)).start_url
        except ZoomError as error:
            raise BookingError(
                "meeting_unavailable",
                _("Zoom did not answer; try again in a moment. (%(error)s)")
                % {"error": error.message},
            ) from error
    audit_record(actor=actor, action="meeting.start_link_fetched", obj=consultation)
    return url


# Webhooks ---------------------------------------------------------------------------

# Zoom retries a failed delivery after 5, 20 and 60 minutes and may keep its first
# timestamp: a correctly signed delivery is taken for that long (repeats are dropped by
# their dedupe key); older ones are refused as stale.
WEBHOOK_TOLERANCE = 90 * 60

JOIN_EVENTS = frozenset(
    {
        "meeting.participant_joined",
        "meeting.participant_joined_waiting_room",
        "meeting.participant_jbh_waiting",
        "meeting.participant_admitted",
    }
)
HANDLED = JOIN_EVENTS | {"meeting.started", "meeting.ended", "meeting.participant_left"}


def webhook_receive(
    *, body: bytes, timestamp: str | None, signature: str | None
) -> tuple[int, dict]:
    """Verify, then handle one webhook delivery; answers (status, JSON body).

    Forged and stale deliveries are refused (401) and logged; a repeat of an event
    already handled, an event for no known meeting and an unknown event are
    acknowledged and change nothing.
    """
    secret = settings.ZOOM_WEBHOOK_SECRET
    if not secret:
        logger.error("webhook refused: ZOOM_WEBHOOK_SECRET is not set")
        return 503, {"detail": "webhooks are not configured"}
    try:
        verify(
            secret=secret,
            body=body,
            timestamp=timestamp,
            signature=signature,
            now=timezone.now(),
            tolerance=WEBHOOK_TOLERANCE,
        )
        event = parse_event(body)
    except WebhookRejected as rejected:
        logger.warning("webhook refused: %s", rejected.reason)
        return 401, {"detail": rejected.reason}
    if event.event == "endpoint.url_validation":
        return 200, url_validation_response(secret=secret, plain_token=event.plain_token)
    if event.event not in HANDLED or event.meeting_id is None:
        return 200, {"status": "ignored"}
    return 200, {"status": event_handle(event)}


def leave_reason_kept(text: str) -> str:
    """Only the reason of Zoom's "<display name> left the meeting. Reason: …" (R19 keeps
    no name: the display name is whatever the participant typed)."""
    _name, found, reason = text.rpartition("Reason")
    return (reason.strip(" :.") if found else "")[:200]


def event_handle(event: ZoomEvent) -> str:
    """Apply one verified event to its consultation (R13, R19)."""
    with transaction.atomic():
        participant = event.participant
        at = (
            (participant.at if participant and participant.at else None)
            or {
                "meeting.started": event.start_time,
                "meeting.ended": event.end_time,
            }.get(event.event)
            or event.event_ts
        )
        consultation = _consultation_at(str(event.meeting_id), at)
        try:
            with transaction.atomic():
                MeetingEvent.objects.create(
                    consultation=consultation,
                    dedupe_key=event.dedupe_key()[:300],
                    event=event.event,
                    meeting_id=str(event.meeting_id),
                    at=at,
                    is_host=bool(participant and participant.is_host),
                    participant=(participant.participant_uuid or participant.user_id)[:100]
                    if participant
                    else "",
                    leave_reason=leave_reason_kept(participant.leave_reason) if participant else "",
                    received_at=timezone.now(),
                )
        except IntegrityError:
            return "duplicate"
        if consultation is None:
            return "unknown_meeting"
        if event.event in JOIN_EVENTS and participant and not participant.is_host:
            return _seeker_joined(consultation, at)
        if event.event == "meeting.started" and consultation.actual_start is None:
            consultation.actual_start = at
            consultation.save(update_fields=["actual_start"])
        elif event.event == "meeting.ended" and consultation.actual_end is None:
            consultation.actual_end = at
            consultation.save(update_fields=["actual_end"])
        return "recorded"


# A join counts for a consultation from this long before its start until its end.
JOIN_EARLY = dt.timedelta(minutes=30)


def _consultation_at(meeting_id: str, at: dt.datetime) -> Consultation | None:
    """The consultation a meeting's event is about, locked: the one whose time is
    nearest the event (a meeting ID typed in by hand may serve several)."""
    candidates = list(
        Consultation.objects.filter(meeting_id=meeting_id).values_list("pk", "start", "end")
    )
    if not candidates:
        return None

    def distance(row: tuple) -> dt.timedelta:
        _pk, start, end = row
        return max(start - at, at - end, dt.timedelta(0))

    pk = min(candidates, key=distance)[0]
    return Consultation.objects.select_for_update(of=("self",)).select_related("office").get(pk=pk)


def _seeker_joined(consultation: Consultation, at: dt.datetime) -> str:
    from madoguchi.bookings.services import consultation_overturn_no_show

    if not consultation.start - JOIN_EARLY <= at <= consultation.end:
        return "join_outside_time"  # a device test the day before, or the old time
    if consultation.seeker_joined_at is None or at < consultation.seeker_joined_at:
        consultation.seeker_joined_at = at
        consultation.save(update_fields=["seeker_joined_at"])
    grace = dt.timedelta(minutes=consultation.office.no_show_grace_minutes)
    if consultation.status == Consultation.Status.NO_SHOW and at < consultation.start + grace:
        # A join Zoom delivered late (its retries come minutes later) that happened in
        # time: the no-show was wrong.
        consultation_overturn_no_show(consultation=consultation, joined_at=at)
        return "no_show_overturned"
    return "seeker_joined"
