"""Seed a migrated, empty database for the benchmark; run in a subprocess.

    python -m bench.seed OUT.json [--consultations 5000] [--counselors 20] [--pool 400]

Configuration comes from the environment, as for the server (DATABASE_URL,
MADOGUCHI_DATA_DIR, SECRET_KEY). Everything is relative to today's date in the office's
time zone, so the server can run on the real clock:

- one office (the spec's defaults: 09:00–12:00 and 13:00–16:00, 15-minute steps, one
  day of notice), 20 counselors and one coordinator with an API token;
- 5,000 consultations on office days: 3 per counselor per day on every office day of
  the next 4 weeks (status `scheduled`, a few `cancelled`), the rest 4 per counselor
  per day going back from yesterday (`completed`, some `no_show` and `cancelled`).
  Each starts on the hour (09, 10, 11, 13, 14, 15) and lasts 30, 45 or 60 minutes;
- one `Occupancy` row per 5-minute cell of every consultation that holds its time, for
  its counselor and its seeker, exactly as `bookings.services._claim_time` writes them;
- a pool of `requested` requests, each for its own seeker with no consultations, and
  for each a distinct free (counselor, hour) of the next 4 weeks to schedule it at.

Bulk inserts keep it to a few seconds. The plan (token, office, range, pool) is written
to OUT.json for the load generator; a one-line summary goes to stdout.
"""

import argparse
import datetime as dt
import json
import os
import random
import secrets
import sys
import time
from pathlib import Path

