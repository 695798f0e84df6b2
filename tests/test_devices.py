"""The device self-check (R18): reading User-Agents and Client Hints, judging them against
madoguchi/web/data/device_support.json, and the page that shows the verdict."""

import datetime as dt
import json

import pytest
from django.test import Client

from madoguchi.web.devices import (
    DATA_FILE,
    Device,
    device_judge,
    device_parse,
    expected_major,
    support_data,
)

TODAY = dt.date(2026, 11, 25)

OLD_ANDROID = (
    "Mozilla/5.0 (Linux; Android 7.0; SM-G930F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/64.0.3282.137 Mobile Safari/537.36"
)
IOS_15_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 15_8_3 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/15.6.6 Mobile/15E148 Safari/604.1"
)
IOS_26_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/155.0.0.0 Safari/537.36"
)
WINDOWS_EDGE = WINDOWS_CHROME + " Edg/155.0.0.0"
WINDOWS_7_CHROME = (
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/109.0.0.0 Safari/537.36"
)
FIREFOX_ESR = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
FIREFOX_CURRENT_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:157.0) Gecko/20100101 Firefox/157.0"
SAMSUNG_INTERNET = (
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36"
)
ANDROID_CHROME_REDUCED = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/155.0.0.0 Mobile Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/26.1 Safari/605.1.15"
)
CHROMEBOOK = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/155.0.0.0 Safari/537.36"
)
CHROMEBOOK_EXPIRED = CHROMEBOOK.replace("Chrome/155", "Chrome/103")
CURL = "curl/8.5.0"


# (user agent, os, os_version, browser, browser_version, verdict, os_verdict, browser_verdict)
UA_TABLE = [
    pytest.param(
        OLD_ANDROID,
        "android",
        "7.0",
        "chrome",
        "64.0.3282.137",
        "unsupported",
        "unsupported",
        "update",
        id="old-android",
    ),
    pytest.param(
        IOS_15_SAFARI,
        "ios",
        "15.8",
        "safari",
        "15.6.6",
        "update",
        "update",
        "update",
        id="ios-15-safari",
    ),
    pytest.param(
        IOS_26_SAFARI,
        "ios",
        "26",
        "safari",
        "26.0",
        "ok",
        "ok",
        "ok",
        id="ios-26-frozen-ua",
    ),
    pytest.param(
        WINDOWS_CHROME,
        "windows",
        None,
        "chrome",
        "155.0.0.0",
        "unknown",
        "unknown",
        "ok",
        id="windows-10-or-11-current-chrome",
    ),
    pytest.param(
        WINDOWS_EDGE,
        "windows",
        None,
        "edge",
        "155.0.0.0",
        "unknown",
        "unknown",
        "ok",
        id="windows-edge",
    ),
    pytest.param(
        WINDOWS_7_CHROME,
        "windows",
        "7",
        "chrome",
        "109.0.0.0",
        "unsupported",
        "unsupported",
        "update",
        id="windows-7-last-chrome",
    ),
    pytest.param(
        FIREFOX_ESR,
        "windows",
        None,
        "firefox",
        "140.0",
        "update",
        "unknown",
        "update",
        id="firefox-esr-140",
    ),
    pytest.param(
        FIREFOX_CURRENT_LINUX,
        "linux",
        None,
        "firefox",
        "157.0",
        "unknown",
        "unknown",
        "ok",
        id="linux-current-firefox",
    ),
    pytest.param(
        SAMSUNG_INTERNET,
        "android",
        "14",
        "samsung",
        "28.0",
        "unknown",
        "ok",
        "unknown",
        id="samsung-internet",
    ),
    pytest.param(
        ANDROID_CHROME_REDUCED,
        "android",
        None,
        "chrome",
        "155.0.0.0",
        "unknown",
        "unknown",
        "ok",
        id="android-chrome-reduced-ua",
    ),
    pytest.param(
        MAC_SAFARI,
        "macos",
        None,
        "safari",
        "26.1",
        "unknown",
        "unknown",
        "ok",
        id="mac-safari-frozen-os",
    ),
    pytest.param(
        CHROMEBOOK,
        "chromeos",
        None,
        "chrome",
        "155.0.0.0",
        "ok",
        "ok",
        "ok",
        id="chromebook",
    ),
    pytest.param(
        CHROMEBOOK_EXPIRED,
        "chromeos",
        None,
        "chrome",
        "103.0.0.0",
        "update",
        "update",
        "update",
        id="chromebook-past-updates",
    ),
    pytest.param(CURL, None, None, None, None, "unknown", "unknown", "unknown", id="unknown"),
]


