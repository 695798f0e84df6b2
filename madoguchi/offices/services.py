"""Creating offices and staff; an office's settings and closures."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from madoguchi.offices.models import Closure, Office, Staff
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


SETTINGS_FIELDS = (
    "name_en",
    "phone",
    "windows",
    "durations",
    "slot_step_minutes",
    "lead_days",
    "no_show_grace_minutes",
    "strike_threshold",
    "strike_window_days",
    "self_cancel_enabled",
    "reminder_time",
    "retention_days",
)


@transaction.atomic
def office_update_settings(*, office: Office, changes: dict[str, Any], actor: Staff) -> Office:
    """A manager changes the office's rules; checked as a whole, audited field by field,
    and cached availability is dropped at once (the calendar version moves)."""
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"not office settings: {sorted(unknown)}")
    before = {key: getattr(office, key) for key in changes}
    for key, value in changes.items():
        setattr(office, key, value)
    office.full_clean()
    changed = [key for key in changes if before[key] != getattr(office, key)]
    if not changed:
        return office
    office.save(update_fields=changed)
    Office.calendar_changed(office.pk)
    audit_record(
        actor=actor,
        action="office.settings_changed",
        obj=office,
        office=office,
        details={key: str(getattr(office, key)) for key in changed},
    )
    return office


@transaction.atomic
def closure_add(*, office: Office, date: dt.date, reason: str, actor: Staff) -> Closure:
    """Close the office for a day. Consultations already booked that day stay as they are:
    the caller shows them, for staff to move or cancel."""
    closure, created = Closure.objects.get_or_create(
        office=office, date=date, defaults={"reason": reason.strip()[:200]}
    )
    if created:
        Office.calendar_changed(office.pk)
        audit_record(
            actor=actor,
            action="office.closure_added",
            obj=closure,
            office=office,
            details={"date": date.isoformat(), "reason": closure.reason},
        )
    return closure


@transaction.atomic
def closure_remove(*, closure: Closure, actor: Staff) -> None:
    audit_record(
        actor=actor,
        action="office.closure_removed",
        obj=closure,
        office=closure.office,
        details={"date": closure.date.isoformat()},
    )
    office_id = closure.office_id
    closure.delete()
    Office.calendar_changed(office_id)