HOURS = (9, 10, 11, 13, 14, 15)  # starts that fit a 60-minute consultation in a window
FUTURE_PER_DAY = 3  # consultations per counselor per office day, next 4 weeks
PAST_PER_DAY = 4  # ... and before today
WEEKS = 4
SEEKERS = 1000  # seekers the consultations cycle through (more than any day's count)
OFFICE_CODE = "01040"
DECLARATIONS = {
    "device_ready": True,
    "continuing_support": True,
    "video_terms": True,
    "private_place": True,
    "no_recording": True,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed")
    parser.add_argument("out", type=Path)
    parser.add_argument("--consultations", type=int, default=5000)
    parser.add_argument("--counselors", type=int, default=20)
    parser.add_argument("--pool", type=int, default=400, help="requests to schedule")
    parser.add_argument("--random-seed", type=int, default=20260101)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    began = time.perf_counter()
    with transaction.atomic():
        plan = seed(args)
    if connection.vendor == "postgresql":
        # What autovacuum would do soon after a bulk load; the planner needs the counts.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    plan["seed_seconds"] = round(time.perf_counter() - began, 2)
    args.out.write_text(json.dumps(plan, indent=2))
    counts = plan["counts"]
    print(
        f"seeded {connection.vendor}: {counts['consultations']} consultations, "
        f"{counts['occupancy']} occupancy cells, {counts['seekers']} seekers, "
        f"{counts['requests']} requests to schedule, in {plan['seed_seconds']} s"
    )


def seed(args: argparse.Namespace) -> dict:
    from django.utils import timezone

    from madoguchi.api.models import ApiToken
    from madoguchi.bookings.models import Consultation, Occupancy, Request
    from madoguchi.offices import calendar
    from madoguchi.offices.services import office_create, staff_create
    from madoguchi.seekers.models import Seeker

    rng = random.Random(args.random_seed)
    now = timezone.now()
    office = office_create(code=OFFICE_CODE, name="ハローワーク釧路", phone="0154-41-1201")
    cal = office.calendar()
    tz = cal.tz
    today = now.astimezone(tz).date()

    counselors = [
        staff_create(username=f"counselor{i:02d}", office=office, role="counselor")
        for i in range(1, args.counselors + 1)
    ]
    coordinator = staff_create(username="coordinator", office=office, role="coordinator")
    token = ApiToken.issue(coordinator.user)[1]

    # Seekers: SEEKERS for the existing consultations, then one per pooled request.
    registered_on, expires_on = today - dt.timedelta(days=400), today + dt.timedelta(days=400)
    seekers = Seeker.objects.bulk_create(
        [
            Seeker(
                office=office,
                number=f"{OFFICE_CODE}-{i:08d}",
                name=f"求職 太郎{i}",
                name_kana="キュウショク タロウ",
                email=f"seeker{i}@example.org",
                counselor=counselors[i % len(counselors)],
                registered_on=registered_on,
                expires_on=expires_on,
            )
            for i in range(1, SEEKERS + args.pool + 1)
        ],
        batch_size=500,
    )
    booked_seekers, pool_seekers = seekers[:SEEKERS], seekers[SEEKERS:]

    # Office days: the next 4 weeks from the first bookable day, and back from yesterday.
    date_from = calendar.earliest_bookable_date(cal, now)
    date_to = date_from + dt.timedelta(days=7 * WEEKS - 1)
    future_days = list(calendar.office_days(cal, date_from, date_to))
    per_future_day = FUTURE_PER_DAY * len(counselors)
    past_needed = max(0, args.consultations - per_future_day * len(future_days))
    past_days: list[dt.date] = []
    day = today - dt.timedelta(days=1)
    per_past_day = PAST_PER_DAY * len(counselors)
    while len(past_days) * per_past_day < past_needed:
        if calendar.is_office_day(cal, day):
            past_days.append(day)
        day -= dt.timedelta(days=1)

    consultations: list[Consultation] = []
    free_hours: list[tuple[int, dt.datetime]] = []  # (counselor index, start)
    # The next weeks first, so the count cuts off the oldest past day, never the range.
    for day in future_days + past_days:
        future = day >= date_from
        per_day = FUTURE_PER_DAY if future else PAST_PER_DAY
        for c_index, counselor in enumerate(counselors):
            if len(consultations) >= args.consultations:
                break
            chosen = set(rng.sample(HOURS, per_day))
            for hour in HOURS:
                start = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
                if hour not in chosen:
                    if future:
                        free_hours.append((c_index, start))
                    continue
                if len(consultations) >= args.consultations:
                    continue
                minutes = rng.choice((30, 45, 60))
                consultations.append(
                    _consultation(
                        Consultation,
                        rng,
                        office=office,
                        # Any one day has fewer consultations than SEEKERS, so cycling
                        # through them never gives a seeker two at once.
                        seeker=booked_seekers[len(consultations) % SEEKERS],
                        counselor=counselor,
                        start=start,
                        minutes=minutes,
                        future=future,
                        created_by=coordinator,
                        now=now,
                    )
                )
    Consultation.objects.bulk_create(consultations, batch_size=500)

    cells = [
        Occupancy(cell=cell, counselor_id=c.counselor_id, seeker_id=c.seeker_id, consultation=c)
        for c in consultations
        if c.status in Consultation.HOLDING_TIME
        for cell in calendar.grid_cells(c.start, c.end)
    ]
    Occupancy.objects.bulk_create(cells, batch_size=2000)

    # The scheduling pool: distinct free hours, so no two calls want the same time.
    if len(free_hours) < args.pool:
        sys.exit(f"only {len(free_hours)} free hours for a pool of {args.pool}")
    slots = rng.sample(free_hours, args.pool)
    requests = Request.objects.bulk_create(
        [
            Request(
                office=office,
                seeker=seeker,
                name=seeker.name,
                channel="phone",
                status=Request.Status.REQUESTED,
                preferences=[{"start": start.isoformat(), "duration_minutes": 60}],
                declarations=DECLARATIONS,
                created_by=coordinator,
                created_at=now,
                status_changed_at=now,
            )
            for seeker, (_c, start) in zip(pool_seekers, slots, strict=True)
        ],
        batch_size=500,
    )
    return {
        "office": office.code,
        "token": token,
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "duration": 60,
        "schedule": [
            {
                "id": request.pk,
                "counselor": counselors[c_index].username,
                "start": start.isoformat(),
                "duration_minutes": 60,
            }
            for request, (c_index, start) in zip(requests, slots, strict=True)
        ],
        "counts": {
            "counselors": len(counselors),
            "seekers": len(seekers),
            "consultations": len(consultations),
            "consultations_in_range": sum(1 for c in consultations if c.start.date() >= date_from),
            "past_office_days": len(past_days),
            "range_office_days": len(future_days),
            "occupancy": len(cells),
            "occupancy_in_range": sum(
                1 for o in cells if o.cell >= dt.datetime.combine(date_from, dt.time(), tz)
            ),
            "requests": len(requests),
        },
    }


def _consultation(model, rng: random.Random, *, start, minutes, future, now, **fields):
    """One consultation with the fields its status implies."""
    end = start + dt.timedelta(minutes=minutes)
    roll = rng.random()
    if future:
        status = model.Status.CANCELLED if roll < 0.05 else model.Status.SCHEDULED
    elif roll < 0.85:
        status = model.Status.COMPLETED
    elif roll < 0.90:
        status = model.Status.NO_SHOW
    else:
        status = model.Status.CANCELLED
    meeting_id = str(rng.randrange(10**10, 10**11))
    consultation = model(
        start=start,
        end=end,
        status=status,
        status_changed_at=min(now, end),
        created_at=min(now, start) - dt.timedelta(days=7),
        meeting_provider="fake",
        meeting_id=meeting_id,
        meeting_passcode=secrets.token_hex(4),
        meeting_join_url=f"http://127.0.0.1:8000/meetings/fake/{meeting_id}/",
        meeting_state="ready",
        meeting_ready_at=min(now, start) - dt.timedelta(days=7),
        **fields,
    )
    if status == model.Status.COMPLETED:
        consultation.actual_start, consultation.actual_end = start, end
        consultation.seeker_joined_at = start
    if status == model.Status.CANCELLED:
        consultation.cancel_channel, consultation.cancel_reason = "phone", "体調不良"
    return consultation


if __name__ == "__main__":
    main()