@pytest.mark.parametrize(
    ("ua", "os", "os_version", "browser", "browser_version", "verdict", "os_v", "browser_v"),
    UA_TABLE,
)
def test_device_parse_and_judge_user_agents(
    ua, os, os_version, browser, browser_version, verdict, os_v, browser_v
):
    device = device_parse(ua)
    judgement = device_judge(device, today=TODAY)

    assert (device.os, device.os_version, device.browser, device.browser_version) == (
        os,
        os_version,
        browser,
        browser_version,
    )
    assert (judgement.verdict, judgement.os_verdict, judgement.browser_verdict) == (
        verdict,
        os_v,
        browser_v,
    )


def test_device_judge_windows_10_or_11_says_why():
    judgement = device_judge(device_parse(WINDOWS_CHROME), today=TODAY)

    assert judgement.notes == ("windows_10_or_11",)


def test_device_judge_firefox_esr_is_named():
    judgement = device_judge(device_parse(FIREFOX_ESR), today=TODAY)

    assert judgement.notes == ("windows_10_or_11", "firefox_esr")


def test_device_judge_windows_10_before_its_end_was_supported():
    device = Device(os="windows", os_version="10", browser="chrome", browser_version="130.0")

    judged = device_judge(device, today=dt.date(2025, 10, 13))
    ended = device_judge(device, today=dt.date(2025, 10, 14))

    assert (judged.os_verdict, ended.os_verdict) == ("ok", "unsupported")


WINDOWS_HINTS = {
    "Sec-CH-UA-Platform": '"Windows"',
    "Sec-CH-UA-Full-Version-List": (
        '"Chromium";v="155.0.7500.1", "Google Chrome";v="155.0.7500.1", "Not_A Brand";v="99.0.0.0"'
    ),
}


@pytest.mark.parametrize(
    ("platform_version", "os_version", "verdict"),
    [
        pytest.param('"10.0.0"', "10", "unsupported", id="windows-10-after-end-of-support"),
        pytest.param('"15.0.0"', "11", "ok", id="windows-11"),
        pytest.param('"0.3.0"', "8.1", "unsupported", id="windows-8.1"),
    ],
)
def test_device_parse_client_hints_refine_windows(platform_version, os_version, verdict):
    hints = WINDOWS_HINTS | {"Sec-CH-UA-Platform-Version": platform_version}

    device = device_parse(WINDOWS_CHROME, hints)
    judgement = device_judge(device, today=TODAY)

    assert (device.os, device.os_version, device.browser_version) == (
        "windows",
        os_version,
        "155.0.7500.1",
    )
    assert (judgement.verdict, judgement.notes) == (verdict, ())


def test_device_parse_client_hints_refine_android_and_model():
    hints = {
        "Sec-CH-UA-Platform": '"Android"',
        "Sec-CH-UA-Platform-Version": '"15.0.0"',
        "Sec-CH-UA-Model": '"Pixel 8"',
    }

    device = device_parse(ANDROID_CHROME_REDUCED, hints)
    judgement = device_judge(device, today=TODAY)

    assert (device.os, device.os_version, device.model) == ("android", "15", "Pixel 8")
    assert judgement.verdict == "ok"


def test_device_parse_client_hints_refine_macos():
    hints = {"Sec-CH-UA-Platform": '"macOS"', "Sec-CH-UA-Platform-Version": '"15.6.1"'}
    ua = MAC_SAFARI.replace("Version/26.1 Safari/605.1.15", "Chrome/155.0.0.0 Safari/537.36")

    device = device_parse(ua, hints)
    judgement = device_judge(device, today=TODAY)

    assert (device.os, device.os_version) == ("macos", "15.6")
    assert (judgement.verdict, judgement.os_verdict) == ("update", "update")


def test_device_parse_edge_brand_from_low_entropy_hint():
    hints = {"Sec-CH-UA": '"Microsoft Edge";v="155", "Chromium";v="155", "Not.A/Brand";v="24"'}

    device = device_parse(WINDOWS_CHROME, hints)

    assert (device.browser, device.browser_version) == ("edge", "155.0.0.0")


