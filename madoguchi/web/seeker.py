"""The job seeker's pages: the office page, the request form, the status page behind
the signed link in the mails (with the calendar file and online cancellation)."""

import datetime as dt
from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from madoguchi.api.auth import rate_limit
from madoguchi.bookings import selectors as booking_selectors
from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import Consultation, Request
from madoguchi.bookings.services import (
    ONLINE_REQUESTS_PER_ADDRESS_PER_MINUTE as PER_ADDRESS_PER_MINUTE,
)
from madoguchi.bookings.services import ONLINE_REQUESTS_PER_NUMBER_PER_HOUR as PER_NUMBER_PER_HOUR
from madoguchi.errors import BookingError, RateLimited
from madoguchi.notifications.ics import consultation_ics, format_meeting_id
from madoguchi.offices.calendar import earliest_bookable_date
from madoguchi.offices.models import Office
from madoguchi.records.services import usage_record_view
from madoguchi.terms.selectors import terms_in_force
from madoguchi.web.seeker_forms import SeekerRequestForm
from madoguchi.web.terms import office_label

# The form offers this many days from the first bookable one (R8).
OFFER_DAYS = 14
# The join button works from this long before the start (R13's grace is after it).
JOIN_EARLY = dt.timedelta(minutes=10)
DEVICE_CHECK_KEYS = ("checked_at", "os", "os_version", "browser", "browser_version", "verdict")


def _secret_link_page(policy: str) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response.headers["Referrer-Policy"] = policy  # SecurityMiddleware keeps it
            return response

        return never_cache(wrapped)

    return decorator


# Pages reached by a secret link: never cached, and the link (its path) never sent on as
# a Referer. All use "strict-origin", not "no-referrer": every page carries a form (the
# language switch in web/base.html, the cancel form), and under no-referrer Chromium
# posts `Origin: null`, which Django's CSRF check rightly refuses; strict-origin sends
# the origin alone, never the path that holds the token.
private_page = _secret_link_page("strict-origin")
private_form_page = private_page


def _office(code: str) -> Office:
    return get_object_or_404(Office, code=code)


def _rate_limited(request: HttpRequest, office: Office, error: RateLimited) -> HttpResponse:
    response = render(
        request,
        "web/seeker/rate_limited.html",
        {"office": office, "office_name": office_label(office)},
        status=429,
    )
    response.headers["Retry-After"] = str(error.retry_after)
    return response


# The office page ----------------------------------------------------------------------


@require_http_methods(["GET"])
def offices_page(request: HttpRequest) -> HttpResponse:
    """The front door: straight to the office when there is one, else the list of them."""
    offices = list(Office.objects.order_by("code")[:500])
    if len(offices) == 1:
        return redirect("seeker-office", code=offices[0].code)
    return render(
        request,
        "web/seeker/offices.html",
        {"offices": [(office, office_label(office)) for office in offices]},
    )


@require_http_methods(["GET"])
def office_page(request: HttpRequest, code: str) -> HttpResponse:
    """The service in plain words: who, when, how to ask and cancel, what to prepare."""
    office = _office(code)
    usage_record_view(request, office=office)
    return render(
        request,
        "web/seeker/office.html",
        {
            "office": office,
            "office_name": office_label(office),
            "windows": office.windows,
            "durations": office.durations,
        },
    )


# The request form -----------------------------------------------------------------------


def _form(request: HttpRequest, office: Office, data=None) -> SeekerRequestForm:
    cal = office.calendar()
    first = earliest_bookable_date(cal, timezone.now())
    shortest = min(office.durations)
    slots = booking_selectors.availability(
        office=office,
        date_from=first,
        date_to=first + dt.timedelta(days=OFFER_DAYS - 1),
        duration_minutes=shortest,
    )
    with timezone.override(office.tz):
        return SeekerRequestForm(data, slots=slots, durations=list(office.durations))


def _device_check(request: HttpRequest) -> dict | None:
    """What the device self-check page left in the session, kept to its known keys."""
    found = request.session.get("device_check")
    if not isinstance(found, dict):
        return None
    return {key: str(found.get(key, ""))[:100] for key in DEVICE_CHECK_KEYS}


@require_http_methods(["GET", "POST"])
def request_form(request: HttpRequest, code: str) -> HttpResponse:
    """R6: the online request. Whatever the number, a sent form ends on the same page.

    The view is recorded (R19) after the rate limits, and never for a 429 answer: a
    refused flood writes nothing."""
    office = _office(code)
    response = _request_form(request, office)
    if response.status_code != 429:
        usage_record_view(request, office=office)
    return response


