"""Usage figures (R20): the counts in office local time, and small-cell suppression."""

import datetime as dt
import random
import zoneinfo

import pytest

from madoguchi.bookings.models import Consultation, Request
from madoguchi.errors import BookingError
from madoguchi.records.reports import Period, Spread, usage_report
from madoguchi.records.suppression import Sum, determined, suppress
from tests.factories import ALL_DECLARATIONS, local

Status = Consultation.Status
NOVEMBER = Period(2026, 11)


def add_consultation(
    world,
    start: dt.datetime,
    *,
    minutes: int = 60,
    status: str = Status.COMPLETED,
    counselor=None,
    cancel_channel: str = "",
    actual_minutes: int | None = None,
    requested_at: dt.datetime | None = None,
    office=None,
) -> Consultation:
    """A consultation written straight to the table (reports read history, not rules)."""
    office = office or world.office
    seeker = world.seeker if office == world.office else world.other_seeker
    counselor = counselor or (world.counselor if office == world.office else world.other_counselor)
    request = None
    if requested_at is not None:
        request = add_request(world, requested_at, status=Request.Status.SCHEDULED, office=office)
    return Consultation.objects.create(
        office=office,
        seeker=seeker,
        counselor=counselor,
        request=request,
        start=start,
        end=start + dt.timedelta(minutes=minutes),
        status=status,
        status_changed_at=start,
        cancel_channel=cancel_channel,
        actual_start=start if actual_minutes else None,
        actual_end=start + dt.timedelta(minutes=actual_minutes) if actual_minutes else None,
        created_at=start - dt.timedelta(days=3),
    )


def add_request(world, at: dt.datetime, *, channel="web", status="requested", office=None, **kw):
    office = office or world.office
    seeker = world.seeker if office == world.office else world.other_seeker
    return Request.objects.create(
        office=office,
        seeker=seeker,
        name=seeker.name,
        channel=channel,
        status=status,
        preferences=[],
        declarations=ALL_DECLARATIONS,
        created_at=at,
        status_changed_at=at,
        **kw,
    )


# Periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11", Period(2026, 11)), ("2026", Period(2026)), ("2026-12", Period(2026, 12))],
    ids=["month", "year", "december"],
)
def test_period_parse_accepts_month_and_year(text, expected):
    assert Period.parse(text) == expected


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "", "abcd-ef"])
def test_period_parse_refuses_anything_else(text):
    with pytest.raises(BookingError) as caught:
        Period.parse(text)
    assert caught.value.code == "invalid_input"
    assert caught.value.field == "month"


def test_period_bounds_are_local_midnights():
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    assert Period(2026, 12).bounds(tokyo) == (local(2026, 12, 1), local(2027, 1, 1))
    assert Period(2026).bounds(tokyo) == (local(2026, 1, 1), local(2027, 1, 1))
    assert Period(2026, 2).slots() == tuple(range(1, 29))
    assert Period(2026).slots() == tuple(range(1, 13))


def test_spread_gives_mean_and_median():
    assert Spread.of({30.0: 1, 45.0: 2, 60.0: 1}) == Spread(4, 45.0, 45.0)
    assert Spread.of({30.0: 3, 60.0: 1}) == Spread(4, 37.5, 30.0)
    assert Spread.of({}) == Spread(0, None, None)


# The figures ----------------------------------------------------------------------------


