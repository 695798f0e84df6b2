"""The staff web: the request inbox, the consultation page and the day calendar (issue 5).

Staff are signed in with a password and a confirmed TOTP device (tests/signin.py), as the
pages require; every page is also tried by the wrong role and another office's staff.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Consultation, Request
from madoguchi.records.models import AuditEntry
from tests.factories import ALL_DECLARATIONS, local, make_consultation, make_seeker
from tests.signin import signed_in_client

WED_10 = local(2026, 12, 2, 10, 0)


def phone_request(world, seeker=None, start=WED_10, minutes=60) -> Request:
    seeker = seeker or world.seeker
    return booking_services.request_create(
        office=seeker.office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(start, minutes), (start + dt.timedelta(days=1), minutes)],
        channel="phone",
        declarations=ALL_DECLARATIONS,
        actor=world.coordinator,
    )


def test_staff_pages_need_a_full_sign_in(world):
    anonymous = Client()
    for url in ("/staff/", "/staff/requests/", "/staff/day/"):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/staff/login/")


def test_inbox_shows_each_preference_free_or_taken(world):
    make_consultation(world.seeker2, WED_10, actor=world.coordinator, counselor=world.counselor)
    phone_request(world)
    page = signed_in_client(world.coordinator).get("/staff/requests/")
    assert page.status_code == 200
    html = page.content.decode()
    assert world.seeker.name in html
    assert html.count('class="status bad"') == 1  # Wednesday: sato is busy
    assert html.count('class="status ok"') == 1  # Thursday is free


def test_schedule_a_preferred_slot_in_one_press(world):
    request = phone_request(world)
    client = signed_in_client(world.coordinator)
    response = client.post(
        f"/staff/requests/{request.pk}/schedule/",
        {"start": WED_10.isoformat(), "minutes": "60"},
    )
    consultation = Consultation.objects.get(request=request)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/consultations/{consultation.pk}/"
    assert consultation.counselor == world.counselor  # the seeker's own, pre-selected
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert consultation.meeting_passcode in page.content.decode()


def test_a_rule_that_says_no_is_shown_and_nothing_changes(world):
    request = phone_request(world)
    client = signed_in_client(world.coordinator)
    response = client.post(
        f"/staff/requests/{request.pk}/schedule/",
        {"start": local(2026, 12, 2, 12, 30).isoformat(), "minutes": "60"},  # lunch
        follow=True,
    )
    assert response.status_code == 200
    assert not Consultation.objects.exists()
    assert "outside_office_hours" not in response.content.decode()  # a sentence, not a code
    assert response.context["messages"]._loaded_messages[0].level_tag == "error"


def test_today_needs_a_written_reason(world):
    request = phone_request(world)  # the seeker then calls: could it be this afternoon?
    client = signed_in_client(world.coordinator)
    refused = client.post(
        f"/staff/requests/{request.pk}/schedule/",
        {"start": local(2026, 12, 1, 14, 0).isoformat(), "minutes": "60"},
    )
    assert refused.status_code == 302 and not Consultation.objects.exists()
    client.post(
        f"/staff/requests/{request.pk}/schedule/",
        {
            "start": local(2026, 12, 1, 14, 0).isoformat(),
            "minutes": "60",
            "override_reason": "本人が急ぎ希望",
        },
    )
    assert Consultation.objects.get().override_reason == "本人が急ぎ希望"


def test_decline_with_a_reason(world):
    request = phone_request(world)
    signed_in_client(world.coordinator).post(
        f"/staff/requests/{request.pk}/decline/", {"reason": "内容が職業相談ではない"}
    )
    request.refresh_from_db()
    assert (request.status, request.decline_reason) == ("declined", "内容が職業相談ではない")


def test_counselors_cannot_decline_nor_book_for_others(world):
    request = phone_request(world)
    client = signed_in_client(world.counselor)
    assert client.post(f"/staff/requests/{request.pk}/decline/", {"reason": "x"}).status_code == 403
    assert (
        client.post(
            f"/staff/requests/{request.pk}/schedule/",
            {"start": WED_10.isoformat(), "minutes": "60", "counselor": "suzuki"},
        ).status_code
        == 403
    )
    request.refresh_from_db()
    assert request.status == "requested"


def test_consultation_page_actions_cancel_with_reason(world, frozen_now):
    consultation = make_consultation(world.seeker, WED_10, actor=world.coordinator)
    client = signed_in_client(world.coordinator)
    page = client.get(f"/staff/consultations/{consultation.pk}/")
    assert page.status_code == 200
    assert "10:10" in page.content.decode()  # the no-show moment
    assert AuditEntry.objects.filter(action="consultation.viewed").count() == 1
    client.post(
        f"/staff/consultations/{consultation.pk}/cancel/",
        {"channel": "phone", "reason": "体調不良"},
    )
    consultation.refresh_from_db()
    assert (consultation.status, consultation.cancel_reason) == ("cancelled", "体調不良")


def test_counselor_starts_and_completes_their_consultation(world, frozen_now):
    consultation = make_consultation(world.seeker, WED_10, actor=world.coordinator)
    frozen_now.move_to(WED_10 - dt.timedelta(minutes=5))
    client = signed_in_client(world.counselor)
    client.post(f"/staff/consultations/{consultation.pk}/start/")
    client.post(f"/staff/consultations/{consultation.pk}/complete/")
    consultation.refresh_from_db()
    assert consultation.status == "completed"


def test_the_host_opens_the_meeting_by_a_fresh_link_others_cannot(world, frozen_now):
    consultation = make_consultation(world.seeker, WED_10, actor=world.coordinator)
    host = signed_in_client(world.counselor).post(
        f"/staff/consultations/{consultation.pk}/start-meeting/"
    )
    assert host.status_code == 302
    assert host["Location"].endswith("?role=host")
    assert host["Cache-Control"] == "no-store"
    other = signed_in_client(world.coordinator).post(
        f"/staff/consultations/{consultation.pk}/start-meeting/"
    )
    assert other.status_code == 403


def test_another_counselors_consultation_is_refused_by_direct_url(world):
    other_seeker = make_seeker(world.office, world.counselor2)
    consultation = make_consultation(other_seeker, WED_10, actor=world.coordinator)
    client = signed_in_client(world.counselor)
    assert client.get(f"/staff/consultations/{consultation.pk}/").status_code == 403
    assert client.post(f"/staff/consultations/{consultation.pk}/no-show/").status_code == 403


def test_another_offices_staff_see_nothing(world):
    consultation = make_consultation(world.seeker, WED_10, actor=world.coordinator)
    client = signed_in_client(world.other_counselor)
    response = client.get(f"/staff/consultations/{consultation.pk}/")
    assert response.status_code == 404
    assert world.seeker.name not in response.content.decode()


def test_auditors_have_no_casework_pages(world):
    client = signed_in_client(world.auditor)
    assert client.get("/staff/requests/").status_code == 403
    assert client.get("/staff/day/").status_code == 403


def test_day_calendar_shows_others_as_busy_to_a_counselor(world):
    mine = make_consultation(world.seeker, WED_10, actor=world.coordinator)
    theirs = make_consultation(
        make_seeker(world.office, world.counselor2),
        WED_10,
        actor=world.coordinator,
        counselor=world.counselor2,
    )
    page = signed_in_client(world.counselor).get("/staff/day/", {"date": "2026-12-02"})
    html = page.content.decode()
    assert f"/staff/consultations/{mine.pk}/" in html
    assert f"/staff/consultations/{theirs.pk}/" not in html
    assert theirs.seeker.name not in html


@pytest.mark.parametrize("rows", [1, 10])
def test_inbox_query_count_does_not_grow_with_rows(world, rows):
    for _ in range(rows):
        phone_request(world, seeker=make_seeker(world.office, world.counselor))
    client = signed_in_client(world.coordinator)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/staff/requests/").status_code == 200
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]


# Requests taken by phone; blocked time ---------------------------------------------------


def intake_form(world, **changes) -> dict:
    form = {
        "job_seeker_number": "０１０４０ー１２３４５６７８",  # full-width, as typed
        "name": world.seeker.name,
        "channel": "phone",
        "start_1": "2026-12-02T10:00",
        "minutes": "45",
        "interpreter_language": "ベトナム語",
        **{f"declare_{key}": "on" for key in ALL_DECLARATIONS},
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_a_phone_request_lands_in_the_inbox(world):
    client = signed_in_client(world.coordinator)
    assert client.get("/staff/requests/new/").status_code == 200
    response = client.post("/staff/requests/new/", intake_form(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    request = Request.objects.get()
    assert (request.channel, request.status, request.interpreter_language) == (
        "phone",
        "requested",
        "ベトナム語",
    )
    assert request.preferred_starts() == [(WED_10, 45)]


def test_a_refused_phone_request_keeps_what_was_typed(world):
    client = signed_in_client(world.coordinator)
    response = client.post(
        "/staff/requests/new/", intake_form(world, declare_private_place=None, name="求職 花子")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "求職 花子" in html  # nothing lost
    assert not Request.objects.exists()


def test_counselor_blocks_and_frees_their_time(world):
    client = signed_in_client(world.counselor)
    response = client.post(
        "/staff/blocked-time/",
        {"start": "2026-12-02T13:00", "end": "2026-12-02T15:00", "reason": "研修"},
    )
    assert response.status_code == 302
    block = world.counselor.blocked_times.get()
    assert (block.start, block.end) == (local(2026, 12, 2, 13, 0), local(2026, 12, 2, 15, 0))
    refused = phone_request(world, start=local(2026, 12, 2, 13, 0))
    answer = signed_in_client(world.coordinator).post(
        f"/staff/requests/{refused.pk}/schedule/",
        {"start": local(2026, 12, 2, 13, 0).isoformat(), "minutes": "60"},
    )
    assert answer.status_code == 302 and not Consultation.objects.exists()
    client.post(f"/staff/blocked-time/{block.pk}/delete/")
    assert not world.counselor.blocked_times.exists()


def test_blocked_time_is_a_counselors_own(world):
    assert signed_in_client(world.coordinator).get("/staff/blocked-time/").status_code == 403


# Notes, the next one, the printable record ----------------------------------------------


def held(world, frozen_now, seeker=None) -> Consultation:
    """A consultation that took place (started and completed by its counselor)."""
    consultation = make_consultation(seeker or world.seeker, WED_10, actor=world.coordinator)
    frozen_now.move_to(WED_10)
    booking_services.consultation_start(consultation_id=consultation.pk, actor=world.counselor)
    booking_services.consultation_complete(consultation_id=consultation.pk, actor=world.counselor)
    return consultation


def test_notes_are_the_counselors_and_reading_them_is_audited(world, frozen_now):
    consultation = held(world, frozen_now)
    counselor = signed_in_client(world.counselor)
    counselor.post(
        f"/staff/consultations/{consultation.pk}/notes/",
        {"outcome": "応募先を2社に絞った", "notes": "履歴書の書き方を確認"},
    )
    consultation.refresh_from_db()
    assert consultation.notes == "履歴書の書き方を確認"
    entry = AuditEntry.objects.get(action="consultation.notes_updated")
    assert "履歴書" not in str(entry.details)  # the audit says that, not what
    manager_page = signed_in_client(world.manager).get(f"/staff/consultations/{consultation.pk}/")
    assert "履歴書の書き方を確認" in manager_page.content.decode()
    assert AuditEntry.objects.filter(
        action="consultation.notes_viewed", actor=world.manager.user
    ).exists()
    coordinator = signed_in_client(world.coordinator)
    page = coordinator.get(f"/staff/consultations/{consultation.pk}/")
    assert "履歴書の書き方を確認" not in page.content.decode()
    refused = coordinator.post(
        f"/staff/consultations/{consultation.pk}/notes/", {"outcome": "x", "notes": "x"}
    )
    assert refused.status_code == 403


def test_book_the_next_one_with_the_same_counselor(world, frozen_now):
    consultation = held(world, frozen_now)
    signed_in_client(world.counselor).post(
        f"/staff/consultations/{consultation.pk}/book-next/",
        {"start": "2026-12-09T10:00", "minutes": "60"},
    )
    following = Consultation.objects.exclude(pk=consultation.pk).get()
    assert following.counselor == world.counselor
    assert following.start == local(2026, 12, 9, 10, 0)
    assert following.request.channel == "in_consultation"


def test_printable_record_only_for_a_completed_consultation(world, frozen_now):
    consultation = held(world, frozen_now)
    page = signed_in_client(world.counselor).get(f"/staff/consultations/{consultation.pk}/proof/")
    assert page.status_code == 200
    assert world.seeker.number in page.content.decode()
    upcoming = make_consultation(world.seeker2, local(2026, 12, 9, 10, 0), actor=world.coordinator)
    refused = signed_in_client(world.coordinator).get(f"/staff/consultations/{upcoming.pk}/proof/")
    assert refused.status_code == 403


def test_week_shows_every_counselor_and_marks_closed_days(world):
    mine = make_consultation(world.seeker, WED_10, actor=world.coordinator)
    page = signed_in_client(world.coordinator).get("/staff/week/", {"date": "2026-12-02"})
    html = page.content.decode()
    assert page.status_code == 200
    assert f"/staff/consultations/{mine.pk}/" in html
    assert str(world.counselor2) in html
    holiday_week = signed_in_client(world.coordinator).get("/staff/week/", {"date": "2026-11-23"})
    assert "勤労感謝の日" in holiday_week.content.decode()


def test_week_query_count_does_not_grow_with_consultations(world):
    for hour in (9, 10, 11, 13, 14):
        make_consultation(
            make_seeker(world.office, world.counselor),
            local(2026, 12, 2, hour, 0),
            actor=world.coordinator,
        )
    client = signed_in_client(world.coordinator)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/staff/week/", {"date": "2026-12-02"}).status_code == 200
    assert len(queries) <= 12, [q["sql"][:80] for q in queries]


# The seeker registry ----------------------------------------------------------------------


def test_registry_search_by_full_width_number_name_or_kana(world):
    client = signed_in_client(world.coordinator)
    found = client.get("/staff/seekers/", {"q": "０１０４０－１２３４５６７８"})
    assert world.seeker.number in found.content.decode()
    assert world.seeker2.number not in found.content.decode()
    assert world.other_seeker.number not in client.get("/staff/seekers/").content.decode()


def test_counselors_see_their_caseload_only(world):
    client = signed_in_client(world.counselor)
    listing = client.get("/staff/seekers/").content.decode()
    assert world.seeker.number in listing and world.seeker2.number not in listing
    assert client.get(f"/staff/seekers/{world.seeker2.number}/").status_code == 403


def test_opening_a_record_is_audited(world):
    signed_in_client(world.coordinator).get(f"/staff/seekers/{world.seeker.number}/")
    assert AuditEntry.objects.filter(
        action="seeker.viewed", object_id=str(world.seeker.pk), actor=world.coordinator.user
    ).exists()


def test_managers_restrict_and_lift_others_cannot(world):
    url = f"/staff/seekers/{world.seeker.number}"
    assert (
        signed_in_client(world.coordinator).post(f"{url}/restrict/", {"reason": "x"}).status_code
        == 403
    )
    manager = signed_in_client(world.manager)
    manager.post(f"{url}/restrict/", {"reason": "暴言が続いた"})
    world.seeker.refresh_from_db()
    assert world.seeker.restriction == "restricted"
    manager.post(f"{url}/lift/", {"reason": "面談で確認"})
    world.seeker.refresh_from_db()
    assert world.seeker.restriction == "none"


def test_review_queue_lists_seekers_at_the_threshold(world):
    from madoguchi.seekers.services import seeker_flag_for_review

    seeker_flag_for_review(seeker=world.seeker2, no_shows=2, actor=None)
    page = signed_in_client(world.manager).get("/staff/seekers/", {"review": "1"})
    html = page.content.decode()
    assert world.seeker2.number in html and world.seeker.number not in html


@pytest.mark.parametrize("extra", [0, 15])
def test_registry_query_count_does_not_grow(world, extra):
    for _ in range(extra):
        make_seeker(world.office, world.counselor)
    client = signed_in_client(world.coordinator)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/staff/seekers/").status_code == 200
    assert len(queries) <= 10, [q["sql"][:80] for q in queries]


# Office settings (managers) ---------------------------------------------------------------


def settings_form(**changes) -> dict:
    form = {
        "name_en": "Hello Work Kushiro",
        "phone": "0154-41-1201",
        "windows": "09:00-12:00, 13:00-16:30",
        "durations": "30, 45, 60",
        "slot_step_minutes": "15",
        "lead_days": "1",
        "no_show_grace_minutes": "10",
        "strike_threshold": "3",
        "strike_window_days": "365",
        "reminder_time": "16:00",
        "retention_days": "365",
    }
    form.update(changes)
    return form


def test_manager_changes_the_office_rules_and_it_is_audited(world):
    client = signed_in_client(world.manager)
    assert client.get("/staff/office/").status_code == 200
    before = world.office.calendar_version
    response = client.post("/staff/office/", settings_form())
    assert response.status_code == 302
    world.office.refresh_from_db()
    assert world.office.windows == [["09:00", "12:00"], ["13:00", "16:30"]]
    assert (world.office.strike_threshold, world.office.name_en) == (3, "Hello Work Kushiro")
    assert world.office.calendar_version > before  # cached availability is dropped
    entry = AuditEntry.objects.get(action="office.settings_changed")
    assert set(entry.details) == {
        "windows",
        "strike_threshold",
        "name_en",
        "reminder_time",
    }


def test_bad_office_rules_are_refused_with_what_was_typed(world):
    client = signed_in_client(world.manager)
    response = client.post("/staff/office/", settings_form(durations="20, 90"))
    assert response.status_code == 200
    assert "20, 90" in response.content.decode()
    world.office.refresh_from_db()
    assert world.office.durations == [30, 45, 60]


def test_closure_day_is_kept_and_bookings_that_day_are_flagged(world):
    make_consultation(world.seeker, WED_10, actor=world.coordinator)
    request = phone_request(world, seeker=world.seeker2)
    client = signed_in_client(world.manager)
    response = client.post(
        "/staff/office/closures/", {"date": "2026-12-02", "reason": "庁舎点検"}, follow=True
    )
    html = response.content.decode()
    assert "1" in html and world.office.closures.get().reason == "庁舎点検"
    assert any(m.level_tag == "warning" for m in response.context["messages"])
    refused = signed_in_client(world.coordinator).post(
        f"/staff/requests/{request.pk}/schedule/",
        {"start": WED_10.isoformat(), "minutes": "60", "counselor": "suzuki"},
    )
    assert refused.status_code == 302 and Consultation.objects.count() == 1


def test_only_managers_change_office_settings(world):
    for other in (world.coordinator, world.counselor, world.auditor):
        assert signed_in_client(other).get("/staff/office/").status_code == 403


def test_the_status_block_refreshes_and_says_when_the_seeker_joined(world, frozen_now):
    consultation = make_consultation(world.seeker, WED_10, actor=world.coordinator)
    client = signed_in_client(world.counselor)
    page = client.get(f"/staff/consultations/{consultation.pk}/").content.decode()
    assert 'hx-get="/staff/consultations/' in page and "htmx" in page
    Consultation.objects.filter(pk=consultation.pk).update(seeker_joined_at=WED_10)
    live = client.get(
        f"/staff/consultations/{consultation.pk}/live/", headers={"HX-Request": "true"}
    )
    assert live.status_code == 200
    assert "10:00" in live.content.decode() and "<html" not in live.content.decode()
    other = make_consultation(
        make_seeker(world.office, world.counselor2),
        WED_10,
        actor=world.coordinator,
        counselor=world.counselor2,
    )
    assert client.get(f"/staff/consultations/{other.pk}/live/").status_code == 403
