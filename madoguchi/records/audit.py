"""The one audit helper. Call it inside the transaction of the change it records."""

from typing import Any

from django.db import models
from django.utils import timezone

from madoguchi.records.models import AuditEntry

SECRET_KEYS = frozenset({"passcode", "password", "token", "secret", "start_url", "join_url"})


def _mask(details: dict[str, Any]) -> dict[str, Any]:
    return {
        key: "***" if key in SECRET_KEYS else (_mask(value) if isinstance(value, dict) else value)
        for key, value in details.items()
    }


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    office: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record `action` (dotted, e.g. `consultation.cancelled`) on `obj` by `actor`.

    `actor` is a Staff, a User, or None for the system (the worker). Secrets in
    `details` are masked before they are stored.
    """
    entry = audit_entry(actor=actor, action=action, obj=obj, office=office, details=details)
    entry.save()
    return entry


def audit_entry(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    office: Any = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """The entry `audit_record` would write, unsaved (to save several in one statement)."""
    user = getattr(actor, "user", actor)
    return AuditEntry(
        at=timezone.now(),
        actor=user,
        actor_label=user.get_username() if user is not None else "system",
        office=office if office is not None else getattr(obj, "office", None),
        action=action,
        object_type=obj._meta.model_name or "",
        object_id=str(obj.pk),
        details=_mask(details or {}),
    )
