"""The terms of use for seekers (R4, R5): the version in force, the history, and one
version with what changed from the one before.

The pages may be kept by the browser for a few minutes, never past the moment the next
version takes effect (so nobody reads yesterday's terms as today's). They are private:
the language switcher's form carries a CSRF token.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from madoguchi.offices.models import Office
from madoguchi.terms.diff import terms_diff
from madoguchi.terms.models import TermsVersion
from madoguchi.terms.selectors import PublicTerms, terms_public

CACHE_SECONDS = 300


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def not_found(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/terms/not_found.html", {"message": message}, status=404)


def _office_or_none(code: str) -> Office | None:
    return Office.objects.filter(code=code).first()


def _no_office(request: HttpRequest) -> HttpResponse:
    return not_found(request, _("There is no office with this number. Check the address."))


def _cacheable(response: HttpResponse, terms: PublicTerms) -> HttpResponse:
    seconds = CACHE_SECONDS
    if (next_change := terms.next_change()) is not None:
        seconds = min(seconds, max(0, int((next_change - terms.now).total_seconds())))
    patch_cache_control(response, private=True, max_age=seconds)
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


def office_label(office: Office) -> str:
    """The office's name in the page language (the Japanese one when no English is set)."""
    if _language().startswith("ja"):
        return office.name
    return office.name_en or office.name


def _office_context(office: Office, language: str) -> dict:
    return {"office": office, "office_name": office_label(office), "language": language}


@require_GET
def terms_page(request: HttpRequest, code: str) -> HttpResponse:
    office = _office_or_none(code)
    if office is None:
        return _no_office(request)
    terms = terms_public(office=office)
    language = _language()
    context = _office_context(office, language) | {
        "version": terms.in_force,
        "body": terms.in_force.body(language),
        "upcoming": terms.upcoming(),
    }
    return _cacheable(render(request, "web/terms/terms.html", context), terms)


@require_GET
def terms_history_page(request: HttpRequest, code: str) -> HttpResponse:
    office = _office_or_none(code)
    if office is None:
        return _no_office(request)
    terms = terms_public(office=office)
    language = _language()
    rows = [
        {"version": v, "changes": v.changes(language), "state": terms.state(v)}
        for v in terms.versions
    ]
    context = _office_context(office, language) | {"rows": rows}
    return _cacheable(render(request, "web/terms/history.html", context), terms)


@require_GET
def terms_version_page(request: HttpRequest, code: str, number: int) -> HttpResponse:
    office = _office_or_none(code)
    if office is None:
        return _no_office(request)
    terms = terms_public(office=office)
    try:
        version, previous = terms.find(number)
    except TermsVersion.DoesNotExist:
        return not_found(request, _("This version of the terms does not exist."))
    language = _language()
    context = _office_context(office, language) | {
        "version": version,
        "previous": previous,
        "body": version.body(language),
        "changes": version.changes(language),
        "diff": terms_diff(previous.body(language), version.body(language)) if previous else [],
        "state": terms.state(version),
    }
    return _cacheable(render(request, "web/terms/version.html", context), terms)
