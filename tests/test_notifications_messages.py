"""The seeker's mails and calendar files: language, office time, escaping, .ics shape.

The clock is frozen at Tuesday 2026-12-01 10:00 in Tokyo (see conftest); the
consultation is on Wednesday 2 December, 10:00–10:45.
"""

import datetime as dt
from collections.abc import Callable

import pytest
from icalendar import Calendar

from madoguchi.bookings.models import Channel, Consultation, Request
from madoguchi.notifications import messages
from madoguchi.notifications.ics import consultation_ics, format_meeting_id
from madoguchi.seekers.models import Seeker
from tests.conftest import NOW
from tests.factories import ALL_DECLARATIONS, TOKYO, local, make_seeker

START = local(2026, 12, 2, 10, 0)
JOIN_URL = "https://us02web.zoom.us/j/85746065432?pwd=AbCdEf&uname=x"
JOIN_URL_HTML = "https://us02web.zoom.us/j/85746065432?pwd=AbCdEf&amp;uname=x"
PASSCODE = "k7Qp2Zx9"
WHEN_JA = "2026年12月2日（水）10:00〜10:45"
WHEN_EN = "Wednesday 2 December 2026, 10:00–10:45 (Japan time)"
BASE_URL = "https://madoguchi.example.jp"


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.MADOGUCHI_BASE_URL = BASE_URL


@pytest.fixture
def office(world):
    world.office.name_en = "Hello Work Kushiro"
    world.office.save(update_fields=["name_en"])
    return world.office


def make_request(world, seeker: Seeker, **fields) -> Request:
    fields.setdefault("preferences", [{"start": START.isoformat(), "duration_minutes": 45}])
    return Request.objects.create(
        office=seeker.office,
        seeker=seeker,
        name=seeker.name,
        channel=Channel.WEB,
        status=Request.Status.REQUESTED,
        declarations=ALL_DECLARATIONS,
        created_at=NOW,
        status_changed_at=NOW,
        **fields,
    )


def make_consultation(world, seeker: Seeker, request: Request | None = None, **fields):
    world.counselor.display_name = "佐藤 花子"
    world.counselor.save(update_fields=["display_name"])
    fields.setdefault("meeting_id", "85746065432")
    fields.setdefault("meeting_passcode", PASSCODE)
    fields.setdefault("meeting_join_url", JOIN_URL)
    consultation = Consultation.objects.create(
        office=seeker.office,
        seeker=seeker,
        counselor=world.counselor,
        request=request or make_request(world, seeker),
        start=START,
        end=START + dt.timedelta(minutes=45),
        status_changed_at=NOW,
        created_at=NOW,
        meeting_provider="fake",
        **fields,
    )
    # Read it back as the mail task would: datetimes come back from the database in UTC.
    return Consultation.objects.select_related("office", "seeker", "counselor", "request").get(
        pk=consultation.pk
    )


def seeker_in(world, language: str, **fields) -> Seeker:
    return make_seeker(world.office, world.counselor, language=language, **fields)


# Every message, built for a seeker: (name, function of (world, seeker) → Mail | None).
def _request_received(world, seeker):
    return messages.request_received(make_request(world, seeker))


def _verify_request(world, seeker):
    return messages.verify_request(
        make_request(world, seeker), verify_url=f"{BASE_URL}/verify/tok123/"
    )


def _scheduled(world, seeker):
    return messages.scheduled(make_consultation(world, seeker))


def _reminder(world, seeker):
    return messages.reminder(make_consultation(world, seeker), when="day_before")


def _rescheduled(world, seeker):
    return messages.rescheduled(
        make_consultation(world, seeker), previous_start=local(2026, 12, 3, 13, 0)
    )


def _cancelled(world, seeker):
    return messages.cancelled(make_consultation(world, seeker, cancel_reason="担当者の都合"))


def _no_show(world, seeker):
    return messages.no_show(make_consultation(world, seeker), no_show_count=1, flagged=False)


def _declined(world, seeker):
    return messages.declined(make_request(world, seeker, decline_reason="日程の都合"))


def _restriction_notice(world, seeker):
    return messages.restriction_notice(seeker)


BUILDERS: dict[str, Callable] = {
    "request_received": _request_received,
    "verify_request": _verify_request,
    "scheduled": _scheduled,
    "reminder_day_before": _reminder,
    "rescheduled": _rescheduled,
    "cancelled": _cancelled,
    "no_show": _no_show,
    "declined": _declined,
    "restriction_notice": _restriction_notice,
}
ALL_KINDS = pytest.mark.parametrize("kind", list(BUILDERS), ids=list(BUILDERS))
BOTH_LANGUAGES = pytest.mark.parametrize("language", ["ja", "en"], ids=["ja", "en"])
MEETING_KINDS = pytest.mark.parametrize("kind", ["scheduled", "reminder_day_before", "rescheduled"])


