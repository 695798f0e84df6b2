"""Bearer-token authentication: one statement, fresh on every call, and the same objects
the ORM would load."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from madoguchi.api.auth import staff_from_request
from madoguchi.api.models import ApiToken, hash_token
from madoguchi.errors import BookingError
from madoguchi.offices.models import Office, Staff
from tests.factories import make_token


def _request(token: str):
    return RequestFactory().get("/api/v1/requests", headers={"Authorization": f"Bearer {token}"})


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_token_auth_loads_staff_user_and_office_in_one_query(world, django_assert_num_queries):
    token = make_token(world.coordinator)
    staff_from_request(_request(token))  # the first call also notes last_used_at

    with django_assert_num_queries(1):
        staff = staff_from_request(_request(token))
        office, user = staff.office, staff.user  # already loaded: no further query
        same_user = user.staff

    assert staff.pk == world.coordinator.pk
    assert same_user is staff
    assert _fields(staff) == _fields(Staff.objects.get(pk=world.coordinator.pk))
    assert _fields(office) == _fields(Office.objects.get(pk=world.office.pk))
    assert _fields(user) == _fields(get_user_model().objects.get(pk=world.coordinator.user_id))


def test_token_auth_values_are_converted_as_the_orm_converts_them(world):
    token = make_token(world.coordinator)
    staff_from_request(_request(token))

    staff = staff_from_request(_request(token))
    stored = ApiToken.objects.get(token_hash=hash_token(token))

    assert staff.user.is_active is True
    assert stored.last_used_at is not None
    assert stored.last_used_at.tzinfo is not None
    assert staff.office.windows == Office.objects.get(pk=world.office.pk).windows
    assert staff.office.calendar() == world.office.calendar()


def test_token_auth_sees_a_role_change_on_the_next_call(world):
    token = make_token(world.coordinator)
    assert staff_from_request(_request(token)).role == Staff.Role.COORDINATOR

    Staff.objects.filter(pk=world.coordinator.pk).update(role=Staff.Role.AUDITOR)

    assert staff_from_request(_request(token)).role == Staff.Role.AUDITOR


def test_token_auth_refuses_a_token_revoked_after_use(world):
    token = make_token(world.coordinator)
    staff_from_request(_request(token))

    ApiToken.objects.filter(token_hash=hash_token(token)).update(revoked_at=timezone.now())
    with pytest.raises(BookingError) as refused:
        staff_from_request(_request(token))

    assert refused.value.code == "unauthorized"


def test_token_auth_refuses_a_user_without_a_staff_record(world):
    user = get_user_model().objects.create_user("no-staff", password="x" * 20)
    token = ApiToken.issue(user)[1]

    with pytest.raises(BookingError) as refused:
        staff_from_request(_request(token))

    assert refused.value.code == "unauthorized"
