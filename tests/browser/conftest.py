"""Browser tests: Chromium, driven by Playwright, against pytest-django's live server.

The clock is *not* frozen here. The live server runs in a thread of this process, so
time_machine would move its clock too, but Chromium keeps the real one; rather than two
clocks, every date is computed from the real now (see `booking_day`). TOTP codes are
checked by the server and computed by the tests from the same process clock.

Static files: pytest-django's live server serves them (django.contrib.staticfiles is
installed, and WhiteNoise finds them too); any response of 400 or more, a console error
(a CSP refusal, say) or an uncaught script error fails the test (`BrowserLog`).

Screenshots go to a temporary folder; with MADOGUCHI_SCREENSHOTS=1 they are written to
docs/screenshots/ instead (so an ordinary test run leaves the documentation alone).
"""

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import timezone

from madoguchi.offices.models import Office, Staff
from madoguchi.seekers.models import Seeker
from tests.factories import make_office, make_seeker, make_staff

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="package")
def browser() -> Iterator:
    """One headless Chromium for the package; each test gets its own context (`page`)."""
    if not CHROMIUM.exists():
        message = "Chromium is not installed (apt-get install chromium); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread while it is up,
    # and Django refuses ORM calls from a thread with a running loop. The tests only use
    # the ORM between browser steps, never inside a Playwright callback, so allow it for
    # as long as the browser lives, and only then.
    unsafe_before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if unsafe_before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe_before


@dataclass
class BrowserLog:
    """What went wrong in the browser: failed responses, console errors, script errors."""

    problems: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def expect_status(self, status: int) -> None:
        """A page the test means to be refused (the 403 page, say) is not a problem."""
        self.expected_statuses.add(status)

    def on_response(self, response) -> None:
        if response.status < 400:
            return
        if response.request.resource_type == "document" and (
            response.status in self.expected_statuses
        ):
            return
        self.problems.append(
            f"{response.status} {response.request.method} {response.url} "
            f"({response.request.resource_type})"
        )

    def on_console(self, message) -> None:
        # "Failed to load resource" repeats a failed response, which on_response reports
        # with its address (or lets through when the test expected it).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def on_page_error(self, error) -> None:
        self.problems.append(f"script error: {error}")

    def on_request_failed(self, request) -> None:
        self.problems.append(f"request failed: {request.method} {request.url} {request.failure}")


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(browser, live_server, browser_log: BrowserLog) -> Iterator:
    """A fresh page in a fresh context (no cookies), in Japanese and Tokyo time, that
    fails the test if the browser saw a failed response or an error."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(10_000)
    try:
        new_page = context.new_page()
        new_page.on("response", browser_log.on_response)
        new_page.on("console", browser_log.on_console)
        new_page.on("pageerror", browser_log.on_page_error)
        new_page.on("requestfailed", browser_log.on_request_failed)
        yield new_page
    finally:
        context.close()
    if browser_log.problems:
        pytest.fail("the browser saw problems:\n" + "\n".join(browser_log.problems))


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[..., Path]:
    """`screenshot(page, "inbox")` saves the viewport as inbox.png (see the module doc)."""
    folder = SCREENSHOT_DIR if os.environ.get("MADOGUCHI_SCREENSHOTS") == "1" else tmp_path

    def take(page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), animations="disabled", caret="hide")
        return path

    return take


@dataclass
class BrowserWorld:
    office: Office
    counselor: Staff
    counselor2: Staff
    coordinator: Staff
    manager: Staff
    seeker: Seeker
    seeker2: Seeker


@pytest.fixture
def browser_world(transactional_db) -> BrowserWorld:
    """The office and people of tests/conftest.py's `world`, without its frozen clock."""
    office = make_office()
    counselor = make_staff(office, "counselor", "sato", display_name="佐藤 一郎")
    counselor2 = make_staff(office, "counselor", "suzuki", display_name="鈴木 花子")
    today = timezone.localdate(timezone=office.tz)
    valid = {
        "registered_on": today - dt.timedelta(days=30),
        "expires_on": today + dt.timedelta(days=365),
    }
    return BrowserWorld(
        office=office,
        counselor=counselor,
        counselor2=counselor2,
        coordinator=make_staff(office, "coordinator", "tanaka", display_name="田中 次郎"),
        manager=make_staff(office, "manager", "ito", display_name="伊藤 真理"),
        seeker=make_seeker(office, counselor, number="01040-12345678", name="山田 太郎", **valid),
        seeker2=make_seeker(office, counselor2, number="01040-87654321", name="高橋 美咲", **valid),
    )