def _request_form(request: HttpRequest, office: Office) -> HttpResponse:
    try:
        rate_limit(request, "seeker-pages", PER_ADDRESS_PER_MINUTE * 6)
        if request.method == "POST":
            rate_limit(request, "seeker-request", PER_ADDRESS_PER_MINUTE)
    except RateLimited as error:
        return _rate_limited(request, office, error)
    form = _form(request, office, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if form.is_bot:
            return redirect("seeker-request-sent", code=office.code)
        try:
            _submit(request, office, form)
        except RateLimited as error:
            return _rate_limited(request, office, error)
        except BookingError as error:
            _form_error(form, error)
        else:
            return redirect("seeker-request-sent", code=office.code)
    return render(
        request,
        "web/seeker/request.html",
        {
            "office": office,
            "office_name": office_label(office),
            "form": form,
            "terms": terms_in_force(office=office),
        },
        status=422 if form.errors else 200,
    )


def _submit(request: HttpRequest, office: Office, form: SeekerRequestForm) -> None:
    number = form.cleaned_data["job_seeker_number"]
    rate_limit(
        request,
        "seeker-number",
        PER_NUMBER_PER_HOUR,
        key=number,
        window_seconds=3600,
    )
    booking_services.request_submit_online(
        office=office,
        job_seeker_number=number,
        name=form.cleaned_data["name"],
        preferences=form.preferences(),
        declarations=form.declarations(),
        interpreter_language=form.cleaned_data["interpreter_language"],
        assistant=form.cleaned_data["assistant"],
        device_check=_device_check(request),
    )


# The service's field names, as the form calls them.
_FORM_FIELDS = {"preferences": "start_1"}


def _form_error(form: SeekerRequestForm, error: BookingError) -> None:
    if error.field == "declarations":
        for bound in form.declaration_fields():
            form.add_error(bound.name, error.detail)
        return
    field = _FORM_FIELDS.get(error.field or "", error.field)
    if error.code in {"outside_office_hours", "not_an_office_day", "lead_time"}:
        field = "start_1"
    if error.code == "invalid_duration":
        field = "duration"
    form.add_error(field if field in form.fields else None, error.detail)


@require_http_methods(["GET"])
def request_sent(request: HttpRequest, code: str) -> HttpResponse:
    """The same page for every number: registered, unknown, or restricted."""
    office = _office(code)
    return render(
        request,
        "web/seeker/request_sent.html",
        {"office": office, "office_name": office_label(office)},
    )


# The status page ------------------------------------------------------------------------


def _consultation(found: Request) -> Consultation | None:
    try:
        return found.consultation
    except Consultation.DoesNotExist:
        return None


def _status_context(found: Request, token: str) -> dict:
    consultation = _consultation(found)
    now = timezone.now()
    context: dict = {
        "token": token,
        "req": found,
        "office": found.office,
        "office_name": office_label(found.office),
        "consultation": consultation,
        "state": consultation.status if consultation else found.status,
    }
    if consultation is not None:
        join_from = consultation.start - JOIN_EARLY
        context |= {
            "meeting_id": format_meeting_id(consultation.meeting_id),
            "join_from": join_from,
            "join_open": (
                consultation.status
                in {Consultation.Status.SCHEDULED, Consultation.Status.IN_PROGRESS}
                and join_from <= now < consultation.end
                and bool(consultation.meeting_join_url)
            ),
            "may_cancel": (
                found.office.self_cancel_enabled
                and consultation.status == Consultation.Status.SCHEDULED
                and now < consultation.start
            ),
        }
    return context


class LinkInvalid(Exception):
    """A status link that was tampered with or names no request."""


def _status(token: str) -> Request:
    try:
        return booking_selectors.request_for_status(token=token)
    except BookingError as error:
        raise LinkInvalid from error


def _link_invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "web/seeker/link_invalid.html", status=404)


@private_page
@require_http_methods(["GET"])
def request_status(request: HttpRequest, token: str) -> HttpResponse:
    """Where the request stands; for a booking, the meeting details and the join button."""
    try:
        found = _status(token)
    except LinkInvalid:
        return _link_invalid(request)
    usage_record_view(request, office=found.office, seeker=found.seeker)
    with timezone.override(found.office.tz):
        return render(request, "web/seeker/status.html", _status_context(found, token))


@private_page
@require_http_methods(["GET"])
def request_status_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The consultation as a calendar file (cancelled ones as a CANCEL, to remove it)."""
    try:
        found = _status(token)
    except LinkInvalid:
        raise Http404 from None
    consultation = _consultation(found)
    if consultation is None:
        raise Http404
    consultation.seeker, consultation.office = found.seeker, found.office  # already read
    usage_record_view(request, office=found.office, seeker=found.seeker)
    body = consultation_ics(
        consultation,
        sequence=consultation.calendar_sequence,
        cancel=consultation.status in {Consultation.Status.CANCELLED, Consultation.Status.NO_SHOW},
        language="en" if get_language() == "en" else "ja",
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consultation-{consultation.pk}.ics"'
    )
    return response


@private_form_page
@require_http_methods(["GET", "POST"])
def request_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """R12 online, where the office allows it: GET asks (with a reason), POST cancels."""
    try:
        found = _status(token)
    except LinkInvalid:
        return _link_invalid(request)
    context = _status_context(found, token)
    if not context.get("may_cancel"):
        with timezone.override(found.office.tz):
            return render(request, "web/seeker/status.html", context, status=409)
    reason = request.POST.get("reason", "").strip()
    if request.method == "POST":
        if not reason:
            context["reason_error"] = True
        else:
            try:
                booking_services.consultation_cancel_by_seeker(
                    consultation_id=context["consultation"].pk, reason=reason[:500]
                )
            except BookingError as error:
                context["cancel_error"] = error.detail
            else:
                return redirect("seeker-request-status", token=token)
    context["reason"] = reason
    with timezone.override(found.office.tz):
        return render(
            request,
            "web/seeker/cancel.html",
            context,
            status=422 if "reason_error" in context or "cancel_error" in context else 200,
        )
