"""A usage report as labelled tables (for the page and the CSV) and bar charts (SVG).

A value of `None` is a suppressed figure; it is shown as "x", the mark Japanese
official statistics use for a figure kept confidential (秘匿).
"""

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from madoguchi.bookings.models import Channel
from madoguchi.records.reports import CANCEL_CHANNELS, HOURS, Report

SUPPRESSED = "x"
Value = int | float | str | None


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Value, ...]], ...]
    total: tuple[str, tuple[Value, ...]] | None = None
    chart: "Chart | None" = None


def _channel_label(code: str) -> str:
    if code == "unrecorded":
        return pgettext("channel", "Not recorded")
    return str(Channel(code).label)


def report_tables(report: Report) -> list[Table]:
    """The tables in the order the page and the CSV show them."""
    c = report.counts
    count = (_("Count"),)

    def one(title: str, key: str, rows: list[tuple[str, str]], total: tuple[str, str] | None):
        return Table(
            key=key,
            title=title,
            columns=count,
            rows=tuple((label, (c[name],)) for label, name in rows),
            total=(total[0], (c[total[1]],)) if total else None,
        )

    outcome_labels = {
        "completed": pgettext("consultation", "Completed"),
        "stopped": pgettext("consultation", "Stopped"),
        "no_show": pgettext("consultation", "No-show"),
        "cancelled": pgettext("consultation", "Cancelled"),
        "upcoming": pgettext("consultation", "Scheduled or in progress"),
    }
    request_labels = {
        "scheduled": pgettext("request", "Scheduled"),
        "declined": pgettext("request", "Declined"),
        "open": pgettext("request", "Not yet decided"),
        "expired": pgettext("request", "Expired"),
        "withdrawn": pgettext("request", "Withdrawn"),
    }
    tables = [
        one(
            _("Requests by channel"),
            "requests_by_channel",
            [(str(label), f"requests.channel.{code}") for code, label in Channel.choices],
            (_("All requests"), "requests"),
        ),
        one(
            _("Requests by outcome"),
            "requests_by_outcome",
            [(label, f"requests.outcome.{code}") for code, label in request_labels.items()],
            (_("All requests"), "requests"),
        ),
        one(
            _("Requests with companions"),
            "companions",
            [
                (_("With an interpreter"), "requests.interpreter"),
                (_("With an assistant"), "requests.assistant"),
            ],
            None,
        ),
        one(
            _("Consultations by outcome"),
            "consultations_by_outcome",
            [(label, f"consultations.{code}") for code, label in outcome_labels.items()],
            (_("All consultations"), "consultations"),
        ),
        one(
            _("Cancellations by channel"),
            "cancellations_by_channel",
            [(_channel_label(code), f"cancelled.{code}") for code in CANCEL_CHANNELS],
            (_("All cancellations"), "consultations.cancelled"),
        ),
        _summary(report),
        *_held_tables(report),
    ]
    if not report.publishable:
        tables += _internal_tables(report)
    return tables


NO_DATA = "—"  # nothing to average: no consultation counted (not a suppressed figure)


def _number(value: float | None, unit: str, *, empty: bool) -> str | None:
    if value is None:
        return NO_DATA if empty else None
    return f"{formats.number_format(value, 1)} {unit}"


def _summary(report: Report) -> Table:
    minutes, days = _("min"), _("days")
    rate = report.no_show_rate
    rows: list[tuple[str, tuple[Value, ...]]] = [
        (_("Consultations held (completed or stopped)"), (report.counts["held"],)),
        (
            _("No-show rate (of consultations held or missed)"),
            (_number(None if rate is None else rate * 100, "%", empty=report.counts["due"] == 0),),
        ),
    ]
    for label, spread, unit in (
        (_("Planned length"), report.planned_minutes, minutes),
        (_("Actual length"), report.actual_minutes, minutes),
        (_("Lead time, request day to consultation day"), report.lead_days, days),
    ):
        rows.append(
            (
                label,
                (
                    spread.n,
                    _number(spread.mean, unit, empty=spread.n == 0),
                    _number(spread.median, unit, empty=spread.n == 0),
                ),
            )
        )
    return Table(
        key="summary",
        title=_("Summary"),
        columns=(_("Figure"), _("Mean"), _("Median")),
        rows=tuple((label, values + (("",) * (3 - len(values)))) for label, values in rows),
    )


