"""Seed a migrated, empty database for the worker scenario; run in a subprocess.

    python -m bench.seed_worker OUT.json [--consultations 1000] [--lead 3]

Configuration comes from the environment, as for the worker (DATABASE_URL,
MADOGUCHI_DATA_DIR, SECRET_KEY). One office (the spec's defaults: 10 minutes of
no-show grace), and N consultations that all reach their no-show moment T at the same
instant: each `scheduled`, 30 minutes from T - grace, nobody joined, no contact
recorded, a `fake` meeting ready (its details sent) a week before, each with a counselor
and a seeker of its own (so N counselors and N seekers, each seeker with an e-mail
address) and its occupancy cells claimed as `bookings.services._claim_time` writes them.

T is chosen once the counselors and seekers are in, `--lead` seconds ahead (rounded up
to a whole second), so the bench can start the worker at T. The plan (T, grace, counts)
is written to OUT.json; a one-line summary goes to stdout.
"""

import argparse
import datetime as dt
import json
import math
import os
import secrets
import time
from pathlib import Path

OFFICE_CODE = "01040"
MINUTES = 30


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_worker")
    parser.add_argument("out", type=Path)
    parser.add_argument("-n", "--consultations", type=int, default=1000)
    parser.add_argument("--lead", type=float, default=3.0, help="seconds from now to T")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    began = time.perf_counter()
    with transaction.atomic():
        plan = seed(args)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    plan["seed_seconds"] = round(time.perf_counter() - began, 2)
    args.out.write_text(json.dumps(plan, indent=2))
    counts = plan["counts"]
    print(
        f"seeded {connection.vendor}: {counts['consultations']} consultations due at "
        f"{plan['due']}, {counts['occupancy']} occupancy cells, {counts['counselors']} "
        f"counselors, {counts['seekers']} seekers, in {plan['seed_seconds']} s"
    )


def seed(args: argparse.Namespace) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from madoguchi.bookings.models import Consultation, Occupancy
    from madoguchi.offices import calendar
    from madoguchi.offices.models import Office, Staff
    from madoguchi.offices.services import office_create
    from madoguchi.seekers.models import Seeker

    n = args.consultations
    office = office_create(code=OFFICE_CODE, name="ハローワーク釧路", phone="0154-41-1201")
    today = timezone.now().astimezone(office.tz).date()

    # Counselors in bulk: what staff_create does, less its per-row checks and audit.
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"counselor{i:04d}", password=make_password(None)) for i in range(n)],
        batch_size=500,
    )
    counselors = Staff.objects.bulk_create(
        [Staff(user=user, office=office, role=Staff.Role.COUNSELOR) for user in users],
        batch_size=500,
    )
    Office.calendar_changed(office.pk)
    seekers = Seeker.objects.bulk_create(
        [
            Seeker(
                office=office,
                number=f"{OFFICE_CODE}-{i:08d}",
                name=f"求職 太郎{i}",
                name_kana="キュウショク タロウ",
                email=f"seeker{i}@example.org",
                counselor=counselor,
                registered_on=today - dt.timedelta(days=400),
                expires_on=today + dt.timedelta(days=400),
            )
            for i, counselor in enumerate(counselors, start=1)
        ],
        batch_size=500,
    )

    now = timezone.now()
    due = dt.datetime.fromtimestamp(math.ceil(now.timestamp() + args.lead), tz=dt.UTC)
    grace = dt.timedelta(minutes=office.no_show_grace_minutes)
    start = due - grace
    consultations = []
    for counselor, seeker in zip(counselors, seekers, strict=True):
        meeting_id = str(10**10 + seeker.pk)
        consultations.append(
            Consultation(
                office=office,
                seeker=seeker,
                counselor=counselor,
                start=start,
                end=start + dt.timedelta(minutes=MINUTES),
                status=Consultation.Status.SCHEDULED,
                status_changed_at=start - dt.timedelta(days=7),
                created_at=start - dt.timedelta(days=7),
                meeting_provider="fake",
                meeting_id=meeting_id,
                meeting_passcode=secrets.token_hex(4),
                meeting_join_url=f"http://127.0.0.1:8000/meetings/fake/{meeting_id}/",
                meeting_state="ready",
                meeting_ready_at=start - dt.timedelta(days=7),
            )
        )
    Consultation.objects.bulk_create(consultations, batch_size=500)
    cells = [
        Occupancy(cell=cell, counselor_id=c.counselor_id, seeker_id=c.seeker_id, consultation=c)
        for c in consultations
        for cell in calendar.grid_cells(c.start, c.end)
    ]
    Occupancy.objects.bulk_create(cells, batch_size=2000)
    return {
        "office": office.code,
        "due": due.isoformat(),
        "grace_minutes": office.no_show_grace_minutes,
        "lead_seconds": args.lead,
        "counts": {
            "counselors": len(counselors),
            "seekers": len(seekers),
            "consultations": len(consultations),
            "occupancy": len(cells),
        },
    }


if __name__ == "__main__":
    main()