def parse_ics(content: bytes) -> Calendar:
    return Calendar.from_ical(content)


# Every message ------------------------------------------------------------------------


@ALL_KINDS
@BOTH_LANGUAGES
def test_message_addresses_seeker_in_their_language(world, office, kind, language):
    seeker = seeker_in(world, language, name="山田 一郎", email="yamada@example.org")

    mail = BUILDERS[kind](world, seeker)

    assert mail is not None
    assert (mail.kind, mail.to, mail.language) == (kind, "yamada@example.org", language)
    greeting = "山田 一郎 様" if language == "ja" else "Dear 山田 一郎,"
    assert mail.text.startswith(greeting)
    assert greeting in mail.html
    assert f'<html lang="{language}">' in mail.html


@ALL_KINDS
@BOTH_LANGUAGES
def test_message_subject_is_one_line_prefixed_with_office_name(world, office, kind, language):
    seeker = seeker_in(world, language)

    mail = BUILDERS[kind](world, seeker)

    assert mail is not None
    prefix = "【ハローワーク釧路】" if language == "ja" else "[Hello Work Kushiro] "
    assert mail.subject.startswith(prefix)
    assert len(mail.subject) > len(prefix)
    assert "\n" not in mail.subject
    assert f"<title>{mail.subject}</title>" in mail.html


@ALL_KINDS
@BOTH_LANGUAGES
def test_message_footer_names_office_phone_and_automatic_sending(world, office, kind, language):
    seeker = seeker_in(world, language)

    mail = BUILDERS[kind](world, seeker)

    assert mail is not None
    office_name = "ハローワーク釧路" if language == "ja" else "Hello Work Kushiro"
    automatic = "自動で送信" if language == "ja" else "sent automatically"
    for body in (mail.text, mail.html):
        footer = body[body.rindex(office_name) :]
        assert "0154-41-1201" in footer
        assert automatic in footer


@ALL_KINDS
def test_message_is_none_without_email_address(world, office, kind):
    seeker = seeker_in(world, "ja", email="")

    assert BUILDERS[kind](world, seeker) is None


@ALL_KINDS
@BOTH_LANGUAGES
def test_message_html_escapes_seeker_name(world, office, kind, language):
    seeker = seeker_in(world, language, name="<script>alert(1)</script>")

    mail = BUILDERS[kind](world, seeker)

    assert mail is not None
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert "<script>alert(1)</script>" in mail.text  # plain text is not HTML-escaped


def test_message_english_office_name_falls_back_to_japanese(world):
    seeker = seeker_in(world, "en")

    mail = messages.restriction_notice(seeker)

    assert mail is not None
    assert mail.subject == "[ハローワーク釧路] About online consultations"


# Dates and times --------------------------------------------------------------------


@pytest.mark.parametrize(("language", "when"), [("ja", WHEN_JA), ("en", WHEN_EN)], ids=["ja", "en"])
def test_scheduled_shows_office_local_time_with_weekday(world, office, language, when):
    consultation = make_consultation(world, seeker_in(world, language))
    assert consultation.start.utcoffset() == dt.timedelta(0)  # stored and read back in UTC

    mail = messages.scheduled(consultation)

    assert mail is not None
    assert when in mail.text
    assert when in mail.html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ja", ["・2026年12月2日（水）10:00〜10:45", "・2026年12月3日（木）13:30〜14:30"]),
        (
            "en",
            [
                "- Wednesday 2 December 2026, 10:00–10:45 (Japan time)",
                "- Thursday 3 December 2026, 13:30–14:30 (Japan time)",
            ],
        ),
    ],
    ids=["ja", "en"],
)
def test_request_received_lists_preferred_times_and_is_not_a_booking(
    world, office, language, expected
):
    preferences = [
        {"start": "2026-12-02T01:00:00+00:00", "duration_minutes": 45},
        {"start": "2026-12-03T13:30:00+09:00", "duration_minutes": 60},
    ]
    request = make_request(world, seeker_in(world, language), preferences=preferences)

    mail = messages.request_received(request)

    assert mail is not None
    for line in expected:
        assert line in mail.text
    not_yet = "まだ予約は確定していません" if language == "ja" else "This is not a booking yet."
    assert not_yet in mail.text
    assert not_yet in mail.html
    assert mail.attachments == ()


