"""One way for staff pages to refuse: a `forbidden` or `not_found` BookingError raised
anywhere in a view guarded by `staff_required` becomes the refused page (403 / 404);
any other code is the view's own business and is not swallowed."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from madoguchi import urls as project_urls
from madoguchi.accounts.decorators import StaffRequest, staff_required
from madoguchi.api import permissions
from madoguchi.errors import BookingError
from tests.factories import make_consultation
from tests.signin import sign_in_verified

views_run: list[str] = []


def _deep(code: str) -> None:
    """Stands for a permission check or a service several calls below the view."""
    raise BookingError(code, f"Deep down: {code}.")


@staff_required
def raising_page(request: StaffRequest, code: str) -> HttpResponse:
    _deep(code)
    return HttpResponse("not reached")


@staff_required(roles=permissions.OFFICE_WIDE)
def office_wide_page(request: StaffRequest) -> HttpResponse:
    views_run.append(request.staff.username)
    return HttpResponse(f"{request.staff.username} {request.staff.role}")


urlpatterns = [
    *project_urls.urlpatterns,
    path("test-only/raise/<str:code>/", raising_page),
    path("test-only/office-wide/", office_wide_page),
]


@pytest.fixture(autouse=True)
def _no_calls():
    views_run.clear()


def english_client(staff) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    sign_in_verified(client, staff)
    return client


def templates(response) -> list[str]:
    return [template.name for template in response.templates]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("code", "status"), [("forbidden", 403), ("not_found", 404)], ids=["forbidden", "not-found"]
)
def test_staff_required_turns_a_deep_refusal_into_the_refused_page(world, code, status):
    client = english_client(world.counselor)

    response = client.get(f"/test-only/raise/{code}/")

    assert response.status_code == status
    assert templates(response)[0] == "web/staff/refused.html"
    assert f'<p role="alert">Deep down: {code}.</p>' in response.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("code", ["invalid_transition", "invalid_input", "slot_taken"])
def test_staff_required_lets_other_errors_through(world, code):
    client = english_client(world.counselor)

    with pytest.raises(BookingError) as raised:
        client.get(f"/test-only/raise/{code}/")

    assert raised.value.code == code
    assert raised.value.detail == f"Deep down: {code}."


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("persona", ["coordinator", "manager"])
def test_staff_required_roles_lets_in_the_named_roles(world, persona):
    staff = getattr(world, persona)
    client = english_client(staff)

    response = client.get("/test-only/office-wide/")

    assert response.status_code == 200
    assert response.content.decode() == f"{staff.username} {staff.role}"
    assert views_run == [staff.username]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("persona", "role"), [("counselor", "Counselor"), ("auditor", "Auditor")])
def test_staff_required_roles_refuses_other_roles_before_the_view(world, persona, role):
    client = english_client(getattr(world, persona))

    response = client.get("/test-only/office-wide/")

    assert response.status_code == 403
    assert templates(response)[0] == "web/staff/refused.html"
    assert f'<p role="alert">Your role ({role}) may not do this.</p>' in response.content.decode()
    assert views_run == []


@pytest.mark.urls(__name__)
def test_staff_required_roles_sends_strangers_to_the_sign_in(db):
    response = Client().get("/test-only/office-wide/")

    assert response.status_code == 302
    assert response.url == "/staff/login/?next=/test-only/office-wide/"
    assert views_run == []


def test_staff_refusal_of_an_unknown_consultation_action_is_a_404(world):
    wednesday_10 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    consultation = make_consultation(world.seeker, wednesday_10, actor=world.coordinator)
    client = english_client(world.counselor)

    response = client.post(f"/staff/consultations/{consultation.pk}/dance/")

    assert response.status_code == 404
    assert templates(response)[0] == "web/staff/refused.html"
    assert '<p role="alert">Not found.</p>' in response.content.decode()


@pytest.mark.parametrize(
    "roles", [frozenset(), frozenset({"manager", "janitor"})], ids=["none", "unknown"]
)
def test_staff_required_roles_refuses_a_wrong_role_set(roles):
    with pytest.raises(ValueError, match="staff_required needs roles from"):
        staff_required(roles=roles)
