"""Seed a migrated, empty database with many offices' history and time the usage report.

    python -m bench.reports OUT.json [--offices 50] [--consultations 1000000]
                            [--months 24] [--repeat 5]

Run by `python -m bench --only reports` in a subprocess, with the server's environment
(DATABASE_URL, MADOGUCHI_DATA_DIR, SECRET_KEY). The seed:

- `--offices` offices (codes 20001…), 20 counselors and 200 seekers each, written with
  bulk_create;
- `--consultations` requests and as many consultations (one each), spread evenly over
  the offices and over the `--months` months before 2026-12-01, starting at 09, 10,
  11, 13, 14 or 15 o'clock Tokyo, 30/45/60 minutes; 1 in 20 a no-show, 2 in 20
  cancelled (phone or web), 1 in 20 stopped, the rest completed with actual times.
  One INSERT … SELECT per table over a generated series (generate_series on
  PostgreSQL, a recursive CTE on SQLite), so a million rows take seconds, not minutes.

Then it times `usage_report` for one office and for the whole deployment (every
office) for one month in the middle (2026-06) and for the year 2026, internal and
publishable, each `--repeat` times after one untimed warm-up, and writes the timings
(and the query count of one run) as JSON to OUT.json.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

COUNSELORS = 20
SEEKERS = 200
FIRST_CODE = 20001
SERIES_END = "2026-12-01 00:00:00"  # UTC midnight after the seeded months
MONTH, YEAR = "2026-06", "2026"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("out", type=Path)
    parser.add_argument("--offices", type=int, default=50)
    parser.add_argument("--consultations", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.db import connection

    began = time.perf_counter()
    seed(args)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seed_seconds = round(time.perf_counter() - began, 1)
    print(
        f"seeded {connection.vendor}: {args.offices} offices, {args.consultations} "
        f"consultations and requests over {args.months} months, in {seed_seconds} s"
    )
    timings = time_reports(args.repeat)
    args.out.write_text(
        json.dumps(
            {
                "offices": args.offices,
                "consultations": args.consultations,
                "months": args.months,
                "seed_seconds": seed_seconds,
                "timings": timings,
            },
            indent=2,
        )
    )


def seed(args: argparse.Namespace) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from madoguchi.offices.models import Office, Staff
    from madoguchi.offices.services import office_create
    from madoguchi.seekers.models import Seeker

    user_model = get_user_model()
    unusable = make_password(None)
    with transaction.atomic():
        offices = [
            office_create(code=str(FIRST_CODE + i), name=f"ハローワーク{i + 1:02d}")
            for i in range(args.offices)
        ]
        users = user_model.objects.bulk_create(
            [
                user_model(username=f"c{o.code}-{i:02d}", password=unusable)
                for o in offices
                for i in range(COUNSELORS)
            ],
            batch_size=1000,
        )
        staff = Staff.objects.bulk_create(
            [
                Staff(user=u, office=offices[n // COUNSELORS], role=Staff.Role.COUNSELOR)
                for n, u in enumerate(users)
            ],
            batch_size=1000,
        )
        seekers = Seeker.objects.bulk_create(
            [
                Seeker(
                    office=o,
                    number=f"{o.code}-{i:08d}",
                    name=f"求職 太郎{i}",
                    name_kana="キュウショク タロウ",
                    counselor=staff[n * COUNSELORS + i % COUNSELORS],
                    registered_on="2024-01-01",
                    expires_on="2027-12-31",
                )
                for n, o in enumerate(offices)
                for i in range(SEEKERS)
            ],
            batch_size=1000,
        )
        ids = {
            "office": _contiguous([o.pk for o in offices]),
            "staff": _contiguous([s.pk for s in staff]),
            "seeker": _contiguous([s.pk for s in seekers]),
        }
        with connection.cursor() as cursor:
            for table, columns in (
                ("bookings_request", _request_columns(args, ids)),
                ("bookings_consultation", _consultation_columns(args, ids)),
            ):
                cursor.execute(_insert(connection, table, columns, args.consultations))
    assert Office.objects.count() == args.offices


def _contiguous(pks: list[int]) -> int:
    """The first id; the seed's arithmetic needs the ids of one bulk insert in a row."""
    if pks != list(range(pks[0], pks[0] + len(pks))):
        raise SystemExit("bench.reports: ids of a bulk insert are not contiguous")
    return pks[0]


def _start(vendor: str, args: argparse.Namespace) -> str:
    """x → a start time: evenly over the days before SERIES_END, on the hour (Tokyo)."""
    days = args.months * 30
    hour = "(CASE x % 6 WHEN 3 THEN 4 WHEN 4 THEN 5 WHEN 5 THEN 6 ELSE x % 6 END)"
    # 09:00 Tokyo is 00:00 UTC.
    if vendor == "postgresql":
        return (
            f"(TIMESTAMPTZ '{SERIES_END}+00' - ((x / 6) % {days} + 1) * INTERVAL '1 day' "
            f"+ {hour} * INTERVAL '1 hour')"
        )
    return (
        f"datetime('{SERIES_END}', '-' || ((x / 6) % {days} + 1) || ' days', "
        f"'+' || {hour} || ' hours')"
    )


