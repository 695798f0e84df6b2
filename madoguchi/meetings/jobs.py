"""Planning a consultation's meeting, inside the booking transaction that needs it.

The fake provider's meeting exists at once; a manual one waits for staff; a Zoom call
is only planned here (`meeting_state` create/update/delete) and made by the worker
after commit, so a slow or absent Zoom never holds a booking or a page.
"""

import datetime as dt
import secrets

from django.utils import timezone

from madoguchi.bookings.models import Consultation, MeetingState
from madoguchi.meetings import providers
from madoguchi.worker import leases

FIELDS = [
    "meeting_provider",
    "meeting_id",
    "meeting_passcode",
    "meeting_join_url",
    "meeting_state",
    "meeting_host",
    "meeting_ref",
    "meeting_error",
    "meeting_attempts",
    "meeting_next_attempt_at",
    "meeting_ready_at",
    "meeting_replaced_id",
]


def _queue_sync(
    consultation: Consultation, state: str, *, delay: dt.timedelta | None = None
) -> None:
    """Ask the worker for a call: at once after commit, or (with `delay`) from the clock."""
    from madoguchi.worker.tasks import enqueue_on_commit, sync_meeting

    consultation.meeting_state = state
    consultation.meeting_error = ""
    consultation.meeting_attempts = 0
    if delay is None:
        consultation.meeting_next_attempt_at = timezone.now() + leases.queue_grace()
        enqueue_on_commit(sync_meeting, consultation)
    else:
        consultation.meeting_next_attempt_at = timezone.now() + delay


def meeting_plan_create(consultation: Consultation, *, save: bool = True) -> str:
    """A new consultation's meeting; returns its state (`ready` means details exist now).

    With `save=False` the fields are only set, for a consultation not yet inserted.
    """
    name = providers.provider_name()
    consultation.meeting_provider = name
    if name == "fake":
        meeting = providers.fake_meeting()
        consultation.meeting_id = meeting.id
        consultation.meeting_passcode = meeting.passcode
        consultation.meeting_join_url = meeting.join_url
        consultation.meeting_state = MeetingState.READY
        consultation.meeting_ready_at = timezone.now()
    elif name == "manual":
        consultation.meeting_state = MeetingState.MANUAL
    else:
        consultation.meeting_host = providers.zoom_host_for(consultation)
        consultation.meeting_ref = secrets.token_hex(6)
        if consultation.meeting_host:
            _queue_sync(consultation, MeetingState.CREATE)
        else:
            consultation.meeting_state = MeetingState.NO_HOST
    if save:
        consultation.save(update_fields=FIELDS)
    return consultation.meeting_state


def meeting_plan_update(consultation: Consultation) -> str:
    """The consultation moved: a Zoom meeting follows (a manual one is staff's to move)."""
    if consultation.meeting_provider != "zoom":
        return consultation.meeting_state
    host = providers.zoom_host_for(consultation)
    if host and host != consultation.meeting_host and consultation.meeting_id:
        # Another counselor hosts now: Zoom cannot hand a meeting over, so the old one
        # goes and a new one is made under the new host (the seeker gets its details).
        consultation.meeting_replaced_id = consultation.meeting_id
        consultation.meeting_id = consultation.meeting_passcode = ""
        consultation.meeting_join_url = ""
        consultation.meeting_host = host
        consultation.meeting_ref = secrets.token_hex(6)
        _queue_sync(consultation, MeetingState.CREATE)
    elif consultation.meeting_state in {MeetingState.READY, MeetingState.FAILED}:
        if consultation.meeting_id:
            _queue_sync(consultation, MeetingState.UPDATE)
        else:
            _queue_sync(consultation, MeetingState.CREATE)
    elif consultation.meeting_state == MeetingState.NO_HOST:
        return meeting_plan_create(consultation)
    # create/update still pending: the worker compares times after its call.
    consultation.save(update_fields=FIELDS)
    return consultation.meeting_state


def meeting_plan_delete(consultation: Consultation, *, delay: dt.timedelta | None = None) -> str:
    """Cancelled or no-show: the meeting goes (a Zoom one by the worker, after `delay`)."""
    state = consultation.meeting_state
    if consultation.meeting_provider == "zoom" and (
        consultation.meeting_id
        or consultation.meeting_replaced_id
        or (state == MeetingState.CREATE and consultation.meeting_attempts)
    ):
        # A create that was tried may have reached Zoom: the worker looks it up by ref.
        _queue_sync(consultation, MeetingState.DELETE, delay=delay)
    elif state not in {"", MeetingState.MANUAL}:
        consultation.meeting_state = MeetingState.DELETED
        consultation.meeting_next_attempt_at = None
    consultation.save(update_fields=FIELDS)
    return consultation.meeting_state
