"""`make bench`: the API under gunicorn on 127.0.0.1, on SQLite and on PostgreSQL.

    python -m bench [--db sqlite,postgres] [--pg-url URL] [--only http,worker,reports]
                    [--requests 1000] [--schedule-requests 300] [--warmup 50]
                    [--concurrency 4] [--workers 2] [--no-shows 1000]
                    [--worker-interval 0.5] [--cap 120] [--check]

For each database: a fresh database (SQLite: a file in a temporary data folder;
PostgreSQL: the database of --pg-url, dropped and created again, skipped with a note
when the server does not answer), `madoguchi migrate`, `python -m bench.seed`, then
gunicorn (`-w WORKERS --threads 1`, sync workers) on a free port of 127.0.0.1, and three
scenarios, each a warm-up and then a fixed number of calls at a fixed concurrency with
a time cap:

- trivial: `GET /healthz`, the ceiling of the stack (gunicorn + Django, no database);
- availability: `GET /api/v1/offices/{code}/availability` for 4 weeks, 60 minutes,
  with a coordinator's token (the staff view, free counselors named per slot);
- scheduling: `POST /api/v1/requests/{id}/schedule`, each call a different request at
  a different free (counselor, start) that the seed chose, so nearly all answer 201.

Then the worker, on a fresh database of its own (`python -m bench.seed_worker`): 1,000
scheduled consultations, nobody joined, all reaching their no-show moment T (start +
the office's grace) at once. At T the bench starts `madoguchi worker` (round every
--worker-interval seconds) and reads the database until every one is `no_show` and
every no-show mail is `sent` (or --cap seconds from T have passed), then stops the
worker with SIGTERM. Latencies are from T to each row's `status_changed_at` / `sent_at`.

Prints a table per database and whether the targets hold (availability at least 0.5x
and scheduling at least 0.3x the trivial rate; R13: every no-show marked within 60 s of
its moment), and writes the figures as JSON to bench/results/. `--only worker` (or
`http`) runs one part. `--check` makes a missed target exit 1. Speed is measured here
only.

`--only reports` (not in the default run: the seed alone takes minutes): the usage
report (R20) over --report-offices offices with --report-consultations consultations
(PostgreSQL; a tenth of them on SQLite), written by `python -m bench.reports` straight
into the tables with one INSERT … SELECT each, on its own database (PostgreSQL:
`madoguchi_bench_reports` on the --pg-url server). Target: the national monthly report
under 2 s on PostgreSQL.
"""

import argparse
import datetime as dt
import json
import math
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bench import load

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/madoguchi_bench"
TARGETS = {"availability": 0.5, "scheduling": 0.3}
NO_SHOW_TARGET_SECONDS = 60.0  # R13: a no-show is marked within a minute of its moment
PARTS = ("http", "worker")
EXTRA_PARTS = ("reports",)  # run only when asked for with --only
REPORTS_DATABASE = "madoguchi_bench_reports"
REPORTS_TARGET_SECONDS = 2.0  # the national monthly report on PostgreSQL
POLL_SECONDS = 0.25
# Settings the bench decides; anything like them in the caller's environment is dropped.
CLEARED_ENV = (
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_SETTINGS_MODULE",
    "LOG_LEVEL",
)