def _plus_minutes(vendor: str, base: str, minutes: str) -> str:
    if vendor == "postgresql":
        return f"({base} + ({minutes}) * INTERVAL '1 minute')"
    return f"datetime({base}, printf('%+d minutes', {minutes}))"


def _office(args) -> str:
    return f"(x % {args.offices})"


def _request_columns(args, ids) -> dict[str, str]:
    vendor = _vendor()
    start = _start(vendor, args)
    created = _plus_minutes(vendor, start, "-1440 * (1 + x % 9) - 60 * (x % 11)")
    return {
        "id": "x",
        "office_id": f"{ids['office']} + {_office(args)}",
        "seeker_id": f"{ids['seeker']} + {_office(args)} * {SEEKERS} + (x / 50) % {SEEKERS}",
        "name": "'求職 太郎'",
        "channel": "(CASE x % 4 WHEN 0 THEN 'web' WHEN 1 THEN 'phone' WHEN 2 THEN 'counter' "
        "ELSE 'in_consultation' END)",
        "status": "'scheduled'",
        "preferences": "'[]'",
        "declarations": "'{}'",
        "interpreter_language": "(CASE WHEN x % 97 = 0 THEN 'vi' ELSE '' END)",
        "assistant": "(x % 89 = 0)",
        "created_at": created,
        "status_changed_at": created,
    }


def _consultation_columns(args, ids) -> dict[str, str]:
    vendor = _vendor()
    start = _start(vendor, args)
    minutes = "(30 + 15 * (x % 3))"
    status = (
        "(CASE x % 20 WHEN 0 THEN 'no_show' WHEN 1 THEN 'cancelled' WHEN 2 THEN 'cancelled' "
        "WHEN 3 THEN 'stopped' ELSE 'completed' END)"
    )
    held = "x % 20 >= 3"
    return {
        "id": "x",
        "office_id": f"{ids['office']} + {_office(args)}",
        "seeker_id": f"{ids['seeker']} + {_office(args)} * {SEEKERS} + (x / 50) % {SEEKERS}",
        "counselor_id": f"{ids['staff']} + {_office(args)} * {COUNSELORS} + (x / 7) % {COUNSELORS}",
        "request_id": "x",
        "start": start,
        "end": _plus_minutes(vendor, start, minutes),
        "status": status,
        "status_changed_at": start,
        "cancel_channel": "(CASE x % 20 WHEN 1 THEN 'phone' WHEN 2 THEN 'web' ELSE '' END)",
        "actual_start": f"(CASE WHEN {held} THEN {_plus_minutes(vendor, start, 'x % 5')} END)",
        "actual_end": (
            f"(CASE WHEN {held} THEN {_plus_minutes(vendor, start, f'{minutes} - x % 7')} END)"
        ),
        "created_at": start,
    }


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def _insert(connection, table: str, columns: dict[str, str], count: int) -> str:
    """INSERT … SELECT over x = 1…count; NOT NULL columns not given get '' / 0 / false."""
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    names, values = [], []
    for column in description:
        name = column.name
        if name in columns:
            expression = columns[name]
        elif not column.null_ok:
            expression = _blank(connection, table, name)
        else:
            continue
        names.append(connection.ops.quote_name(name))
        values.append(expression)
    if connection.vendor == "postgresql":
        series = f"generate_series(1, {count}) AS g(x)"
        prefix = ""
    else:
        recursive = "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < "
        prefix = recursive + str(int(count)) + ") "
        series = "g"
    # Every part is the bench's own text or an integer: nothing from outside.
    return (
        f"{prefix}INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {series}"
    )


def _blank(connection, table: str, column: str) -> str:
    from django.apps import apps

    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    field = next(f for f in model._meta.concrete_fields if f.column == column)
    kind = field.get_internal_type()
    if kind in ("BooleanField",):
        return "false"
    if kind.endswith("IntegerField") or kind == "AutoField":
        return "0"
    if kind == "JSONField":
        return "'{}'"
    return "''"


def time_reports(repeat: int) -> dict:
    from django.db import connection

    from madoguchi.offices.models import Office
    from madoguchi.records.reports import Period, usage_report

    office = Office.objects.get(code=str(FIRST_CODE))
    cases = [
        ("office month internal", office, MONTH, False),
        ("office month publishable", office, MONTH, True),
        ("national month publishable", None, MONTH, True),
        ("national month internal", None, MONTH, False),
        ("national year publishable", None, YEAR, True),
    ]
    results = {}
    for name, scope, text, publishable in cases:
        period = Period.parse(text)
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            report = usage_report(office=scope, period=period, publishable=publishable)
        seconds = []
        for _ in range(repeat):
            began = time.perf_counter()
            usage_report(office=scope, period=period, publishable=publishable)
            seconds.append(time.perf_counter() - began)
        results[name] = {
            "queries": len(queries),
            "held": report.counts["held"],
            "suppressed": len(report.suppressed),
            "median_s": round(statistics.median(seconds), 3),
            "min_s": round(min(seconds), 3),
            "max_s": round(max(seconds), 3),
        }
        print(
            f"    {name}: median {results[name]['median_s']:.3f} s "
            f"({len(queries)} queries, {results[name]['held']} held)"
        )
    return results


if __name__ == "__main__":
    sys.exit(main())
