"""A manager adds a staff member in a real browser; the team pages and the calendars with
their bands are checked with axe, at desktop width and on a tablet."""

import re

from django.core import mail
from playwright.sync_api import expect

from madoguchi.offices.models import Staff
from tests.browser.test_staff_flows import assert_accessible, ja, sign_in_directly

TABLET = {"width": 820, "height": 1180}


def test_manager_adds_a_staff_member(page, live_server, browser_world):
    world = browser_world
    sign_in_directly(page, live_server, world.manager)
    page.goto("/staff/")
    page.get_by_role("navigation", name=ja("Staff pages")).get_by_role(
        "link", name=ja("Staff"), exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ja("Staff"))
    assert_accessible(page)

    page.get_by_role("link", name=ja("Add a staff member")).click()
    page.get_by_role("button", name=ja("Add and send the link")).click()  # nothing filled in
    expect(page.get_by_label(ja("User name"))).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    page.get_by_label(ja("User name")).fill("kato")
    page.get_by_label(ja("Display name")).fill("加藤 三郎")
    page.get_by_label(ja("Role")).select_option("coordinator")
    page.get_by_label(ja("E-mail")).fill("kato@kushiro.example.jp")
    page.get_by_role("button", name=ja("Add and send the link")).click()

    expect(page).to_have_url(re.compile(r"/staff/team/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("加藤 三郎")
    assert_accessible(page)
    added = Staff.objects.get(user__username="kato")
    assert (added.office, added.role) == (world.office, "coordinator")
    assert [m.to for m in mail.outbox] == [["kato@kushiro.example.jp"]]

    page.set_viewport_size(TABLET)
    for url in ("/staff/team/", "/staff/day/", "/staff/week/"):
        page.goto(url)
        assert_accessible(page)