def test_expected_major_moves_on_with_the_release_cycle():
    chrome = support_data()["browsers"]["chrome"]

    assert expected_major(chrome, dt.date(2025, 9, 2)) == 140
    assert expected_major(chrome, dt.date(2025, 9, 30)) == 141
    assert expected_major(chrome, TODAY) == 156


def test_device_support_data_is_dated_and_sourced():
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))

    assert data["checked"] == "2026-11-25"
    assert set(data["os"]) == {"windows", "macos", "ios", "android", "chromeos", "linux"}
    assert set(data["browsers"]) == {"chrome", "edge", "firefox", "safari", "samsung"}
    assert data["os"]["windows"]["ends"]["10"] == "2025-10-14"
    for facts in [*data["os"].values(), *data["browsers"].values()]:
        assert all(url.startswith("https://") for url in facts["sources"])


# The page ------------------------------------------------------------------------------


def test_device_check_page_shows_verdict_and_checklist(world):
    response = Client().get("/check/", HTTP_USER_AGENT=OLD_ANDROID, HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Result: no longer supported" in html
    assert "Android 7.0 — no longer supported" in html
    assert "Chrome 64.0.3282.137 — update recommended" in html
    assert "https://zoom.us/test" in html
    assert "firewall" in html
    assert "The cost of the data connection is yours." in html


def test_device_check_page_asks_for_client_hints(world):
    response = Client().get("/check/", HTTP_USER_AGENT=WINDOWS_CHROME)

    assert response["Accept-CH"] == (
        "Sec-CH-UA-Platform-Version, Sec-CH-UA-Full-Version-List, Sec-CH-UA-Model"
    )
    assert "Critical-CH" not in response
    assert "Sec-CH-UA-Platform-Version" in response["Vary"]
    assert "no-cache" in response["Cache-Control"]


def test_device_check_page_refines_with_client_hints(world):
    client = Client()
    first = client.get("/check/", HTTP_USER_AGENT=WINDOWS_CHROME, HTTP_ACCEPT_LANGUAGE="en")
    first_verdict = client.session["device_check"]["verdict"]

    second = client.get(
        "/check/",
        HTTP_USER_AGENT=WINDOWS_CHROME,
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_SEC_CH_UA_PLATFORM='"Windows"',
        HTTP_SEC_CH_UA_PLATFORM_VERSION='"10.0.0"',
    )

    assert first_verdict == "unknown"
    assert "Windows 10 / 11 — could not tell" in first.content.decode()
    assert "Windows 10 — no longer supported" in second.content.decode()
    assert client.session["device_check"]["verdict"] == "unsupported"


def test_device_check_page_stores_the_result_in_the_session(world):
    client = Client()

    client.get("/check/", HTTP_USER_AGENT=IOS_15_SAFARI)

    assert client.session["device_check"] == {
        "checked_at": "2026-12-01T01:00:00+00:00",
        "os": "iOS / iPadOS",
        "os_version": "15.8",
        "browser": "Safari",
        "browser_version": "15.6.6",
        "verdict": "update",
    }


def test_device_check_page_without_user_agent_could_not_tell(world):
    client = Client()

    response = client.get("/check/", HTTP_ACCEPT_LANGUAGE="en")

    assert "Result: could not tell" in response.content.decode()
    assert client.session["device_check"]["os"] == ""
    assert client.session["device_check"]["verdict"] == "unknown"


def test_device_check_page_needs_no_javascript(world):
    response = Client().get("/check/", HTTP_USER_AGENT=WINDOWS_CHROME)

    assert "<script" not in response.content.decode()
    assert "<form" in response.content.decode()  # the language switch: a plain form


def test_device_check_page_links_back_to_the_office(world):
    response = Client().get("/check/?office=01040", HTTP_ACCEPT_LANGUAGE="ja")

    html = response.content.decode()
    assert html.count('<a href="/offices/01040/">') == 2  # the site name and the back-link
    assert "ハローワーク釧路に戻る</a>" in html


def test_device_check_page_ignores_an_unknown_office(world):
    response = Client().get("/check/?office=99999")

    assert "/offices/" not in response.content.decode()