def test_usage_report_counts_in_office_local_time(world, django_assert_max_num_queries):
    # 00:30 Tokyo on 1 November is still 31 October in UTC: it belongs to November.
    add_consultation(world, local(2026, 11, 1, 0, 30), minutes=30, actual_minutes=28)
    add_consultation(world, local(2026, 11, 4, 9), minutes=45, actual_minutes=50)  # Wed
    add_consultation(world, local(2026, 11, 4, 13), minutes=60, status=Status.STOPPED)
    add_consultation(world, local(2026, 11, 5, 9), status=Status.NO_SHOW)
    add_consultation(world, local(2026, 11, 6, 10), status=Status.CANCELLED, cancel_channel="phone")
    add_consultation(world, local(2026, 11, 6, 11), status=Status.CANCELLED)
    # 00:30 Tokyo on 1 December is still 30 November in UTC: not November's.
    add_consultation(world, local(2026, 12, 1, 0, 30))
    add_consultation(world, local(2026, 11, 10, 9), office=world.other_office)

    with django_assert_max_num_queries(8):
        report = usage_report(office=world.office, period=NOVEMBER)

    c = report.counts
    assert (c["consultations"], c["held"], c["due"]) == (6, 3, 4)
    assert c["consultations.completed"] == 2
    assert c["consultations.stopped"] == 1
    assert c["consultations.no_show"] == 1
    assert c["consultations.cancelled"] == 2
    assert (c["cancelled.phone"], c["cancelled.unrecorded"], c["cancelled.web"]) == (1, 1, 0)
    assert (c["held.date.1"], c["held.date.4"], c["held.date.30"]) == (1, 2, 0)
    assert (c["held.weekday.7"], c["held.weekday.3"]) == (1, 2)  # 1 Nov 2026 is a Sunday
    assert (c["held.hour.0"], c["held.hour.9"], c["held.hour.13"]) == (1, 1, 1)
    assert report.planned_minutes == Spread(3, 45.0, 45.0)
    assert report.actual_minutes == Spread(2, 39.0, 39.0)
    assert report.no_show_rate == 0.25
    assert report.threshold == 5


def test_usage_report_counts_requests_by_channel_outcome_and_companions(world):
    add_request(world, local(2026, 11, 2, 9), channel="web", interpreter_language="vi")
    add_request(world, local(2026, 11, 2, 10), channel="phone", assistant=True)
    add_request(
        world, local(2026, 11, 3, 9), channel="phone", status="declined", decline_reason="遠方"
    )
    add_request(world, local(2026, 11, 3, 9), channel="counter", status="declined")
    add_request(world, local(2026, 10, 31, 23), channel="web")  # October, Tokyo time

    report = usage_report(office=world.office, period=NOVEMBER)

    c = report.counts
    assert c["requests"] == 4
    assert (c["requests.channel.web"], c["requests.channel.phone"]) == (1, 2)
    assert (c["requests.outcome.open"], c["requests.outcome.declined"]) == (2, 2)
    assert (c["requests.interpreter"], c["requests.assistant"]) == (1, 1)
    assert report.declined_by_reason == (("", 1), ("遠方", 1))


def test_usage_report_lead_time_is_local_days_from_request(world):
    add_consultation(world, local(2026, 11, 4, 9), requested_at=local(2026, 11, 2, 23, 30))
    add_consultation(world, local(2026, 11, 5, 9), requested_at=local(2026, 11, 4, 0, 10))
    add_consultation(world, local(2026, 11, 9, 9), requested_at=local(2026, 11, 2, 12))

    report = usage_report(office=world.office, period=NOVEMBER)

    assert report.lead_days == Spread(3, 3.3, 2.0)


def test_usage_report_breaks_down_by_counselor_internally(world):
    add_consultation(world, local(2026, 11, 4, 9))
    add_consultation(world, local(2026, 11, 4, 10), counselor=world.counselor2)
    add_consultation(world, local(2026, 11, 5, 10), status=Status.NO_SHOW)

    report = usage_report(office=world.office, period=NOVEMBER)

    assert [(r.username, r.held, r.no_show, r.cancelled) for r in report.by_counselor] == [
        ("sato", 1, 1, 0),
        ("suzuki", 1, 0, 0),
    ]


def test_usage_report_year_groups_by_month(world):
    add_consultation(world, local(2026, 3, 4, 9))
    add_consultation(world, local(2026, 11, 4, 9))
    add_consultation(world, local(2025, 12, 31, 15))

    report = usage_report(office=world.office, period=Period(2026))

    assert report.counts["held"] == 2
    assert (report.counts["held.date.3"], report.counts["held.date.11"]) == (1, 1)


def test_usage_report_deployment_counts_every_office_with_largest_threshold(world):
    world.other_office.report_min_cell = 8
    world.other_office.save(update_fields=["report_min_cell"])
    add_consultation(world, local(2026, 11, 4, 9))
    add_consultation(world, local(2026, 11, 4, 9), office=world.other_office)

    report = usage_report(office=None, period=NOVEMBER)

    assert report.counts["held"] == 2
    assert report.threshold == 8


