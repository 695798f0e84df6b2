"""The device self-check's reasoning (R18): what a User-Agent and its Client Hints say
about the operating system and the browser, and whether they are supported and current.

Pure functions over strings, a date and the facts in data/device_support.json; no
database, no request. `device_parse` reads, `device_judge` decides.

What a User-Agent can and cannot say (so the page says "could not tell" honestly):
- Windows 10 and 11 both send "Windows NT 10.0"; only the Sec-CH-UA-Platform-Version hint
  (13 and above: Windows 11) tells them apart.
- Browsers on a Mac send "Mac OS X 10_15_7" whatever the version; Chromium's hint gives it.
- Chrome on Android sends "Android 10; K" whatever the version; the hint gives it.
- Safari on iOS 26 sends "iPhone OS 18_6"; its "Version/26" gives the real one.
"""

import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DATA_FILE = Path(__file__).resolve().parent / "data" / "device_support.json"

Verdict = Literal["ok", "update", "unsupported", "unknown"]
SEVERITY: dict[str, int] = {"ok": 0, "unknown": 1, "update": 2, "unsupported": 3}

# The Client Hints the page asks for (Accept-CH); the low-entropy ones come unasked.
HINTS = ("Sec-CH-UA-Platform-Version", "Sec-CH-UA-Full-Version-List", "Sec-CH-UA-Model")


@functools.cache
def support_data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Device:
    """What we could read. Keys are those of device_support.json; None: could not tell."""

    os: str | None = None
    os_version: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    model: str | None = None
    # Possible OS versions when the User-Agent hides which (Windows 10 or 11).
    os_candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    os_verdict: Verdict
    browser_verdict: Verdict
    notes: tuple[str, ...] = field(default=())


# Parsing -----------------------------------------------------------------------------

_BRAND = re.compile(r'"([^"]*)"\s*;\s*v\s*=\s*"([^"]*)"')
_BRAND_KEYS = {"Google Chrome": "chrome", "Microsoft Edge": "edge", "Samsung Internet": "samsung"}
_PLATFORM_KEYS = {
    "windows": "windows",
    "macos": "macos",
    "android": "android",
    "chrome os": "chromeos",
    "chromeos": "chromeos",
    "chromium os": "chromeos",
    "linux": "linux",
    "ios": "ios",
}
_WINDOWS_NT = {"6.1": "7", "6.2": "8", "6.3": "8.1"}


def _unquote(value: str | None) -> str:
    return (value or "").strip().strip('"').strip()


def _os_from_ua(ua: str) -> tuple[str | None, str | None, tuple[str, ...]]:
    if "CrOS" in ua:
        return "chromeos", None, ()
    if match := re.search(r"Android (\d+(?:\.\d+)*)", ua):
        reduced = match.group(1) == "10" and "; K)" in ua
        return "android", None if reduced else match.group(1), ()
    if match := re.search(r"(?:iPhone|iPad|iPod).*? OS (\d+)_(\d+)", ua):
        version = f"{match.group(1)}.{match.group(2)}"
        if version == "18.6":  # frozen on iOS 26; Safari's Version/ says which
            safari = re.search(r"Version/(\d+)", ua)
            version = safari.group(1) if safari else None  # type: ignore[assignment]
        return "ios", version, ()
    if match := re.search(r"Windows NT (\d+\.\d+)", ua):
        nt = match.group(1)
        if nt == "10.0":
            return "windows", None, ("10", "11")
        return "windows", _WINDOWS_NT.get(nt), ()
    if match := re.search(r"Mac OS X (\d+)[_.](\d+)", ua):
        version = f"{match.group(1)}.{match.group(2)}"
        return "macos", None if version == "10.15" else version, ()  # 10_15_7: frozen
    if "Linux" in ua or "X11" in ua:
        return "linux", None, ()
    return None, None, ()


def _browser_from_ua(ua: str) -> tuple[str | None, str | None]:
    patterns = (
        ("samsung", r"SamsungBrowser/([\d.]+)"),
        ("edge", r"Edg(?:e|A|iOS)?/([\d.]+)"),
        (None, r"(?:OPR|OPiOS|YaBrowser|Vivaldi|UCBrowser)/([\d.]+)"),
        ("firefox", r"(?:Firefox|FxiOS)/([\d.]+)"),
        ("chrome", r"(?:CriOS|Chrome)/([\d.]+)"),
        ("safari", r"Version/([\d.]+)(?: Mobile/\w+)? Safari/"),
    )
    for key, pattern in patterns:
        if match := re.search(pattern, ua):
            return key, match.group(1) if key else None
    return None, None


def _windows_from_hint(platform_version: str) -> str | None:
    try:
        major, minor = (int(part) for part in platform_version.split(".")[:2])
    except ValueError:
        return None
    if major >= 13:
        return "11"
    if major >= 1:
        return "10"
    return {1: "7", 2: "8", 3: "8.1"}.get(minor)


def _major_minor(version: str) -> str | None:
    """The major and minor of a hint's version: 15.6.1 gives 15.6, 15.0.0 gives 15."""
    parts = [p for p in version.split(".")[:2] if p.isdigit()]
    if parts[1:] == ["0"]:
        parts = parts[:1]
    return ".".join(parts) or None


