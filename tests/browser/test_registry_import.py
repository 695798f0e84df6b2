"""The seeker registry in a real browser: a CSV file imported through its preview, and
the register form with an error, each page checked with axe."""

import re

from playwright.sync_api import Page, expect

from madoguchi.records.models import AuditEntry
from madoguchi.seekers.models import Seeker
from tests.browser.test_staff_flows import assert_accessible, ja, sign_in_directly

CSV = (
    "number,name,name_kana,email,phone,counselor,registered_on,expires_on,language\r\n"
    "01040-33334444,釧路 三郎,クシロ サブロウ,,,sato,2026/4/1,2027/3/31,ja\r\n"
    "01040-12345678,山田 太郎,ヤマダ タロウ,taro@example.org,,sato,2026-01-05,2027-12-31,ja\r\n"
)


def test_import_a_csv_through_its_preview(page: Page, live_server, browser_world, screenshot):
    world = browser_world
    sign_in_directly(page, live_server, world.coordinator)

    page.goto("/staff/seekers/")
    page.get_by_role("link", name=ja("Import from a CSV file"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        ja("Import job seekers from a CSV file")
    )
    assert_accessible(page)
    page.get_by_label(ja("CSV file")).set_input_files(
        {"name": "seekers.csv", "mimeType": "text/csv", "buffer": CSV.encode("cp932")}
    )
    page.get_by_role("button", name=ja("Check the file"), exact=True).click()

    # The preview: every row and what it will do; nothing saved yet.
    table = page.locator("table.import-preview")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text("01040-33334444")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("01040-12345678")
    assert not Seeker.objects.filter(number="01040-33334444").exists()
    assert_accessible(page)
    screenshot(page, "seekers-import-preview")

    page.locator("form:has(input[name=payload]) button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/staff/seekers/$"))
    expect(page.get_by_role("link", name="01040-33334444")).to_be_visible()
    assert_accessible(page)
    assert Seeker.objects.get(number="01040-33334444").counselor == world.counselor
    assert AuditEntry.objects.filter(action="seeker.imported").count() == 1


def test_register_form_ties_the_error_to_its_field(
    page: Page, live_server, browser_world, screenshot
):
    world = browser_world
    sign_in_directly(page, live_server, world.manager)

    page.goto("/staff/seekers/new/")
    page.get_by_label(ja("Job-seeker number")).fill("01040-123")
    page.locator("#id_name").fill("釧路 花子")  # its label ends in a "*" for required
    page.get_by_label(ja("Registered on")).fill("2026-04-01")
    page.get_by_label(ja("Registration expires on")).fill("2027-03-31")
    page.get_by_role("button", name=ja("Register"), exact=True).click()

    number = page.get_by_label(ja("Job-seeker number"))
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(
        re.compile(re.escape(ja("A job-seeker number has 13 digits, like 01040-12345678.")))
    )
    expect(page.locator("#id_name")).to_have_value("釧路 花子")
    assert_accessible(page)
    screenshot(page, "seeker-register-error")
