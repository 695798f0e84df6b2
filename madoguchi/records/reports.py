"""Usage figures (R19, R20): pure selectors over requests and consultations.

`usage_report(office=..., period=...)` counts one office (or, with `office=None`, the
whole deployment) for a month or a year, in a handful of grouped queries:

- requests made in the period (by `created_at`): by channel, by outcome, with an
  interpreter or an assistant, declined by reason (internal only: the reason is free
  text);
- consultations starting in the period: by outcome, cancellations by channel, held
  (completed or stopped) by date, weekday and hour, planned and actual length, lead
  time (request day to consultation day), the no-show rate; by counselor (internal only).

Dates, weekdays and hours are the office's local time (the deployment's `TIME_ZONE`
for the whole deployment), done by the database on SQLite and PostgreSQL alike.

`usage_report(..., publishable=True)` is the version that may leave the office: small cells and
everything they could be derived from are suppressed (`None`), and nothing per person
(counselors, free-text reasons) is left in it.
"""

import datetime as dt
import statistics
import zoneinfo
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db.models import Count, DateField, F, Q
from django.db.models.functions import (
    ExtractDay,
    ExtractHour,
    ExtractIsoWeekDay,
    ExtractMonth,
    TruncDate,
)
from django.utils.translation import gettext as _

from madoguchi.bookings.models import Channel, Consultation, Request
from madoguchi.errors import BookingError
from madoguchi.offices.models import Office
from madoguchi.records.suppression import Sum, suppress

Status = Consultation.Status
HELD = (Status.COMPLETED, Status.STOPPED)
OUTCOMES = ("completed", "stopped", "no_show", "cancelled", "upcoming")
REQUEST_OUTCOMES = ("scheduled", "declined", "open", "expired", "withdrawn")
CANCEL_CHANNELS = (*Channel.values, "unrecorded")
WEEKDAYS = tuple(range(1, 8))  # ISO: 1 Monday … 7 Sunday
HOURS = tuple(range(24))


