"""Request plumbing for the records app (here, as records imports no face of ours): the
client address for audit entries, and a usage record (R19) of every public,
seeker-facing page view."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from madoguchi.api.auth import client_address
from madoguchi.records.audit import client_ip
from madoguchi.records.services import usage_record_view

# Not seeker-facing: staff, admin, API, assets, webhooks, probes, language switch.
NOT_PUBLIC: tuple[str, ...] = ("/staff/", "/admin/", "/api/", "/static/", "/webhooks/")
NOT_PUBLIC += ("/healthz", "/readyz", "/i18n/")
# Ask Chromium-based browsers for the client hints they only send when asked (R19, R18).
ACCEPT_CH = "Sec-CH-UA-Platform-Version, Sec-CH-UA-Model, Sec-CH-UA-Full-Version-List"


class AuditContextMiddleware:
    """Make the client's address available to `audit_record` for this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_ip.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            client_ip.reset(token)


class UsageRecordMiddleware:
    """Record each public page a browser is shown, unless the view recorded it itself
    (with the office and seeker it knows: `usage_record_view`) or refused it as too
    many requests (429)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(NOT_PUBLIC) or request.method not in ("GET", "POST"):
            return response
        response.headers.setdefault("Accept-CH", ACCEPT_CH)
        match = request.resolver_match
        if response.status_code == 429:  # a refused flood writes nothing
            return response
        if match is not None and match.url_name and not getattr(request, "usage_recorded", False):
            usage_record_view(request, office=None)
        return response
