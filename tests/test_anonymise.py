"""Anonymising seekers whose registration expired longer ago than the office's retention."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from madoguchi.bookings.models import Consultation, Request
from madoguchi.notifications.models import OutboxMail
from madoguchi.records.models import AuditEntry, PageView
from madoguchi.seekers.anonymise import seekers_anonymise
from madoguchi.seekers.models import Seeker
from madoguchi.worker import clock
from tests.factories import local, make_consultation
from tests.held_data import hold_data
from tests.signin import signed_in_client

# The office keeps 365 days: on 1 December 2026, registrations that expired before
# 1 December 2025 are due.


def expire(seeker: Seeker, on: dt.date) -> Seeker:
    Seeker.objects.filter(pk=seeker.pk).update(registered_on=dt.date(2024, 4, 1), expires_on=on)
    seeker.refresh_from_db()
    return seeker


@pytest.fixture
def long_expired(world):
    """seeker: data held, then expired on 30 June 2025, well past the retention."""
    held = hold_data(world.seeker, world.coordinator)
    Consultation.objects.filter(pk__in=[held.completed.pk, held.no_show.pk]).update(
        stop_note="声を荒げた", cancel_reason="体調不良"
    )
    expire(world.seeker, dt.date(2025, 6, 30))
    return held


def test_anonymise_blanks_personal_fields_of_a_long_expired_seeker(world, long_expired):
    count = seekers_anonymise(now=timezone.now())

    seeker = Seeker.objects.get(pk=world.seeker.pk)
    assert count == 1
    assert (seeker.name, seeker.name_kana, seeker.email, seeker.phone) == ("", "", "", "")
    assert seeker.number == f"anon-{seeker.pk}"
    assert seeker.anonymised_at == local(2026, 12, 1, 10)
    assert (seeker.registered_on, seeker.expires_on) == (dt.date(2024, 4, 1), dt.date(2025, 6, 30))


def test_anonymise_clears_notes_and_mail_bodies_but_keeps_counts(world, long_expired):
    consultations_before = list(
        Consultation.objects.filter(seeker=world.seeker).values_list("pk", "status", "start")
    )
    mails_before = list(
        OutboxMail.objects.filter(seeker=world.seeker).values_list("pk", "kind", "status")
    )

    seekers_anonymise(now=timezone.now())

    consultations = Consultation.objects.filter(seeker=world.seeker)
    assert list(consultations.values_list("pk", "status", "start")) == consultations_before
    assert set(consultations.values_list("outcome", "notes", "stop_note", "cancel_reason")) == {
        ("", "", "", "")
    }
    mails = OutboxMail.objects.filter(seeker=world.seeker)
    assert list(mails.values_list("pk", "kind", "status")) == mails_before
    assert set(mails.values_list("to", "subject", "text", "html")) == {("", "", "", "")}
    assert list(Request.objects.filter(seeker=world.seeker).values_list("name", flat=True)) == [
        "",
        "",
    ]


def test_anonymise_keeps_others_data(world, long_expired):
    other = hold_data(world.seeker2, world.coordinator, day=3)

    seekers_anonymise(now=timezone.now())

    world.seeker2.refresh_from_db()
    other.completed.refresh_from_db()
    other.mail.refresh_from_db()
    assert world.seeker2.number == "01040-87654321" and world.seeker2.anonymised_at is None
    assert other.completed.notes == "介護職を希望。次回は応募書類を確認。"
    assert other.mail.text.endswith(" 様")


def test_anonymise_waits_for_the_retention_after_a_recent_expiry(world):
    expire(world.seeker2, dt.date(2026, 6, 30))

    now_count = seekers_anonymise(now=timezone.now())
    with time_machine.travel(local(2027, 7, 1, 3), tick=False):
        later_count = seekers_anonymise(now=timezone.now())

    world.seeker2.refresh_from_db()
    assert (now_count, later_count) == (0, 1)
    assert world.seeker2.anonymised_at == local(2027, 7, 1, 3)


def test_anonymise_keeps_a_seeker_with_a_consultation_to_come(world):
    consultation = make_consultation(world.seeker, local(2026, 12, 3, 10), actor=world.coordinator)
    expire(world.seeker, dt.date(2025, 6, 30))

    before = seekers_anonymise(now=timezone.now())
    Consultation.objects.filter(pk=consultation.pk).update(status=Consultation.Status.COMPLETED)
    after = seekers_anonymise(now=timezone.now())

    assert (before, after) == (0, 1)


def test_anonymise_twice_changes_nothing_and_audits_by_count_per_office(world, long_expired):
    expire(world.seeker2, dt.date(2025, 1, 31))
    expire(world.other_seeker, dt.date(2025, 3, 31))

    first = seekers_anonymise(now=timezone.now())
    numbers = list(Seeker.objects.order_by("pk").values_list("number", flat=True))
    second = seekers_anonymise(now=timezone.now())

    assert (first, second) == (3, 0)
    assert list(Seeker.objects.order_by("pk").values_list("number", flat=True)) == numbers
    entries = AuditEntry.objects.filter(action="seekers.anonymised").order_by("office_id")
    assert [(e.office, e.details, e.actor_label) for e in entries] == [
        (world.office, {"count": 2}, "system"),
        (world.other_office, {"count": 1}, "system"),
    ]


def test_anonymised_number_cannot_book(world, long_expired):
    from madoguchi.errors import BookingError
    from madoguchi.seekers.numbers import normalize_job_seeker_number

    seekers_anonymise(now=timezone.now())

    with pytest.raises(BookingError) as refused:
        normalize_job_seeker_number(Seeker.objects.get(pk=world.seeker.pk).number)
    assert refused.value.code == "invalid_job_seeker_number"


def test_clock_anonymises_once_a_day(world, long_expired):
    clock._daily_done.clear()

    first = clock.tick(now=timezone.now())["anonymised_seekers"]
    expire(world.seeker2, dt.date(2025, 1, 31))
    same_day = clock.tick(now=timezone.now())["anonymised_seekers"]
    next_day = clock.tick(now=local(2026, 12, 2, 0, 5))["anonymised_seekers"]

    assert (first, same_day, next_day) == (1, 0, 1)


def test_anonymise_unlinks_page_views_but_keeps_them_for_the_statistics(world, long_expired):
    views_before = list(PageView.objects.filter(office=world.office).values_list("pk", "page"))

    seekers_anonymise(now=timezone.now())

    views = PageView.objects.filter(office=world.office)
    assert list(views.values_list("pk", "page")) == views_before != []
    assert list(views.values_list("seeker", flat=True).distinct()) == [None]


def test_anonymised_seeker_record_says_so(world, long_expired):
    seekers_anonymise(now=timezone.now())
    world.seeker.refresh_from_db()

    response = signed_in_client(world.manager).get(
        f"/staff/seekers/{world.seeker.number}/", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    assert "<h1>Anonymised job seeker</h1>" in response.content.decode()


def test_anonymise_clears_interpreter_device_check_meeting_secrets_and_override(
    world, long_expired
):
    Request.objects.filter(seeker=world.seeker).update(
        interpreter_language="ベトナム語", device_check={"os": "iOS", "verdict": "ok"}
    )
    Consultation.objects.filter(seeker=world.seeker).update(override_reason="本人の強い希望")
    other = hold_data(world.seeker2, world.coordinator, day=3)
    Request.objects.filter(seeker=world.seeker2).update(
        interpreter_language="英語", device_check={"os": "Android"}
    )
    before = Consultation.objects.filter(seeker=world.seeker).values_list(
        "meeting_passcode", "meeting_join_url"
    )
    assert all(passcode and url for passcode, url in before)

    seekers_anonymise(now=timezone.now())

    requests = Request.objects.filter(seeker=world.seeker)
    assert set(requests.values_list("interpreter_language", "device_check")) == {("", None)}
    consultations = Consultation.objects.filter(seeker=world.seeker)
    assert set(
        consultations.values_list("override_reason", "meeting_passcode", "meeting_join_url")
    ) == {("", "", "")}
    kept = Request.objects.filter(seeker=world.seeker2)
    assert set(kept.values_list("interpreter_language", flat=True)) == {"英語"}
    other.completed.refresh_from_db()
    assert other.completed.meeting_passcode != ""