# The publishable version ----------------------------------------------------------------


def test_publishable_report_suppresses_small_cells_and_leaves_nobody_in(world):
    for day in range(2, 12):
        add_consultation(world, local(2026, 11, day, 9), minutes=45, actual_minutes=40)
    add_consultation(world, local(2026, 11, 13, 9), status=Status.STOPPED)
    add_request(world, local(2026, 11, 2, 9), status="declined", decline_reason="遠方")

    report = usage_report(office=world.office, period=NOVEMBER, publishable=True)

    c = report.counts
    assert c["consultations.stopped"] is None  # 1 < 5
    assert c["consultations.completed"] is None  # else held − completed = stopped
    assert c["consultations"] == 11
    assert c["held"] == 11
    assert c["consultations.no_show"] == 0
    assert report.by_counselor == ()
    assert report.declined_by_reason == ()
    assert report.planned_minutes.n == 11
    assert report.actual_minutes == Spread(None, 40.0, 40.0)  # n would give 1 untimed away
    assert report.lead_days == Spread(0, None, None)  # no consultation with a request
    assert report.publishable is True
    assert not determined(report.suppressed, report.sums)


def test_publishable_report_suppresses_the_rate_of_a_small_count(world):
    for day in range(2, 9):
        add_consultation(world, local(2026, 11, day, 9))
    add_consultation(world, local(2026, 11, 9, 9), status=Status.NO_SHOW)

    report = usage_report(office=world.office, period=NOVEMBER, publishable=True)

    assert report.counts["consultations.no_show"] is None
    assert report.no_show_rate is None
    assert usage_report(office=world.office, period=NOVEMBER).no_show_rate == 0.125


def test_suppress_hides_a_lone_small_cell_and_its_complement():
    values = {"total": 20, "a": 2, "b": 8, "c": 10}

    hidden = suppress(values, [Sum("total", ("a", "b", "c"))], threshold=5)

    assert hidden == {"a", "b"}


def test_suppress_hides_a_small_total_with_its_cells():
    values = {"total": 3, "a": 3, "b": 0}

    hidden = suppress(values, [Sum("total", ("a", "b"))], threshold=5)

    assert hidden == {"total", "a"}


def test_suppress_breaks_a_bridge_between_two_cycles():
    """Two 2x2 blocks of suppressed cells joined by one more suppressed cell: every row
    and column has two, and yet the joining cell is the difference of published figures
    unless one more cell is hidden."""
    rows, cols = 4, 4
    grid = [[50] * cols for _ in range(rows)]
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        grid[r][c] = 1
    values, sums = _table(grid)

    hidden = suppress(values, sums, threshold=5)

    assert {f"c{r}.{c}" for r in range(rows) for c in range(cols) if grid[r][c] == 1} <= hidden
    assert _recoverable(values, sums, hidden) == set()


def _table(grid: list[list[int]]) -> tuple[dict[str, int], list[Sum]]:
    """A 2-D table with row totals, column totals and the grand total."""
    rows, cols = len(grid), len(grid[0])
    values = {f"c{r}.{c}": grid[r][c] for r in range(rows) for c in range(cols)}
    values |= {f"r{r}": sum(grid[r]) for r in range(rows)}
    values |= {f"k{c}": sum(grid[r][c] for r in range(rows)) for c in range(cols)}
    values["total"] = sum(values[f"r{r}"] for r in range(rows))
    sums = [Sum(f"r{r}", tuple(f"c{r}.{c}" for c in range(cols))) for r in range(rows)]
    sums += [Sum(f"k{c}", tuple(f"c{r}.{c}" for r in range(rows))) for c in range(cols)]
    sums += [
        Sum("total", tuple(f"r{r}" for r in range(rows))),
        Sum("total", tuple(f"k{c}" for c in range(cols))),
    ]
    return values, sums


PRIME = 2**61 - 1


