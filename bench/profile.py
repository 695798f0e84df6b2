"""Scheduling and availability in process: CPU time, SQL statements, Python calls.

    python -m bench.profile [--calls 200] [--db sqlite|postgres] [--pg-url URL] [--top 25]

Seeds a fresh database exactly as `make bench` does, then drives the same API calls
through Django's test client in this one process, with no HTTP server and no other
client, so the figures do not depend on what else the machine is doing as much as the
HTTP bench does. For each scenario it prints CPU milliseconds per call (the process's
own CPU time, the median of 5 rounds), SQL statements per call, and with `--top N` the
N functions of our own code and Django that took the most time under cProfile.
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--calls", type=int, default=200, help="scheduling calls to measure")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--pg-url", default="postgres://postgres@127.0.0.1:5432/madoguchi_bench_profile"
    )
    parser.add_argument("--sql", action="store_true", help="print one call's statements")
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="madoguchi-profile-") as tmp:
        env = {
            "SECRET_KEY": "bench-only-not-secret",
            "MADOGUCHI_DATA_DIR": tmp,
            "ALLOWED_HOSTS": "testserver",
            "MADOGUCHI_MEETING_PROVIDER": "fake",
            "MADOGUCHI_SECURE_COOKIES": "0",
            "LOG_LEVEL": "WARNING",
        }
        if args.db == "postgres":
            env["DATABASE_URL"] = args.pg_url
            _pg_recreate(args.pg_url)
        else:
            os.environ.pop("DATABASE_URL", None)
        os.environ.update(env)
        plan_file = Path(tmp) / "plan.json"
        run = {"env": os.environ.copy(), "cwd": ROOT, "check": True}
        madoguchi = [sys.executable, "-m", "madoguchi"]
        subprocess.run([*madoguchi, "migrate", "--noinput"], capture_output=True, **run)  # type: ignore[call-overload]
        pool = 5 * args.calls + 20
        subprocess.run(  # type: ignore[call-overload]
            [sys.executable, "-m", "bench.seed", str(plan_file), "--pool", str(pool)], **run
        )
        plan = json.loads(plan_file.read_text())
        return profile(plan, args)


def _pg_recreate(url: str) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(make_conninfo(url, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def profile(plan: dict, args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {plan['token']}"})
    availability = (
        f"/api/v1/offices/{plan['office']}/availability?date_from={plan['date_from']}"
        f"&date_to={plan['date_to']}&duration={plan['duration']}"
    )
    schedule = iter(plan["schedule"])

    def schedule_call() -> None:
        item = next(schedule)
        body = {k: item[k] for k in ("start", "duration_minutes", "counselor")}
        response = client.post(
            f"/api/v1/requests/{item['id']}/schedule", body, content_type="application/json"
        )
        assert response.status_code == 201, response.content[:300]

    def availability_call() -> None:
        assert client.get(availability).status_code == 200

    def healthz_call() -> None:
        assert client.get("/healthz").status_code == 200

    print(f"in process, {connection.vendor}, {args.calls} calls a round, median of 5 rounds")
    print(f"{'scenario':<14}{'CPU ms':>9}{'SQL':>6}")
    for name, call, calls in (
        ("trivial", healthz_call, args.calls),
        ("availability", availability_call, args.calls),
        ("scheduling", schedule_call, args.calls),
    ):
        call()  # warm caches and connections
        statements: list[str] = []

        def record(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            call()
        rounds = []
        for _ in range(5 if name != "scheduling" else 4):
            began = time.process_time()
            for _ in range(calls):
                call()
            rounds.append((time.process_time() - began) * 1000 / calls)
        print(f"{name:<14}{statistics.median(rounds):>9.2f}{len(statements):>6}")
        if args.sql:
            print("\n".join(f"    {sql[:150]}" for sql in statements))
        if args.top and name != "trivial":
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(min(calls, 50)):
                call()
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(r"madoguchi|django/db", args.top)
            if os.environ.get("PROFILE_CALLEES"):
                stats.print_callees(os.environ["PROFILE_CALLEES"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
