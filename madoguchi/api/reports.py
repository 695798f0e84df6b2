"""`GET /api/v1/reports/usage` (R20): the usage figures as JSON, for managers and auditors.

    ?month=YYYY-MM (or YYYY for a whole year)
    &office=CODE   the caller's own office (the default), or "all" for the deployment
                   (publishable only, superusers; see madoguchi.records.report_services)
    &publishable=true

Every call is an export, recorded in the audit log as `report.exported`.
"""

from django.http import HttpRequest
from ninja import Query, Router, Schema

from madoguchi.api.schemas import Problem
from madoguchi.offices.models import Staff
from madoguchi.records import report_services
from madoguchi.records.reports import Period, Spread

router = Router(tags=["reports"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}


class SpreadOut(Schema):
    n: int | None
    mean: float | None
    median: float | None

    @classmethod
    def from_spread(cls, spread: Spread) -> "SpreadOut":
        return cls(n=spread.n, mean=spread.mean, median=spread.median)


class CounselorOut(Schema):
    username: str
    name: str
    held: int
    no_show: int
    cancelled: int


class ReasonOut(Schema):
    reason: str
    count: int


class UsageReportOut(Schema):
    office: str | None
    period: str
    time_zone: str
    publishable: bool
    min_cell: int
    counts: dict[str, int | None]
    suppressed: list[str]
    planned_minutes: SpreadOut
    actual_minutes: SpreadOut
    lead_days: SpreadOut
    no_show_rate: float | None
    by_counselor: list[CounselorOut]
    declined_by_reason: list[ReasonOut]


@router.get("/usage", response={200: UsageReportOut, **ERRORS})
def reports_usage(
    request: HttpRequest,
    month: str = Query(..., description="YYYY-MM, or YYYY for the whole year"),
    office: str = Query("", description="Office code (default: yours) or 'all'"),
    publishable: bool = False,
):
    staff = request.auth  # type: ignore[attr-defined]
    assert isinstance(staff, Staff)
    report = report_services.report_get(
        staff=staff, scope=office, period=Period.parse(month), publishable=publishable
    )
    report_services.report_export(report=report, actor=staff, fmt="json")
    return UsageReportOut(
        office=report.office.code if report.office else None,
        period=str(report.period),
        time_zone=report.time_zone,
        publishable=report.publishable,
        min_cell=report.threshold,
        counts=report.counts,
        suppressed=sorted(report.suppressed),
        planned_minutes=SpreadOut.from_spread(report.planned_minutes),
        actual_minutes=SpreadOut.from_spread(report.actual_minutes),
        lead_days=SpreadOut.from_spread(report.lead_days),
        no_show_rate=report.no_show_rate,
        by_counselor=[CounselorOut(**vars(r)) for r in report.by_counselor],
        declined_by_reason=[ReasonOut(reason=r, count=n) for r, n in report.declined_by_reason],
    )