def _rank(rows: list[list[int]]) -> int:
    """Rank modulo a large prime: an independent check of the fraction elimination."""
    rows = [[v % PRIME for v in row] for row in rows]
    rank = 0
    width = len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        inverse = pow(rows[rank][column], PRIME - 2, PRIME)
        rows[rank] = [v * inverse % PRIME for v in rows[rank]]
        for r in range(len(rows)):
            if r != rank and rows[r][column]:
                f = rows[r][column]
                rows[r] = [(a - f * b) % PRIME for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def _recoverable(values: dict[str, int], sums: list[Sum], hidden) -> set[str]:
    """Hidden figures a reader could compute from what is published: those whose unit
    vector adds nothing to the rank of the sums restricted to the hidden figures."""
    unknowns = sorted(hidden)
    matrix = []
    for s in sums:
        row = [(u in s.parts) - (u == s.total) for u in unknowns]
        if any(row):
            matrix.append(row)
    base = _rank(matrix) if matrix else 0
    found = set()
    for i, name in enumerate(unknowns):
        unit = [int(j == i) for j in range(len(unknowns))]
        if _rank([*matrix, unit]) == base:
            found.add(name)
    return found


@pytest.mark.parametrize("seed", range(200))
def test_suppress_leaves_no_suppressed_cell_recoverable_from_random_tables(seed):
    rng = random.Random(seed)
    rows, cols = rng.randint(1, 7), rng.randint(2, 7)
    small = rng.choice([0.1, 0.3, 0.6])
    grid = [
        [rng.randint(1, 4) if rng.random() < small else rng.randint(0, 40) for _ in range(cols)]
        for _ in range(rows)
    ]
    values, sums = _table(grid)
    threshold = rng.choice([3, 5, 10])

    hidden = suppress(values, sums, threshold=threshold)

    assert {n for n, v in values.items() if 0 < v < threshold} <= hidden
    assert _recoverable(values, sums, hidden) == set()


@pytest.mark.parametrize("seed", range(50))
def test_suppress_protects_linked_tables_of_the_report(seed):
    """The report's own sums: three breakdowns of one total and a derived total."""
    rng = random.Random(1000 + seed)
    period = Period(2026, 2)
    from madoguchi.records.reports import _sums

    sums = list(_sums(period))
    values: dict[str, int] = {}
    for name in {n for s in sums for n in s.parts} - {s.total for s in sums}:
        values[name] = rng.choice([0, 0, 1, 2, 3, 6, 12, 30])
    # Totals follow from the parts, in dependency order.
    for _ in range(3):
        for s in sums:
            if all(p in values for p in s.parts) and s.total not in values:
                values[s.total] = sum(values[p] for p in s.parts)
    # The held breakdowns must agree with held: rescale by putting the rest in one slot.
    for prefix in ("held.date.", "held.weekday.", "held.hour."):
        parts = [n for n in values if n.startswith(prefix)]
        for n in parts:
            values[n] = 0
        for _ in range(values["held"]):
            values[rng.choice(parts)] += 1

    hidden = suppress(values, sums, threshold=5)

    assert {n for n, v in values.items() if 0 < v < 5} <= hidden
    assert _recoverable(values, sums, hidden) == set()


def test_publishable_report_gives_no_hidden_cell_away_through_a_spreads_n(world):
    """The review's probe: 20 held, 1 no-show, threshold 5. `held` and `no_show` are
    hidden, `due` = 21 is not; the actual lengths' n of 20 would give no-show = 1."""
    for day in range(1, 21):
        add_consultation(
            world, local(2026, 11, day, 9), actual_minutes=50, requested_at=local(2026, 10, 1, 9)
        )
    add_consultation(world, local(2026, 11, 21, 9), status=Status.NO_SHOW)

    report = usage_report(office=world.office, period=NOVEMBER, publishable=True)

    assert (report.counts["held"], report.counts["consultations.no_show"]) == (None, None)
    assert report.counts["due"] == 21
    assert report.actual_minutes == Spread(None, None, None)
    assert report.planned_minutes == Spread(None, None, None)
    assert report.lead_days.n is None  # the consultations with a request: not a report cell


def _spread_figures(internal, published) -> tuple[dict[str, int], list[Sum], set[str]]:
    """Each spread's n as a figure tied to the counts it is part of, the rest of that
    count as a figure of its own; returns their values, the sums and those not published."""
    counts = internal.counts
    values = {
        "n.planned": internal.planned_minutes.n,
        "n.actual": internal.actual_minutes.n,
        "held.untimed": counts["held"] - internal.actual_minutes.n,
        "n.lead": internal.lead_days.n,
        "consultations.unrequested": counts["consultations"] - internal.lead_days.n,
    }
    sums = [
        Sum("held", ("n.planned",)),
        Sum("held", ("n.actual", "held.untimed")),
        Sum("consultations", ("n.lead", "consultations.unrequested")),
    ]
    unpublished = {"held.untimed", "consultations.unrequested"}
    for name, spread in (
        ("n.planned", published.planned_minutes),
        ("n.actual", published.actual_minutes),
        ("n.lead", published.lead_days),
    ):
        if spread.n is None:
            unpublished.add(name)
    return values, sums, unpublished


@pytest.mark.parametrize("seed", range(12))
def test_publishable_report_with_every_n_leaves_no_hidden_cell_recoverable(world, seed):
    rng = random.Random(2000 + seed)
    statuses = [Status.COMPLETED] * 6 + [Status.STOPPED, Status.NO_SHOW, Status.CANCELLED]
    for i in range(rng.randint(3, 30)):
        add_consultation(
            world,
            local(2026, 11, 1 + i % 28, 9 + i % 7),
            status=rng.choice(statuses),
            actual_minutes=rng.choice([None, 40, 50, 50, 55]),
            requested_at=rng.choice([None, local(2026, 10, 20, 9), local(2026, 10, 28, 9)]),
        )
    internal = usage_report(office=world.office, period=NOVEMBER)
    published = usage_report(office=world.office, period=NOVEMBER, publishable=True)
    extra, extra_sums, unpublished = _spread_figures(internal, published)

    hidden = set(published.suppressed) | unpublished
    found = _recoverable({**internal.counts, **extra}, [*published.sums, *extra_sums], hidden)

    small = {n for n in unpublished if n in extra and 0 < extra[n] < published.threshold}
    assert found & (set(published.suppressed) | small) == set()
    for spread in (published.planned_minutes, published.actual_minutes, published.lead_days):
        assert spread.n in (None, 0, published.counts["held"])


def test_report_tables_tell_no_data_from_suppressed(world):
    from django.utils import translation

    from madoguchi.records.report_tables import report_tables

    for day in range(2, 9):
        add_consultation(world, local(2026, 11, day, 9), minutes=30)
    add_consultation(world, local(2026, 11, 9, 9), status=Status.NO_SHOW)
    add_consultation(world, local(2026, 11, 10, 9), minutes=60, actual_minutes=55)

    with translation.override("en"):
        internal = report_tables(usage_report(office=world.office, period=NOVEMBER))
        published = report_tables(
            usage_report(office=world.office, period=NOVEMBER, publishable=True)
        )

    summary = {t.key: dict(t.rows) for t in internal}["summary"]
    assert summary["No-show rate (of consultations held or missed)"] == ("11.1 %", "", "")
    assert summary["Actual length"] == (1, "55.0 min", "55.0 min")
    assert summary["Lead time, request day to consultation day"] == (0, "—", "—")
    summary = {t.key: dict(t.rows) for t in published}["summary"]
    assert summary["No-show rate (of consultations held or missed)"] == (None, "", "")
    assert summary["Actual length"] == (None, None, None)
    assert summary["Lead time, request day to consultation day"] == (0, "—", "—")
    # Held (8) is hidden with the lone no-show, and its mean with it.
    assert summary["Planned length"] == (None, None, None)


def test_report_tables_show_a_published_mean_without_its_n(world):
    from django.utils import translation

    from madoguchi.records.report_tables import report_tables

    for day in range(2, 12):
        add_consultation(world, local(2026, 11, day, 9), minutes=45, actual_minutes=40)
    add_consultation(world, local(2026, 11, 13, 9), minutes=45)  # held, no actual times

    with translation.override("en"):
        published = report_tables(
            usage_report(office=world.office, period=NOVEMBER, publishable=True)
        )

    summary = {t.key: dict(t.rows) for t in published}["summary"]
    assert summary["Consultations held (completed or stopped)"] == (11, "", "")
    assert summary["Planned length"] == (11, "45.0 min", "45.0 min")
    # 10 of 11 with actual times would say that 1 was held without: its n is "x".
    assert summary["Actual length"] == (None, "40.0 min", "40.0 min")
