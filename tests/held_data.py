"""Data held about a seeker for the disclosure, export and anonymisation tests: a
completed consultation with notes, a no-show, a meeting event and a sent mail."""

from dataclasses import dataclass

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Consultation
from madoguchi.meetings.models import MeetingEvent
from madoguchi.notifications import outbox
from madoguchi.notifications.models import OutboxMail
from madoguchi.offices.models import Staff
from madoguchi.records.models import PageView
from madoguchi.seekers.models import Seeker
from tests.factories import ALL_DECLARATIONS, local, make_consultation


@dataclass
class Held:
    completed: Consultation
    no_show: Consultation
    mail: OutboxMail


def hold_data(seeker: Seeker, actor: Staff, *, day: int = 2) -> Held:
    """Two consultations on 2 (or `day`) December 2026: one completed with notes, one no-show."""
    completed = make_consultation(seeker, local(2026, 12, day, 10), actor=actor)
    no_show = make_consultation(seeker, local(2026, 12, day, 13), actor=actor)
    Consultation.objects.filter(pk=completed.pk).update(
        status=Consultation.Status.COMPLETED,
        actual_start=local(2026, 12, day, 10, 1),
        outcome="求人3件を紹介",
        notes="介護職を希望。次回は応募書類を確認。",
    )
    Consultation.objects.filter(pk=no_show.pk).update(status=Consultation.Status.NO_SHOW)
    MeetingEvent.objects.create(
        consultation=completed,
        dedupe_key=f"joined-{completed.pk}",
        event="meeting.participant_joined",
        meeting_id=completed.meeting_id,
        at=local(2026, 12, day, 10, 1),
        participant="p-1",
        received_at=local(2026, 12, day, 10, 1),
    )
    PageView.objects.create(
        at=local(2026, 12, day, 9, 50),
        office=seeker.office,
        seeker=seeker,
        page="seeker-request-status",
        ip="192.0.2.10",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
    )
    mail = OutboxMail.objects.filter(seeker=seeker).order_by("pk").first()
    assert mail is not None
    OutboxMail.objects.filter(pk=mail.pk).update(
        status=OutboxMail.Status.SENT,
        to=seeker.email,
        subject="オンライン職業相談のお申込みを受け付けました",
        text=f"{seeker.name} 様",
        html=f"<p>{seeker.name} 様</p>",
        sent_at=local(2026, 12, 1, 10),
    )
    completed.refresh_from_db()
    no_show.refresh_from_db()
    mail.refresh_from_db()
    return Held(completed=completed, no_show=no_show, mail=mail)


def mails_with_secrets(world) -> list[str]:
    """A verification mail and a booking mail, rendered as sent, and the secrets in them."""
    booking_services.request_create(
        office=world.office,
        job_seeker_number=world.seeker.number,
        name=world.seeker.name,
        preferences=[(local(2026, 12, 2, 13), 60)],
        channel="web",
        declarations=ALL_DECLARATIONS,
        actor=None,
    )
    consultation = make_consultation(world.seeker, local(2026, 12, 2, 9), actor=world.coordinator)
    for row in OutboxMail.objects.filter(seeker=world.seeker):
        assert outbox._render(row)
        row.save()
    raw = " ".join(OutboxMail.objects.values_list("text", flat=True))
    secrets = [consultation.meeting_join_url, consultation.meeting_passcode]
    assert all(secrets) and all(secret in raw for secret in secrets)
    assert "/requests/status/" in raw and "/requests/verify/" in raw
    return secrets
