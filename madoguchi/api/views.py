"""HTTP JSON API v1 (SPEC §5). Each endpoint parses, checks permission, calls one service.

OpenAPI at /api/v1/openapi.json. Errors are problem+json with the stable codes of
`madoguchi.errors`.
"""

import datetime as dt
import json

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from madoguchi.api import permissions
from madoguchi.api.auth import StaffBearer, rate_limit, staff_from_request
from madoguchi.api.problems import booking_error_response, problem_response
from madoguchi.api.reports import router as reports_router
from madoguchi.api.schemas import (
    Availability,
    BlockedTimeIn,
    BlockedTimeOut,
    CancelIn,
    Companions,
    ConsultationOut,
    ConsultationPage,
    DeclineIn,
    MeetingDetailsIn,
    OnlineRequestIn,
    OnlineRequestOut,
    Problem,
    ReasonIn,
    RequestIn,
    RequestOut,
    RequestPage,
    ScheduleIn,
    SeekerIn,
    SeekerOut,
    SeekerPage,
    StartLinkOut,
    StopIn,
    TermsOut,
)
from madoguchi.bookings import selectors as booking_selectors
from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import BlockedTime, Consultation, Request
from madoguchi.errors import BookingError
from madoguchi.meetings import services as meeting_services
from madoguchi.offices.models import Office, Staff
from madoguchi.seekers import services as seeker_services
from madoguchi.seekers.models import Seeker
from madoguchi.seekers.numbers import normalize_job_seeker_number
from madoguchi.terms.selectors import terms_in_force

api = NinjaAPI(
    title="Madoguchi API",
    version="1",
    description="Online job consultation: requests, scheduling and the office calendar.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,
    auth=StaffBearer(),
)

ERRORS = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
    429: Problem,
}
MAX_PAGE = 200