# Meeting details ----------------------------------------------------------------------


@MEETING_KINDS
@BOTH_LANGUAGES
def test_meeting_messages_carry_grouped_id_passcode_and_link(world, office, kind, language):
    seeker = seeker_in(world, language)

    mail = BUILDERS[kind](world, seeker)

    assert mail is not None
    for body in (mail.text, mail.html):
        assert "857 4606 5432" in body
        assert PASSCODE in body
        assert "85746065432" not in body.replace(JOIN_URL, "").replace(JOIN_URL_HTML, "")
    assert JOIN_URL in mail.text
    assert f'<a href="{JOIN_URL_HTML}">' in mail.html


@BOTH_LANGUAGES
def test_scheduled_gives_counselor_check_link_rules_and_ics(world, office, language):
    consultation = make_consultation(world, seeker_in(world, language))

    mail = messages.scheduled(consultation)

    assert mail is not None
    assert "佐藤 花子" in mail.text
    assert f"{BASE_URL}/check/" in mail.text
    assert f'href="{BASE_URL}/check/"' in mail.html
    rules = (
        ["録音・録画は禁止", "周りに人がいない", "通訳者・介助者", "10分（10:10）", "お電話"]
        if language == "ja"
        else ["Recording is not allowed", "private place", "interpreter or assistant", "by 10:10"]
    )
    for rule in rules:
        assert rule in mail.text
        assert rule in mail.html
    assert [(a.filename, a.mimetype) for a in mail.attachments] == [
        (f"consultation-{consultation.pk}.ics", "text/calendar")
    ]


def test_scheduled_grace_follows_office_setting(world, office):
    office.no_show_grace_minutes = 15
    office.save(update_fields=["no_show_grace_minutes"])

    mail = messages.scheduled(make_consultation(world, seeker_in(world, "ja")))

    assert mail is not None
    assert "開始から15分（10:15）までに参加もご連絡もない場合" in mail.text


@pytest.mark.parametrize(
    ("language", "interpreter", "assistant"),
    [
        ("ja", "通訳者（ベトナム語）", "・介助者"),
        ("en", "An interpreter (Vietnamese)", "- An assistant"),
    ],
    ids=["ja", "en"],
)
def test_scheduled_mentions_declared_companions(world, office, language, interpreter, assistant):
    seeker = seeker_in(world, language)
    spoken = "ベトナム語" if language == "ja" else "Vietnamese"
    request = make_request(world, seeker, interpreter_language=spoken, assistant=True)

    mail = messages.scheduled(make_consultation(world, seeker, request=request))

    assert mail is not None
    assert interpreter in mail.text
    assert assistant in mail.text
    assert interpreter in mail.html


def test_scheduled_without_companions_does_not_mention_them(world, office):
    mail = messages.scheduled(make_consultation(world, seeker_in(world, "ja")))

    assert mail is not None
    assert "同席される方" not in mail.text
    assert "同席される方" not in mail.html


def test_scheduled_without_meeting_yet_says_details_follow(world, office):
    consultation = make_consultation(
        world, seeker_in(world, "en"), meeting_id="", meeting_passcode="", meeting_join_url=""
    )

    mail = messages.scheduled(consultation)

    assert mail is not None
    assert "Meeting ID" not in mail.text
    assert "separate e-mail" in mail.text
    assert "separate e-mail" in mail.html


@pytest.mark.parametrize(
    ("when", "subject"),
    [
        ("day_before", "【ハローワーク釧路】オンライン職業相談のご予約（12月2日）のお知らせ"),
        ("hour_before", "【ハローワーク釧路】まもなくオンライン職業相談の時間です"),
    ],
    ids=["day_before", "hour_before"],
)
def test_reminder_kind_and_subject_follow_when(world, office, when, subject):
    mail = messages.reminder(make_consultation(world, seeker_in(world, "ja")), when=when)

    assert mail is not None
    assert (mail.kind, mail.subject) == (f"reminder_{when}", subject)
    assert WHEN_JA in mail.text


def test_reminder_refuses_unknown_when(world, office):
    consultation = make_consultation(world, seeker_in(world, "ja"))

    with pytest.raises(ValueError, match="when must be one of"):
        messages.reminder(consultation, when="week_before")