def _brand_from_hints(headers: Mapping[str, str]) -> tuple[str, str] | None:
    for header in ("Sec-CH-UA-Full-Version-List", "Sec-CH-UA"):
        for brand, version in _BRAND.findall(headers.get(header, "")):
            if brand in _BRAND_KEYS:
                return _BRAND_KEYS[brand], version
    return None


def device_parse(user_agent: str, hints: Mapping[str, str] | None = None) -> Device:
    """Read the device from the User-Agent, refined by Client Hints where the browser sent
    them (header names as sent, e.g. "Sec-CH-UA-Platform-Version")."""
    hints = hints or {}
    os, os_version, candidates = _os_from_ua(user_agent or "")
    browser, browser_version = _browser_from_ua(user_agent or "")
    platform = _PLATFORM_KEYS.get(_unquote(hints.get("Sec-CH-UA-Platform")).lower())
    platform_version = _unquote(hints.get("Sec-CH-UA-Platform-Version"))
    if platform:
        os = platform
    if platform_version and os in {"windows", "macos", "android"}:
        if os == "windows":
            os_version = _windows_from_hint(platform_version) or os_version
        else:
            os_version = _major_minor(platform_version) or os_version
        candidates = () if os_version else candidates
    if brand := _brand_from_hints(hints):
        browser, version = brand
        if "." in version or not browser_version:
            browser_version = version
    model = _unquote(hints.get("Sec-CH-UA-Model")) or None
    return Device(
        os=os,
        os_version=os_version,
        browser=browser,
        browser_version=browser_version,
        model=model,
        os_candidates=candidates,
    )


# Judging -----------------------------------------------------------------------------


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _major(version: str | None) -> int | None:
    key = _version_key(version or "")
    return key[0] if key else None


def _os_version_verdict(facts: dict[str, Any], version: str, today: dt.date) -> Verdict:
    ends = facts.get("ends", {})
    end = ends.get(version)
    if end is None:  # "14.2" is judged as "14"
        end = ends.get(str(_major(version)))
    if end and end != "unknown" and dt.date.fromisoformat(end) <= today:
        return "unsupported"
    if _version_key(version) < _version_key(facts.get("ended_below", "0")):
        return "unsupported"
    newer_out = _version_key(version) < _version_key(facts.get("latest_known", "0"))
    if newer_out and facts.get("newest_major_recommended"):
        return "update"
    return "ok"


def _judge_os(device: Device, today: dt.date, data: dict[str, Any]) -> tuple[Verdict, list[str]]:
    facts = data["os"].get(device.os or "")
    if facts is None or facts.get("follows_browser"):
        return "unknown", []
    if device.os_version:
        if "ended_below" not in facts:
            return "unknown", []
        return _os_version_verdict(facts, device.os_version, today), []
    if device.os_candidates:
        verdicts = {_os_version_verdict(facts, v, today) for v in device.os_candidates}
        notes = ["windows_10_or_11"] if device.os == "windows" else []
        return ("ok" if verdicts == {"ok"} else "unknown"), notes
    return "unknown", ["os_version_hidden"]


def expected_major(facts: dict[str, Any], today: dt.date) -> int | None:
    """The browser's current major: the known one, moved on by its release cycle."""
    known = facts.get("known_major")
    if not isinstance(known, int):
        return None
    every = facts.get("release_every_days")
    if not every:
        return known
    elapsed = (today - dt.date.fromisoformat(facts["known_on"])).days
    return known + max(0, elapsed // every)


def _judge_browser(
    device: Device, today: dt.date, data: dict[str, Any]
) -> tuple[Verdict, list[str]]:
    facts = data["browsers"].get(device.browser or "")
    major = _major(device.browser_version)
    if facts is None or major is None:
        return "unknown", []
    current = expected_major(facts, today)
    if current is None:
        return "unknown", []
    if major >= current - data.get("tolerance_majors", 2):
        return "ok", []
    notes = ["firefox_esr"] if major in facts.get("esr_majors", []) else []
    return "update", notes


def device_judge(
    device: Device, *, today: dt.date, data: dict[str, Any] | None = None
) -> Judgement:
    """ok: supported and current; update: a newer version is out (or support is ending);
    unsupported: the vendor no longer fixes security problems; unknown: could not tell."""
    data = data or support_data()
    os_verdict, os_notes = _judge_os(device, today, data)
    browser_verdict, browser_notes = _judge_browser(device, today, data)
    if (data["os"].get(device.os or "") or {}).get("follows_browser"):
        os_verdict = browser_verdict  # ChromeOS: the OS and Chrome update together
    worst = max((os_verdict, browser_verdict), key=SEVERITY.__getitem__)
    verdict: Verdict = (
        worst
        if worst in {"update", "unsupported"}
        else ("ok" if os_verdict == browser_verdict == "ok" else "unknown")
    )
    return Judgement(
        verdict=verdict,
        os_verdict=os_verdict,
        browser_verdict=browser_verdict,
        notes=tuple(os_notes + browser_notes),
    )
