"""The disclosure register (R20) and a seeker's own-data export (開示請求) in the staff web.

Managers record, decide (a second manager) and export; auditors read the register.
Counselors and coordinators are refused. The archives are streamed, never stored.
"""

import io
from typing import cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts.decorators import StaffRequest, roles_required
from madoguchi.errors import BookingError
from madoguchi.offices.models import Staff
from madoguchi.records import disclosure as services
from madoguchi.records.models import DisclosureRequest
from madoguchi.seekers.models import Seeker
from madoguchi.web.staff import PAGE_SIZE

MANAGER = Staff.Role.MANAGER
AUDITOR = Staff.Role.AUDITOR


class DisclosureForm(forms.Form):
    requesting_body = forms.CharField(label=gettext_lazy("Requesting body"), max_length=200)
    requesting_person = forms.CharField(
        label=gettext_lazy("Requesting person (name and position)"), max_length=200
    )
    legal_basis = forms.ChoiceField(
        label=gettext_lazy("Legal basis"),
        choices=DisclosureRequest.LegalBasis.choices,
        widget=forms.RadioSelect,
    )
    legal_basis_text = forms.CharField(
        label=gettext_lazy("Provision, if other"), max_length=300, required=False
    )
    reference = forms.CharField(label=gettext_lazy("Reference number"), max_length=100)
    numbers = forms.CharField(
        label=gettext_lazy("Job-seeker numbers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line, or separated by commas."),
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Data categories"),
        choices=DisclosureRequest.Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    date_from = forms.DateField(
        label=gettext_lazy("Data from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Data until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    due_on = forms.DateField(
        label=gettext_lazy("Answer due on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def number_list(self) -> list[str]:
        text = self.cleaned_data["numbers"].replace(",", "\n").replace("、", "\n")
        return [line.strip() for line in text.splitlines() if line.strip()]


@require_GET
@roles_required(MANAGER, AUDITOR)
def disclosures(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    qs = DisclosureRequest.objects.filter(office=staff.office).select_related(
        "recorded_by", "decided_by"
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/staff/disclosures.html",
        {"staff": staff, "page": page, "nav": "disclosures"},
    )


@require_http_methods(["GET", "POST"])
@roles_required(MANAGER)
def disclosure_new(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    form = DisclosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            disclosure = services.disclosure_record(
                actor=staff,
                requesting_body=data["requesting_body"],
                requesting_person=data["requesting_person"],
                legal_basis=data["legal_basis"],
                legal_basis_text=data["legal_basis_text"],
                reference=data["reference"],
                numbers=form.number_list(),
                categories=data["categories"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                due_on=data["due_on"],
            )
        except BookingError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("The request is recorded. Another manager decides on it."))
            return redirect("staff:disclosure", disclosure_id=disclosure.pk)
    return render(
        request,
        "web/staff/disclosure_new.html",
        {"staff": staff, "form": form, "nav": "disclosures"},
    )


def _disclosure(staff: Staff, disclosure_id: int) -> DisclosureRequest:
    found = (
        DisclosureRequest.objects.select_related("recorded_by", "decided_by", "exported_by")
        .filter(office=staff.office, pk=disclosure_id)
        .first()
    )
    if found is None:
        raise BookingError("not_found")
    return found


@require_GET
@roles_required(MANAGER, AUDITOR)
def disclosure(request: StaffRequest, disclosure_id: int) -> HttpResponse:
    staff = request.staff
    found = _disclosure(staff, disclosure_id)
    services.disclosure_view(disclosure=found, actor=staff)
    is_manager = staff.role == MANAGER
    return render(
        request,
        "web/staff/disclosure.html",
        {
            "staff": staff,
            "d": found,
            "may_decide": is_manager
            and found.status == DisclosureRequest.Status.PENDING
            and found.recorded_by_id != staff.user_id,
            "may_export": is_manager and found.status == DisclosureRequest.Status.APPROVED,
            "nav": "disclosures",
        },
    )


@require_POST
@roles_required(MANAGER)
def disclosure_decide(request: StaffRequest, disclosure_id: int) -> HttpResponse:
    staff = request.staff
    decision = request.POST.get("decision")
    try:
        if decision not in ("approve", "reject"):
            raise BookingError("invalid_input", _("Choose to approve or to reject."))
        services.disclosure_decide(
            disclosure_id=disclosure_id,
            approve=decision == "approve",
            reason=request.POST.get("reason", ""),
            actor=staff,
        )
    except BookingError as error:
        if error.code == "not_found":
            raise
        messages.error(request, error.detail)
    else:
        messages.success(
            request,
            _("The request is approved.")
            if decision == "approve"
            else _("The request is rejected."),
        )
    return redirect("staff:disclosure", disclosure_id=disclosure_id)


def _download(archive: services.Archive) -> HttpResponse:
    """The archive as an attachment, streamed in blocks by FileResponse.

    FileResponse is a streaming response, not an HttpResponse; the staff decorators are
    typed for HttpResponse but pass any response through, hence the cast.
    """
    response = FileResponse(
        io.BytesIO(archive.content),
        as_attachment=True,
        filename=archive.filename,
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"
    response["X-Archive-SHA256"] = archive.sha256
    return cast(HttpResponse, response)


@require_POST
@roles_required(MANAGER)
def disclosure_export(request: StaffRequest, disclosure_id: int) -> HttpResponse:
    staff = request.staff
    try:
        archive = services.disclosure_export(disclosure_id=disclosure_id, actor=staff)
    except BookingError as error:
        if error.code == "not_found":
            raise
        messages.error(request, error.detail)
        return redirect("staff:disclosure", disclosure_id=disclosure_id)
    return _download(archive)


@require_http_methods(["GET", "POST"])
@roles_required(MANAGER)
def seeker_export(request: StaffRequest, number: str) -> HttpResponse:
    """A seeker's own-data export: the page says what it holds; POST downloads it."""
    staff = request.staff
    found = (
        Seeker.objects.select_related("office", "counselor__user")
        .filter(office=staff.office, number=number)
        .first()
    )
    if found is None:
        raise BookingError("not_found")
    withhold = request.POST.get("withhold_notes") == "1"
    reason = request.POST.get("withhold_reason", "").strip()
    error = ""
    if request.method == "POST":
        if withhold and not reason:
            error = _("Give the reason for withholding the notes.")
        else:
            return _download(
                services.seeker_export(
                    seeker=found, actor=staff, withhold_notes_reason=reason if withhold else ""
                )
            )
    return render(
        request,
        "web/staff/seeker_export.html",
        {
            "staff": staff,
            "s": found,
            "withhold": withhold,
            "reason": reason,
            "error": error,
            "nav": "seekers",
        },
        status=422 if error else 200,
    )
