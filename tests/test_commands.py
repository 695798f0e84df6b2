"""The management commands of SPEC §5: create-office, create-staff, api-token, import-seekers."""

import io
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import translation

from madoguchi.api.models import ApiToken, hash_token
from madoguchi.offices.models import Office, Staff
from madoguchi.seekers.models import Seeker
from madoguchi.terms.models import TermsVersion
from tests.factories import make_office, make_staff

TOKEN_LINE = re.compile(r"mdg_[A-Za-z0-9_-]{43}\n")
CSV_HEADER = "number,name,name_kana,email,phone,counselor,registered_on,expires_on,language\n"
STRONG_PASSWORD = "kushiro-harbour-fog-2026"
CREATE_ITO = ("create-staff", "ito", "--office", "01040", "--role", "coordinator")


def run(line: str, *args: str) -> tuple[str, str]:
    """Run a command line (split as a shell would) and more arguments in-process.

    Returns what it wrote to standard output and to standard error.
    """
    out, err = io.StringIO(), io.StringIO()
    call_command(*shlex.split(line), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def no_terminal(monkeypatch):
    """Standard input is not a terminal and no password is in the environment."""
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    monkeypatch.delenv("MADOGUCHI_PASSWORD", raising=False)


# create-office ----------------------------------------------------------------------


def test_create_office_creates_office_with_terms_in_force(db):
    out, _ = run(
        "create-office 01040 ハローワーク釧路 --phone 0154-41-1201 --name-en 'Hello Work Kushiro'"
        " --address 北海道釧路市富士見3丁目2番3号 --email kushiro@example.org"
    )

    office = Office.objects.get()
    assert out == "Created office 01040 ハローワーク釧路.\n"
    assert (office.code, office.name, office.name_en, office.phone, office.email) == (
        "01040",
        "ハローワーク釧路",
        "Hello Work Kushiro",
        "0154-41-1201",
        "kushiro@example.org",
    )
    assert office.address == "北海道釧路市富士見3丁目2番3号"
    assert office.windows == [["09:00", "12:00"], ["13:00", "16:00"]]
    assert list(TermsVersion.objects.filter(office=office).values_list("number", flat=True)) == [1]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("1040", id="four-digits"),
        pytest.param("010400", id="six-digits"),
        pytest.param("0104a", id="letter"),
        pytest.param("０１０４０", id="full-width"),
        pytest.param("", id="empty"),
    ],
)
def test_create_office_refuses_code_that_is_not_five_digits(db, code):
    with pytest.raises(CommandError) as raised:
        run("create-office", code, "ハローワーク釧路")

    assert str(raised.value) == (
        f"CODE must be the five-digit office number (e.g. 01040), not {code!r}."
    )
    assert Office.objects.count() == 0


def test_create_office_refuses_existing_code(db):
    make_office(code="01040")

    with pytest.raises(CommandError) as raised:
        run("create-office", "01040", "ハローワーク釧路（重複）")

    assert str(raised.value) == "The office 01040 already exists."
    assert list(Office.objects.values_list("name", flat=True)) == ["ハローワーク釧路"]


# create-staff -----------------------------------------------------------------------


def test_create_staff_sets_email_and_zoom_user_without_password(db, no_terminal):
    office = make_office()

    out, _ = run(
        "create-staff sato --office 01040 --role counselor --email sato@example.org"
        " --zoom-user zoom-sato@example.org --display-name '佐藤 美咲'"
    )

    staff = Staff.objects.select_related("user").get()
    assert (staff.office, staff.role, staff.zoom_user, staff.display_name) == (
        office,
        "counselor",
        "zoom-sato@example.org",
        "佐藤 美咲",
    )
    assert staff.user.email == "sato@example.org"
    assert staff.user.has_usable_password() is False
    assert out.splitlines() == [
        "Created counselor sato at 01040 ハローワーク釧路.",
        "No password was set: sato cannot sign in to the web pages and can use only an "
        "API token (madoguchi api-token sato).",
    ]


def test_create_staff_refuses_unknown_role(db, no_terminal):
    make_office()

    with pytest.raises(CommandError) as raised:
        run("create-staff sato --office 01040 --role director")

    # argparse's wording of the choices differs between Python versions.
    message = str(raised.value)
    assert message.startswith("Error: argument --role: invalid choice: 'director' (choose from")
    assert re.findall(r"counselor|coordinator|manager|auditor", message) == [
        "counselor",
        "coordinator",
        "manager",
        "auditor",
    ]
    assert Staff.objects.count() == 0


