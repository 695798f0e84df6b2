"""Bearer-token authentication for staff, and per-client rate limits."""

import ipaddress
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from madoguchi.api.models import ApiToken, hash_token
from madoguchi.errors import BookingError, RateLimited
from madoguchi.joined import JoinedSelect, Table
from madoguchi.offices.models import Office, Staff

TOKEN_TOUCH_INTERVAL = 300  # seconds between last_used_at writes, to keep reads read-only


def staff_from_request(request: HttpRequest) -> Staff | None:
    """The staff member behind the request's bearer token; None when there is no header.

    A header with an unknown, revoked or inactive user's token is refused (401), never
    treated as anonymous.
    """
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise BookingError("unauthorized", _("Use 'Authorization: Bearer <token>'."))
    found = _token_with_staff(hash_token(token.strip()))
    staff = found.user.staff if found else None
    if found is None or staff is None or not found.user.is_active:
        rate_limit(request, "bad-token", settings.MADOGUCHI_PUBLIC_RATE_PER_MINUTE)
        raise BookingError("unauthorized", _("The token is unknown or revoked."))
    now = timezone.now()
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > (
        TOKEN_TOUCH_INTERVAL
    ):
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return staff


# The token, its user, their staff record and its office, fresh from one joined SELECT on
# every call (so a revoked token, a deactivated user or a changed role is refused at
# once), composed once per process (`madoguchi.joined`).
_TOKEN_WITH_STAFF = JoinedSelect(
    tables=(
        Table("t", ApiToken),
        Table("u", get_user_model(), 'INNER JOIN {table} u ON u."id" = t."user_id"'),
        Table("s", Staff, 'INNER JOIN {table} s ON s."user_id" = u."id"'),
        Table("o", Office, 'INNER JOIN {table} o ON o."id" = s."office_id"'),
    ),
    where='t."token_hash" = %s AND t."revoked_at" IS NULL',
)


def _token_with_staff(token_hash: str) -> ApiToken | None:
    """The unrevoked token with `user.staff.office` (and `staff.user`) loaded, or None
    (also when its user has no staff record): what `select_related` would give."""
    row = _TOKEN_WITH_STAFF.first([token_hash])
    if row is None:
        return None
    found, user, staff, office = row
    found.user = user
    user.staff = staff
    staff.user = user
    staff.office = office
    return found


def require_staff(request: HttpRequest) -> Staff:
    staff = staff_from_request(request)
    if staff is None:
        raise BookingError("unauthorized")
    return staff


def client_address(request: HttpRequest) -> str:
    """The client's address; behind our proxy, the one the proxy saw (right-most hop)."""
    if settings.MADOGUCHI_BEHIND_PROXY:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "unknown")


def _rate_key(address: str) -> str:
    """An IPv6 client is counted by its /64: one subscriber holds the whole network, so
    counting single addresses would give them as many allowances as they like."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def rate_limit(
    request: HttpRequest,
    scope: str,
    per_minute: int,
    *,
    key: str | None = None,
    window_seconds: int = 60,
) -> None:
    """A fixed window (a minute by default) per client address and scope, in the shared
    cache. `key` counts something else than the address (a job-seeker number, say);
    `per_minute` is then the allowance per window."""
    now = time.time()
    window = int(now // window_seconds)
    key = f"rl:{scope}:{key if key is not None else _rate_key(client_address(request))}:{window}"
    cache.add(key, 0, timeout=window_seconds * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window_seconds * 2)
        count = 1
    if count > per_minute:
        raise RateLimited(retry_after=window_seconds - int(now) % window_seconds)


class StaffBearer(HttpBearer):
    """Ninja's auth hook, so a call is authenticated before its body is even read."""

    def __call__(self, request: HttpRequest) -> Staff:
        return require_staff(request)

    def authenticate(self, request: HttpRequest, token: str) -> Staff | None:
        return staff_from_request(request)


def axes_client_ip(request: HttpRequest) -> str | None:
    """The client address for django-axes (lock-out by username and address): as
    `client_address`, or None when the request carries no usable address."""
    address = client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address
