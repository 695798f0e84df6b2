"""The seeker registry in the staff web: search, a seeker's record with their no-show
history, restriction and lifting (managers), and the review queue (R14)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from madoguchi.accounts.decorators import staff_required
from madoguchi.api import permissions
from madoguchi.bookings.models import Consultation
from madoguchi.errors import BookingError
from madoguchi.offices.models import Staff
from madoguchi.seekers import services as seeker_services
from madoguchi.seekers.models import Seeker
from madoguchi.web.staff import PAGE_SIZE, _forbidden


@require_GET
@staff_required
def seekers(request: HttpRequest) -> HttpResponse:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    try:
        permissions.require_role(staff, permissions.CASEWORK)
    except BookingError as error:
        return _forbidden(request, error)
    qs = Seeker.objects.of_office(staff.office).select_related("counselor__user")
    if staff.role == Staff.Role.COUNSELOR:
        qs = qs.caseload_of(staff)
    query = request.GET.get("q", "")
    review = request.GET.get("review") == "1"
    qs = qs.search(query)
    if review:
        qs = qs.filter(restriction=Seeker.Restriction.REVIEW)
    page = Paginator(qs.order_by("name_kana", "number"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "web/staff/seekers.html",
        {"staff": staff, "page": page, "q": query, "review": review, "nav": "seekers"},
    )


def _seeker(staff: Staff, number: str) -> Seeker:
    found = (
        Seeker.objects.select_related("counselor__user", "office")
        .filter(office=staff.office, number=number)
        .first()
    )
    if found is None:
        raise BookingError("not_found")
    permissions.check_seeker(staff, found)
    return found


@require_GET
@staff_required
def seeker(request: HttpRequest, number: str) -> HttpResponse:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    try:
        found = _seeker(staff, number)
    except BookingError as error:
        return _forbidden(request, error)
    seeker_services.seeker_view_record(seeker=found, actor=staff)
    history = Paginator(
        Consultation.objects.filter(seeker=found)
        .select_related("counselor__user")
        .order_by("-start", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    no_shows = Consultation.objects.filter(seeker=found, status=Consultation.Status.NO_SHOW).count()
    return render(
        request,
        "web/staff/seeker.html",
        {
            "staff": staff,
            "s": found,
            "history": history,
            "no_shows": no_shows,
            "can_restrict": staff.role == Staff.Role.MANAGER,
            "nav": "seekers",
        },
    )


@require_POST
@staff_required
def seeker_restriction(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Managers restrict (R3, R14) or lift; each with a reason, audited by the service."""
    staff: Staff = request.staff  # type: ignore[attr-defined]
    try:
        found = _seeker(staff, number)
        permissions.require_role(staff, permissions.MANAGERS)
        if action == "restrict":
            seeker_services.seeker_restrict(
                seeker=found, reason=request.POST.get("reason", ""), actor=staff
            )
            messages.success(
                request, _("Online consultations are now refused for this job seeker.")
            )
        elif action == "lift":
            seeker_services.seeker_lift_restriction(
                seeker=found, reason=request.POST.get("reason", ""), actor=staff
            )
            messages.success(request, _("The restriction is lifted."))
        else:
            raise BookingError("not_found")
    except BookingError as error:
        if error.code in ("forbidden", "not_found"):
            return _forbidden(request, error)
        messages.error(request, error.detail)
    return redirect("staff:seeker", number=number)