def test_create_staff_refuses_unknown_office(db, no_terminal):
    make_office()

    with pytest.raises(CommandError) as raised:
        run("create-staff sato --office 99999 --role counselor")

    assert str(raised.value) == "There is no office with the code '99999'."
    assert get_user_model().objects.count() == 0


def test_create_staff_refuses_existing_username(db, no_terminal):
    office = make_office()
    make_staff(office, "counselor", "sato")

    with pytest.raises(CommandError) as raised:
        run("create-staff sato --office 01040 --role manager")

    assert str(raised.value) == "The user 'sato' already exists."
    assert list(Staff.objects.values_list("role", flat=True)) == ["counselor"]


def test_create_staff_reads_password_file(db, no_terminal, tmp_path):
    make_office()
    password_file = tmp_path / "password"
    password_file.write_text(STRONG_PASSWORD + "\n")

    out, _ = run(*CREATE_ITO, "--password-file", str(password_file))

    user = get_user_model().objects.get(username="ito")
    assert user.check_password(STRONG_PASSWORD) is True
    assert out == "Created coordinator ito at 01040 ハローワーク釧路.\n"


def test_create_staff_reads_password_from_environment(db, no_terminal, monkeypatch):
    make_office()
    monkeypatch.setenv("MADOGUCHI_PASSWORD", STRONG_PASSWORD)

    run(*CREATE_ITO)

    assert get_user_model().objects.get(username="ito").check_password(STRONG_PASSWORD) is True


def test_create_staff_refuses_weak_password_and_creates_nothing(db, no_terminal, tmp_path):
    make_office()
    password_file = tmp_path / "password"
    password_file.write_text("12345678\n")

    with pytest.raises(CommandError) as raised, translation.override("en"):
        run(*CREATE_ITO, "--password-file", str(password_file))

    assert str(raised.value) == (
        "This password is too short. It must contain at least 12 characters. "
        "This password is too common. This password is entirely numeric."
    )
    assert get_user_model().objects.count() == 0


def test_create_staff_refuses_missing_password_file(db, no_terminal, tmp_path):
    make_office()

    with pytest.raises(CommandError) as raised:
        run(*CREATE_ITO, "--password-file", str(tmp_path / "missing"))

    assert str(raised.value).startswith(f"Cannot read the password file {tmp_path / 'missing'}:")
    assert get_user_model().objects.count() == 0


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_create_staff_prompts_twice_on_a_terminal(db, monkeypatch):
    make_office()
    monkeypatch.delenv("MADOGUCHI_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    answers = iter([STRONG_PASSWORD, STRONG_PASSWORD + "x"])
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or next(answers))

    with pytest.raises(CommandError) as raised:
        run(*CREATE_ITO)

    assert prompts == ["Password: ", "Password (again): "]
    assert str(raised.value) == "The passwords do not match."
    assert get_user_model().objects.count() == 0


# api-token --------------------------------------------------------------------------


def test_api_token_prints_only_a_token_that_authenticates(db):
    staff = make_staff(make_office(), "coordinator", "ito")

    out, err = run("api-token ito")

    assert TOKEN_LINE.fullmatch(out)
    assert err == ""
    token = ApiToken.objects.get(token_hash=hash_token(out.strip()))
    assert token.user == staff.user
    assert token.revoked_at is None


def test_api_token_refuses_unknown_user(db):
    with pytest.raises(CommandError) as raised:
        run("api-token nobody")

    assert str(raised.value) == "There is no user named 'nobody'."
    assert ApiToken.objects.count() == 0


def test_api_token_refuses_user_who_is_not_staff(db):
    get_user_model().objects.create_user("visitor")

    with pytest.raises(CommandError) as raised:
        run("api-token visitor")

    assert str(raised.value) == "The user 'visitor' is not a staff member of any office."
    assert ApiToken.objects.count() == 0


