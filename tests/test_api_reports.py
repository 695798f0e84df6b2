"""GET /api/v1/reports/usage (R20): figures as JSON for managers and auditors."""

import pytest

from madoguchi.bookings.models import Consultation
from madoguchi.records.models import AuditEntry
from madoguchi.records.reports import Period, _sums
from madoguchi.records.suppression import determined
from tests.factories import local, make_staff
from tests.test_reports import add_consultation, add_request

Status = Consultation.Status
PATH = "/api/v1/reports/usage"


def _november(world) -> None:
    for day in range(2, 12):
        add_consultation(world, local(2026, 11, day, 9), minutes=45, actual_minutes=40)
    add_consultation(world, local(2026, 11, 13, 10), status=Status.NO_SHOW)
    add_request(world, local(2026, 11, 2, 9), status="declined", decline_reason="遠方")


def test_reports_usage_gives_internal_figures_to_a_manager(world, api_as):
    _november(world)

    response = api_as(world.manager).get(PATH, month="2026-11")

    body = response.json()
    assert response.status_code == 200
    assert (body["office"], body["period"], body["time_zone"]) == ("01040", "2026-11", "Asia/Tokyo")
    assert (body["publishable"], body["min_cell"], body["suppressed"]) == (False, 5, [])
    assert body["counts"]["held"] == 10
    assert body["counts"]["consultations.no_show"] == 1
    assert body["counts"]["held.weekday.1"] == 2  # Mondays 2 and 9 November
    assert body["planned_minutes"] == {"n": 10, "mean": 45.0, "median": 45.0}
    assert body["no_show_rate"] == 0.091
    assert body["by_counselor"] == [
        {"username": "sato", "name": "sato", "held": 10, "no_show": 1, "cancelled": 0}
    ]
    assert body["declined_by_reason"] == [{"reason": "遠方", "count": 1}]
    entry = AuditEntry.objects.get(action="report.exported")
    assert (entry.actor, entry.office) == (world.manager.user, world.office)
    assert entry.details == {
        "scope": "01040",
        "period": "2026-11",
        "publishable": False,
        "format": "json",
    }


def test_reports_usage_publishable_suppresses_and_names_nobody(world, api_as):
    _november(world)

    body = api_as(world.auditor).get(PATH, month="2026-11", publishable="true").json()

    assert body["publishable"] is True
    assert body["counts"]["consultations.no_show"] is None
    assert body["no_show_rate"] is None
    # 11 consultations, 1 no-show: completed, then held, then the 09:00 hour (all
    # consultations held) would give the no-show away.
    assert body["counts"]["consultations"] == 11
    assert body["counts"]["consultations.completed"] is None
    assert body["counts"]["held"] is None
    assert body["counts"]["held.hour.9"] is None
    assert body["counts"]["consultations.cancelled"] == 0
    assert body["planned_minutes"] == {"n": None, "mean": None, "median": None}
    # Hidden with held: its n of 10 would give the no-show away (11 − 10).
    assert body["actual_minutes"] == {"n": None, "mean": None, "median": None}
    hidden = set(body["suppressed"])
    assert {"consultations.no_show", "held", "held.hour.9"} <= hidden
    assert determined(hidden, _sums(Period(2026, 11))) == set()
    assert body["by_counselor"] == []
    assert body["declined_by_reason"] == []


def test_reports_usage_year(world, api_as):
    add_consultation(world, local(2026, 3, 4, 9))

    body = api_as(world.manager).get(PATH, month="2026").json()

    assert (body["period"], body["counts"]["held.date.3"]) == ("2026", 1)


def test_reports_usage_deployment_for_superusers_publishable_only(world, api_as):
    _november(world)
    for day in range(16, 21):
        add_consultation(
            world, local(2026, 11, day, 9), office=world.other_office, status="no_show"
        )
    admin = make_staff(world.office, "manager", "admin")
    admin.user.is_superuser = True
    admin.user.save(update_fields=["is_superuser"])
    api = api_as(admin)

    whole = api.get(PATH, month="2026-11", office="all", publishable="true")
    internal = api.get(PATH, month="2026-11", office="all")
    as_manager = api_as(world.manager).get(PATH, month="2026-11", office="all", publishable="true")

    counts = whole.json()["counts"]
    assert (whole.json()["office"], counts["consultations"], counts["held"]) == (None, 16, 10)
    assert counts["consultations.no_show"] == 6  # 1 here and 5 in Sapporo
    assert internal.status_code == 403
    assert internal.json()["code"] == "forbidden"
    assert (as_manager.status_code, as_manager.json()["code"]) == (403, "forbidden")


@pytest.mark.parametrize("persona", ["counselor", "coordinator"])
def test_reports_usage_refuses_casework_roles(world, api_as, persona):
    response = api_as(getattr(world, persona)).get(PATH, month="2026-11")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "forbidden"
    assert not AuditEntry.objects.filter(action="report.exported").exists()


def test_reports_usage_hides_another_office(world, api_as):
    response = api_as(world.manager).get(PATH, month="2026-11", office="01010")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("month", ["2026-13", "11-2026", "soon"])
def test_reports_usage_refuses_a_bad_month(world, api_as, month):
    response = api_as(world.manager).get(PATH, month=month)

    body = response.json()
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert (body["code"], body["field"]) == ("invalid_input", "month")


def test_reports_usage_needs_a_month(world, api_as):
    response = api_as(world.manager).get(PATH)

    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")


def test_reports_usage_needs_a_token(world, api_as):
    response = api_as(None).get(PATH, month="2026-11")

    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")
