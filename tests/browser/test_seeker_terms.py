"""The seeker's terms history and device self-check in a real browser at a phone's width,
in Japanese and in English, and the manager's terms pages at a desktop's, each checked with
axe (no serious or critical violation)."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import Page, expect

from madoguchi.terms.models import TermsVersion
from madoguchi.terms.services import terms_publish
from tests.browser.test_staff_flows import PHONE, assert_accessible, ja, sign_in_directly


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


def test_manager_previews_and_publishes_a_terms_version(page, live_server, browser_world):
    sign_in_directly(page, live_server, browser_world.manager)
    when = timezone.localtime(timezone.now() + dt.timedelta(days=3), browser_world.office.tz)

    page.goto("/staff/terms/new/")
    page.get_by_label(ja("What changed (Japanese)")).fill("通訳の項を追加")
    page.get_by_label(ja("What changed (English)")).fill("Adds interpreters")
    page.get_by_label(ja("Takes effect on")).fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name=ja("Preview the changes")).click()
    expect(page.get_by_role("heading", name=ja("Preview"))).to_be_visible()
    expect(page.locator(".terms-diff")).to_have_count(0)  # the text is unchanged
    assert_accessible(page)
    page.get_by_role("button", name=ja("Publish this version")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("2")
    expect(page.get_by_role("button", name=ja("Withdraw this version"))).to_be_visible()
    assert_accessible(page)
    page.goto("/staff/terms/")
    expect(page.locator(".status.warn")).to_have_text(ja("upcoming"))
    assert_accessible(page)


def test_terms_and_device_check_in_plain_japanese(page, browser_world):
    """やさしい日本語: chosen with the switcher; every page checked with axe."""
    publish_upcoming(browser_world.office)
    page.set_viewport_size(PHONE)
    page.goto("/check/?office=01040")
    page.get_by_role("button", name="やさしい日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja-x-easy")

    for path in (
        "/check/?office=01040",
        "/offices/01040/terms/",
        "/offices/01040/terms/history/",
        "/offices/01040/terms/2/",
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert fits_the_phone(page)
        assert_accessible(page)
