"""Staff flows in a real browser: sign-in with the second factor, the request inbox, the
consultation page and the day calendar, each page also checked with axe.

The browser asks for Japanese, as office computers do; the tests name buttons and fields
by their English source text, translated here (`ja`) as the page translates it.
"""

import datetime as dt
import re

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from django.utils.text import capfirst
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Channel, Consultation, Request
from madoguchi.offices import calendar
from madoguchi.offices.models import Office, Staff
from tests.factories import ALL_DECLARATIONS, make_consultation
from tests.signin import PASSWORD, sign_in_verified, totp_code

AXE = Axe()
BLOCKING_IMPACTS = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 800}  # as the `page` fixture opens
PHONE = {"width": 390, "height": 844}


def ja(message: str) -> str:
    """`message` as the Japanese page shows it (the English text while untranslated)."""
    with translation.override("ja"):
        return translation.gettext(message)


def assert_accessible(page: Page) -> None:
    """No axe violation of serious or critical impact on the page as it is now."""
    results = AXE.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    if not blocking:
        return
    lines = [f"axe found {len(blocking)} serious or critical violation(s) on {page.url}:"]
    for violation in blocking:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"  at {', '.join(map(str, node['target']))}")
            lines.append(f"     {node['html'][:200]}")
            summary = node.get("failureSummary", "").replace("\n", "\n     ")
            lines.append(f"     {summary}")
    raise AssertionError("\n".join(lines))


def office_day_from(office: Office, day: dt.date) -> dt.date:
    """`day`, or the first office day after it."""
    cal = office.calendar()
    while not calendar.is_office_day(cal, day):
        day += dt.timedelta(days=1)
    return day


def booking_day(office: Office) -> dt.date:
    """The first office day at least two days from today (office time): bookable without
    a short-notice reason whatever day the tests run."""
    return office_day_from(office, timezone.localdate(timezone=office.tz) + dt.timedelta(days=2))


def at(office: Office, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=office.tz)


def phone_request(world, day: dt.date) -> Request:
    """A request taken by phone: 10:00 on `day`, or 10:00 on the office day after."""
    office = world.office
    later = office_day_from(office, day + dt.timedelta(days=1))
    return booking_services.request_create(
        office=office,
        job_seeker_number=world.seeker.number,
        name=world.seeker.name,
        preferences=[(at(office, day, 10), 60), (at(office, later, 10), 60)],
        channel="phone",
        declarations=ALL_DECLARATIONS,
        actor=world.coordinator,
    )


