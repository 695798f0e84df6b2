"""One racer in a process of its own, for `tests/test_concurrency.py`; not a test itself.

    python tests/race_worker.py REQUEST_ID START COUNSELOR ACTOR NOW

Configures Django from the environment like the real server does. DATABASE_URL must
name the *existing* test database of the calling test (the worker never creates or
flushes a database, and refuses one whose name does not start with ``test_``).

Protocol on stdout: ``ready`` once Django is set up and connected, then it waits for
``go`` on stdin, calls `consultation_schedule` with the clock frozen at NOW, and prints
one JSON line: ``{"result": "ok", "consultation": id}`` or ``{"result": "<error code>"}``.
Anything other than a BookingError escapes, so the process exits non-zero with a traceback.
"""

import datetime as dt
import json
import os
import sys


def main(request_id: str, start: str, counselor: str, actor: str, now: str) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()

    import time_machine
    from django.db import connection

    from madoguchi.bookings.services import consultation_schedule
    from madoguchi.errors import BookingError
    from madoguchi.offices.models import Staff

    if not str(connection.settings_dict["NAME"]).startswith("test_"):
        print(f"refusing to race on {connection.settings_dict['NAME']!r}", file=sys.stderr)
        return 2
    with time_machine.travel(dt.datetime.fromisoformat(now), tick=False):
        staff = Staff.objects.select_related("user").get(user__username=actor)
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 2
        try:
            consultation = consultation_schedule(
                request_id=int(request_id),
                start=dt.datetime.fromisoformat(start),
                duration_minutes=60,
                counselor=counselor,
                actor=staff,
            )
        except BookingError as error:
            result: dict[str, object] = {"result": error.code}
        else:
            result = {"result": "ok", "consultation": consultation.pk}
        finally:
            connection.close()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
