"""Usage reports: who may see which, and the audited export (R20, R21).

- An office's report, internal or publishable: the office's managers and auditors.
- The whole deployment: in its publishable form only, for a superuser. Not for an
  office's manager: their own office's exact figures subtracted from the deployment's
  would give other offices' suppressed cells away. The internal version would put every
  office's counselors side by side; no role needs that, so none gets it.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from madoguchi.errors import BookingError
from madoguchi.offices.models import Office, Staff
from madoguchi.records.audit import audit_record
from madoguchi.records.report_tables import report_csv
from madoguchi.records.reports import Period, Report, usage_report

READERS = frozenset({Staff.Role.MANAGER, Staff.Role.AUDITOR})


def report_all_allowed(*, staff: Staff) -> bool:
    """Whether `staff` may see the whole deployment's (publishable) report."""
    return bool(staff.user.is_superuser)


def report_office(*, staff: Staff, scope: str, publishable: bool) -> Office | None:
    """The office `staff` asks for (`scope` is an office code, "" for their own, or
    "all" for the deployment); `forbidden` or `not_found` when they may not see it."""
    if staff.role not in READERS:
        raise BookingError("forbidden", _("Reports are for managers and auditors."))
    if scope == "all":
        if not report_all_allowed(staff=staff):
            raise BookingError(
                "forbidden", _("The report of all offices is for the registry administrator.")
            )
        if not publishable:
            raise BookingError(
                "forbidden", _("The report of all offices is shown in its publishable form only.")
            )
        return None
    if scope and scope != staff.office.code:
        raise BookingError("not_found")
    return staff.office


def report_get(*, staff: Staff, scope: str, period: Period, publishable: bool) -> Report:
    office = report_office(staff=staff, scope=scope, publishable=publishable)
    return usage_report(office=office, period=period, publishable=publishable)


def report_view_record(*, report: Report, actor: Staff) -> None:
    """Record that `actor` saw the internal version (`report.viewed`): it names counselors
    and carries the free-text reasons given for declining (R21). Seeing the publishable
    version is not recorded: there is nothing personal in it."""
    if report.publishable:
        return
    audit_record(
        actor=actor,
        action="report.viewed",
        obj=report.office or actor.office,
        office=report.office or actor.office,
        details={"scope": report.scope, "period": str(report.period), "publishable": False},
    )


def report_export(*, report: Report, actor: Staff, fmt: str) -> bytes | None:
    """Record the export in the audit log (`report.exported`); the CSV bytes for
    `fmt="csv"`, None for a JSON export that the API renders itself."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="report.exported",
            obj=report.office or actor.office,
            office=report.office or actor.office,
            details={
                "scope": report.scope,
                "period": str(report.period),
                "publishable": report.publishable,
                "format": fmt,
            },
        )
    return report_csv(report) if fmt == "csv" else None