@pytest.mark.parametrize(
    ("language", "new", "old"),
    [
        ("ja", WHEN_JA, "2026年12月3日（木）13:00"),
        ("en", WHEN_EN, "Thursday 3 December 2026, 13:00 (Japan time)"),
    ],
    ids=["ja", "en"],
)
def test_rescheduled_shows_new_and_previous_time(world, office, language, new, old):
    consultation = make_consultation(world, seeker_in(world, language))

    mail = messages.rescheduled(
        consultation, previous_start=dt.datetime(2026, 12, 3, 4, tzinfo=dt.UTC)
    )

    assert mail is not None
    for body in (mail.text, mail.html):
        assert new in body
        assert old in body
        assert body.index(new) < body.index(old)


# Cancellations and other news -------------------------------------------------------


@BOTH_LANGUAGES
def test_cancelled_gives_reason_for_seeker(world, office, language):
    consultation = make_consultation(
        world, seeker_in(world, language), cancel_reason="Counselor is ill"
    )

    mail = messages.cancelled(consultation)

    assert mail is not None
    assert "Counselor is ill" in mail.text
    assert "Counselor is ill" in mail.html
    assert (WHEN_JA if language == "ja" else WHEN_EN) in mail.text
    assert PASSCODE not in mail.text
    assert PASSCODE not in mail.html


def test_cancelled_without_reason_has_no_reason_heading(world, office):
    mail = messages.cancelled(make_consultation(world, seeker_in(world, "ja")))

    assert mail is not None
    assert "取消しの理由" not in mail.text
    assert "取消しの理由" not in mail.html


@BOTH_LANGUAGES
def test_no_show_text_differs_when_flagged(world, office, language):
    consultation = make_consultation(world, seeker_in(world, language))

    plain = messages.no_show(consultation, no_show_count=1, flagged=False)
    flagged = messages.no_show(consultation, no_show_count=2, flagged=True)

    assert plain is not None and flagged is not None
    review = "確認させていただくことになりました" if language == "ja" else "will review"
    assert review not in plain.text
    assert review in flagged.text
    assert review in flagged.html
    grace = "開始から10分たっても" if language == "ja" else "by 10 minutes after the start"
    assert grace in plain.text
    assert grace in flagged.text


@BOTH_LANGUAGES
def test_no_show_words_do_not_accuse(world, office, language):
    consultation = make_consultation(world, seeker_in(world, language))

    mail = messages.no_show(consultation, no_show_count=2, flagged=True)

    assert mail is not None
    for word in ("違反", "無断", "ペナルティ", "violation", "penalty", "fault", "failed"):
        assert word not in mail.text
        assert word not in mail.html


@BOTH_LANGUAGES
def test_declined_gives_reason_and_next_step(world, office, language):
    request = make_request(world, seeker_in(world, language), decline_reason="No counselor free")

    mail = messages.declined(request)

    assert mail is not None
    assert "No counselor free" in mail.text
    assert "No counselor free" in mail.html
    phone = "お電話でハローワーク釧路に" if language == "ja" else "phone Hello Work Kushiro"
    assert phone in mail.text


@BOTH_LANGUAGES
def test_verify_request_carries_link_and_expiry(world, office, language):
    request = make_request(world, seeker_in(world, language))

    mail = messages.verify_request(request, verify_url=f"{BASE_URL}/verify/tok?a=1&b=2")

    assert mail is not None
    assert f"{BASE_URL}/verify/tok?a=1&b=2" in mail.text
    assert f'href="{BASE_URL}/verify/tok?a=1&amp;b=2"' in mail.html
    assert ("24時間" if language == "ja" else "24 hours") in mail.text
    ignore = "無視してください" if language == "ja" else "ignore this e-mail"
    assert ignore in mail.text


@BOTH_LANGUAGES
def test_restriction_notice_keeps_internal_reason_out(world, office, language):
    seeker = seeker_in(
        world,
        language,
        restriction=Seeker.Restriction.RESTRICTED,
        restriction_reason="INTERNAL-NOTE abusive call on 2026-11-20",
    )

    mail = messages.restriction_notice(seeker)

    assert mail is not None
    for part in (mail.subject, mail.text, mail.html):
        assert "INTERNAL-NOTE" not in part
    phone = "お電話でハローワーク釧路に" if language == "ja" else "please phone Hello Work Kushiro"
    assert phone in mail.text


# Calendar files ---------------------------------------------------------------------


