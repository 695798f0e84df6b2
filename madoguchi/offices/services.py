"""Creating offices and staff."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from madoguchi.offices.models import Office, Staff
from madoguchi.records.audit import audit_record
from madoguchi.terms.services import terms_create_initial


@transaction.atomic
def office_create(*, code: str, name: str, actor: Staff | None = None, **fields: Any) -> Office:
    """A new office with the spec's defaults and version 1 of its terms in force now."""
    office = Office(code=code, name=name, **fields)
    office.full_clean()
    office.save()
    terms_create_initial(office=office, effective_from=timezone.now())
    audit_record(actor=actor, action="office.created", obj=office, office=office)
    return office


@transaction.atomic
def staff_create(
    *,
    username: str,
    office: Office,
    role: str,
    email: str = "",
    zoom_user: str = "",
    display_name: str = "",
    password: str | None = None,
    actor: Staff | None = None,
) -> Staff:
    if role not in Staff.Role.values:
        raise ValidationError({"role": f"role must be one of {', '.join(Staff.Role.values)}"})
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": f"the user {username!r} already exists"})
    user = User(username=username, email=email, is_staff=role in {"manager", "auditor"})
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    staff = Staff.objects.create(
        user=user, office=office, role=role, zoom_user=zoom_user, display_name=display_name
    )
    if role == Staff.Role.COUNSELOR:  # a new counselor changes the office's free times
        Office.calendar_changed(office.pk)
    audit_record(
        actor=actor, action="staff.created", obj=staff, office=office, details={"role": role}
    )
    return staff
