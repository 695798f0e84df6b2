"""The job seeker's web: office page, request form, verification, status page, languages."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Consultation, Request
from madoguchi.bookings.selectors import STATUS_SALT, request_status_url
from madoguchi.notifications import outbox
from madoguchi.notifications.ics import format_meeting_id
from madoguchi.notifications.models import OutboxMail
from madoguchi.seekers.models import Seeker
from madoguchi.seekers.services import seeker_restrict
from madoguchi.terms.models import Consent, TermsVersion
from tests.factories import ALL_DECLARATIONS, local, make_consultation, make_seeker

FIRST = local(2026, 12, 2, 9, 0)  # the first bookable start (Wednesday)
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def form_data(number: str = "01040-12345678", **changes) -> dict:
    data = {
        "name": "求職 太郎",
        "job_seeker_number": number,
        "duration": "60",
        "start_1": FIRST.isoformat(),
        "start_2": local(2026, 12, 3, 13, 0).isoformat(),
        "start_3": "",
        "interpreter_language": "",
        "accept_terms": "on",
        "website": "",
        **{key: "on" for key in ALL_DECLARATIONS},
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def post_form(client: Client, data: dict, office: str = "01040"):
    return client.post(f"/offices/{office}/request/", data)


def status_path(request: Request) -> str:
    return request_status_url(request).split("8000", 1)[1]


def web_request(seeker, start=FIRST) -> Request:
    return booking_services.request_create(
        office=seeker.office,
        job_seeker_number=seeker.number,
        name=seeker.name,
        preferences=[(start, 60)],
        channel="web",
        declarations=ALL_DECLARATIONS,
        actor=None,
    )


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# Office page ------------------------------------------------------------------------------


def test_office_page_tells_hours_phone_and_links(world):
    response = Client().get("/offices/01040/")

    body = text(response)
    assert response.status_code == 200
    assert "ハローワーク釧路" in body
    assert "09:00–12:00, 13:00–16:00" in body
    assert "0154-41-1201" in body
    assert 'href="/offices/01040/request/"' in body
    assert 'href="/offices/01040/terms/"' in body
    assert 'href="/check/"' in body


def test_office_page_unknown_office_is_404(world):
    assert Client().get("/offices/99999/").status_code == 404


# Request form --------------------------------------------------------------------------


def test_request_form_offers_free_times_grouped_by_day_without_names(
    world, django_assert_num_queries
):
    client = Client()
    client.get("/offices/01040/")  # the session and the office are warm

    with django_assert_num_queries(8):  # and the usage record (R19)
        response = client.get("/offices/01040/request/")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{FIRST.isoformat()}">09:00</option>' in body
    assert body.count("<optgroup") == 3 * 10  # three selects, ten office days
    assert "sato" not in body and "suzuki" not in body
    assert 'value="30"' in body and 'value="45"' in body and 'value="60"' in body


def test_request_form_sends_verification_mail_and_keeps_device_check(world):
    client = Client()
    session = client.session
    session["device_check"] = {"os": "iOS", "os_version": "18.1", "verdict": "ok", "x": "y"}
    session.save()

    response = post_form(client, form_data(number="０１０４０－１２３４５６７８"))

    assert response.status_code == 302
    assert response["Location"] == "/offices/01040/request/sent/"
    request = Request.objects.get()
    assert request.status == Request.Status.PENDING_VERIFICATION
    assert request.channel == "web"
    assert request.preferred_starts() == [(FIRST, 60), (local(2026, 12, 3, 13, 0), 60)]
    assert request.device_check == {
        "checked_at": "",
        "os": "iOS",
        "os_version": "18.1",
        "browser": "",
        "browser_version": "",
        "verdict": "ok",
    }
    mail = OutboxMail.objects.get()
    assert (mail.kind, mail.to) == ("verify_request", world.seeker.email)


def test_request_form_errors_are_summarised_tied_to_fields_and_keep_input(world):
    response = post_form(Client(), form_data(name="", private_place=None, start_2=""))

    body = response.content.decode()
    assert response.status_code == 422
    assert Request.objects.count() == 0
    assert '<a href="#id_name">' in body
    assert '<a href="#id_private_place">' in body
    assert 'aria-describedby="id_name_error"' in body
    assert 'id="id_private_place_error"' in body
    assert 'value="01040-12345678"' in body
    assert f'<option value="{FIRST.isoformat()}" selected>09:00</option>' in body


@pytest.mark.parametrize("missing", [*ALL_DECLARATIONS, "accept_terms"])
def test_request_form_requires_each_declaration(world, missing):
    response = post_form(Client(), form_data(**{missing: None}))

    assert response.status_code == 422
    assert f'id="id_{missing}_error"' in response.content.decode()
    assert Request.objects.count() == 0


def test_request_form_refuses_the_same_time_twice(world):
    response = post_form(Client(), form_data(start_2=FIRST.isoformat()))

    assert response.status_code == 422
    assert 'id="id_start_2_error"' in response.content.decode()


def test_request_form_answers_the_same_for_registered_unknown_and_restricted(world):
    seeker_restrict(seeker=world.seeker2, reason="no-shows", actor=None)
    OutboxMail.objects.all().delete()
    pages = []
    for number in ("01040-12345678", "01040-99999999", world.seeker2.number):
        client = Client()
        response = post_form(client, form_data(number=number))
        assert response.status_code == 302
        page = client.get(response["Location"])
        pages.append(CSRF.sub(b"", page.content))

    assert pages[0] == pages[1] == pages[2]
    assert sorted(OutboxMail.objects.values_list("kind", "to")) == [
        ("restriction_notice", world.seeker2.email),
        ("verify_request", world.seeker.email),
    ]
    assert Request.objects.count() == 1


def test_request_form_limits_sends_per_job_seeker_number(world):
    for address in range(5):
        client = Client(REMOTE_ADDR=f"10.0.0.{address}")
        assert post_form(client, form_data()).status_code == 302

    response = post_form(Client(REMOTE_ADDR="10.0.0.9", HTTP_ACCEPT_LANGUAGE="en"), form_data())

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "Please wait a while and try again." in text(response)
    assert Request.objects.count() == 3  # a seeker is mailed at most three times a day


def test_request_form_limits_sends_per_address(world):
    client = Client()
    for _ in range(10):
        post_form(client, form_data(number="01040-99999999"))

    response = post_form(client, form_data(number="01040-99999999"))

    assert response.status_code == 429


def test_request_form_honeypot_ends_on_the_same_page_and_makes_nothing(world):
    response = post_form(Client(), form_data(website="http://spam.example"))

    assert response.status_code == 302
    assert response["Location"] == "/offices/01040/request/sent/"
    assert Request.objects.count() == 0
    assert OutboxMail.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("ｷｭｳｼｮｸ ﾀﾛｳ", "キュウショク タロウ"),
        ("求職 太郎 😀", "求職 太郎 😀"),
    ],
    ids=["half-width-kana", "emoji"],
)
def test_request_form_normalises_odd_names(world, name, stored):
    response = post_form(Client(), form_data(name=name))

    assert response.status_code == 302
    assert Request.objects.get().name == stored


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "求職\x07太郎"}, "name"),
        ({"name": "あ" * 101}, "name"),
        ({"interpreter_language": "英語\u202e"}, "interpreter_language"),
        ({"job_seeker_number": "0104O-1234567"}, "job_seeker_number"),
        ({"start_1": "2026-12-02T03:00:00+09:00"}, "start_1"),
    ],
    ids=["control-character", "too-long", "bidi-override", "bad-number", "not-offered"],
)
def test_request_form_refuses_odd_input_in_plain_words(world, changes, field):
    response = post_form(Client(), form_data(**changes))

    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Request.objects.count() == 0


# Verification --------------------------------------------------------------------------


def verify_path(request: Request) -> str:
    return booking_services.request_verify_url(request).split("8000", 1)[1]


def test_verify_get_asks_and_post_confirms(world):
    request = web_request(world.seeker)
    client = Client()

    asked = client.get(verify_path(request))
    request.refresh_from_db()
    assert asked.status_code == 200
    assert request.status == Request.Status.PENDING_VERIFICATION
    assert asked["Referrer-Policy"] == "strict-origin"  # the origin only, never the token
    assert "no-store" in asked["Cache-Control"]

    confirmed = client.post(verify_path(request))

    request.refresh_from_db()
    assert confirmed.status_code == 200
    assert request.status == Request.Status.REQUESTED


def test_verify_tampered_link_changes_nothing(world):
    request = web_request(world.seeker)

    response = Client().post(verify_path(request)[:-3] + "xx/")

    request.refresh_from_db()
    assert response.status_code == 404
    assert request.status == Request.Status.PENDING_VERIFICATION


def test_verify_expired_link_changes_nothing(world, frozen_now):
    request = web_request(world.seeker)
    path = verify_path(request)
    frozen_now.shift(dt.timedelta(hours=25))

    response = Client().post(path)

    request.refresh_from_db()
    assert response.status_code == 409
    assert "24" in response.content.decode()
    assert request.status == Request.Status.PENDING_VERIFICATION


def test_verify_reused_link_says_already_confirmed(world):
    request = web_request(world.seeker)
    client = Client()
    client.post(verify_path(request))
    mails = OutboxMail.objects.count()

    again = client.get(verify_path(request))
    twice = client.post(verify_path(request))

    assert again.status_code == 200 and twice.status_code == 200
    assert 'role="status"' in again.content.decode()
    assert OutboxMail.objects.count() == mails


def test_verify_shows_terms_changes_since_last_consent_and_records_the_current(world, frozen_now):
    web_request(world.seeker)  # consents to the shipped version 1
    frozen_now.shift(dt.timedelta(days=1))
    TermsVersion.objects.create(
        office=world.office,
        number=2,
        title="利用規約",
        body_ja="本文",
        body_en="Text",
        changes_ja="第5条を変えました。",
        changes_en="Article 5 changed.",
        effective_from=local(2026, 12, 10),
    )
    frozen_now.move_to(local(2026, 12, 11, 10, 0))
    request = web_request(world.seeker, start=local(2026, 12, 14, 9, 0))
    frozen_now.shift(dt.timedelta(minutes=5))

    page = Client().get(verify_path(request))

    assert "第5条を変えました。" in page.content.decode()
    Client().post(verify_path(request))
    assert list(
        Consent.objects.filter(seeker=world.seeker).values_list("version__number", flat=True)
    ) == [2, 1]


# Status page --------------------------------------------------------------------------------


def scheduled(world, start=FIRST) -> Consultation:
    return make_consultation(world.seeker, start, actor=world.coordinator)


def test_status_link_is_in_the_mails_after_verification(world):
    consultation = scheduled(world)

    mail = OutboxMail.objects.get(kind="scheduled")
    assert outbox._render(mail) is True
    assert status_path(consultation.request) in mail.text
    assert status_path(consultation.request) in mail.html


def test_status_page_scheduled_shows_details_and_inactive_join_button(
    world, django_assert_num_queries
):
    consultation = scheduled(world)
    client = Client()
    path = status_path(consultation.request)

    with django_assert_num_queries(2):  # the request with its consultation; the usage record
        response = client.get(path)

    body = text(response)
    assert response["Referrer-Policy"] == "strict-origin"
    assert "no-store" in response["Cache-Control"]
    assert "2026-12-02" in body and "09:00–10:00" in body
    assert consultation.counselor.display_name in body
    assert consultation.meeting_passcode in body
    assert format_meeting_id(consultation.meeting_id) in body
    assert consultation.meeting_join_url not in body
    assert "08:50" in body
    assert f'href="{path}calendar.ics"' in body
    assert 'href="/check/"' in body
    assert "0154-41-1201" in body
    assert f'href="{path}cancel/"' not in body


@pytest.mark.parametrize(
    ("at", "active"),
    [
        (local(2026, 12, 2, 8, 49), False),
        (local(2026, 12, 2, 8, 50), True),
        (local(2026, 12, 2, 9, 59), True),
        (local(2026, 12, 2, 10, 0), False),
    ],
    ids=["11-min-before", "10-min-before", "last-minute", "ended"],
)
def test_status_page_join_button_active_from_ten_minutes_before(world, at, active):
    consultation = scheduled(world)
    path = status_path(consultation.request)

    with time_machine.travel(at, tick=False):
        body = Client().get(path).content.decode()

    assert (f'href="{consultation.meeting_join_url}"' in body) is active


def test_status_page_in_each_state(world, frozen_now):
    pending = web_request(world.seeker)
    requested = web_request(world.seeker2)
    booking_services.request_verify(token=verify_path(requested).split("/")[-2])
    declined = web_request(world.seeker2, start=local(2026, 12, 3, 9, 0))
    booking_services.request_verify(token=verify_path(declined).split("/")[-2])
    booking_services.request_decline(
        request_id=declined.pk, reason="担当者が不在です", actor=world.coordinator
    )
    cancelled = scheduled(world, start=local(2026, 12, 4, 9, 0))
    booking_services.consultation_cancel(
        consultation_id=cancelled.pk, channel="phone", reason="体調不良", actor=world.coordinator
    )
    no_show = scheduled(world, start=FIRST)
    frozen_now.move_to(local(2026, 12, 2, 9, 11))
    booking_services.consultation_mark_no_show(consultation_id=no_show.pk, actor=None)
    frozen_now.move_to(local(2026, 12, 3, 10, 0))
    booking_services.requests_expire(now=local(2026, 12, 3, 10, 0))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    pages = {
        name: text(client.get(status_path(request)))
        for name, request in {
            "expired": pending,
            "requested": requested,
            "declined": declined,
            "cancelled": cancelled.request,
            "no_show": no_show.request,
        }.items()
    }

    assert "it was not confirmed within 24 hours" in pages["expired"]
    assert "The office has your request." in pages["requested"]
    assert "2026-12-02 (Wed) 09:00 (60 minutes)" in pages["requested"]
    assert "could not accept this request.</p> <p>Reason: 担当者が不在です</p>" in pages["declined"]
    assert "This consultation was cancelled.</p>" in pages["cancelled"]
    assert "Reason: 体調不良" in pages["cancelled"]
    assert "because nobody joined within 10 minutes" in pages["no_show"]


def test_status_page_tampered_link_is_404(world):
    consultation = scheduled(world)
    token = signing.dumps(consultation.request.pk, salt="another-salt")

    response = Client().get(f"/requests/status/{token}/")
    cancel = Client().post(f"/requests/status/{token}/cancel/", {"reason": "x"})

    assert response.status_code == 404 and cancel.status_code == 404
    assert 'role="alert"' in response.content.decode()
    assert response["Referrer-Policy"] == "strict-origin"
    assert STATUS_SALT != "another-salt"
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.SCHEDULED


def test_status_link_works_for_30_days_after_the_consultation_ended(world, frozen_now):
    consultation = scheduled(world)
    frozen_now.move_to(local(2026, 12, 1, 12, 0))
    booking_services.consultation_cancel(
        consultation_id=consultation.pk, channel="phone", reason="体調不良", actor=world.coordinator
    )
    path, ics = (
        status_path(consultation.request),
        status_path(consultation.request) + "calendar.ics",
    )
    frozen_now.move_to(local(2026, 12, 31, 11, 59))

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    still = client.get(path)
    frozen_now.move_to(local(2026, 12, 31, 12, 1))
    gone = client.get(path)
    gone_ics = client.get(ics)

    assert still.status_code == 200
    assert "This consultation was cancelled." in still.content.decode()
    assert gone.status_code == 404 and gone_ics.status_code == 404
    assert "This link is not valid" in gone.content.decode()
    assert gone["Referrer-Policy"] == "strict-origin"


def test_status_link_stops_30_days_after_the_request_was_declined(world, frozen_now):
    declined = web_request(world.seeker)
    booking_services.request_verify(token=verify_path(declined).split("/")[-2])
    booking_services.request_decline(
        request_id=declined.pk, reason="担当者が不在です", actor=world.coordinator
    )
    path = status_path(declined)
    frozen_now.shift(dt.timedelta(days=30, minutes=-1))

    still = Client().get(path)
    frozen_now.shift(dt.timedelta(minutes=2))
    gone = Client().post(path + "cancel/", {"reason": "x"})

    assert still.status_code == 200 and "担当者が不在です" in still.content.decode()
    assert gone.status_code == 404 and 'role="alert"' in gone.content.decode()


def test_status_link_of_an_anonymised_seeker_no_longer_works(world):
    consultation = scheduled(world)
    path = status_path(consultation.request)
    Seeker.objects.filter(pk=world.seeker.pk).update(anonymised_at=timezone.now())

    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(path)

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert consultation.meeting_passcode not in response.content.decode()


def test_status_calendar_file_is_the_consultation(world, django_assert_num_queries):
    consultation = scheduled(world)
    client = Client()

    with django_assert_num_queries(2):  # the request with its consultation; the usage record
        response = client.get(status_path(consultation.request) + "calendar.ics")

    body = response.content.decode()
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="consultation-{consultation.pk}.ics"'
    )
    assert "BEGIN:VEVENT" in body
    assert "DTSTART:20261202T000000Z" in body or "DTSTART;TZID=Asia/Tokyo:20261202T090000" in body
    assert f"UID:consultation-{consultation.pk}@" in body
    assert "METHOD:PUBLISH" in body


def test_status_calendar_file_without_consultation_is_404(world):
    request = web_request(world.seeker)

    assert Client().get(status_path(request) + "calendar.ics").status_code == 404


def test_self_cancel_off_by_default_is_refused(world):
    consultation = scheduled(world)

    response = Client().post(status_path(consultation.request) + "cancel/", {"reason": "用事"})

    consultation.refresh_from_db()
    assert response.status_code == 409
    assert consultation.status == Consultation.Status.SCHEDULED


def test_self_cancel_asks_then_cancels_with_reason(world):
    world.office.self_cancel_enabled = True
    world.office.save(update_fields=["self_cancel_enabled"])
    consultation = scheduled(world)
    path = status_path(consultation.request)
    client = Client()

    status = client.get(path)
    asked = client.get(path + "cancel/")
    empty = client.post(path + "cancel/", {"reason": "  "})
    consultation.refresh_from_db()
    assert f'href="{path}cancel/"' in status.content.decode()
    assert asked.status_code == 200 and empty.status_code == 422
    assert asked["Referrer-Policy"] == "strict-origin"
    assert consultation.status == Consultation.Status.SCHEDULED

    done = client.post(path + "cancel/", {"reason": "仕事が決まりました"})

    consultation.refresh_from_db()
    assert done.status_code == 302 and done["Location"] == path
    assert consultation.status == Consultation.Status.CANCELLED
    assert (consultation.cancel_channel, consultation.cancel_reason) == (
        "web",
        "仕事が決まりました",
    )
    assert OutboxMail.objects.filter(kind="cancelled").count() == 1


# Languages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "lang", "phrase"),
    [
        ("ja", "ja", "相談"),
        ("en-US,en;q=0.9", "en", "Ask for a consultation"),
        ("ja-x-easy", "ja-x-easy", "そうだん"),
    ],
    ids=["ja", "en", "easy"],
)
def test_seeker_pages_speak_the_browser_language(world, accept, lang, phrase):
    response = Client(HTTP_ACCEPT_LANGUAGE=accept).get("/offices/01040/")

    body = response.content.decode()
    assert f'<html lang="{lang}">' in body
    assert phrase in body


def test_language_switcher_offers_three_languages(world):
    client = Client()

    body = client.get("/offices/01040/").content.decode()
    switched = client.post("/i18n/setlang/", {"language": "ja-x-easy", "next": "/offices/01040/"})

    assert 'value="ja-x-easy"' in body and 'value="en"' in body and 'value="ja"' in body
    assert switched.status_code == 302
    assert '<html lang="ja-x-easy">' in client.get("/offices/01040/").content.decode()


def test_make_seeker_of_unregistered_expiry_is_not_enumerated(world):
    expired = make_seeker(world.office, number="01040-55555555", expires_on=dt.date(2026, 1, 31))
    client = Client()

    response = post_form(client, form_data(number=expired.number))

    assert response.status_code == 302
    assert Request.objects.count() == 0
    assert OutboxMail.objects.count() == 0


def test_plain_japanese_shows_readings_as_ruby_in_text_only(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="ja-x-easy")

    body = client.get("/offices/01040/").content.decode()
    form = client.get("/offices/01040/request/").content.decode()

    assert "<ruby>登録<rp>（</rp><rt>とうろく</rt><rp>）</rp></ruby>" in body
    assert "<title>" in body and "<ruby>" not in body.split("</title>")[0]
    assert "<ruby>" not in form  # a form keeps plain text in its options and fields
    assert "求職番号（きゅうしょく ばんごう）" in form


def test_status_link_is_in_each_mail_about_the_request_but_the_verification(world):
    def has_link(kind: str, request: Request) -> bool:
        mail = OutboxMail.objects.filter(kind=kind).latest("id")
        assert outbox._render(mail) is True  # rendered while it still fits the request
        return status_path(request) in mail.text

    asked = web_request(world.seeker2)
    found = {"verify_request": has_link("verify_request", asked)}
    booking_services.request_verify(token=verify_path(asked).split("/")[-2])
    found["request_received"] = has_link("request_received", asked)
    booking_services.request_decline(request_id=asked.pk, reason="満席", actor=world.coordinator)
    found["declined"] = has_link("declined", asked)
    cancelled = scheduled(world)
    booking_services.consultation_cancel(
        consultation_id=cancelled.pk, channel="phone", reason="体調不良", actor=world.coordinator
    )
    found["cancelled"] = has_link("cancelled", cancelled.request)

    assert found == {
        "verify_request": False,
        "request_received": True,
        "declined": True,
        "cancelled": True,
    }


def test_front_page_lists_every_office(world):
    response = Client().get("/", HTTP_ACCEPT_LANGUAGE="ja")

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'<li><a href="(/offices/\d+/)">', html) == [
        "/offices/01010/",
        "/offices/01040/",
    ]


def test_front_page_goes_straight_to_the_only_office(db):
    from tests.factories import make_office

    make_office()

    response = Client().get("/")

    assert (response.status_code, response["Location"]) == (302, "/offices/01040/")


def test_request_form_mails_a_seeker_at_most_three_times_a_day_and_says_nothing(world):
    """Someone who knows a number cannot flood its owner's inbox; the page stays the same."""
    pages = []
    for address in range(5):
        client = Client(REMOTE_ADDR=f"10.0.1.{address}")
        response = post_form(client, form_data())
        pages.append(CSRF.sub(b"", client.get(response["Location"]).content))

    assert len(set(pages)) == 1
    assert Request.objects.filter(seeker=world.seeker).count() == 3
    assert OutboxMail.objects.filter(kind="verify_request").count() == 3


def test_request_form_tells_a_restricted_seeker_once_a_day(world, frozen_now):
    seeker_restrict(seeker=world.seeker2, reason="no-shows", actor=None)
    OutboxMail.objects.all().delete()

    for address in range(3):
        post_form(Client(REMOTE_ADDR=f"10.0.2.{address}"), form_data(number=world.seeker2.number))
    frozen_now.shift(dt.timedelta(days=1, seconds=1))
    next_day = form_data(number=world.seeker2.number, start_1=local(2026, 12, 3, 9, 0).isoformat())
    assert post_form(Client(REMOTE_ADDR="10.0.2.9"), next_day).status_code == 302

    assert OutboxMail.objects.filter(kind="restriction_notice").count() == 2