def sign_in_with_password(page: Page, staff: Staff, screenshot=None) -> None:
    """The password step, through the login page (pictured if `screenshot` is given)."""
    staff.user.set_password(PASSWORD)
    staff.user.save(update_fields=["password"])
    page.goto("/staff/login/")
    expect(page.get_by_role("heading", name=ja("Staff sign-in"))).to_be_visible()
    # Both style sheets came from the live server (a 404 would also fail the `page` fixture).
    rules = page.evaluate("[...document.styleSheets].map(sheet => sheet.cssRules.length)")
    assert rules and all(rules), rules
    assert_accessible(page)
    if screenshot is not None:
        screenshot(page, "login")
    page.get_by_label(capfirst(ja("username")), exact=True).fill(staff.username)
    page.get_by_label(ja("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=ja("Next"), exact=True).click()


def sign_in_directly(page: Page, live_server, staff: Staff) -> None:
    """A session signed in with both factors, handed to the browser as its cookie (for
    flows that are not about signing in)."""
    client = Client()
    sign_in_verified(client, staff)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": live_server.url, "httpOnly": True}]
    )


def status_on_page(page: Page, status: str):
    """The consultation's status as the page shows it."""
    with translation.override("ja"):
        label = str(Consultation.Status(status).label)
    return page.get_by_role("main").get_by_text(label, exact=True)


# 1 -----------------------------------------------------------------------------------


def test_first_sign_in_then_one_press_scheduling(page, browser_world, screenshot):
    world = browser_world
    day = booking_day(world.office)
    request = phone_request(world, day)

    sign_in_with_password(page, world.coordinator, screenshot)

    # First time: set up the authenticator app, confirm with its code.
    expect(page).to_have_url(re.compile(r"/staff/two-factor/setup/"))
    expect(page.get_by_role("heading", name=ja("Set up two-step sign-in"))).to_be_visible()
    assert_accessible(page)
    device = TOTPDevice.objects.get(user=world.coordinator.user, confirmed=False)
    page.get_by_label(ja("6-digit code from your authenticator app")).fill(totp_code(device))
    page.get_by_role("button", name=ja("Confirm"), exact=True).click()

    # The recovery codes, shown once; then on to the staff pages.
    expect(page.get_by_role("heading", name=ja("Your recovery codes"))).to_be_visible()
    assert page.locator("ul.codes > li").count() >= 5
    assert_accessible(page)
    page.get_by_role("link", name=ja("I have kept the codes – continue")).click()

    # The coordinator's home is the request inbox.
    expect(page).to_have_url(re.compile(r"/staff/requests/$"))
    expect(page.get_by_role("heading", name=ja("Requests waiting to be scheduled"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, "inbox")
    page.set_viewport_size(PHONE)
    screenshot(page, "inbox-phone")
    assert_accessible(page)
    page.set_viewport_size(DESKTOP)

    card = page.get_by_role("region", name=world.seeker.name)
    first_choice = card.get_by_role("listitem").filter(has_text=day.isoformat())
    expect(first_choice.get_by_text(ja("free"), exact=True)).to_be_visible()
    first_choice.get_by_role("button", name=ja("Schedule"), exact=True).click()

    # One press: the consultation page, with the meeting's passcode.
    consultation = Consultation.objects.get(request=request)
    expect(page).to_have_url(re.compile(rf"/staff/consultations/{consultation.pk}/$"))
    assert consultation.start == at(world.office, day, 10)
    assert consultation.counselor == world.counselor  # the seeker's own
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.seeker.name)
    expect(status_on_page(page, Consultation.Status.SCHEDULED)).to_be_visible()
    assert consultation.meeting_passcode
    expect(page.get_by_text(consultation.meeting_passcode, exact=True)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "consultation")

    # The day calendar of that day lists it.
    page.get_by_role("link", name=ja("Day calendar"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ja("Day calendar"))
    page.goto(f"/staff/day/?date={day.isoformat()}")
    expect(page.get_by_role("link", name=world.seeker.name)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "day")

    page.get_by_role("link", name=ja("My account"), exact=True).click()
    expect(page.get_by_role("heading", name=ja("Your account"))).to_be_visible()
    assert_accessible(page)


# 2 -----------------------------------------------------------------------------------


def test_counselor_starts_and_completes_a_consultation(page, browser_world):
    world = browser_world
    counselor = world.counselor
    TOTPDevice.objects.create(user=counselor.user, name="authenticator", confirmed=True)
    consultation = make_consultation(
        world.seeker, at(world.office, booking_day(world.office), 10), actor=world.coordinator
    )
    # Moved to a few minutes from now, past the booking rules (which refuse today), so
    # that Start is allowed; its occupancy stays on the booked day, which this test ignores.
    now = timezone.now().astimezone(world.office.tz)
    start = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=10 - now.minute % 5)
    Consultation.objects.filter(pk=consultation.pk).update(
        start=start, end=start + dt.timedelta(minutes=60)
    )

    sign_in_with_password(page, counselor)
    expect(page.get_by_role("heading", name=ja("Enter your code"))).to_be_visible()
    assert_accessible(page)
    device = TOTPDevice.objects.get(user=counselor.user)
    page.get_by_label(ja("6-digit code from your authenticator app")).fill(totp_code(device))
    page.get_by_role("button", name=ja("Sign in"), exact=True).click()

    # A counselor's home is today's calendar; the consultation is on it.
    expect(page).to_have_url(re.compile(r"/staff/day/$"))
    if start.date() != timezone.localdate(timezone=world.office.tz):  # just before midnight
        page.goto(f"/staff/day/?date={start.date().isoformat()}")
    assert_accessible(page)
    page.get_by_role("link", name=world.seeker.name).click()

    expect(page).to_have_url(re.compile(rf"/staff/consultations/{consultation.pk}/$"))
    expect(status_on_page(page, Consultation.Status.SCHEDULED)).to_be_visible()
    page.get_by_role("button", name=ja("Start"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(ja("Started."))
    expect(status_on_page(page, Consultation.Status.IN_PROGRESS)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name=ja("Complete"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(ja("Completed."))
    expect(status_on_page(page, Consultation.Status.COMPLETED)).to_be_visible()
    expect(page.get_by_role("button", name=ja("Complete"), exact=True)).to_have_count(0)

    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.COMPLETED
    assert consultation.actual_start is not None and consultation.actual_end is not None


# 3 -----------------------------------------------------------------------------------


def test_phone_cancellation(page, live_server, browser_world):
    world = browser_world
    consultation = make_consultation(
        world.seeker, at(world.office, booking_day(world.office), 13), actor=world.coordinator
    )
    sign_in_directly(page, live_server, world.coordinator)

    page.goto(f"/staff/consultations/{consultation.pk}/")
    expect(status_on_page(page, Consultation.Status.SCHEDULED)).to_be_visible()
    page.get_by_text(ja("Cancel (the job seeker called)"), exact=True).click()
    page.get_by_label(ja("Channel"), exact=True).select_option(Channel.PHONE)
    page.get_by_label(ja("Reason"), exact=True).fill("体調不良のため（電話で連絡あり）")
    assert_accessible(page)  # with the disclosure open
    page.get_by_role("button", name=ja("Cancel the consultation"), exact=True).click()

    expect(status_on_page(page, Consultation.Status.CANCELLED)).to_be_visible()
    expect(page.get_by_text("体調不良のため（電話で連絡あり）", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name=ja("Start"), exact=True)).to_have_count(0)
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.CANCELLED
    assert consultation.cancel_channel == Channel.PHONE
    assert consultation.cancel_reason == "体調不良のため（電話で連絡あり）"


# 4 -----------------------------------------------------------------------------------


def test_another_counselors_consultation_is_refused(page, live_server, browser_world, browser_log):
    world = browser_world
    consultation = make_consultation(
        world.seeker, at(world.office, booking_day(world.office), 11), actor=world.coordinator
    )
    assert consultation.counselor == world.counselor
    sign_in_directly(page, live_server, world.counselor2)
    browser_log.expect_status(403)

    response = page.goto(f"/staff/consultations/{consultation.pk}/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name=ja("Not available"))).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(ja("This consultation is not yours."))
    html = page.content()
    assert world.seeker.name not in html
    assert world.seeker.number not in html
    assert_accessible(page)


# 5 -----------------------------------------------------------------------------------


def test_manager_finds_a_seeker_and_the_other_pages_are_accessible(
    page, live_server, browser_world
):
    world = browser_world
    sign_in_directly(page, live_server, world.manager)
    page.goto("/staff/seekers/")
    assert_accessible(page)
    page.get_by_role("searchbox").fill(world.seeker.number)
    page.get_by_role("button", name=ja("Search"), exact=True).click()
    page.get_by_role("link", name=world.seeker.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.seeker.name)
    assert_accessible(page)
    for url in ("/staff/week/", "/staff/requests/new/", "/staff/office/"):
        page.goto(url)
        assert_accessible(page)
