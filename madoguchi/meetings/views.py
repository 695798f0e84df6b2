"""The Zoom webhook endpoint, and the fake provider's meeting page for the demo."""

import datetime as dt
import json
import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.bookings.models import Consultation
from madoguchi.meetings import webhooks
from madoguchi.meetings.services import webhook_receive

FAKE_HOST_ID = "fakehost0000000000000"


@csrf_exempt  # Zoom cannot hold a CSRF token; the signature is the proof instead
@require_POST
def zoom_webhook(request: HttpRequest) -> JsonResponse:
    status, body = webhook_receive(
        body=request.body,
        timestamp=request.headers.get("x-zm-request-timestamp"),
        signature=request.headers.get("x-zm-signature"),
    )
    return JsonResponse(body, status=status)


def _fake_event(meeting_id: str, *, host: bool) -> bytes:
    """The event Zoom would send when someone enters this meeting."""
    now = timezone.now()
    moment = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    participant = {
        "user_id": str(uuid.uuid4().int % 10**8),
        "user_name": "Host" if host else "Guest",
        "id": FAKE_HOST_ID if host else "",
        "participant_uuid": str(uuid.uuid4()),
        "join_time": moment,
        "email": "",
    }
    return json.dumps(
        {
            "event": "meeting.participant_joined",
            "event_ts": int(now.timestamp() * 1000),
            "payload": {
                "account_id": "fake",
                "object": {
                    "id": meeting_id,
                    "uuid": f"fake-{meeting_id}",
                    "host_id": FAKE_HOST_ID,
                    "type": 2,
                    "participant": participant,
                },
            },
        }
    ).encode()


@require_http_methods(["GET", "POST"])
def fake_meeting(request: HttpRequest, meeting_id: str) -> HttpResponse:
    """Demo only: a stand-in for Zoom's meeting. Entering it sends a signed webhook event
    through the same handler as Zoom's, so the demo drives joins the way Zoom will."""
    consultation = (
        Consultation.objects.filter(meeting_provider="fake", meeting_id=meeting_id)
        .select_related("office")
        .first()
    )
    if consultation is None:
        raise Http404
    host = request.GET.get("role") == "host"
    entered = False
    if request.method == "POST":
        body = _fake_event(meeting_id, host=host)
        headers = webhooks.sign(
            secret=settings.ZOOM_WEBHOOK_SECRET,
            body=body,
            timestamp=int(timezone.now().timestamp()),
        )
        status, _ = webhook_receive(
            body=body,
            timestamp=headers["x-zm-request-timestamp"],
            signature=headers["x-zm-signature"],
        )
        entered = status == 200
    return render(
        request,
        "meetings/fake_meeting.html",
        {"consultation": consultation, "host": host, "entered": entered},
    )
