"""The job seeker's side in a real browser, at a phone's size: the office page, the request
form (with its errors), the verification link from the mail, the status page with the
calendar file, and every seeker page checked with axe in all three languages.

Buttons and fields are named by their English source text through `ja` / `easy`, as
the page translates it (the English text while a string is untranslated).
"""

import datetime as dt
import re

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from madoguchi.bookings import selectors as booking_selectors
from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Request
from madoguchi.notifications import outbox
from madoguchi.notifications.models import OutboxMail
from madoguchi.offices.calendar import earliest_bookable_date
from tests.browser.test_staff_flows import assert_accessible
from tests.factories import make_consultation

PHONE = {"width": 375, "height": 667}
LANGUAGES = {"ja": "日本語", "ja-x-easy": "やさしい日本語", "en": "English"}


def tr(message: str, language: str = "ja") -> str:
    with translation.override(language):
        return translation.gettext(message)


def link_in_mail(kind: str, pattern: str, live_server) -> str:
    """The link a mail of `kind` carries, on the live server (as the seeker would press it)."""
    row = OutboxMail.objects.filter(kind=kind).order_by("-id").first()
    assert row is not None and outbox._render(row)
    found = re.search(r"https?://\S+" + pattern + r"\S*/", row.text)
    assert found is not None, row.text
    return live_server.url + "/" + found.group(0).split("/", 3)[3]


def fill_request(page: Page, world) -> None:
    page.get_by_label(tr("Your name")).fill(world.seeker.name)
    page.get_by_label(tr("Job-seeker number")).fill("０１０４０－１２３４５６７８")
    page.get_by_label(tr("Length of the consultation")).select_option("60")
    page.get_by_label(tr("First choice of start time")).select_option(index=1)
    page.get_by_label(tr("Second choice (if any)")).select_option(index=3)
    for checkbox in page.locator("fieldset .check input[type=checkbox]").all():
        if checkbox.get_attribute("name") != "assistant":
            checkbox.check()


@pytest.fixture
def phone_page(page: Page) -> Page:
    page.set_viewport_size(PHONE)
    return page


def test_seeker_requests_verifies_and_sees_the_booking(
    phone_page, browser_world, browser_log, live_server, screenshot
):
    page, world = phone_page, browser_world
    browser_log.expect_status(422)  # the form sent empty on purpose
    page.goto("/offices/01040/")
    assert_accessible(page)
    page.get_by_role("link", name=tr("Ask for a consultation")).first.click()

    page.get_by_role("button", name=tr("Send")).click()
    expect(page.get_by_role("heading", name=tr("Please check these items"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, "seeker-request-errors")
    fill_request(page, world)
    page.get_by_role("button", name=tr("Send")).click()

    expect(page.get_by_role("heading", name=tr("Check your e-mail"))).to_be_visible()
    assert_accessible(page)
    page.goto(link_in_mail("verify_request", "/requests/verify/", live_server))
    assert_accessible(page)
    page.get_by_role("button", name=tr("Confirm and send")).click()
    expect(page.get_by_role("status")).to_be_visible()
    request = Request.objects.get()
    assert request.status == Request.Status.REQUESTED
    start, minutes = request.preferred_starts()[0]
    consultation = booking_services.consultation_schedule(
        request_id=request.pk, start=start, duration_minutes=minutes, actor=world.coordinator
    )

    page.goto(link_in_mail("scheduled", "/requests/status/", live_server))
    expect(page.get_by_text(consultation.meeting_passcode)).to_be_visible()
    expect(page.get_by_text(world.counselor.display_name)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "seeker-status")
    with page.expect_download() as download:
        page.get_by_role("link", name=tr("Add to your calendar (.ics file)")).click()
    calendar = download.value.path().read_text()
    assert f"UID:consultation-{consultation.pk}@" in calendar
    assert "BEGIN:VEVENT" in calendar


def test_seeker_pages_pass_axe_in_every_language(
    phone_page, browser_world, browser_log, live_server
):
    page, world = phone_page, browser_world
    browser_log.expect_status(422)  # the form sent empty on purpose
    world.office.self_cancel_enabled = True
    world.office.save(update_fields=["self_cancel_enabled"])
    page.goto("/offices/01040/request/")
    fill_request(page, world)
    page.get_by_role("button", name=tr("Send")).click()
    verify = link_in_mail("verify_request", "/requests/verify/", live_server)
    found = Request.objects.get()
    start, minutes = found.preferred_starts()[0]
    booking_services.request_verify(token=verify.rstrip("/").rsplit("/", 1)[1])
    booking_services.consultation_schedule(
        request_id=found.pk, start=start, duration_minutes=minutes, actor=world.coordinator
    )
    status = link_in_mail("scheduled", "/requests/status/", live_server)
    pages = [
        "/offices/01040/",
        "/offices/01040/request/",
        "/offices/01040/request/sent/",
        verify,
        status,
        status + "cancel/",
    ]

    for code, label in LANGUAGES.items():
        page.goto("/offices/01040/")
        page.get_by_role("button", name=label, exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", code)
        for path in pages:
            page.goto(path)
            expect(page.locator("html")).to_have_attribute("lang", code)
            assert_accessible(page)
        page.goto("/offices/01040/request/")
        page.get_by_role("button", name=tr("Send", code)).click()
        assert_accessible(page)


def test_seeker_switches_language_on_secret_link_pages(
    phone_page, browser_world, browser_log, live_server
):
    page, world = phone_page, browser_world
    browser_log.expect_status(404)  # the invalid-link page
    first = earliest_bookable_date(world.office.calendar(), timezone.now())
    slot = booking_selectors.availability(
        office=world.office,
        date_from=first,
        date_to=first + dt.timedelta(days=13),
        duration_minutes=60,
    )[0]
    consultation = make_consultation(world.seeker, slot.start, actor=world.coordinator)
    status = "/" + booking_selectors.request_status_url(consultation.request).split("/", 3)[3]
    invalid = "/requests/status/not-a-valid-link/"

    for path, heading in (
        (status, "Your consultation request"),
        (invalid, "This link is not valid"),
    ):
        page.goto(path)
        page.get_by_role("button", name="English", exact=True).click()

        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page).to_have_url(live_server.url + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(tr(heading, "en"))
        page.get_by_role("button", name=LANGUAGES["ja"], exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "ja")