def madoguchi(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """The real console script, on its own SQLite database in `data_dir`."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env |= {"MADOGUCHI_DATA_DIR": str(data_dir), "SECRET_KEY": "test-only-not-secret"}
    return subprocess.run(
        [sys.executable, "-m", "madoguchi", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_api_token_process_writes_only_the_token_to_stdout(tmp_path):
    for args in (
        ("migrate", "--noinput", "--verbosity", "0"),
        ("create-office", "01040", "ハローワーク釧路"),
        CREATE_ITO,
    ):
        assert madoguchi(tmp_path, *args).returncode == 0

    issued = madoguchi(tmp_path, "api-token", "ito")
    unknown = madoguchi(tmp_path, "api-token", "nobody")

    assert (issued.returncode, issued.stderr) == (0, "")
    assert TOKEN_LINE.fullmatch(issued.stdout)
    with closing(sqlite3.connect(tmp_path / "madoguchi.sqlite3")) as connection:
        rows = connection.execute(
            "SELECT u.username FROM api_apitoken t JOIN auth_user u ON u.id = t.user_id "
            "WHERE t.token_hash = ?",
            (hash_token(issued.stdout.strip()),),
        ).fetchall()
    assert rows == [("ito",)]
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr == "CommandError: There is no user named 'nobody'.\n"


# import-seekers ---------------------------------------------------------------------


@pytest.fixture
def kushiro(db):
    office = make_office()
    make_staff(office, "counselor", "sato")
    return office


def test_import_seekers_imports_utf8_with_bom(kushiro, tmp_path):
    path = tmp_path / "seekers.csv"
    path.write_text(
        CSV_HEADER
        + "０１０４０－００００１２３４,釧路 一郎,クシロ イチロウ,ichiro@example.org,,sato,"
        "2026-04-01,2026-12-31,ja\n"
        + "01040 00005678,Nguyen Van An,グエン ヴァン アン,,0154-00-0000,,2026-05-01,"
        "2027-03-31,en\n",
        encoding="utf-8-sig",
    )

    out, _ = run("import-seekers", str(path), "--office", "01040")

    assert out == "Imported 2 job seekers into 01040 ハローワーク釧路.\n"
    assert list(
        Seeker.objects.values_list("number", "name", "counselor__user__username", "language")
    ) == [
        ("01040-00001234", "釧路 一郎", "sato", "ja"),
        ("01040-00005678", "Nguyen Van An", None, "en"),
    ]


def test_import_seekers_reports_each_bad_row_and_saves_nothing(kushiro, tmp_path):
    path = tmp_path / "seekers.csv"
    path.write_text(
        CSV_HEADER
        + "01040-00000001,釧路 一郎,,,,sato,2026-04-01,2026-12-31,ja\n"
        + "01040-123,釧路 二郎,,,,sato,2026-04-01,2026-12-31,ja\n"
        + "01040-00000003,釧路 三郎,,,,nobody,2026-04-01,2026-12-31,ja\n"
        + "01040-00000004,釧路 四郎,,,,sato,2026-13-01,2026-12-31,ja\n"
        + "０１０４０－０００００００１,釧路 五郎,,,,sato,2026-04-01,2026-12-31,ja\n",
        encoding="utf-8",
    )
    err = io.StringIO()

    with pytest.raises(CommandError) as raised, translation.override("en"):
        call_command(
            "import-seekers", str(path), "--office", "01040", stdout=io.StringIO(), stderr=err
        )

    assert err.getvalue().splitlines() == [
        "line 3: A job-seeker number has 13 digits, like 01040-12345678.",
        "line 4: There is no counselor nobody at this office.",
        "line 5: month must be in 1..12",
        "line 6: number also on line 2",
    ]
    assert str(raised.value) == "4 row(s) have errors; nothing was imported."
    assert Seeker.objects.count() == 0


def test_import_seekers_reads_shift_jis_from_excel(kushiro, tmp_path):
    path = tmp_path / "seekers.csv"
    rows = CSV_HEADER + "01040-00000001,釧路 花子,クシロ ハナコ,,,sato,2026-04-01,2026-12-31,\n"
    path.write_bytes(rows.replace("\n", "\r\n").encode("cp932"))

    out, _ = run("import-seekers", str(path), "--office", "01040")

    assert out == "Imported 1 job seekers into 01040 ハローワーク釧路.\n"
    assert list(Seeker.objects.values_list("number", "name", "name_kana", "language")) == [
        ("01040-00000001", "釧路 花子", "クシロ ハナコ", "ja")
    ]


def test_import_seekers_refuses_unknown_office(kushiro, tmp_path):
    path = tmp_path / "seekers.csv"
    path.write_text(CSV_HEADER)

    with pytest.raises(CommandError) as raised:
        run("import-seekers", str(path), "--office", "01010")

    assert str(raised.value) == "There is no office with the code '01010'."
