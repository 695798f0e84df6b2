"""Bearer-token authentication for staff, and per-client rate limits."""

import ipaddress
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from madoguchi.api.models import ApiToken, hash_token
from madoguchi.errors import BookingError, RateLimited
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
# once), built without the ORM's query compiler, which cost more than the query: the
# statement is composed once per process, and each row goes through the same field
# converters the ORM would apply.
_TOKEN_MODELS: tuple[tuple[str, type[models.Model]], ...] = (
    ("t", ApiToken),
    ("u", get_user_model()),
    ("s", Staff),
    ("o", Office),
)
_token_sql: dict[str, tuple[str, list]] = {}


def _token_statement() -> tuple[str, list]:
    """(SQL, per model: its attribute names and each column's converters), per vendor."""
    vendor = connection.vendor
    if vendor not in _token_sql:
        qn = connection.ops.quote_name
        columns, specs = [], []
        for alias, model in _TOKEN_MODELS:
            fields = list(model._meta.concrete_fields)
            columns += [f"{alias}.{qn(f.column or f.attname)}" for f in fields]
            cols = [f.get_col(alias) for f in fields]
            converters = [
                [(c, convert) for convert in connection.ops.get_db_converters(c)]
                + [(c, convert) for convert in c.get_db_converters(connection)]
                for c in cols
            ]
            specs.append((model, [f.attname for f in fields], converters))
        table = {alias: qn(model._meta.db_table) for alias, model in _TOKEN_MODELS}
        sql = (
            f"SELECT {', '.join(columns)} FROM {table['t']} t"  # noqa: S608 - identifiers from the models' metadata
            f" INNER JOIN {table['u']} u ON u.{qn('id')} = t.{qn('user_id')}"
            f" INNER JOIN {table['s']} s ON s.{qn('user_id')} = u.{qn('id')}"
            f" INNER JOIN {table['o']} o ON o.{qn('id')} = s.{qn('office_id')}"
            f" WHERE t.{qn('token_hash')} = %s AND t.{qn('revoked_at')} IS NULL"
        )
        _token_sql[vendor] = (sql, specs)
    return _token_sql[vendor]


def _token_with_staff(token_hash: str) -> ApiToken | None:
    """The unrevoked token with `user.staff.office` (and `staff.user`) loaded, or None
    (also when its user has no staff record): what `select_related` would give."""
    sql, specs = _token_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    built: list[Any] = []
    at = 0
    for model, attnames, converters in specs:
        values = []
        for column_converters, value in zip(converters, row[at : at + len(attnames)], strict=True):
            for col, convert in column_converters:
                value = convert(value, col, connection)
            values.append(value)
        at += len(attnames)
        built.append(model.from_db(connection.alias, attnames, values))
    found, user, staff, office = built
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
