"""The disclosure register in a real browser: a manager records a request (an error shown
beside its field first), a second manager approves it and downloads the signed
archive, once; every page checked with axe."""

from pathlib import Path

from playwright.sync_api import Page, expect

from madoguchi.records import disclosure as services
from madoguchi.records.models import DisclosureRequest
from tests.browser.test_staff_flows import assert_accessible, ja, sign_in_directly
from tests.factories import make_staff


def fill_request(page: Page, numbers: str) -> None:
    page.get_by_label(ja("Requesting body")).fill("北海道警察釧路方面本部")
    page.get_by_label(ja("Requesting person (name and position)")).fill("刑事課 山田一郎")
    page.get_by_label(ja("Code of Criminal Procedure, art. 197(2)")).check()
    page.get_by_label(ja("Reference number")).fill("釧方刑第123号")
    page.get_by_label(ja("Job-seeker numbers")).fill(numbers)
    page.get_by_label(ja("Registry record (and consents)")).check()
    page.get_by_label(ja("Data from")).fill("2026-11-01")
    page.get_by_label(ja("Data until")).fill("2026-11-30")
    page.get_by_label(ja("Answer due on")).fill("2026-12-15")


def test_manager_records_second_manager_approves_archive_downloads_once(
    page, live_server, browser_world, browser_log
):
    world = browser_world
    second = make_staff(world.office, "manager", "kobayashi", display_name="小林 亮")
    sign_in_directly(page, live_server, world.manager)
    page.goto("/staff/disclosures/")
    assert_accessible(page)
    page.get_by_role("link", name=ja("Record a new request")).click()
    fill_request(page, "01010-99999999")
    page.get_by_role("button", name=ja("Record the request")).click()
    numbers = page.get_by_label(ja("Job-seeker numbers"))
    expect(numbers).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    numbers.fill(world.seeker.number)
    page.get_by_role("button", name=ja("Record the request")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("釧方刑第123号")
    expect(page.get_by_role("button", name=ja("Approve"))).to_have_count(0)
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in_directly(page, live_server, second)
    page.reload()
    page.get_by_label(ja("Reason (kept in the register)")).fill("令状の写しを確認")
    page.get_by_role("button", name=ja("Approve")).click()
    expect(page.get_by_role("button", name=ja("Produce and download the archive"))).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("button", name=ja("Produce and download the archive")).click()
    content = Path(download_info.value.path()).read_bytes()
    # Chromium reports a form submission that turns into a download as an aborted request.
    browser_log.problems[:] = [
        p for p in browser_log.problems if "/export/ net::ERR_ABORTED" not in p
    ]
    page.reload()

    disclosure = DisclosureRequest.objects.get()
    assert services.archive_verify(content=content) is True
    assert disclosure.status == "exported"
    expect(page.get_by_text(disclosure.export_signature)).to_be_visible()
    expect(page.get_by_role("button", name=ja("Produce and download the archive"))).to_have_count(0)
    assert_accessible(page)


def test_own_data_export_page_is_accessible(page, live_server, browser_world, browser_log):
    world = browser_world
    browser_log.expect_status(422)  # withholding the notes without a reason
    sign_in_directly(page, live_server, world.manager)
    page.goto(f"/staff/seekers/{world.seeker.number}/")
    page.get_by_role(
        "link", name=ja("Export everything held about this job seeker (disclosure to the person)")
    ).click()
    assert_accessible(page)
    page.get_by_label(ja("Withhold the notes")).check()
    page.get_by_role("button", name=ja("Download the archive")).click()
    expect(page.get_by_label(ja("Reason for withholding"))).to_have_attribute(
        "aria-invalid", "true"
    )
    assert_accessible(page)
