"""Kill the worker in the middle of a Zoom call, start it again: one meeting, one mail.

Everything runs as in production, in separate processes on a database file (SQLite)
or a database of its own (PostgreSQL, when the suite runs there): `madoguchi migrate`,
the booking through the services, `madoguchi worker` killed with SIGKILL while Zoom
(the local stand-in) is still answering its create call, then `madoguchi worker
--once` after the dead worker's lease ran out.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from tests.zoom_fixtures import USER

ROOT = Path(__file__).resolve().parent.parent
LEASE = 2.0


@pytest.fixture
def database_url(tmp_path, db) -> str:
    """A database of the kind the suite runs on, outside the test database."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        return
    params = connection.get_connection_params()
    name = f"madoguchi_crash_{os.getpid()}"
    admin = psycopg.connect(
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", 5432),
        user=params.get("user", "postgres"),
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    user = params.get("user", "postgres")
    host = params.get("host", "127.0.0.1")
    port = params.get("port", 5432)
    try:
        yield f"postgres://{user}@{host}:{port}/{name}"
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.close()


def run(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        **kwargs,
    )


def test_worker_killed_during_zoom_create_leaves_one_meeting_and_one_mail(
    database_url,
    zoom_server,
    tmp_path,
):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MADOGUCHI_DATA_DIR": str(tmp_path),
        "MADOGUCHI_MEETING_PROVIDER": "zoom",
        "ZOOM_ACCOUNT_ID": zoom_server.ACCOUNT_ID,
        "ZOOM_CLIENT_ID": zoom_server.CLIENT_ID,
        "ZOOM_CLIENT_SECRET": zoom_server.CLIENT_SECRET,
        "ZOOM_API_BASE_URL": zoom_server.api_base_url,
        "ZOOM_OAUTH_URL": zoom_server.oauth_url,
        "MADOGUCHI_WORKER_LEASE": str(LEASE),
        "MADOGUCHI_WORKER_INTERVAL": "0.2",
    }
    env.pop("REDIS_URL", None)
    run(["-m", "madoguchi", "migrate", "--verbosity", "0"], env)
    seeded = json.loads(run(["-m", "tests.crash_seed", "seed", USER], env).stdout)
    assert seeded["state"] == "create"

    # Zoom takes 3 s over the create; the worker dies while waiting for it.
    zoom_server.delay_next(3.0, path_prefix="/v2/users/")
    worker = subprocess.Popen(
        [sys.executable, "-m", "madoguchi", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(r.method == "POST" for r in zoom_server.api_requests()):
            assert time.monotonic() < deadline, "the worker never called Zoom"
            assert worker.poll() is None, "the worker exited"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    time.sleep(3.5)  # Zoom finished making the meeting; the dead worker's lease ran out
    assert len(zoom_server.meetings) == 1
    middle = json.loads(run(["-m", "tests.crash_seed", "report"], env).stdout)
    assert middle["meeting_state"] == "create"  # the death left the job undone, not lost

    run(["-m", "madoguchi", "worker", "--once"], env)
    run(["-m", "madoguchi", "worker", "--once"], env)
    after = json.loads(run(["-m", "tests.crash_seed", "report"], env).stdout)
    assert len(zoom_server.meetings) == 1  # adopted, not made twice
    (meeting_id,) = zoom_server.meetings
    assert after["meeting_state"] == "ready"
    assert after["meeting_id"] == str(meeting_id)
    assert after["created_audits"] == 1
    assert sorted(after["mails"]) == [["request_received", "sent"], ["scheduled", "sent"]]