class BenchError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--only", default=",".join(PARTS), help="http, worker or both")
    parser.add_argument("--requests", type=int, default=1000, help="trivial and availability")
    parser.add_argument("--schedule-requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--no-shows", type=int, default=1000, help="worker: consultations due")
    parser.add_argument("--worker-interval", type=float, default=0.5, help="worker: round, s")
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per scenario at most")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--report-offices", type=int, default=50, help="reports: offices")
    parser.add_argument(
        "--report-consultations", type=int, default=1_000_000, help="reports: on PostgreSQL"
    )
    args = parser.parse_args(argv)
    databases = [d.strip() for d in args.db.split(",") if d.strip()]
    unknown = set(databases) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown database {', '.join(sorted(unknown))}")
    args.only = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.only) - set(PARTS) - set(EXTRA_PARTS)
    if unknown or not args.only:
        parser.error(f"--only takes {', '.join(PARTS + EXTRA_PARTS)}, not {args.only!r}")

    machine = machine_info()
    print(
        f"bench: {machine['cpu_model']}, {machine['nproc']} CPUs, {machine['memory']}; "
        f"Python {machine['python']}, Django {machine['django']}, gunicorn {machine['gunicorn']}; "
        f"load average {machine['loadavg_at_start']:.2f}"
    )
    if "http" in args.only:
        print(
            f"bench: gunicorn -w {args.workers} --threads 1 (sync) on 127.0.0.1; "
            f"{args.concurrency} client threads; warm-up {args.warmup}; "
            f"{args.requests} trivial/availability and {args.schedule_requests} scheduling "
            f"calls; cap {args.cap:g} s per scenario"
        )
    if "worker" in args.only:
        print(
            f"bench: madoguchi worker --interval {args.worker_interval:g}; "
            f"{args.no_shows} no-shows due at once; cap {args.cap:g} s"
        )
    commit = git_commit()
    print(f"bench: commit {commit}")
    report: dict = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "make bench",
        "commit": commit,
        "machine": machine,
        "config": {
            "workers": args.workers,
            "threads": 1,
            "worker_class": "sync",
            "concurrency": args.concurrency,
            "warmup": args.warmup,
            "requests": args.requests,
            "schedule_requests": args.schedule_requests,
            "cap_seconds": args.cap,
            "parts": args.only,
            "no_shows": args.no_shows,
            "worker_interval": args.worker_interval,
        },
        "targets": {**TARGETS, "no_show_within_seconds": NO_SHOW_TARGET_SECONDS},
        "databases": {},
    }
    failed = False
    for database in databases:
        try:
            outcome = bench_database(database, args)
        except BenchError as error:
            print(f"\nbench: {database}: FAILED: {error}", file=sys.stderr)
            report["databases"][database] = {"error": str(error)}
            failed = True
            continue
        report["databases"][database] = outcome
        if outcome.get("skipped"):
            continue
        if "scenarios" in outcome:
            print_table(outcome)
        if "worker" in outcome:
            print_worker_table(outcome["worker"])
        if "reports" in outcome:
            print_reports_table(outcome["reports"])

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"bench-{stamp}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nbench: results written to {out.relative_to(ROOT)}")
    if failed:
        return 1
    missed = any(
        not ok
        for outcome in report["databases"].values()
        for ok in outcome.get("targets_met", {}).values()
    )
    return 1 if (missed and args.check) else 0


# One database ---------------------------------------------------------------------------


def bench_database(database: str, args: argparse.Namespace) -> dict:
    """The parts asked for, each on a fresh database of its own."""
    if database == "postgres":
        reason = pg_unreachable(args.pg_url)
        if reason:
            print(f"\nbench: SKIPPED PostgreSQL: not reachable at {args.pg_url}: {reason}")
            return {"skipped": f"not reachable: {reason}"}
    outcome: dict = {"database": database}
    if "http" in args.only:
        with fresh_database(database, args) as (server_version, env, data_dir):
            outcome.update(bench_with(database, server_version, env, data_dir, args))
    if "worker" in args.only:
        with fresh_database(database, args) as (server_version, env, data_dir):
            worker = bench_worker(database, server_version, env, data_dir, args)
        outcome.setdefault("server", server_version)
        outcome["worker"] = worker
        outcome.setdefault("targets_met", {})["no_show_within_60s"] = worker["target_met"]
    if "reports" in args.only:
        reports_args = argparse.Namespace(**vars(args))
        reports_args.pg_url = _with_database(args.pg_url, REPORTS_DATABASE)
        with fresh_database(database, reports_args) as (server_version, env, data_dir):
            reports = bench_reports(database, server_version, env, data_dir, args)
        outcome.setdefault("server", server_version)
        outcome["reports"] = reports
        if database == "postgres":
            outcome.setdefault("targets_met", {})["national_report_under_2s"] = reports[
                "target_met"
            ]
    return outcome


