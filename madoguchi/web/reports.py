"""Usage reports in the staff web (R20): the figures, charts and CSV downloads."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from madoguchi.accounts.decorators import StaffRequest, refused, staff_required
from madoguchi.errors import BookingError
from madoguchi.offices.models import Staff
from madoguchi.records.report_services import (
    READERS,
    report_all_allowed,
    report_export,
    report_get,
    report_view_record,
)
from madoguchi.records.report_tables import report_tables
from madoguchi.records.reports import Period, Report


def _default_period() -> str:
    """Last month, the latest complete one."""
    today = timezone.localdate()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _query(request: HttpRequest) -> tuple[str, Period, str, bool]:
    text = request.GET.get("period") or _default_period()
    scope = request.GET.get("scope", "")
    publishable = request.GET.get("version") == "publishable" or scope == "all"
    return text, Period.parse(text), scope, publishable


def _report(request: StaffRequest) -> tuple[str, Report, str, bool] | HttpResponse:
    """The report the query asks for, with its period text, scope and version; or the
    page again with the period's error, or the refused page."""
    staff = request.staff
    if staff.role not in READERS:
        raise BookingError("forbidden", _("Reports are for managers and auditors."))
    try:
        text, period, scope, publishable = _query(request)
        report = report_get(staff=staff, scope=scope, period=period, publishable=publishable)
    except BookingError as error:
        if error.code != "invalid_input":
            return refused(request, error)
        return _page(request, staff, text=request.GET.get("period", ""), error=error)
    return text, report, scope, publishable


@require_GET
@staff_required
def reports(request: StaffRequest) -> HttpResponse:
    found = _report(request)
    if isinstance(found, HttpResponse):
        return found
    text, report, scope, publishable = found
    report_view_record(report=report, actor=request.staff)
    params = {"period": text, "version": "publishable" if publishable else "internal"}
    if scope:
        params["scope"] = scope
    return _page(
        request,
        request.staff,
        text=text,
        report=report,
        tables=report_tables(report),
        csv_query=urlencode(params),
    )


def _page(request: HttpRequest, staff: Staff, *, text: str, **context) -> HttpResponse:
    error = context.get("error")
    return render(
        request,
        "web/staff/reports.html",
        {
            "staff": staff,
            "nav": "reports",
            "period_text": text,
            "may_see_all": report_all_allowed(staff=staff),
            **context,
        },
        status=422 if error else 200,
    )


@require_GET
@staff_required
def reports_csv(request: StaffRequest) -> HttpResponse:
    found = _report(request)
    if isinstance(found, HttpResponse):
        return found
    _text, report, _scope, publishable = found
    staff = request.staff
    body = report_export(report=report, actor=staff, fmt="csv")
    version = "publishable" if publishable else "internal"
    name = f"madoguchi-usage-{report.scope}-{report.period}-{version}.csv"
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
