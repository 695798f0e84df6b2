"""The one audit helper. Call it inside the transaction of the change it records; the
entry joins the tamper-evident chain right after that transaction commits
(records.chain)."""

import contextvars
import ipaddress
from typing import Any

from django.db import models
from django.utils import timezone

from madoguchi.records.models import AuditEntry

SECRET_KEYS = frozenset({"passcode", "password", "token", "secret", "start_url", "join_url"})

# The client address of the web or API request being served; set by
# records.middleware.AuditContextMiddleware, empty in the worker and commands.
client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def _mask(details: dict[str, Any]) -> dict[str, Any]:
    return {
        key: "***" if key in SECRET_KEYS else (_mask(value) if isinstance(value, dict) else value)
        for key, value in details.items()
    }


def valid_ip(value: str | None) -> str | None:
    """`value` as the database stores it, or None if it is not an IP address."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    office: Any = None,
    details: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Record `action` (dotted, e.g. `consultation.cancelled`) on `obj` by `actor`.

    `actor` is a Staff, a User, or None for the system (the worker). Secrets in
    `details` are masked before they are stored; `reason` is why it was done, when
    the actor gave one. The client's address comes from the request being served.
    """
    entry = audit_entry(
        actor=actor, action=action, obj=obj, office=office, details=details, reason=reason
    )
    entry.save()
    return entry


def audit_entry(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    office: Any = None,
    details: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """The entry `audit_record` would write, unsaved (to save several in one statement
    with `AuditEntry.objects.bulk_create`, which chains them)."""
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
        ip=valid_ip(client_ip.get()),
        reason=reason[:500],
    )