def _with_database(url: str, name: str) -> str:
    """`url` with its database replaced by `name` (never the caller's own database)."""
    parts = urlsplit(url)
    return parts._replace(path="/" + name).geturl()


def bench_reports(
    database: str, server_version: str, env: dict, data_dir: Path, args: argparse.Namespace
) -> dict:
    """Seed --report-offices offices' history and time the usage report (bench.reports)."""
    print(f"\n==> {server_version}: reports")
    command(env, [str(BIN / "madoguchi"), "migrate", "--noinput"], "migrate")
    count = args.report_consultations if database == "postgres" else args.report_consultations // 10
    out = data_dir / "reports.json"
    argv = [sys.executable, "-m", "bench.reports", str(out)]
    argv += ["--offices", str(args.report_offices), "--consultations", str(count)]
    for line in command(env, argv, "reports").strip().splitlines():
        print("    " + line.strip())
    result = json.loads(out.read_text())
    national = result["timings"]["national month publishable"]["median_s"]
    result["target_met"] = national < REPORTS_TARGET_SECONDS
    result["server"] = server_version
    return result


def print_reports_table(row: dict) -> None:
    print(
        f"\n{row['server']}: usage report, {row['offices']} offices, "
        f"{row['consultations']} consultations over {row['months']} months "
        f"(seeded in {row['seed_seconds']} s)"
    )
    header = f"{'report':<28}{'queries':>8}{'held':>9}{'median s':>10}{'min s':>8}{'max s':>8}"
    print(header)
    print("-" * len(header))
    for name, t in row["timings"].items():
        print(
            f"{name:<28}{t['queries']:>8}{t['held']:>9}{t['median_s']:>10.3f}"
            f"{t['min_s']:>8.3f}{t['max_s']:>8.3f}"
        )
    if row["server"].startswith("PostgreSQL"):
        verdict = "met" if row["target_met"] else "MISSED"
        print(f"target national monthly report under {REPORTS_TARGET_SECONDS:g} s: {verdict}")


@contextmanager
def fresh_database(database: str, args: argparse.Namespace):
    """(server version, environment, data folder) for a new, empty database."""
    with tempfile.TemporaryDirectory(prefix=f"madoguchi-bench-{database}-") as tmp:
        data_dir = Path(tmp)
        env = server_env(data_dir)
        if database == "postgres":
            env["DATABASE_URL"] = args.pg_url
            with pg_database(args.pg_url) as server_version:
                yield server_version, env, data_dir
        else:
            yield f"SQLite {sqlite3.sqlite_version}", env, data_dir


