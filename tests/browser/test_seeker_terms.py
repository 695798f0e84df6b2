"""The seeker's terms history and device self-check in a real browser at a phone's width,
in Japanese and in English, each checked with axe (no serious or critical violation)."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import Page, expect

from madoguchi.terms.models import TermsVersion
from madoguchi.terms.services import terms_publish
from tests.browser.test_staff_flows import PHONE, assert_accessible, ja


def publish_upcoming(office) -> TermsVersion:
    v1 = TermsVersion.objects.get(office=office, number=1)
    return terms_publish(
        office=office,
        title=v1.title,
        body_ja=v1.body_ja.replace("30 分から 60 分", "30 分から 50 分"),
        body_en=v1.body_en.replace("30 to 60 minutes", "30 to 50 minutes"),
        changes_ja="相談時間は最長50分になります。",
        changes_en="Consultations will last at most 50 minutes.",
        effective_from=timezone.now() + dt.timedelta(days=7),
        actor=None,
    )


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_terms_history_and_device_check_on_a_phone(page, browser_world):
    publish_upcoming(browser_world.office)
    page.set_viewport_size(PHONE)

    page.goto("/offices/01040/terms/history/")
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("Terms of use: all versions"))
    expect(page.locator(".status.warn")).to_have_text(ja("upcoming"))
    assert fits_the_phone(page)
    assert_accessible(page)

    page.goto("/offices/01040/terms/2/")
    expect(page.locator(".terms-diff ins")).to_have_count(1)
    assert fits_the_phone(page)
    assert_accessible(page)

    page.goto("/check/?office=01040")
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("Check your device"))
    expect(page.get_by_text("https://zoom.us/test")).to_be_visible()
    assert fits_the_phone(page)
    assert_accessible(page)

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your device")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page)

    page.goto("/offices/01040/terms/history/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Terms of use: all versions")
    expect(page.get_by_text("Consultations will last at most 50 minutes.")).to_be_visible()
    assert fits_the_phone(page)
    assert_accessible(page)
