"""Creating offices and staff; an office's settings and closures."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.accounts.services import (
    email_change_notice_send,
    password_set_link_send,
    second_factors_remove,
    sign_in_generation_bump,
)
from madoguchi.errors import BookingError
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


# The office's team (managers, in the staff web) ---------------------------------------

TEAM_FIELDS = ("role", "display_name", "email", "zoom_user")


def _team_lock(office: Office) -> None:
    """Serialise team changes of one office, so that two managers acting at once cannot
    leave it without an active manager."""
    Office.objects.select_for_update().filter(pk=office.pk).first()


def _managers_left(*, office: Office, without: Staff) -> int:
    return (
        Staff.objects.of_office(office)
        .active()
        .filter(role=Staff.Role.MANAGER)
        .exclude(pk=without.pk)
        .count()
    )


def _refuse_if_last_manager(staff: Staff) -> None:
    if (
        staff.role == Staff.Role.MANAGER
        and staff.user.is_active
        and not _managers_left(office=staff.office, without=staff)
    ):
        raise BookingError(
            "invalid_transition",
            _("The office needs at least one active manager. Make another one first."),
        )


def _same_office(staff: Staff, actor: Staff) -> None:
    if staff.office_id != actor.office_id:
        raise BookingError("not_found")


# Two managers approve a disclosure (R20): a manager who could make a manager, or take over
# another manager's account (their e-mail, set-password link or second factor), could approve
# alone. Managers' accounts are therefore a superuser's (Django admin) or `create-staff`'s.
MANAGERS_ACCOUNTS = gettext_lazy(
    "Only the registry administrator can make a manager or change another manager's "
    "account (Django admin or the create-staff command)."
)


def staff_may_manage_managers(*, actor: Staff) -> bool:
    """Whether `actor` may make managers and change other managers' accounts."""
    return bool(actor.user.is_superuser)


def _refuse_another_manager(staff: Staff, actor: Staff) -> None:
    if (
        staff.role == Staff.Role.MANAGER
        and staff.pk != actor.pk
        and not staff_may_manage_managers(actor=actor)
    ):
        raise BookingError("forbidden", str(MANAGERS_ACCOUNTS))


def _refuse_making_a_manager(role: str, actor: Staff) -> None:
    if role == Staff.Role.MANAGER and not staff_may_manage_managers(actor=actor):
        raise BookingError("forbidden", str(MANAGERS_ACCOUNTS))


@transaction.atomic
def staff_invite(
    *,
    office: Office,
    username: str,
    role: str,
    email: str,
    display_name: str = "",
    zoom_user: str = "",
    actor: Staff,
) -> Staff:
    """A manager adds a staff member, who gets a mail with a link to choose a password.
    Nobody else ever sees or types that password."""
    if actor.office_id != office.pk:
        raise BookingError("not_found")
    if not email:
        raise ValidationError({"email": _("The new staff member needs an e-mail address.")})
    _refuse_making_a_manager(role, actor)
    staff = staff_create(
        username=username,
        office=office,
        role=role,
        email=email,
        zoom_user=zoom_user,
        display_name=display_name,
        actor=actor,
    )
    password_set_link_send(user=staff.user)
    audit_record(actor=actor, action="staff.invited", obj=staff, office=office)
    return staff


@transaction.atomic
def staff_invite_resend(*, staff: Staff, actor: Staff) -> None:
    """A new set-password link, for someone whose first one lapsed (it works an hour)."""
    _same_office(staff, actor)
    _refuse_another_manager(staff, actor)
    if not staff.user.is_active or not staff.user.email:
        raise BookingError("invalid_transition", _("Only an active account with an e-mail."))
    password_set_link_send(user=staff.user)
    audit_record(actor=actor, action="staff.invited", obj=staff, office=staff.office)


