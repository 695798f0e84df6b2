"""The audit log and usage records pages in Chromium, checked with axe (WCAG 2.2 AA)."""

from playwright.sync_api import expect

from madoguchi.records.audit import audit_record
from tests.browser.test_staff_flows import assert_accessible, ja, sign_in_directly


def test_manager_searches_the_audit_log_and_reads_usage_records(page, live_server, browser_world):
    world = browser_world
    audit_record(actor=world.counselor, action="seeker.viewed", obj=world.seeker)
    audit_record(actor=world.counselor2, action="seeker.viewed", obj=world.seeker2)
    sign_in_directly(page, live_server, world.manager)

    page.goto("/staff/audit/")
    assert_accessible(page)
    page.get_by_label(ja("Job-seeker number")).fill("０１０４０－１２３４５６７８")
    page.get_by_role("button", name=ja("Search"), exact=True).click()

    rows = page.get_by_role("main").get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(2)  # the header and sato's view of seeker A
    expect(rows.nth(1)).to_contain_text("sato")

    page.get_by_label(ja("Job-seeker number")).fill("123")
    page.get_by_role("button", name=ja("Search"), exact=True).click()
    field = page.get_by_label(ja("Job-seeker number"))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "id_seeker_error")
    assert_accessible(page)

    page.get_by_role("link", name=ja("Usage records")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ja("Usage records"))
    assert_accessible(page)