@api.exception_handler(BookingError)
def _booking_error(request: HttpRequest, error: BookingError) -> JsonResponse:
    return booking_error_response(request, error)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, error: NinjaValidationError) -> JsonResponse:
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())[1:]) or None,
            "message": e.get("msg", ""),
        }
        for e in error.errors
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem_response("invalid_input", detail, errors=errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> JsonResponse:
    code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(
        error.status_code, "invalid_input"
    )
    return problem_response(code, str(error))


def _staff(request: HttpRequest) -> Staff:
    """The caller, authenticated by `StaffBearer` before the endpoint runs."""
    staff = request.auth  # type: ignore[attr-defined]
    assert isinstance(staff, Staff)
    return staff


def _page(qs, limit: int, offset: int) -> tuple[int, list]:
    limit = max(1, min(limit, MAX_PAGE))
    return qs.count(), list(qs[max(offset, 0) : max(offset, 0) + limit])


# Seekers -------------------------------------------------------------------------------

seekers = Router(tags=["seekers"])


def _seeker_get(staff: Staff, number: str) -> Seeker:
    seeker = (
        Seeker.objects.select_related("counselor__user")
        .filter(number=normalize_job_seeker_number(number))
        .first()
    )
    if seeker is None:
        raise BookingError("not_found")
    permissions.check_seeker(staff, seeker)
    return seeker


@seekers.get("", response={200: SeekerPage, **ERRORS})
def seekers_list(request: HttpRequest, q: str = "", limit: int = 50, offset: int = 0):
    staff = _staff(request)
    permissions.require_role(staff, permissions.CASEWORK)
    qs = Seeker.objects.of_office(staff.office).select_related("counselor__user").search(q)
    if staff.role == Staff.Role.COUNSELOR:
        qs = qs.caseload_of(staff)
    count, rows = _page(qs.order_by("number"), limit, offset)
    return {"count": count, "results": [SeekerOut.from_model(s) for s in rows]}


@seekers.post("", response={201: SeekerOut, **ERRORS})
def seekers_create(request: HttpRequest, body: SeekerIn):
    staff = _staff(request)
    permissions.require_role(staff, permissions.OFFICE_WIDE)
    seeker = seeker_services.seeker_create(
        office=staff.office,
        number=body.job_seeker_number,
        counselor=body.counselor,
        name=body.name,
        name_kana=body.name_kana,
        email=body.email,
        phone=body.phone,
        registered_on=body.registered_on,
        expires_on=body.expires_on,
        language=body.language,
        actor=staff,
    )
    return Status(201, SeekerOut.from_model(seeker))


@seekers.get("/{number}", response={200: SeekerOut, **ERRORS})
def seekers_get(request: HttpRequest, number: str):
    """One seeker's personal data; every view is audited (R21)."""
    staff = _staff(request)
    seeker = _seeker_get(staff, number)
    seeker_services.seeker_view_record(seeker=seeker, actor=staff)
    return SeekerOut.from_model(seeker)


@seekers.post("/{number}/restrict", response={200: SeekerOut, **ERRORS})
def seekers_restrict(request: HttpRequest, number: str, body: ReasonIn):
    staff = _staff(request)
    seeker = _seeker_get(staff, number)
    permissions.require_role(staff, permissions.MANAGERS)
    seeker = seeker_services.seeker_restrict(seeker=seeker, reason=body.reason, actor=staff)
    return SeekerOut.from_model(seeker)


@seekers.post("/{number}/lift-restriction", response={200: SeekerOut, **ERRORS})
def seekers_lift_restriction(request: HttpRequest, number: str, body: ReasonIn | None = None):
    staff = _staff(request)
    seeker = _seeker_get(staff, number)
    permissions.require_role(staff, permissions.MANAGERS)
    seeker = seeker_services.seeker_lift_restriction(
        seeker=seeker, reason=body.reason if body else "", actor=staff
    )
    return SeekerOut.from_model(seeker)


# Requests ------------------------------------------------------------------------------

requests = Router(tags=["requests"])


def _request_get(staff: Staff, request_id: int) -> Request:
    found = (
        Request.objects.select_related("office", "seeker", "terms_version", "consultation")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise BookingError("not_found")
    permissions.check_request(staff, found)
    return found


def _request_create(
    body: RequestIn | OnlineRequestIn, *, office: Office, number: str, actor: Staff | None
) -> Request:
    """`request_create` with a request body's fields (R6), by staff or by the seeker."""
    companions = body.companions or Companions(interpreter_language="", assistant=False)
    return booking_services.request_create(
        office=office,
        job_seeker_number=number,
        name=body.name,
        preferences=[(p.start, p.duration_minutes) for p in body.preferences],
        channel=body.channel,
        declarations=body.declarations.model_dump(),
        interpreter_language=companions.interpreter_language,
        assistant=companions.assistant,
        actor=actor,
    )


@requests.post("", response={201: RequestOut, **ERRORS})
def requests_create(request: HttpRequest, body: RequestIn):
    """A request taken by staff: by phone, at the counter, or during a consultation (R11)."""
    staff = _staff(request)
    permissions.require_role(staff, permissions.CASEWORK)
    number = normalize_job_seeker_number(body.job_seeker_number)
    seeker = Seeker.objects.filter(office=staff.office, number=number).first()
    if seeker is not None:
        permissions.check_seeker(staff, seeker)
    created = _request_create(body, office=staff.office, number=number, actor=staff)
    return Status(201, RequestOut.from_model(created))


@requests.get("", response={200: RequestPage, **ERRORS})
def requests_list(request: HttpRequest, status: str = "", limit: int = 50, offset: int = 0):
    staff = _staff(request)
    permissions.require_role(staff, permissions.CASEWORK)
    qs = booking_selectors.requests_list(office=staff.office, status=status or None)
    qs = qs.select_related("office", "terms_version", "consultation")
    if staff.role == Staff.Role.COUNSELOR:
        qs = qs.filter(seeker__counselor=staff)
    count, rows = _page(qs, limit, offset)
    return {"count": count, "results": [RequestOut.from_model(r) for r in rows]}


@requests.get("/{int:request_id}", response={200: RequestOut, **ERRORS})
def requests_get(request: HttpRequest, request_id: int):
    return RequestOut.from_model(_request_get(_staff(request), request_id))


@requests.post("/{int:request_id}/schedule", response={201: ConsultationOut, **ERRORS})
def requests_schedule(request: HttpRequest, request_id: int, body: ScheduleIn):
    """R9: pick a time and a counselor; the meeting is created and the seeker told."""
    staff = _staff(request)
    if staff.role == Staff.Role.COUNSELOR and body.counselor not in (None, staff.username):
        raise BookingError("forbidden", _("Counselors book consultations for themselves."))
    consultation = booking_services.consultation_schedule(
        request_id=request_id,
        authorize=lambda found: permissions.check_request(staff, found),
        start=body.start,
        duration_minutes=body.duration_minutes,
        counselor=body.counselor,
        override_reason=body.override_reason,
        actor=staff,
    )
    return Status(201, ConsultationOut.from_model(consultation))


@requests.post("/{int:request_id}/decline", response={200: RequestOut, **ERRORS})
def requests_decline(request: HttpRequest, request_id: int, body: DeclineIn):
    staff = _staff(request)
    found = _request_get(staff, request_id)
    permissions.require_role(staff, permissions.OFFICE_WIDE)
    booking_services.request_decline(request_id=found.pk, reason=body.reason, actor=staff)
    return RequestOut.from_model(_request_get(staff, request_id))


# Consultations -------------------------------------------------------------------------

consultations = Router(tags=["consultations"])


def _consultation_get(staff: Staff, consultation_id: int) -> Consultation:
    found = (
        Consultation.objects.select_related("office", "seeker", "counselor__user")
        .filter(pk=consultation_id)
        .first()
    )
    if found is None:
        raise BookingError("not_found")
    permissions.check_consultation(staff, found)
    return found


@consultations.get("", response={200: ConsultationPage, **ERRORS})
def consultations_list(
    request: HttpRequest,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    counselor: str = "",
    status: str = "",
    limit: int = 100,
    offset: int = 0,
):
    staff = _staff(request)
    permissions.require_role(staff, permissions.CASEWORK)
    chosen = seeker_services.counselor_resolve(office=staff.office, username=counselor or None)
    if staff.role == Staff.Role.COUNSELOR:
        if chosen not in (None, staff):
            raise BookingError("forbidden", _("Counselors see their own calendar here."))
        chosen = staff
    qs = booking_selectors.consultations_list(
        office=staff.office,
        date_from=date_from,
        date_to=date_to,
        counselor=chosen,
        status=status or None,
    )
    count, rows = _page(qs, limit, offset)
    return {"count": count, "results": [ConsultationOut.from_model(c) for c in rows]}


@consultations.get("/{int:consultation_id}", response={200: ConsultationOut, **ERRORS})
def consultations_get(request: HttpRequest, consultation_id: int):
    return ConsultationOut.from_model(_consultation_get(_staff(request), consultation_id))


def _act(request: HttpRequest, consultation_id: int, service, **kwargs) -> ConsultationOut:
    staff = _staff(request)
    found = _consultation_get(staff, consultation_id)
    service(consultation_id=found.pk, actor=staff, **kwargs)
    return ConsultationOut.from_model(_consultation_get(staff, consultation_id))


@consultations.post("/{int:consultation_id}/cancel", response={200: ConsultationOut, **ERRORS})
def consultations_cancel(request: HttpRequest, consultation_id: int, body: CancelIn):
    """R12: a cancellation the office took (by phone, as a rule), with its reason."""
    return _act(
        request,
        consultation_id,
        booking_services.consultation_cancel,
        channel=body.channel,
        reason=body.reason,
    )


@consultations.post("/{int:consultation_id}/reschedule", response={200: ConsultationOut, **ERRORS})
def consultations_reschedule(request: HttpRequest, consultation_id: int, body: ScheduleIn):
    staff = _staff(request)
    if staff.role == Staff.Role.COUNSELOR and body.counselor not in (None, staff.username):
        raise BookingError("forbidden", _("Counselors book consultations for themselves."))
    return _act(
        request,
        consultation_id,
        booking_services.consultation_reschedule,
        start=body.start,
        duration_minutes=body.duration_minutes,
        counselor=body.counselor,
        override_reason=body.override_reason,
    )


@consultations.post("/{int:consultation_id}/start", response={200: ConsultationOut, **ERRORS})
def consultations_start(request: HttpRequest, consultation_id: int):
    return _act(request, consultation_id, booking_services.consultation_start)


@consultations.post("/{int:consultation_id}/complete", response={200: ConsultationOut, **ERRORS})
def consultations_complete(request: HttpRequest, consultation_id: int):
    return _act(request, consultation_id, booking_services.consultation_complete)


@consultations.post("/{int:consultation_id}/stop", response={200: ConsultationOut, **ERRORS})
def consultations_stop(request: HttpRequest, consultation_id: int, body: StopIn):
    """R15: stop for threats, abuse or a non-job purpose.

    `restrict_seeker` also refuses further use (R3); like every restriction, only a
    manager may do that.
    """
    if body.restrict_seeker:
        permissions.require_role(_staff(request), permissions.MANAGERS)
    return _act(
        request,
        consultation_id,
        booking_services.consultation_stop,
        reason_code=body.reason_code,
        note=body.note,
        restrict_seeker=body.restrict_seeker,
    )


@consultations.post("/{int:consultation_id}/no-show", response={200: ConsultationOut, **ERRORS})
def consultations_no_show(request: HttpRequest, consultation_id: int):
    return _act(request, consultation_id, booking_services.consultation_mark_no_show)


@consultations.post("/{int:consultation_id}/contact", response={200: ConsultationOut, **ERRORS})
def consultations_contact(request: HttpRequest, consultation_id: int):
    """R13: the seeker called, so the consultation must not become a no-show."""
    return _act(request, consultation_id, booking_services.consultation_record_contact)


@consultations.post("/{int:consultation_id}/meeting", response={200: ConsultationOut, **ERRORS})
def consultations_meeting(request: HttpRequest, consultation_id: int, body: MeetingDetailsIn):
    """Manual provider: the meeting staff made themselves; the seeker is then told."""
    return _act(
        request,
        consultation_id,
        meeting_services.meeting_enter_details,
        meeting_id=body.meeting_id,
        passcode=body.passcode,
        join_url=body.join_url,
    )


@consultations.post("/{int:consultation_id}/start-link", response={200: StartLinkOut, **ERRORS})
def consultations_start_link(request: HttpRequest, consultation_id: int, response: HttpResponse):
    """The host's start link, fetched fresh from Zoom (it is a credential: never cached)."""
    staff = _staff(request)
    found = _consultation_get(staff, consultation_id)
    url = meeting_services.meeting_start_url(consultation=found, actor=staff)
    response["Cache-Control"] = "no-store"
    return StartLinkOut(start_url=url)


# Blocked time --------------------------------------------------------------------------

blocked = Router(tags=["blocked time"])


@blocked.post("", response={201: BlockedTimeOut, **ERRORS})
def blocked_times_create(request: HttpRequest, body: BlockedTimeIn):
    """Counselors block their own time; coordinators and managers anyone's in the office."""
    staff = _staff(request)
    permissions.require_role(staff, permissions.CASEWORK)
    counselor = seeker_services.counselor_resolve(office=staff.office, username=body.counselor)
    if counselor is None:
        raise BookingError("invalid_input", _("Name the counselor."), field="counselor")
    if staff.role == Staff.Role.COUNSELOR and counselor != staff:
        raise BookingError("forbidden", _("Counselors block their own time."))
    block = booking_services.blocked_time_create(
        counselor=counselor, start=body.start, end=body.end, reason=body.reason, actor=staff
    )
    return Status(
        201,
        BlockedTimeOut(
            id=block.pk,
            counselor=counselor.username,
            start=block.start,
            end=block.end,
            reason=block.reason,
        ),
    )


@blocked.delete("/{int:block_id}", response={204: None, **ERRORS})
def blocked_times_delete(request: HttpRequest, block_id: int):
    staff = _staff(request)
    permissions.require_role(staff, permissions.CASEWORK)
    block = BlockedTime.objects.select_related("counselor").filter(pk=block_id).first()
    if block is None or block.counselor.office_id != staff.office_id:
        raise BookingError("not_found")
    if staff.role == Staff.Role.COUNSELOR and block.counselor_id != staff.pk:
        raise BookingError("forbidden", _("Counselors unblock their own time."))
    booking_services.blocked_time_delete(block_id=block.pk, actor=staff)
    return Status(204, None)


# Public: availability and terms --------------------------------------------------------

public = Router(tags=["public"])


@public.get("/offices/{office}/availability", response={200: Availability, **ERRORS}, auth=None)
def offices_availability(
    request: HttpRequest,
    office: str,
    date_from: dt.date,
    date_to: dt.date,
    duration: int = 60,
):
    """Free start times. Anonymous callers get counts only; the office's staff, names.

    The answer is cached under the office's calendar version, which every booking
    change bumps in its own transaction, so a cached answer is never older than the
    last booking; the short timeout only bounds staleness after office settings edits.
    """
    staff = staff_from_request(request)
    if staff is None:
        rate_limit(request, "public", settings.MADOGUCHI_PUBLIC_RATE_PER_MINUTE)
    if staff is not None and staff.office.code == office:
        # The token's statement has just read the caller's own office: no second one.
        version: tuple[int, int] | None = (staff.office.pk, staff.office.calendar_version)
    else:
        version = _office_version(office)
    if version is None:
        raise BookingError("not_found")
    office_id, calendar_version = version
    names = staff is not None and staff.office_id == office_id and staff.role != Staff.Role.AUDITOR
    key = ":".join(
        str(part)
        for part in (
            "availability",
            office_id,
            calendar_version,
            timezone.localdate(),
            date_from,
            date_to,
            duration,
            "staff" if names else "public",
        )
    )
    body = cache.get(key)
    if body is None:
        found = Office.objects.get(pk=office_id)
        slots = booking_selectors.availability(
            office=found, date_from=date_from, date_to=date_to, duration_minutes=duration
        )
        body = json.dumps(
            {
                "office": found.code,
                "duration_minutes": duration,
                "slots": [_slot_json(slot, names) for slot in slots],
            },
            ensure_ascii=False,
        ).encode()
        cache.set(key, body, timeout=AVAILABILITY_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json")


AVAILABILITY_CACHE_SECONDS = 300


def _office_version(code: str) -> tuple[int, int] | None:
    """(id, calendar version) of the office with `code`: all a cached answer needs, in
    a statement cheaper than the ORM's (its compilation cost more than the query)."""
    table = connection.ops.quote_name(Office._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, calendar_version FROM {table} WHERE code = %s", [code])  # noqa: S608
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _slot_json(slot: booking_selectors.Slot, names: bool) -> dict:
    """A slot as `PublicSlot` or `StaffSlot` (built by hand: this answer is hot)."""
    shown: dict = {
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "free": len(slot.counselors),
    }
    if names:
        shown["counselors"] = [c.username for c in slot.counselors]
    return shown


@public.post("/offices/{office}/requests", response={201: OnlineRequestOut, **ERRORS}, auth=None)
def offices_request_create(request: HttpRequest, office: str, body: OnlineRequestIn):
    """R6: a seeker's own request. It waits for the seeker to open the link mailed to the
    address in the registry (never one given here). Rate-limited per client address and
    per job-seeker number; the errors are the contract's (unlike the web form, which
    answers alike for every number, a caller here learns `seeker_not_registered`, at the
    pace the limits allow)."""
    rate_limit(request, "online-request", booking_services.ONLINE_REQUESTS_PER_ADDRESS_PER_MINUTE)
    found = Office.objects.filter(code=office).first()
    if found is None:
        raise BookingError("not_found")
    number = normalize_job_seeker_number(body.job_seeker_number)
    rate_limit(
        request,
        "online-request-number",
        booking_services.ONLINE_REQUESTS_PER_NUMBER_PER_HOUR,
        key=number,
        window_seconds=3600,
    )
    created = _request_create(body, office=found, number=number, actor=None)
    return Status(201, OnlineRequestOut(id=created.pk, status=created.status, office=found.code))


@public.get("/terms/current", response={200: TermsOut, **ERRORS}, auth=None)
def terms_current(request: HttpRequest, office: str = Query("", description="Office code")):
    """R4: the terms in force; an office's own version with `?office=CODE`."""
    rate_limit(request, "public", settings.MADOGUCHI_PUBLIC_RATE_PER_MINUTE)
    found = None
    if office:
        found = Office.objects.filter(code=office).first()
        if found is None:
            raise BookingError("not_found")
    return TermsOut.from_model(terms_in_force(office=found))


api.add_router("/seekers", seekers)
api.add_router("/requests", requests)
api.add_router("/consultations", consultations)
api.add_router("/blocked-times", blocked)
api.add_router("", public)
api.add_router("/reports", reports_router)


# Health --------------------------------------------------------------------------------


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


# A worker that has not been seen for this long is taken for gone.
WORKER_SILENCE = dt.timedelta(minutes=2)


def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and a worker was seen lately."""
    from madoguchi.worker.models import Heartbeat

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        seen = Heartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    except Exception as error:  # any database failure means not ready
        return JsonResponse({"status": "unavailable", "database": type(error).__name__}, status=503)
    if seen is None or timezone.now() - seen > WORKER_SILENCE:
        return JsonResponse(
            {
                "status": "unavailable",
                "database": "ok",
                "worker": "silent since " + seen.isoformat() if seen else "never seen",
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok", "worker": "ok"})


def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other path under /api/v1/ answers problem+json too, never an HTML page."""
    return problem_response("not_found", _("There is no such API path."))
