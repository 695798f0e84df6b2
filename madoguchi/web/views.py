"""Pages for people: the seeker's verification of an online request."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from madoguchi.bookings.models import Request
from madoguchi.bookings.services import request_for_verify, request_verify
from madoguchi.errors import BookingError
from madoguchi.records.services import usage_record_view
from madoguchi.terms.selectors import terms_changes_since
from madoguchi.web.seeker import private_form_page
from madoguchi.web.terms import office_label


@private_form_page
@require_http_methods(["GET", "POST"])
def request_verify_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks, POST confirms: mail scanners that open links must not verify for people.

    Before confirming, a seeker whose last consent is to older terms sees what changed
    (R5); confirming accepts the version in force.
    """
    context: dict = {"token": token}
    try:
        found = request_for_verify(token=token)
        context |= {"office": found.office, "office_name": office_label(found.office)}
        if request.method == "POST":
            context["verified"] = verified = request_verify(token=token)
            usage_record_view(request, office=verified.office, seeker=verified.seeker)
        elif found.status == Request.Status.PENDING_VERIFICATION:
            context["changes"] = terms_changes_since(
                seeker=found.seeker, office=found.office, before=found.created_at
            )
        else:
            context["already"] = found
    except BookingError as error:
        context["error"] = error.detail
        return render(request, "web/request_verify.html", context, status=error.status)
    return render(request, "web/request_verify.html", context)
