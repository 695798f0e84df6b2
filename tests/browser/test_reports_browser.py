"""The reports page in Chromium: charts drawn without script or inline style, axe clean,
both versions, and the CSV download."""

import datetime as dt
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from madoguchi.records.models import AuditEntry
from tests.browser.test_staff_flows import assert_accessible, ja, sign_in_directly
from tests.test_reports import add_consultation


def test_manager_reads_both_versions_and_downloads_the_csv(
    page, live_server, browser_world, screenshot
):
    world = browser_world
    first = timezone.localdate(timezone=world.office.tz).replace(day=1) - dt.timedelta(days=1)
    month = first.replace(day=1)
    for day in range(1, 13):
        start = dt.datetime.combine(month.replace(day=day), dt.time(10), tzinfo=world.office.tz)
        add_consultation(world, start, minutes=45, actual_minutes=42)
    sign_in_directly(page, live_server, world.manager)

    page.goto("/staff/")
    page.get_by_role("link", name=ja("Reports"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("Usage reports"))
    expect(page.get_by_role("img", name=ja("Consultations held by weekday"))).to_be_visible()
    assert_accessible(page)
    screenshot(page, "staff-reports")

    page.get_by_label(ja("Publishable (small figures suppressed)")).check()
    page.get_by_role("button", name=ja("Show the report")).click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(ja("publishable"))
    assert page.get_by_text("sato").count() == 0
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name=ja("Download CSV (publishable)")).click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert AuditEntry.objects.filter(action="report.exported").count() == 1
