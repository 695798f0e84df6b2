"""The office's team in the staff web (managers): the list, adding someone (they choose
their own password from a mailed link), changing their role and details, deactivating
and reactivating, and resetting a lost second factor. Each change is the service's."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts.decorators import REFUSALS, StaffRequest, roles_required
from madoguchi.bookings.models import Consultation
from madoguchi.errors import BookingError
from madoguchi.offices import selectors, services
from madoguchi.offices.models import Staff
from madoguchi.records.audit import audit_record
from madoguchi.web.forms import TeamInviteForm, TeamMemberForm
from madoguchi.web.staff import PAGE_SIZE


def _add_errors(form: Any, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


@require_GET
@roles_required(Staff.Role.MANAGER)
def team(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    page = Paginator(selectors.team_list(office=staff.office), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Staff e-mail addresses and sign-in times are personal data: the view is audited.
    audit_record(
        actor=staff,
        action="staff.team_viewed",
        obj=staff.office,
        office=staff.office,
        details={"page": page.number},
    )
    return render(request, "web/staff/team.html", {"staff": staff, "page": page, "nav": "team"})


@require_http_methods(["GET", "POST"])
@roles_required(Staff.Role.MANAGER)
def team_add(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    form = TeamInviteForm(
        request.POST or None,
        initial={"role": Staff.Role.COUNSELOR},
        managers=services.staff_may_manage_managers(actor=staff),
    )
    if request.method == "POST" and form.is_valid():
        try:
            added = services.staff_invite(office=staff.office, actor=staff, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is added. A link to choose a password is mailed to %(email)s.")
                % {"name": added, "email": added.user.email},
            )
            return redirect("staff:team-member", staff_id=added.pk)
    return render(request, "web/staff/team_add.html", {"staff": staff, "form": form, "nav": "team"})


def _member(staff: Staff, staff_id: int) -> Staff:
    found = selectors.team_member(office=staff.office, staff_id=staff_id)
    if found is None:
        raise BookingError("not_found")
    return found


def _locked(staff: Staff, member: Staff) -> bool:
    """Another manager's account: only its display name and Zoom user can be changed here."""
    return (
        member.role == Staff.Role.MANAGER
        and member.pk != staff.pk
        and not services.staff_may_manage_managers(actor=staff)
    )


@require_http_methods(["GET", "POST"])
@roles_required(Staff.Role.MANAGER)
def team_member(request: StaffRequest, staff_id: int) -> HttpResponse:
    staff = request.staff
    member = _member(staff, staff_id)
    locked = _locked(staff, member)
    form = TeamMemberForm(
        request.POST or None,
        initial=TeamMemberForm.initial_for(member),
        managers=services.staff_may_manage_managers(actor=staff),
        locked=locked,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(staff=member, changes=form.cleaned_data, actor=staff)
        except ValidationError as error:
            _add_errors(form, error)
        except BookingError as error:
            if error.code == "not_found":
                raise
            form.add_error("role", error.detail)  # oneself, or the office's last manager
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("staff:team-member", staff_id=member.pk)
    else:
        audit_record(actor=staff, action="staff.viewed", obj=member, office=staff.office)
    return render(
        request,
        "web/staff/team_member.html",
        {
            "staff": staff,
            "member": member,
            "form": form,
            "is_self": member.pk == staff.pk,
            "locked": locked,
            "nav": "team",
        },
    )


@require_POST
@roles_required(Staff.Role.MANAGER)
def team_member_action(request: StaffRequest, staff_id: int, action: str) -> HttpResponse:
    """deactivate, reactivate, reset-two-factor or resend-link: one service each."""
    staff = request.staff
    reason = request.POST.get("reason", "")
    try:
        member = _member(staff, staff_id)
        if action == "deactivate":
            services.staff_deactivate(staff=member, reason=reason, actor=staff)
            messages.success(request, _("Deactivated: they are signed out everywhere."))
            _warn_of_bookings(request, member)
        elif action == "reactivate":
            services.staff_reactivate(staff=member, reason=reason, actor=staff)
            messages.success(request, _("Reactivated: they can sign in again."))
        elif action == "reset-two-factor":
            services.staff_two_factor_reset(staff=member, reason=reason, actor=staff)
            messages.success(
                request,
                _("Two-step sign-in is reset: they set up an authenticator at next sign-in."),
            )
        elif action == "resend-link":
            services.staff_invite_resend(staff=member, actor=staff)
            messages.success(request, _("A new link to choose a password is mailed."))
        else:
            raise BookingError("not_found")
    except BookingError as error:
        if error.code in REFUSALS:
            raise
        messages.error(request, error.detail)
    return redirect("staff:team-member", staff_id=staff_id)


def _warn_of_bookings(request: HttpRequest, member: Staff) -> None:
    booked = Consultation.objects.filter(
        counselor=member, status=Consultation.Status.SCHEDULED, start__gte=timezone.now()
    ).count()
    if booked:
        messages.warning(
            request,
            ngettext(
                "%(n)s consultation is booked with them: move or cancel it.",
                "%(n)s consultations are booked with them: move or cancel them.",
                booked,
            )
            % {"n": booked},
        )
