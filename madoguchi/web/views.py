"""Pages for people: the seeker's side (verification of an online request, for now)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from madoguchi.bookings.services import request_verify
from madoguchi.errors import BookingError
from madoguchi.records.services import usage_record_view


@require_http_methods(["GET", "POST"])
def request_verify_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks, POST confirms: mail scanners that open links must not verify for people."""
    context: dict = {"token": token}
    if request.method == "POST":
        try:
            context["verified"] = verified = request_verify(token=token)
            usage_record_view(request, office=verified.office, seeker=verified.seeker)
        except BookingError as error:
            context["error"] = error.detail
            return render(request, "web/request_verify.html", context, status=error.status)
    return render(request, "web/request_verify.html", context)
