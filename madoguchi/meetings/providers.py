"""Meeting providers: who makes the video meeting for a consultation.

`fake` (demo and tests) makes Zoom-shaped meetings locally; `manual` leaves the details
for staff to type in. The real Zoom client plugs in behind the same interface.
"""

import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from madoguchi.bookings.models import Consultation


@dataclass(frozen=True)
class Meeting:
    provider: str
    id: str
    passcode: str
    join_url: str


class MeetingProvider(Protocol):
    name: str

    def create(self, consultation: "Consultation") -> Meeting: ...

    def update(self, consultation: "Consultation") -> None: ...

    def delete(self, consultation: "Consultation") -> None: ...


PASSCODE_ALPHABET = string.ascii_letters + string.digits


def random_passcode(length: int = 8) -> str:
    return "".join(secrets.choice(PASSCODE_ALPHABET) for _ in range(length))


class FakeProvider:
    """Zoom-shaped meetings made locally: an 11-digit id, a passcode and a join link."""

    name = "fake"

    def create(self, consultation: "Consultation") -> Meeting:
        meeting_id = str(secrets.randbelow(9 * 10**10) + 10**10)
        passcode = random_passcode()
        base = settings.MADOGUCHI_BASE_URL.rstrip("/")
        return Meeting(self.name, meeting_id, passcode, f"{base}/meetings/fake/{meeting_id}")

    def update(self, consultation: "Consultation") -> None:
        """A fake meeting has no time of its own to move."""

    def delete(self, consultation: "Consultation") -> None:
        """A fake meeting lives only in the consultation's fields."""


class ManualProvider:
    """Staff create the meeting themselves and type its details in."""

    name = "manual"

    def create(self, consultation: "Consultation") -> Meeting:
        return Meeting(self.name, "", "", "")

    def update(self, consultation: "Consultation") -> None:
        """Staff move the meeting in their own Zoom client."""

    def delete(self, consultation: "Consultation") -> None:
        """Staff delete the meeting in their own Zoom client."""


def get_provider() -> MeetingProvider:
    name = settings.MADOGUCHI_MEETING_PROVIDER
    if name == "fake":
        return FakeProvider()
    if name == "manual":
        return ManualProvider()
    raise ImproperlyConfigured(
        "MADOGUCHI_MEETING_PROVIDER=zoom needs the Zoom client, which this version does not "
        "include yet; use 'fake' or 'manual'."
    )