@dataclass(frozen=True)
class Period:
    year: int
    month: int | None = None  # None: the whole year

    @classmethod
    def parse(cls, text: str) -> "Period":
        """`YYYY-MM` or `YYYY`; anything else is `invalid_input`."""
        try:
            if len(text) == 7 and text[4] == "-":
                period = cls(int(text[:4]), int(text[5:]))
                if not 1 <= (period.month or 0) <= 12:
                    raise ValueError(text)
            elif len(text) == 4:
                period = cls(int(text))
            else:
                raise ValueError(text)
        except ValueError as error:
            raise BookingError(
                "invalid_input", _("Give the month as YYYY-MM or the year as YYYY."), field="month"
            ) from error
        if not 2000 <= period.year <= 2999:
            raise BookingError("invalid_input", _("The year is out of range."), field="month")
        return period

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" if self.month else f"{self.year:04d}"

    def bounds(self, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware datetimes: local midnights."""
        if self.month:
            first = dt.date(self.year, self.month, 1)
            after = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
        else:
            first, after = dt.date(self.year, 1, 1), dt.date(self.year + 1, 1, 1)
        return (
            dt.datetime.combine(first, dt.time(), tzinfo=tz),
            dt.datetime.combine(after, dt.time(), tzinfo=tz),
        )

    def slots(self) -> tuple[int, ...]:
        """The days of the month, or the months of the year, for the by-date figures."""
        if self.month:
            start, end = self.bounds(dt.UTC)
            return tuple(range(1, (end - start).days + 1))
        return tuple(range(1, 13))


@dataclass(frozen=True)
class Spread:
    """Mean and median of a quantity over `n` consultations (minutes or days)."""

    n: int | None
    mean: float | None
    median: float | None

    @classmethod
    def of(cls, histogram: Mapping[float, int]) -> "Spread":
        values = Counter({k: v for k, v in histogram.items() if v})
        n = values.total()
        if not n:
            return cls(0, None, None)
        ordered = sorted(values.elements())
        return cls(n, round(statistics.fmean(ordered), 1), float(statistics.median(ordered)))


@dataclass(frozen=True)
class CounselorRow:
    username: str
    name: str
    held: int
    no_show: int
    cancelled: int


@dataclass(frozen=True)
class Report:
    office: Office | None
    period: Period
    time_zone: str
    threshold: int
    counts: dict[str, int | None]
    planned_minutes: Spread
    actual_minutes: Spread
    lead_days: Spread
    no_show_rate: float | None
    publishable: bool = False
    suppressed: frozenset[str] = frozenset()
    by_counselor: tuple[CounselorRow, ...] = ()
    declined_by_reason: tuple[tuple[str, int], ...] = ()
    sums: tuple[Sum, ...] = field(default=(), repr=False)

    @property
    def scope(self) -> str:
        return self.office.code if self.office else "all"


def _sums(period: Period) -> tuple[Sum, ...]:
    """How the figures add up: every margin a reader could subtract from."""
    return (
        Sum("requests", tuple(f"requests.channel.{c}" for c in Channel.values)),
        Sum("requests", tuple(f"requests.outcome.{o}" for o in REQUEST_OUTCOMES)),
        Sum("consultations", tuple(f"consultations.{o}" for o in OUTCOMES)),
        Sum("held", ("consultations.completed", "consultations.stopped")),
        Sum("due", ("held", "consultations.no_show")),
        Sum("consultations.cancelled", tuple(f"cancelled.{c}" for c in CANCEL_CHANNELS)),
        Sum("held", tuple(f"held.date.{d}" for d in period.slots())),
        Sum("held", tuple(f"held.weekday.{w}" for w in WEEKDAYS)),
        Sum("held", tuple(f"held.hour.{h}" for h in HOURS)),
    )


def usage_report(*, office: Office | None, period: Period, publishable: bool = False) -> Report:
    """The figures of `office` (None: every office) for `period`: internal, or with
    `publishable` the suppressed version without anything per person."""
    tz = office.tz if office else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start, end = period.bounds(tz)
    requests = Request.objects.filter(created_at__gte=start, created_at__lt=end)
    consultations = Consultation.objects.filter(start__gte=start, start__lt=end)
    if office is not None:
        requests = requests.filter(office=office)
        consultations = consultations.filter(office=office)
    held = consultations.filter(status__in=HELD)
    counts: Counter[str] = Counter()
    _count_requests(requests, counts)
    planned = _count_consultations(consultations, counts)
    _count_held_times(held, period, tz, counts)
    counts["held"] = counts["consultations.completed"] + counts["consultations.stopped"]
    counts["due"] = counts["held"] + counts["consultations.no_show"]
    names = {name for s in _sums(period) for name in (s.total, *s.parts)}
    names |= {"requests.interpreter", "requests.assistant"}
    due = counts["due"]
    report = Report(
        office=office,
        period=period,
        time_zone=str(tz),
        threshold=_threshold(office),
        counts={name: counts[name] for name in sorted(names)},
        planned_minutes=Spread.of(planned),
        actual_minutes=Spread.of(_actual_minutes(held)),
        lead_days=Spread.of(_lead_days(consultations, tz)),
        no_show_rate=round(counts["consultations.no_show"] / due, 3) if due else None,
        by_counselor=() if publishable else _by_counselor(consultations),
        declined_by_reason=() if publishable else _declined_by_reason(requests),
        sums=_sums(period),
    )
    return _publishable(report) if publishable else report


def _threshold(office: Office | None) -> int:
    if office is not None:
        return office.report_min_cell
    return max(Office.objects.values_list("report_min_cell", flat=True), default=5)


def _count_requests(requests, counts: Counter[str]) -> None:
    rows = requests.values("channel", "status").annotate(
        n=Count("id"),
        interpreter=Count("id", filter=~Q(interpreter_language="")),
        assistant=Count("id", filter=Q(assistant=True)),
    )
    open_ = {Request.Status.REQUESTED, Request.Status.PENDING_VERIFICATION}
    for row in rows:
        outcome = "open" if row["status"] in open_ else row["status"]
        counts["requests"] += row["n"]
        counts[f"requests.channel.{row['channel']}"] += row["n"]
        counts[f"requests.outcome.{outcome}"] += row["n"]
        counts["requests.interpreter"] += row["interpreter"]
        counts["requests.assistant"] += row["assistant"]


def _count_consultations(consultations, counts: Counter[str]) -> Counter[float]:
    """Counts by outcome and cancel channel; returns held consultations' planned minutes."""
    rows = consultations.values("status", "cancel_channel", planned=F("end") - F("start")).annotate(
        n=Count("id")
    )
    planned: Counter[float] = Counter()
    for row in rows:
        status, n = row["status"], row["n"]
        outcome = "upcoming" if status in (Status.SCHEDULED, Status.IN_PROGRESS) else status
        counts["consultations"] += n
        counts[f"consultations.{outcome}"] += n
        if status == Status.CANCELLED:
            counts[f"cancelled.{row['cancel_channel'] or 'unrecorded'}"] += n
        if status in HELD:
            planned[row["planned"].total_seconds() / 60] += n
    return planned


def _count_held_times(held, period: Period, tz: dt.tzinfo, counts: Counter[str]) -> None:
    slot = ExtractDay if period.month else ExtractMonth
    rows = held.values(
        slot=slot("start", tzinfo=tz),
        weekday=ExtractIsoWeekDay("start", tzinfo=tz),
        hour=ExtractHour("start", tzinfo=tz),
    ).annotate(n=Count("id"))
    for row in rows:
        counts[f"held.date.{row['slot']}"] += row["n"]
        counts[f"held.weekday.{row['weekday']}"] += row["n"]
        counts[f"held.hour.{row['hour']}"] += row["n"]


def _actual_minutes(held) -> Counter[float]:
    rows = (
        held.filter(actual_start__isnull=False, actual_end__isnull=False)
        .values(actual=F("actual_end") - F("actual_start"))
        .annotate(n=Count("id"))
    )
    return Counter({round(r["actual"].total_seconds() / 60, 1): r["n"] for r in rows})


def _lead_days(consultations, tz: dt.tzinfo) -> Counter[float]:
    """Office-local calendar days from the request to the consultation."""
    rows = (
        consultations.filter(request__isnull=False)
        .values(
            lead=TruncDate("start", tzinfo=tz, output_field=DateField())
            - TruncDate("request__created_at", tzinfo=tz, output_field=DateField())
        )
        .annotate(n=Count("id"))
    )
    histogram: Counter[float] = Counter()
    for row in rows:
        histogram[float(row["lead"].days)] += row["n"]
    return histogram


def _by_counselor(consultations) -> tuple[CounselorRow, ...]:
    rows = consultations.values(
        "counselor__user__username", "counselor__display_name", "status"
    ).annotate(n=Count("id"))
    names: dict[str, str] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for row in rows:
        username = row["counselor__user__username"]
        names[username] = row["counselor__display_name"] or username
        column = "held" if row["status"] in HELD else row["status"]
        counts[username, column] += row["n"]
    return tuple(
        CounselorRow(
            username=username,
            name=names[username],
            held=counts[username, "held"],
            no_show=counts[username, Status.NO_SHOW],
            cancelled=counts[username, Status.CANCELLED],
        )
        for username in sorted(names)
    )


def _declined_by_reason(requests) -> tuple[tuple[str, int], ...]:
    rows = (
        requests.filter(status=Request.Status.DECLINED)
        .values("decline_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "decline_reason")
    )
    return tuple((r["decline_reason"] or "", r["n"]) for r in rows)


def _publishable(report: Report) -> Report:
    """Suppressed counts are None; so is every mean, median and rate they feed."""
    values = {name: value or 0 for name, value in report.counts.items()}
    hidden = suppress(values, report.sums, threshold=report.threshold)
    k = report.threshold

    def spread(s: Spread, count_name: str, *, n_is_the_count: bool) -> Spread:
        """Hidden with the count it is part of. Its n is published only where it IS that
        count (planned lengths: every held one); any other n (held with actual times,
        consultations with a request) is a count outside the suppression and could give
        a hidden cell away (R20), so it goes."""
        if s.n == 0:
            return s  # nothing counted, nothing to hide
        if (s.n or 0) < k or count_name in hidden:
            return Spread(None, None, None)
        return s if n_is_the_count else replace(s, n=None)

    rate = report.no_show_rate
    if hidden & {"consultations.no_show", "due"}:
        rate = None
    return replace(
        report,
        publishable=True,
        suppressed=hidden,
        counts={name: (None if name in hidden else v) for name, v in report.counts.items()},
        planned_minutes=spread(report.planned_minutes, "held", n_is_the_count=True),
        actual_minutes=spread(report.actual_minutes, "held", n_is_the_count=False),
        lead_days=spread(report.lead_days, "consultations", n_is_the_count=False),
        no_show_rate=rate,
        by_counselor=(),
        declined_by_reason=(),
    )