def bench_with(
    database: str, server_version: str, env: dict, data_dir: Path, args: argparse.Namespace
) -> dict:
    print(f"\n==> {server_version}")
    loadavg_before = os.getloadavg()[0]
    began = time.perf_counter()
    command(env, [str(BIN / "madoguchi"), "migrate", "--noinput"], "migrate")
    plan_file = data_dir / "plan.json"
    pool = args.warmup + args.schedule_requests + 50
    seeded = command(
        env,
        [sys.executable, "-m", "bench.seed", str(plan_file), "--pool", str(pool)],
        "seed",
    )
    print("    " + seeded.strip().splitlines()[-1])
    plan = json.loads(plan_file.read_text())
    setup_seconds = time.perf_counter() - began

    with gunicorn(env, data_dir, args.workers) as (base_url, server_pid):
        headers = {"Authorization": f"Bearer {plan['token']}"}
        availability_path = (
            f"/api/v1/offices/{plan['office']}/availability?date_from={plan['date_from']}"
            f"&date_to={plan['date_to']}&duration={plan['duration']}"
        )
        probe = httpx.get(base_url + availability_path, headers=headers, timeout=30)
        if probe.status_code != 200:
            raise BenchError(f"availability answered {probe.status_code}: {probe.text[:300]}")
        slots = probe.json()["slots"]
        print(
            f"    availability {plan['date_from']}..{plan['date_to']}: {len(slots)} slots, "
            f"{sum(s['free'] for s in slots)} free (slot, counselor) pairs, "
            f"{len(probe.content) // 1024} KiB"
        )
        schedule = plan["schedule"]

        def schedule_call(i: int) -> load.Call:
            item = schedule[i]
            body = {k: item[k] for k in ("start", "duration_minutes", "counselor")}
            return ("POST", f"/api/v1/requests/{item['id']}/schedule", body)

        scenarios = [
            ("trivial", lambda i: ("GET", "/healthz", None), args.requests),
            ("availability", lambda i: ("GET", availability_path, None), args.requests),
            ("scheduling", schedule_call, args.schedule_requests),
        ]
        results = {}
        for name, make_call, count in scenarios:
            common = {
                "base_url": base_url,
                "make_call": make_call,
                "concurrency": args.concurrency,
                "cap_seconds": args.cap,
                "headers": headers,
            }
            warm = load.run(scenario=name, count=args.warmup, **common)
            # Scheduling takes fresh requests after the ones the warm-up used.
            first = args.warmup if name == "scheduling" else 0
            cpu_before = cpu_seconds(server_pid)
            measured = load.run(scenario=name, count=count, first=first, **common)
            cpu_after = cpu_seconds(server_pid)
            results[name] = summarize(measured, warm)
            results[name]["cpu_ms_per_call"] = (
                {
                    part: round((cpu_after[part] - cpu_before[part]) * 1000 / measured.completed, 2)
                    for part in cpu_before
                }
                if measured.completed
                else {}
            )
            print(
                f"    {name}: {measured.completed} calls in {measured.wall_seconds:.1f} s"
                + (" (time cap reached)" if measured.capped else "")
            )
    trivial_rate = results["trivial"]["rate"]
    for row in results.values():
        row["ratio"] = row["rate"] / trivial_rate if trivial_rate else 0.0
    return {
        "database": database,
        "server": server_version,
        "setup_seconds": round(setup_seconds, 1),
        # Anything else running on the machine competes with server and client alike.
        "loadavg_1min": {"before": loadavg_before, "after": os.getloadavg()[0]},
        "seed": {"counts": plan["counts"], "seconds": plan["seed_seconds"]},
        "range": [plan["date_from"], plan["date_to"]],
        "availability_slots": len(slots),
        "availability_bytes": len(probe.content),
        "scenarios": results,
        "targets_met": {name: results[name]["ratio"] >= target for name, target in TARGETS.items()},
    }


def process_cpu_seconds(pid: int | str) -> float:
    """User and system CPU seconds of one process of this machine (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server (gunicorn and its workers), the client
    (this process: the load generator's threads) and the database server (every
    `postgres` process; 0 with SQLite, whose work is in the server). Workers and
    database connections live through a scenario, so the differences are its cost."""

    of = process_cpu_seconds

    def children(pid: int) -> list[str]:
        try:
            return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []

    database = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    database += of(entry.name)
            except OSError:
                continue
    return {
        "server": of(server_pid) + sum(of(child) for child in children(server_pid)),
        "client": time.process_time(),
        "database": database,
    }


def summarize(measured: load.Result, warm: load.Result) -> dict:
    ok_status = 201 if measured.scenario == "scheduling" else 200
    ok = measured.count(ok_status)
    conflicts = measured.count(409)
    return {
        "planned": measured.planned,
        "requests": measured.completed,
        "ok": ok,
        "conflicts": conflicts,
        "errors": measured.completed - ok - conflicts,
        "statuses": {str(k): v for k, v in sorted(measured.statuses.items(), key=str)},
        "warmup_statuses": {str(k): v for k, v in sorted(warm.statuses.items(), key=str)},
        "seconds": round(measured.wall_seconds, 3),
        "capped": measured.capped,
        "rate": measured.rate,
        "p50_ms": measured.percentile_ms(0.50),
        "p95_ms": measured.percentile_ms(0.95),
    }


