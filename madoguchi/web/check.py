"""The device self-check page for seekers (R18): is the operating system and browser still
supported and current, and the checklist for a consultation. Works without JavaScript.

The page asks for more Client Hints (Accept-CH); browsers that support them send them from
the next load, which refines the answer. The last result is kept in the session under
`device_check`, where the request form copies it onto the request (R19).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from madoguchi.offices.models import Office
from madoguchi.web.devices import HINTS, Device, Judgement, device_judge, device_parse, support_data
from madoguchi.web.terms import office_label

LOW_ENTROPY_HINTS = ("Sec-CH-UA", "Sec-CH-UA-Platform", "Sec-CH-UA-Mobile")

VERDICTS = {
    "ok": _(
        "Your device looks ready: its operating system and browser are supported and up to date."
    ),
    "update": _(
        "Please update your device: a newer version of the operating system or browser is "
        "available."
    ),
    "unsupported": _(
        "Your operating system or browser no longer gets security updates. Please use another "
        "device for the consultation, or update this one if you can."
    ),
    "unknown": _(
        "We could not tell whether your device is up to date. Please check it yourself with the "
        "list below."
    ),
}
VERDICT_LABELS = {
    "ok": _("ready"),
    "update": _("update recommended"),
    "unsupported": _("no longer supported"),
    "unknown": _("could not tell"),
}
PART_VERDICTS = {
    "ok": _("supported and up to date"),
    "update": _("update recommended"),
    "unsupported": _("no longer supported"),
    "unknown": _("could not tell"),
}
NOTES = {
    "windows_10_or_11": _(
        "Your browser does not say whether this is Windows 10 or Windows 11. Support for "
        "Windows 10 ended on 14 October 2025: if you use Windows 10, please use Windows 11 or "
        "another supported device. Settings > System > About shows your version."
    ),
    "os_version_hidden": _(
        "Your browser does not tell us the version of your operating system. Open your device's "
        "settings and install any updates it offers."
    ),
    "firefox_esr": _(
        "This may be Firefox ESR (Extended Support Release). If your organisation manages this "
        "computer, ask them whether it still gets updates; otherwise update Firefox."
    ),
}


def _os_label(device: Device) -> str:
    facts = support_data()["os"].get(device.os or "")
    if facts is None:
        return ""
    version = device.os_version or " / ".join(device.os_candidates)
    return f"{facts['name']} {version}".strip()


def _browser_label(device: Device) -> str:
    facts = support_data()["browsers"].get(device.browser or "")
    if facts is None:
        return ""
    return f"{facts['name']} {device.browser_version or ''}".strip()


def _remember(request: HttpRequest, device: Device, judgement: Judgement) -> None:
    data = support_data()
    request.session["device_check"] = {
        "checked_at": timezone.now().isoformat(),
        "os": data["os"].get(device.os or "", {}).get("name", ""),
        "os_version": device.os_version or "",
        "browser": data["browsers"].get(device.browser or "", {}).get("name", ""),
        "browser_version": device.browser_version or "",
        "verdict": judgement.verdict,
    }


@require_GET
def device_check(request: HttpRequest) -> HttpResponse:
    hints = {
        name: request.headers[name]
        for name in (*LOW_ENTROPY_HINTS, *HINTS)
        if request.headers.get(name)
    }
    device = device_parse(request.headers.get("User-Agent", ""), hints)
    judgement = device_judge(device, today=timezone.localdate())
    _remember(request, device, judgement)
    code = request.GET.get("office", "")
    office = Office.objects.filter(code=code).first() if code.isdigit() else None
    context = {
        "verdict": judgement.verdict,
        "verdict_label": VERDICT_LABELS[judgement.verdict],
        "message": VERDICTS[judgement.verdict],
        "os_label": _os_label(device),
        "os_verdict": PART_VERDICTS[judgement.os_verdict],
        "browser_label": _browser_label(device),
        "browser_verdict": PART_VERDICTS[judgement.browser_verdict],
        "model": device.model,
        "notes": [NOTES[note] for note in judgement.notes],
        "hints_used": bool(set(hints) & set(HINTS)),
        "office": office,
        "office_name": office_label(office) if office else "",
        "checked": support_data()["checked"],
    }
    response = render(request, "web/check.html", context)
    response["Accept-CH"] = ", ".join(HINTS)
    patch_vary_headers(response, ["User-Agent", *LOW_ENTROPY_HINTS, *HINTS])
    add_never_cache_headers(response)
    return response
