"""Office settings in the staff web (managers): the rules and the closure days."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.accounts.decorators import StaffRequest, roles_required
from madoguchi.bookings.models import Consultation
from madoguchi.offices.models import Closure, Staff
from madoguchi.offices.services import closure_add, closure_remove, office_update_settings
from madoguchi.web.forms import ClosureForm, OfficeSettingsForm
from madoguchi.web.staff import PAGE_SIZE


@require_http_methods(["GET", "POST"])
@roles_required(Staff.Role.MANAGER)
def settings_page(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    office = staff.office
    form = OfficeSettingsForm(request.POST or None, initial=OfficeSettingsForm.initial_for(office))
    if request.method == "POST" and form.is_valid():
        try:
            office_update_settings(office=office, changes=form.cleaned_data, actor=staff)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
            office.refresh_from_db()
        else:
            messages.success(request, _("The office settings are saved."))
            return redirect("staff:office")
    closures = Paginator(
        Closure.objects.filter(office=office, date__gte=timezone.localdate()).order_by("date"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "web/staff/office.html",
        {
            "staff": staff,
            "form": form,
            "closure_form": ClosureForm(),
            "closures": closures.object_list,
            "page": closures,
            "annual": office.annual_closures,
            "nav": "office",
        },
    )


@require_POST
@roles_required(Staff.Role.MANAGER)
def closure_create(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    form = ClosureForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date to close."))
        return redirect("staff:office")
    closure = closure_add(
        office=staff.office,
        date=form.cleaned_data["date"],
        reason=form.cleaned_data["reason"],
        actor=staff,
    )
    booked = Consultation.objects.filter(
        office=staff.office,
        status=Consultation.Status.SCHEDULED,
        start__date=closure.date,
    ).count()
    messages.success(request, _("The office is closed on %(date)s.") % {"date": closure.date})
    if booked:
        messages.warning(
            request,
            ngettext(
                "%(n)s consultation is booked that day: move or cancel it.",
                "%(n)s consultations are booked that day: move or cancel them.",
                booked,
            )
            % {"n": booked},
        )
    return redirect("staff:office")


@require_POST
@roles_required(Staff.Role.MANAGER)
def closure_delete(request: StaffRequest, closure_id: int) -> HttpResponse:
    staff = request.staff
    closure = Closure.objects.filter(pk=closure_id, office=staff.office).first()
    if closure is not None:
        closure_remove(closure=closure, actor=staff)
        messages.success(request, _("The closure is removed."))
    return redirect("staff:office")