def print_table(outcome: dict) -> None:
    load_1min = outcome["loadavg_1min"]
    print(
        f"\n{outcome['server']} (1-minute load average {load_1min['before']:.2f} before, "
        f"{load_1min['after']:.2f} after)"
    )
    header = (
        f"{'scenario':<13}{'requests':>9}{'ok':>7}{'409':>6}{'errors':>8}"
        f"{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'x trivial':>11}"
        f"  CPU ms a call: {'server':>6}{'client':>7}{'db':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, row in outcome["scenarios"].items():
        cpu = row.get("cpu_ms_per_call") or {}
        print(
            f"{name:<13}{row['requests']:>9}{row['ok']:>7}{row['conflicts']:>6}"
            f"{row['errors']:>8}{row['rate']:>10.1f}{row['p50_ms']:>9.1f}"
            f"{row['p95_ms']:>9.1f}{row['ratio']:>11.3f}"
            f"{'':>17}{cpu.get('server', 0):>6.2f}{cpu.get('client', 0):>7.2f}"
            f"{cpu.get('database', 0):>6.2f}"
        )
    for name, target in TARGETS.items():
        ratio = outcome["scenarios"][name]["ratio"]
        verdict = "met" if outcome["targets_met"][name] else "MISSED"
        print(f"target {name} >= {target:.1f}x trivial: {verdict} ({ratio:.3f}x)")


# The worker -----------------------------------------------------------------------------

# The whole database is the scenario's, so no filter names its rows.
PROGRESS_SQL = (
    "SELECT (SELECT COUNT(*) FROM bookings_consultation WHERE status = 'no_show'),"
    " (SELECT COUNT(*) FROM notifications_outboxmail WHERE kind = 'no_show' AND status = 'sent')"
)
MARKED_SQL = "SELECT status_changed_at FROM bookings_consultation WHERE status = 'no_show'"
SENT_SQL = "SELECT sent_at FROM notifications_outboxmail WHERE kind = 'no_show' AND status = 'sent'"
MAIL_SQL = "SELECT status, COUNT(*) FROM notifications_outboxmail GROUP BY status"
UP_SQL = "SELECT MIN(started_at) FROM worker_heartbeat"


def bench_worker(
    database: str, server_version: str, env: dict, data_dir: Path, args: argparse.Namespace
) -> dict:
    print(f"\n==> {server_version}: worker")
    loadavg_before = os.getloadavg()[0]
    command(env, [str(BIN / "madoguchi"), "migrate", "--noinput"], "migrate")
    plan_file = data_dir / "worker-plan.json"
    seeded = command(
        env,
        [sys.executable, "-m", "bench.seed_worker", str(plan_file), "-n", str(args.no_shows)],
        "seed",
    )
    print("    " + seeded.strip().splitlines()[-1])
    plan = json.loads(plan_file.read_text())
    due = dt.datetime.fromisoformat(plan["due"]).timestamp()
    expected = plan["counts"]["consultations"]

    time.sleep(max(0.0, due - time.time()))
    started = time.time()
    env = {**env, "MADOGUCHI_WORKER_INTERVAL": str(args.worker_interval)}
    with worker(env, data_dir, args.worker_interval) as process, reader(database, env) as query:
        capped = False
        while True:
            if process.poll() is not None:
                raise BenchError(f"the worker exited {process.returncode}")
            no_shows, mails = query(PROGRESS_SQL)[0]
            if no_shows >= expected and mails >= expected:
                break
            if time.time() - due > args.cap:
                capped = True
                break
            time.sleep(POLL_SECONDS)
        observed = time.time() - due
        marked = [_epoch(value) for (value,) in query(MARKED_SQL)]
        sent = [_epoch(value) for (value,) in query(SENT_SQL)]
        heartbeat = query(UP_SQL)[0][0]
        mail_statuses = dict(query(MAIL_SQL))
    # After SIGTERM the worker finishes its round and exits 0.
    exit_code = process.returncode
    no_show = _jobs(marked, due, expected)
    mail = _jobs(sent, due, expected)
    met = not capped and no_show["done"] == expected and no_show["max_s"] <= NO_SHOW_TARGET_SECONDS
    print(
        f"    worker: {no_show['done']} no-shows and {mail['done']} mails in {observed:.1f} s"
        + (" (time cap reached)" if capped else "")
    )
    return {
        "server": server_version,
        "loadavg_1min": {"before": loadavg_before, "after": os.getloadavg()[0]},
        "seed": {"counts": plan["counts"], "seconds": plan["seed_seconds"]},
        "due": plan["due"],
        "grace_minutes": plan["grace_minutes"],
        "interval_seconds": args.worker_interval,
        # The worker is started at T; "up" is when its command began (Django loaded).
        "started_after_due_s": round(started - due, 3),
        "up_after_due_s": round(_epoch(heartbeat) - due, 3) if heartbeat else None,
        "observed_seconds": round(observed, 3),
        "capped": capped,
        "no_show": no_show,
        "mail": mail,
        "mail_statuses": mail_statuses,
        "worker_exit_code": exit_code,
        "target_met": met,
    }


def _epoch(value: dt.datetime | str) -> float:
    """A timestamp as read back: aware from psycopg, naive UTC text from SQLite."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


def _jobs(instants: list[float], due: float, expected: int) -> dict:
    """Seconds from T to each job's row change; the rate over first to last."""
    seconds = sorted(t - due for t in instants)
    if not seconds:
        return {"expected": expected, "done": 0}
    span = seconds[-1] - seconds[0]

    def q(fraction: float) -> float:
        return round(seconds[max(0, math.ceil(fraction * len(seconds)) - 1)], 3)

    return {
        "expected": expected,
        "done": len(seconds),
        "first_s": round(seconds[0], 3),
        "p50_s": q(0.50),
        "p95_s": q(0.95),
        "max_s": round(seconds[-1], 3),
        "span_s": round(span, 3),
        "rate": len(seconds) / span if span > 0 else 0.0,
        "rate_from_due": len(seconds) / seconds[-1] if seconds[-1] > 0 else 0.0,
    }


def print_worker_table(row: dict) -> None:
    load_1min = row["loadavg_1min"]
    up = row["up_after_due_s"]
    print(
        f"\n{row['server']}, worker (1-minute load average {load_1min['before']:.2f} before, "
        f"{load_1min['after']:.2f} after): {row['no_show']['expected']} no-shows due at T, "
        f"worker started at T{row['started_after_due_s']:+.1f} s, up at "
        + (f"T{up:+.1f} s" if up is not None else "?")
    )
    header = (
        f"{'job':<13}{'done':>6}{'of':>6}{'first s':>9}{'p50 s':>8}{'p95 s':>8}{'max s':>8}"
        f"{'jobs/s':>9}{'/s from T':>11}"
    )
    print(header)
    print("-" * len(header))
    for name, jobs in (("no-show", row["no_show"]), ("no_show mail", row["mail"])):
        if not jobs["done"]:
            print(f"{name:<13}{0:>6}{jobs['expected']:>6}")
            continue
        print(
            f"{name:<13}{jobs['done']:>6}{jobs['expected']:>6}{jobs['first_s']:>9.1f}"
            f"{jobs['p50_s']:>8.1f}{jobs['p95_s']:>8.1f}{jobs['max_s']:>8.1f}"
            f"{jobs['rate']:>9.1f}{jobs['rate_from_due']:>11.1f}"
        )
    verdict = "met" if row["target_met"] else "MISSED"
    worst = row["no_show"].get("max_s")
    print(
        f"target every no-show within {NO_SHOW_TARGET_SECONDS:g} s of its moment: {verdict}"
        + (f" (max {worst:.1f} s)" if worst is not None else "")
        + (" (time cap reached)" if row["capped"] else "")
    )


@contextmanager
def worker(env: dict, data_dir: Path, interval: float):
    """`madoguchi worker`, stopped with SIGTERM on the way out."""
    log = data_dir / "worker.log"
    argv = [str(BIN / "madoguchi"), "worker", "--interval", str(interval)]
    with log.open("w") as out:
        process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    try:
        yield process
    except BaseException:
        print("    worker log (last lines):\n" + log.read_text()[-2000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def reader(database: str, env: dict):
    """`query(sql) -> rows` on a read-only connection to the bench database."""
    if database == "postgres":
        conninfo = make_conninfo(env["DATABASE_URL"], options="-c default_transaction_read_only=on")
        with psycopg.connect(conninfo, autocommit=True) as connection:
            yield lambda query: connection.execute(query).fetchall()  # type: ignore[arg-type]
        return
    path = Path(env["MADOGUCHI_DATA_DIR"]) / "madoguchi.sqlite3"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        yield lambda query: connection.execute(query).fetchall()
    finally:
        connection.close()


# Processes ------------------------------------------------------------------------------


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env.update(
        SECRET_KEY="bench-only-not-secret",  # noqa: S106 - throwaway key, temp database
        MADOGUCHI_DATA_DIR=str(data_dir),
        ALLOWED_HOSTS="127.0.0.1",
        MADOGUCHI_MEETING_PROVIDER="fake",
        MADOGUCHI_SECURE_COOKIES="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def command(env: dict, argv: list[str], what: str) -> str:
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{what} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict, data_dir: Path, workers: int):
    port = free_port()
    log = data_dir / "gunicorn.log"
    argv = [
        str(BIN / "gunicorn"),
        "madoguchi.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        "1",
        "--worker-class",
        "sync",
        "--timeout",
        "120",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, base_url, log)
        yield base_url, process.pid
    except BaseException:
        if log.exists():
            print("    gunicorn log (last lines):\n" + log.read_text()[-2000:], file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(process: subprocess.Popen, base_url: str, log: Path) -> None:
    """Until /healthz answers. Not /readyz: it wants a worker, and none runs here (the
    availability probe that follows checks the database)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited {process.returncode}")
        with suppress(httpx.HTTPError):
            if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer /healthz within 30 s")


# PostgreSQL -----------------------------------------------------------------------------


def _admin_conninfo(url: str) -> str:
    return make_conninfo(url, dbname="postgres", connect_timeout=3)


def pg_unreachable(url: str) -> str | None:
    try:
        psycopg.connect(_admin_conninfo(url)).close()
    except psycopg.Error as error:
        text = str(error).strip()
        return text.splitlines()[0] if text else type(error).__name__
    return None


@contextmanager
def pg_database(url: str):
    """The bench database, dropped and created again; dropped again afterwards."""
    name = urlsplit(url).path.lstrip("/")
    if not name or name == "postgres":
        raise BenchError(f"--pg-url must name a database of its own, not {name!r}")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        row = admin.execute("SHOW server_version").fetchone()
    try:
        yield f"PostgreSQL {row[0].split()[0] if row else '?'}"
    finally:
        with psycopg.connect(_admin_conninfo(url), autocommit=True) as admin:
            admin.execute(drop)


# The machine ----------------------------------------------------------------------------


def git_commit() -> str:
    """The commit measured, with "+dirty" when the working tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "?"
    return (head or "?") + ("+dirty" if dirty else "")


def machine_info() -> dict:
    cpu_model = platform.processor() or platform.machine()
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "?"

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": version("django"),
        "gunicorn": version("gunicorn"),
        "sqlite": sqlite3.sqlite_version,
        "loadavg_at_start": os.getloadavg()[0],
    }


if __name__ == "__main__":
    sys.exit(main())
