"""`madoguchi demo`: the demo office is made once, and the command serves it."""

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import closing

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import Client

from madoguchi.api.models import ApiToken, hash_token
from madoguchi.bookings.models import Consultation, Request
from madoguchi.offices.demo import demo_load
from madoguchi.offices.models import Office, Staff
from madoguchi.records.models import AuditEntry
from madoguchi.seekers.models import Seeker
from tests.factories import local
from tests.signin import sign_in_verified


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    # The demo hashes seven passwords; the fast hasher keeps the test quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


def counts() -> dict[str, int]:
    return {
        "offices": Office.objects.count(),
        "staff": Staff.objects.count(),
        "counselors": Staff.objects.counselors().count(),
        "users": get_user_model().objects.count(),
        "seekers": Seeker.objects.count(),
        "requests": Request.objects.count(),
        "consultations": Consultation.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_demo_load_is_idempotent(db, frozen_now, demo_settings):
    first = demo_load()
    after_first = counts()

    second = demo_load()

    assert (first.created, second.created) == (True, False)
    assert after_first == {
        "offices": 1,
        "staff": 7,
        "counselors": 4,
        "users": 7,
        "seekers": 30,
        "requests": 9,
        "consultations": 6,
        "audit": after_first["audit"],
    }
    assert counts() == after_first
    assert second.office == first.office
    assert second.seekers == first.seekers
    assert second.password == first.password
    assert (second.consultations, second.requests) == ([], [])


def test_demo_load_makes_the_kushiro_office(db, frozen_now, demo_settings):
    demo = demo_load()

    office = demo.office
    assert (office.code, office.name, office.name_en, office.phone, office.court) == (
        "01040",
        "ハローワーク釧路",
        "Hello Work Kushiro",
        "0154-41-1201",
        "釧路地方裁判所",
    )
    assert office.address.startswith("〒085-0832 北海道釧路市")
    assert [(s.username, s.role) for s in demo.staff] == [
        ("sato", "counselor"),
        ("suzuki", "counselor"),
        ("takahashi", "counselor"),
        ("tanaka", "counselor"),
        ("ito", "coordinator"),
        ("watanabe", "manager"),
        ("yamamoto", "auditor"),
    ]


def test_demo_load_spreads_registered_seekers_over_counselors(db, frozen_now, demo_settings):
    demo = demo_load()

    today = dt.date(2026, 12, 1)
    assert [s.number for s in demo.seekers] == [f"01040-{n:08d}" for n in range(1, 31)]
    assert all(s.is_registered_on(today) for s in demo.seekers)
    assert len({s.name for s in demo.seekers}) == 30
    assert (demo.seekers[0].name, demo.seekers[0].name_kana) == ("佐々木 大輔", "ササキ ダイスケ")
    assert Counter(s.counselor.username for s in demo.seekers) == {
        "sato": 8,
        "suzuki": 8,
        "takahashi": 7,
        "tanaka": 7,
    }


def test_demo_load_books_the_next_office_days(db, frozen_now, demo_settings):
    demo = demo_load()

    booked = [(c.seeker.number, c.counselor.username, c.start, c.end) for c in demo.consultations]
    assert booked == [
        ("01040-00000001", "sato", local(2026, 12, 2, 9, 30), local(2026, 12, 2, 10, 0)),
        ("01040-00000002", "suzuki", local(2026, 12, 2, 10, 0), local(2026, 12, 2, 10, 45)),
        ("01040-00000003", "takahashi", local(2026, 12, 2, 13, 30), local(2026, 12, 2, 14, 30)),
        ("01040-00000004", "tanaka", local(2026, 12, 2, 14, 0), local(2026, 12, 2, 14, 30)),
        ("01040-00000005", "sato", local(2026, 12, 3, 9, 0), local(2026, 12, 3, 10, 0)),
        ("01040-00000006", "suzuki", local(2026, 12, 3, 15, 0), local(2026, 12, 3, 15, 30)),
    ]
    assert {c.status for c in demo.consultations} == {Consultation.Status.SCHEDULED}
    assert [(r.seeker.number, r.status) for r in demo.requests] == [
        ("01040-00000007", Request.Status.REQUESTED),
        ("01040-00000008", Request.Status.REQUESTED),
        ("01040-00000009", Request.Status.REQUESTED),
    ]


def test_demo_load_staff_sign_in_with_the_kept_password(db, frozen_now, demo_settings):
    demo = demo_load()

    password_file = demo_settings.DATA_DIR / "demo_password"
    assert demo.password_file == password_file
    assert password_file.read_text() == demo.password + "\n"
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert len(demo.password) == 16
    assert {s.user.is_staff for s in demo.staff} == {True}
    assert Client().login(request=HttpRequest(), username="ito", password=demo.password) is True
    counselor = Client()
    sign_in_verified(counselor, demo.staff[0].user)
    assert counselor.get("/admin/seekers/seeker/").status_code == 200


def test_demo_load_keeps_the_password_of_an_earlier_run(db, frozen_now, demo_settings):
    (demo_settings.DATA_DIR / "demo_password").write_text("kept-from-before-2026\n")

    demo = demo_load()

    assert demo.password == "kept-from-before-2026"
    assert (
        Client().login(request=HttpRequest(), username="yamamoto", password="kept-from-before-2026")
        is True
    )


# The real command, in its own process and data folder ---------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local test URL
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the demo did not start serving {url}")


def test_demo_command_serves_until_interrupted(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env["MADOGUCHI_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "madoguchi", "demo", "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_serving(f"{base}/healthz", process)
        health = get(f"{base}/healthz")
        openapi_status, openapi = get(f"{base}/api/v1/openapi.json")
        login_status, _ = get(f"{base}/admin/login/")
        css_status, _ = get(f"{base}/static/admin/css/base.css")
        # The worker runs beside the web server: readiness needs its heartbeat.
        deadline = time.monotonic() + 60
        while (ready := get(f"{base}/readyz"))[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

    assert health == (200, b'{"status": "ok"}')
    assert (openapi_status, json.loads(openapi)["info"]["title"]) == (200, "Madoguchi API")
    assert (login_status, css_status) == (200, 200)
    assert ready[0] == 200 and json.loads(ready[1])["worker"] == "ok"
    assert (tmp_path / "webhook_secret").exists()
    assert process.returncode == 0, err
    password = (tmp_path / "demo_password").read_text().strip()
    assert (tmp_path / "secret_key").exists()
    lines = out.splitlines()
    assert lines[:2] == ["Preparing the database…", "Demo data created."]
    assert lines[3:17] == [
        "Madoguchi demo: ハローワーク釧路 (01040), 4 counselors, 30 job seekers",
        "",
        f"  Seekers    {base}/offices/01040/  (request form, terms, device check;"
        " try 01040-00000001)",
        f"  Staff      {base}/staff/  (first sign-in sets up the authenticator app)",
        f"  Admin      {base}/admin/",
        f"  API        {base}/api/v1/openapi.json",
        f"  Mail       {tmp_path / 'mail'}  (and in the admin, under Notifications)",
        "",
        "Sign in (the same password for every demo user):",
        "  counselor    sato, suzuki, takahashi, tanaka",
        "  coordinator  ito",
        "  manager      watanabe",
        "  auditor      yamamoto",
        f"  password     {password}   (kept in {tmp_path / 'demo_password'})",
    ]
    token = lines[lines.index("API token for ito (coordinator):") + 1].strip()
    assert token.startswith("mdg_")
    assert lines[-1] == "Press Ctrl+C to stop."
    with closing(sqlite3.connect(tmp_path / "madoguchi.sqlite3")) as connection:
        owners = connection.execute(
            "SELECT u.username FROM api_apitoken t JOIN auth_user u ON u.id = t.user_id "
            "WHERE t.token_hash = ?",
            (hash_token(token),),
        ).fetchall()
    assert owners == [("ito",)]


# The admin, as the demo staff use it ----------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "offices/office",
        "offices/staff",
        "seekers/seeker",
        "terms/termsversion",
        "terms/consent",
        "records/auditentry",
        "api/apitoken",
        "notifications/outboxmail",
    ],
)
def test_demo_staff_browse_every_admin_list(db, frozen_now, demo_settings, model):
    demo = demo_load()
    ApiToken.issue(demo.of_role(Staff.Role.COORDINATOR)[0].user)
    client = Client()
    sign_in_verified(client, demo.of_role(Staff.Role.MANAGER)[0].user)

    response = client.get(f"/admin/{model}/")

    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


def test_admin_seeker_search_finds_kana(db, frozen_now, demo_settings):
    demo = demo_load()
    client = Client()
    sign_in_verified(client, demo.staff[0].user)

    response = client.get("/admin/seekers/seeker/", {"q": "ササキ"})

    assert list(response.context["cl"].result_list) == [demo.seekers[0]]


def test_admin_seeker_view_is_audited(db, frozen_now, demo_settings):
    demo = demo_load()
    seeker = demo.seekers[0]
    client = Client()
    sign_in_verified(client, demo.staff[0].user)

    response = client.get(f"/admin/seekers/seeker/{seeker.pk}/change/")

    assert response.status_code == 200
    assert list(
        AuditEntry.objects.filter(action="seeker.viewed").values_list(
            "actor_label", "object_id", "office"
        )
    ) == [("sato", str(seeker.pk), demo.office.pk)]


@pytest.mark.parametrize(
    "model", ["records/auditentry", "terms/consent", "terms/termsversion", "api/apitoken"]
)
def test_admin_records_are_read_only_even_for_superuser(db, frozen_now, demo_settings, model):
    demo_load()
    client = Client()
    sign_in_verified(client, get_user_model().objects.create_superuser("root"))

    response = client.get(f"/admin/{model}/add/")
    listing = client.get(f"/admin/{model}/")

    assert response.status_code == 403
    assert listing.context["has_add_permission"] is False
    assert listing.context["action_form"] is None  # not even "delete selected"


def test_admin_mail_can_be_read_and_reading_it_is_audited(db, frozen_now, demo_settings):
    from madoguchi.notifications.models import OutboxMail
    from madoguchi.records.models import AuditEntry

    demo = demo_load()
    mail = OutboxMail.objects.filter(kind="scheduled").first()
    assert mail is not None
    client = Client()
    sign_in_verified(client, demo.of_role(Staff.Role.MANAGER)[0].user)

    response = client.get(f"/admin/notifications/outboxmail/{mail.pk}/change/")

    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="mail.viewed", object_id=str(mail.pk)).count() == 1
