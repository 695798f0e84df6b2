"""Staff pages of the records (R19, R21): the audit log search and the usage records,
for the office's auditors and managers. Opening either is itself audited."""

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from madoguchi.accounts.decorators import StaffRequest, roles_required
from madoguchi.errors import BookingError
from madoguchi.offices.models import Staff
from madoguchi.records import selectors
from madoguchi.records.audit import audit_record
from madoguchi.records.models import AuditEntry
from madoguchi.seekers.numbers import normalize_job_seeker_number
from madoguchi.web.staff import PAGE_SIZE

OBJECT_TYPES = [
    ("", _("Any")),
    ("seeker", _("Job seeker")),
    ("request", _("Request")),
    ("consultation", _("Consultation")),
    ("office", _("Office")),
    ("staff", _("Staff member")),
    ("termsversion", _("Terms version")),
]


class AuditSearchForm(forms.Form):
    actor = forms.CharField(label=_("Who (user name)"), max_length=150, required=False)
    action = forms.CharField(
        label=_("What (action)"),
        max_length=80,
        required=False,
        help_text=_("E.g. consultation.notes_viewed, or consultation. for all of them."),
    )
    seeker = forms.CharField(label=_("Job-seeker number"), max_length=40, required=False)
    object_type = forms.ChoiceField(label=_("Object type"), choices=OBJECT_TYPES, required=False)
    object_id = forms.CharField(label=_("Object number"), max_length=50, required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_seeker(self) -> str:
        raw = self.cleaned_data["seeker"]
        if not raw.strip():
            return ""
        try:
            return normalize_job_seeker_number(raw)
        except BookingError as error:
            raise forms.ValidationError(error.detail) from error

    def clean(self) -> dict:
        data = super().clean() or self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> selectors.AuditFilter:
        data = self.cleaned_data
        return selectors.AuditFilter(
            actor=data["actor"].strip(),
            action=data["action"].strip(),
            seeker_number=data["seeker"],
            object_type=data["object_type"],
            object_id=data["object_id"].strip(),
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


def _query_string(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_GET
@roles_required(Staff.Role.MANAGER, Staff.Role.AUDITOR)
def audit_log(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    form = AuditSearchForm(request.GET or None)
    filters: selectors.AuditFilter | None = selectors.AuditFilter()
    if form.is_bound and form.is_valid():
        filters = form.filters()
    elif form.is_bound:
        filters = None
    entries = (
        selectors.audit_entries_search(office=staff.office, filters=filters)
        if filters is not None
        else AuditEntry.objects.none()
    )
    audit_record(
        actor=staff,
        action="audit.viewed",
        obj=staff.office,
        office=staff.office,
        details={"filters": {k: str(v) for k, v in vars(filters).items() if v} if filters else {}},
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/staff/audit.html",
        {"staff": staff, "form": form, "page": page, "qs": _query_string(request), "nav": "audit"},
    )


@require_GET
@roles_required(Staff.Role.MANAGER, Staff.Role.AUDITOR)
def usage(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    views = selectors.usage_page_views(office=staff.office)
    page = Paginator(views, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(
        actor=staff,
        action="usage.viewed",
        obj=staff.office,
        office=staff.office,
        details={"page": page.number},
    )
    return render(
        request,
        "web/staff/usage.html",
        {
            "staff": staff,
            "page": page,
            "retention_days": staff.office.retention_days,
            "nav": "usage",
        },
    )
