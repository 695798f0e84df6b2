"""`make bench`: the API under gunicorn on 127.0.0.1, on SQLite and on PostgreSQL.

    python -m bench [--db sqlite,postgres] [--pg-url URL] [--requests 1000]
                    [--schedule-requests 300] [--warmup 50] [--concurrency 4]
                    [--workers 2] [--cap 120] [--check]

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

Prints a table per database and whether the targets hold (availability at least 0.5x
and scheduling at least 0.3x the trivial rate), and writes the figures as JSON to
bench/results/. `--check` makes a missed target exit 1. Speed is measured here only.
"""

import argparse
import datetime as dt
import json
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
    parser.add_argument("--requests", type=int, default=1000, help="trivial and availability")
    parser.add_argument("--schedule-requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per scenario at most")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    databases = [d.strip() for d in args.db.split(",") if d.strip()]
    unknown = set(databases) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown database {', '.join(sorted(unknown))}")

    machine = machine_info()
    print(
        f"bench: {machine['cpu_model']}, {machine['nproc']} CPUs, {machine['memory']}; "
        f"Python {machine['python']}, Django {machine['django']}, gunicorn {machine['gunicorn']}; "
        f"load average {machine['loadavg_at_start']:.2f}"
    )
    print(
        f"bench: gunicorn -w {args.workers} --threads 1 (sync) on 127.0.0.1; "
        f"{args.concurrency} client threads; warm-up {args.warmup}; "
        f"{args.requests} trivial/availability and {args.schedule_requests} scheduling calls; "
        f"cap {args.cap:g} s per scenario"
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
        },
        "targets": TARGETS,
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
        print_table(outcome)

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
    with tempfile.TemporaryDirectory(prefix=f"madoguchi-bench-{database}-") as tmp:
        data_dir = Path(tmp)
        env = server_env(data_dir)
        if database == "postgres":
            reason = pg_unreachable(args.pg_url)
            if reason:
                print(f"\nbench: SKIPPED PostgreSQL: not reachable at {args.pg_url}: {reason}")
                return {"skipped": f"not reachable: {reason}"}
            env["DATABASE_URL"] = args.pg_url
            with pg_database(args.pg_url) as server_version:
                return bench_with(database, server_version, env, data_dir, args)
        return bench_with(database, f"SQLite {sqlite3.sqlite_version}", env, data_dir, args)


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

    with gunicorn(env, data_dir, args.workers) as base_url:
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
            measured = load.run(scenario=name, count=count, first=first, **common)
            results[name] = summarize(measured, warm)
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
    )
    print(header)
    print("-" * len(header))
    for name, row in outcome["scenarios"].items():
        print(
            f"{name:<13}{row['requests']:>9}{row['ok']:>7}{row['conflicts']:>6}"
            f"{row['errors']:>8}{row['rate']:>10.1f}{row['p50_ms']:>9.1f}"
            f"{row['p95_ms']:>9.1f}{row['ratio']:>11.3f}"
        )
    for name, target in TARGETS.items():
        ratio = outcome["scenarios"][name]["ratio"]
        verdict = "met" if outcome["targets_met"][name] else "MISSED"
        print(f"target {name} >= {target:.1f}x trivial: {verdict} ({ratio:.3f}x)")


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
        yield base_url
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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited {process.returncode}")
        with suppress(httpx.HTTPError):
            if httpx.get(base_url + "/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer /readyz within 30 s")


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