def _held_tables(report: Report) -> list[Table]:
    c = report.counts
    held = (_("Consultations held"), (c["held"],))
    if report.period.month:
        dates = [(str(d), f"held.date.{d}") for d in report.period.slots()]
        date_title = _("Consultations held by day of the month")
    else:
        dates = [(str(MONTHS[m]), f"held.date.{m}") for m in report.period.slots()]
        date_title = _("Consultations held by month")
    weekdays = [(str(WEEKDAYS[w - 1]), f"held.weekday.{w}") for w in range(1, 8)]
    hours = [
        (f"{h:02d}:00", f"held.hour.{h}") for h in HOURS if 8 <= h <= 17 or c[f"held.hour.{h}"] != 0
    ]
    tables = []
    for key, title, rows in (
        ("held_by_date", date_title, dates),
        ("held_by_weekday", _("Consultations held by weekday"), weekdays),
        ("held_by_hour", _("Consultations held by starting hour"), hours),
    ):
        data = tuple((label, (c[name],)) for label, name in rows)
        tables.append(
            Table(
                key=key,
                title=title,
                columns=(_("Count"),),
                rows=data,
                total=held,
                chart=bar_chart(
                    title,
                    [
                        (_short(key, label, i), values[0])
                        for i, (label, values) in enumerate(data, start=1)
                    ],
                ),
            )
        )
    return tables


def _short(key: str, label: str, position: int) -> str:
    """A label that fits under a bar: "Jan" for a month of the year view."""
    if key == "held_by_date" and not label.isdigit():
        return str(MONTHS_3[position]).title()
    return label


def _internal_tables(report: Report) -> list[Table]:
    return [
        Table(
            key="by_counselor",
            title=_("By counselor (internal only)"),
            columns=(_("Held"), pgettext("consultation", "No-show"), _("Cancelled")),
            rows=tuple(
                (f"{r.name} ({r.username})", (r.held, r.no_show, r.cancelled))
                for r in report.by_counselor
            ),
        ),
        Table(
            key="declined_by_reason",
            title=_("Declined requests by reason (internal only)"),
            columns=(_("Count"),),
            rows=tuple(
                (reason or _("(no reason given)"), (n,)) for reason, n in report.declined_by_reason
            ),
        ),
    ]


# Charts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | None
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class Chart:
    """A bar chart's geometry, drawn by web/staff/_bar_chart.html as an SVG."""

    title: str
    description: str
    width: int
    height: int
    top: int
    bottom: int
    left: int
    ticks: tuple[tuple[int, float], ...]
    bars: tuple[Bar, ...]


def bar_chart(
    title: str, data: list[tuple[str, Any]], *, width: int = 720, height: int = 260
) -> Chart:
    left, right, top, bottom = 44, 8, 12, height - 28
    values = [v for _label, v in data if isinstance(v, int)]
    peak = _nice_ceiling(max(values, default=0))
    slot = (width - left - right) / max(len(data), 1)
    bars = []
    for i, (label, value) in enumerate(data):
        shown = value if isinstance(value, int) else None
        bar_height = (bottom - top) * (shown or 0) / peak
        bars.append(
            Bar(
                label=label,
                value=shown,
                x=round(left + i * slot + slot * 0.15, 1),
                y=round(bottom - bar_height, 1),
                width=round(slot * 0.7, 1),
                height=round(bar_height, 1),
                label_x=round(left + i * slot + slot / 2, 1),
            )
        )
    ticks = tuple(
        (peak * step // 4, round(bottom - (bottom - top) * step / 4, 1)) for step in range(5)
    )
    hidden = sum(1 for b in bars if b.value is None)
    description = _("Bar chart of %(n)s values from 0 to %(peak)s.") % {
        "n": len(bars),
        "peak": max(values, default=0),
    }
    if hidden:
        description += " " + ngettext(
            "%(n)s value suppressed, shown as x.", "%(n)s values suppressed, shown as x.", hidden
        ) % {"n": hidden}
    return Chart(
        title=title,
        description=description + " " + _("The same figures are in the table."),
        width=width,
        height=height,
        top=top,
        bottom=bottom,
        left=left,
        ticks=ticks,
        bars=tuple(bars),
    )


def _nice_ceiling(value: int) -> int:
    """The axis maximum: a multiple of 4 at or above `value` (so ticks are whole)."""
    for step in (4, 8, 20, 40, 100, 200, 400, 1000, 2000, 4000, 10000):
        if value <= step:
            return step
    return -(-value // 10000) * 10000


# CSV ------------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Value) -> str:
    """A cell that no spreadsheet runs as a formula (OWASP CSV injection)."""
    if value is None:
        return SUPPRESSED
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def report_csv(report: Report) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the Japanese right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    scope = report.office.code if report.office else _("all offices")
    version = _("publishable") if report.publishable else _("internal")
    writer.writerow([csv_cell(v) for v in (_("Usage report"), scope, str(report.period), version)])
    if report.publishable:
        writer.writerow(
            [
                csv_cell(
                    _("Figures below %(k)s, and figures they could be derived from, are x.")
                    % {"k": report.threshold}
                )
            ]
        )
    for table in report_tables(report):
        writer.writerow([])
        writer.writerow([csv_cell(table.title), *(csv_cell(c) for c in table.columns)])
        for label, values in table.rows:
            writer.writerow([csv_cell(label), *(csv_cell(v) for v in values)])
        if table.total:
            writer.writerow([csv_cell(table.total[0]), *(csv_cell(v) for v in table.total[1])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
