"""Meeting providers: who makes the video meeting for a consultation.

`fake` (demo and tests) makes Zoom-shaped meetings at once, locally; `manual` leaves the
details for staff to type in; `zoom` calls Zoom, always from the worker (see
`meetings.jobs` and `meetings.services`), never from a page or an API call.
"""

import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings

if TYPE_CHECKING:
    from madoguchi.bookings.models import Consultation


@dataclass(frozen=True)
class Meeting:
    provider: str
    id: str
    passcode: str
    join_url: str


PASSCODE_ALPHABET = string.ascii_letters + string.digits


def random_passcode(length: int = 8) -> str:
    """8 letters and digits: within every Zoom account's passcode rules (zoom.md §2)."""
    while True:
        code = "".join(secrets.choice(PASSCODE_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


def provider_name() -> str:
    return str(settings.MADOGUCHI_MEETING_PROVIDER)


def fake_meeting() -> Meeting:
    """An 11-digit id, a passcode and a join link to the local fake meeting page."""
    meeting_id = str(secrets.randbelow(9 * 10**10) + 10**10)
    passcode = random_passcode()
    base = settings.MADOGUCHI_BASE_URL.rstrip("/")
    return Meeting("fake", meeting_id, passcode, f"{base}/meetings/fake/{meeting_id}/")


def fake_start_url(consultation: "Consultation") -> str:
    base = settings.MADOGUCHI_BASE_URL.rstrip("/")
    return f"{base}/meetings/fake/{quote(consultation.meeting_id)}/?role=host"


def zoom_host_for(consultation: "Consultation") -> str:
    """The Zoom user who hosts: the counselor's, else the office's, else the default."""
    return (
        consultation.counselor.zoom_user
        or consultation.office.zoom_user
        or settings.ZOOM_DEFAULT_USER
    ).strip()