def test_ics_event_in_office_time_zone(world, office):
    consultation = make_consultation(world, seeker_in(world, "en"))

    content = consultation_ics(consultation, sequence=3)

    calendar = parse_ics(content)
    (event,) = calendar.events
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//Madoguchi//")
    assert event["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert event["DTEND"].params["TZID"] == "Asia/Tokyo"
    assert event.start == consultation.start
    assert event.start.tzinfo == TOKYO
    assert event.end == consultation.end
    assert [tz.tz_name for tz in calendar.timezones] == ["Asia/Tokyo"]
    assert str(event["UID"]) == f"consultation-{consultation.pk}@madoguchi.example.jp"
    assert event["DTSTAMP"].dt == NOW
    assert event.sequence == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Online job consultation (Hello Work Kushiro)"
    assert str(event["LOCATION"]) == JOIN_URL
    assert str(event["URL"]) == JOIN_URL
    description = str(event["DESCRIPTION"])
    assert "Meeting ID: 857 4606 5432" in description
    assert f"Passcode: {PASSCODE}" in description


def test_ics_lines_end_in_crlf(world, office):
    content = consultation_ics(make_consultation(world, seeker_in(world, "ja")))

    assert content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert content.count(b"\n") == content.count(b"\r\n")


def test_ics_language_defaults_to_seeker_and_can_be_chosen(world, office):
    consultation = make_consultation(world, seeker_in(world, "ja"))

    japanese = parse_ics(consultation_ics(consultation)).events[0]
    english = parse_ics(consultation_ics(consultation, language="en")).events[0]

    assert str(japanese["SUMMARY"]) == "オンライン職業相談（ハローワーク釧路）"
    assert "ミーティングID：857 4606 5432" in str(japanese["DESCRIPTION"])
    assert str(english["SUMMARY"]) == "Online job consultation (Hello Work Kushiro)"


def test_ics_reschedule_keeps_uid_and_raises_sequence(world, office, frozen_now):
    consultation = make_consultation(world, seeker_in(world, "ja"))
    first = messages.scheduled(consultation)
    frozen_now.shift(dt.timedelta(hours=2))
    # What consultation_reschedule does to the row.
    consultation.start = local(2026, 12, 3, 13, 0)
    consultation.end = local(2026, 12, 3, 13, 45)
    consultation.calendar_sequence += 1
    consultation.save(update_fields=["start", "end", "calendar_sequence"])

    moved = messages.rescheduled(consultation, previous_start=START)

    assert first is not None and moved is not None
    before = parse_ics(first.attachments[0].content).events[0]
    after = parse_ics(moved.attachments[0].content).events[0]
    assert str(after["UID"]) == str(before["UID"])
    assert (before.sequence, after.sequence) == (0, 1)
    assert after.start == local(2026, 12, 3, 13, 0)
    assert after["DTSTART"].params["TZID"] == "Asia/Tokyo"
    assert after["DTSTAMP"].dt == NOW + dt.timedelta(hours=2)


def test_ics_cancellation_uses_method_cancel_and_higher_sequence(world, office):
    consultation = make_consultation(world, seeker_in(world, "ja"), cancel_reason="ご本人の希望")
    first = messages.scheduled(consultation)
    # What consultation_cancel does to the row.
    consultation.status = Consultation.Status.CANCELLED
    consultation.calendar_sequence += 1
    consultation.save(update_fields=["status", "calendar_sequence"])

    mail = messages.cancelled(consultation)

    assert first is not None and mail is not None
    calendar = parse_ics(mail.attachments[0].content)
    (event,) = calendar.events
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(parse_ics(first.attachments[0].content).events[0]["UID"])
    assert event.sequence == 1
    assert event.start == consultation.start
    assert PASSCODE not in str(event["DESCRIPTION"])
    assert "LOCATION" not in event


def test_no_show_attaches_cancellation(world, office):
    mail = messages.no_show(
        make_consultation(world, seeker_in(world, "ja")), no_show_count=1, flagged=False
    )

    assert mail is not None
    assert str(parse_ics(mail.attachments[0].content)["METHOD"]) == "CANCEL"


@pytest.mark.parametrize(
    ("meeting_id", "shown"),
    [
        ("85746065432", "857 4606 5432"),
        ("8574606543", "857 460 6543"),
        ("857460654", "857 460 654"),
        ("857 4606 5432", "857 4606 5432"),
        ("857-4606-5432", "857 4606 5432"),
        ("123456", "123456"),
        ("abc-defg-hij", "abc-defg-hij"),
        ("", ""),
    ],
    ids=["11-digits", "10-digits", "9-digits", "spaced", "hyphens", "short", "letters", "empty"],
)
def test_format_meeting_id_groups_like_zoom(meeting_id, shown):
    assert format_meeting_id(meeting_id) == shown
