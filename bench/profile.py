"""Scheduling and availability in process: CPU time, SQL statements, Python calls.

    python -m bench.profile [--calls 200] [--db sqlite|postgres] [--pg-url URL] [--top 25]

Seeds a fresh database exactly as `make bench` does, then drives the same API calls
through Django's test client in this one process, with no HTTP server and no other
client, so the figures do not depend on what else the machine is doing as much as the
HTTP bench does. For each scenario it prints milliseconds per call (the median of 5
rounds): the process's own CPU time, the wall-clock time, and on PostgreSQL the CPU
time of the server process of our connection (it runs on this machine); the SQL
statements of one call; and with `--top N` the N costliest functions under cProfile.
"""

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.__main__ import command, pg_database, process_cpu_seconds, server_env


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

    with contextlib.ExitStack() as stack:
        data_dir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="madoguchi-profile-"))
        )
        env = server_env(data_dir) | {"ALLOWED_HOSTS": "testserver"}
        if args.db == "postgres":
            env["DATABASE_URL"] = args.pg_url
            stack.enter_context(pg_database(args.pg_url))
        os.environ.clear()
        os.environ.update(env)
        plan_file = data_dir / "plan.json"
        pool = 5 * args.calls + 20
        command(env, [sys.executable, "-m", "madoguchi", "migrate", "--noinput"], "migrate")
        command(
            env, [sys.executable, "-m", "bench.seed", str(plan_file), "--pool", str(pool)], "seed"
        )
        return profile(json.loads(plan_file.read_text()), args)


def _server_cpu(connection) -> float:
    """CPU seconds of this connection's PostgreSQL server process so far (it runs on
    this machine); 0 on SQLite, whose work is in our own process."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return process_cpu_seconds(pid)


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
    print(
        f"{'scenario':<14}{'CPU ms':>9}{'wall ms':>9}{'SQL':>6}"
        + (f"{'server ms':>11}" if connection.vendor == "postgresql" else "")
    )
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
        rounds, walls, servers = [], [], []
        for _ in range(5 if name != "scheduling" else 4):
            began, began_wall = time.process_time(), time.perf_counter()
            began_server = _server_cpu(connection)
            for _ in range(calls):
                call()
            rounds.append((time.process_time() - began) * 1000 / calls)
            walls.append((time.perf_counter() - began_wall) * 1000 / calls)
            servers.append((_server_cpu(connection) - began_server) * 1000 / calls)
        print(
            f"{name:<14}{statistics.median(rounds):>9.2f}{statistics.median(walls):>9.2f}"
            f"{len(statements):>6}"
            + (f"{statistics.median(servers):>11.2f}" if connection.vendor == "postgresql" else "")
        )
        if args.sql:
            print("\n".join(f"    {sql[:150]}" for sql in statements))
        if args.top and name != "trivial":
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(min(calls, 50)):
                call()
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
                os.environ.get("PROFILE_FILTER", r"madoguchi|django/db"), args.top
            )
            if os.environ.get("PROFILE_CALLEES"):
                stats.print_callees(os.environ["PROFILE_CALLEES"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