@transaction.atomic
def staff_update(*, staff: Staff, changes: dict[str, Any], actor: Staff) -> Staff:
    """A manager changes someone's role, display name, e-mail or Zoom user. A manager may
    not demote themselves, and the office keeps an active manager."""
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise ValueError(f"not team fields: {sorted(unknown)}")
    _same_office(staff, actor)
    _team_lock(staff.office)
    before = {
        "role": staff.role,
        "display_name": staff.display_name,
        "email": staff.user.email,
        "zoom_user": staff.zoom_user,
    }
    changed = [key for key in changes if changes[key] != before[key]]
    if not changed:
        return staff
    if "role" in changed:
        if changes["role"] not in Staff.Role.values:
            raise ValidationError({"role": _("Choose a role.")})
        if staff.pk == actor.pk:
            raise BookingError("forbidden", _("You cannot change your own role."))
        _refuse_making_a_manager(changes["role"], actor)
    if "role" in changed or "email" in changed:
        _refuse_another_manager(staff, actor)
    if "role" in changed:
        _refuse_if_last_manager(staff)
    staff.role = changes.get("role", staff.role)
    staff.display_name = changes.get("display_name", staff.display_name)
    staff.zoom_user = changes.get("zoom_user", staff.zoom_user)
    staff.user.email = changes.get("email", staff.user.email)
    staff.user.is_staff = staff.role in {Staff.Role.MANAGER, Staff.Role.AUDITOR}
    staff.user.full_clean(exclude=["password"])
    staff.user.save(update_fields=["email", "is_staff"])
    staff.save(update_fields=["role", "display_name", "zoom_user"])
    if "email" in changed and before["email"]:
        # The old address hears of it: a silent change is how an account is taken over.
        email_change_notice_send(user=staff.user, old_email=before["email"])
    if "role" in changed and Staff.Role.COUNSELOR in (before["role"], staff.role):
        Office.calendar_changed(staff.office_id)  # a counselor more or less: free times move
    audit_record(
        actor=actor,
        action="staff.changed",
        obj=staff,
        office=staff.office,
        details={key: {"from": before[key], "to": changes[key]} for key in changed},
    )
    return staff


@transaction.atomic
def staff_deactivate(*, staff: Staff, reason: str, actor: Staff) -> Staff:
    """Someone leaves: they cannot sign in, every session of theirs ends, their API tokens
    are revoked. Their records stay. Not oneself, and never the last active manager."""
    _same_office(staff, actor)
    if staff.pk == actor.pk:
        raise BookingError("forbidden", _("You cannot deactivate yourself."))
    _refuse_another_manager(staff, actor)
    reason = reason.strip()
    if not reason:
        raise BookingError("invalid_input", _("Give a reason."), field="reason")
    _team_lock(staff.office)
    staff.user.refresh_from_db(fields=["is_active"])
    if not staff.user.is_active:
        return staff
    _refuse_if_last_manager(staff)
    staff.user.is_active = False
    staff.user.save(update_fields=["is_active"])
    sign_in_generation_bump(user=staff.user)
    # Through the user's reverse relation: offices does not import the api app.
    revoked = staff.user.api_tokens.filter(revoked_at__isnull=True).update(  # type: ignore[attr-defined]
        revoked_at=timezone.now()
    )
    if staff.is_counselor:
        Office.calendar_changed(staff.office_id)
    audit_record(
        actor=actor,
        action="staff.deactivated",
        obj=staff,
        office=staff.office,
        details={"reason": reason[:500], "api_tokens_revoked": revoked},
    )
    return staff


@transaction.atomic
def staff_reactivate(*, staff: Staff, reason: str, actor: Staff) -> Staff:
    """Someone comes back: they sign in again with their password and second factor (a
    revoked API token stays revoked: they get a new one)."""
    _same_office(staff, actor)
    _refuse_another_manager(staff, actor)
    _team_lock(staff.office)
    staff.user.refresh_from_db(fields=["is_active"])
    if staff.user.is_active:
        return staff
    staff.user.is_active = True
    staff.user.save(update_fields=["is_active"])
    if staff.is_counselor:
        Office.calendar_changed(staff.office_id)
    audit_record(
        actor=actor,
        action="staff.reactivated",
        obj=staff,
        office=staff.office,
        details={"reason": reason.strip()[:500]},
    )
    return staff


@transaction.atomic
def staff_two_factor_reset(*, staff: Staff, reason: str, actor: Staff) -> int:
    """A lost phone: remove the person's authenticators and recovery codes and sign them
    out; they set up a new authenticator at their next sign-in. Returns how many
    authenticators were removed."""
    _same_office(staff, actor)
    _refuse_another_manager(staff, actor)
    reason = reason.strip()
    if not reason:
        raise BookingError("invalid_input", _("Give a reason."), field="reason")
    removed = second_factors_remove(user=staff.user)
    audit_record(
        actor=actor,
        action="staff.two_factor_reset",
        obj=staff,
        office=staff.office,
        details={"reason": reason[:500], "authenticators_removed": removed},
    )
    return removed
