"""The sign-in as it lives in the session, and where to send someone who is not through it.

A sign-in has two steps. The password step leaves a *pending* sign-in in the session —
nobody is logged in yet, so no page that only asks "is someone logged in?" can be
reached with a password alone. The second factor (a TOTP code, or a recovery code)
completes it: only then does Django's `login` run, with django-otp's device attached.
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts.models import SignInGeneration

PENDING_KEY = "accounts_pending"  # the password step's result, waiting for the second factor
SETUP_DEVICE_KEY = "accounts_setup_device"  # the unconfirmed TOTP device being set up
GENERATION_KEY = "accounts_generation"  # SignInGeneration.number when this session signed in
LAST_ACTIVITY_KEY = "accounts_last_activity"  # Unix time of the last request

# Long enough to install an authenticator app between the two steps, and no longer.
PENDING_LIFETIME = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Pending:
    """Someone past the password step (or logged in without a second factor)."""

    user: User
    backend: str


def _now() -> int:
    return int(timezone.now().timestamp())


def is_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Signed in with both factors: django-otp's OTPMiddleware gives the request's user
    `is_verified()`, true once a device verified this session."""
    check = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and check is not None and check())


def pending_start(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Remember that `user` gave the right password. Nobody is logged in until the second step.

    Starts from a fresh session key, so a session id planted before the password step
    cannot ride along to the second one.
    """
    if request.user.is_authenticated:
        auth_logout(request)
    else:
        request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": str(user.pk),
        "backend": getattr(user, "backend", ""),
        "at": _now(),
        "hash": user.get_session_auth_hash(),
        "generation": SignInGeneration.current(user.pk),
    }


def pending_get(request: HttpRequest) -> Pending | None:
    """The sign-in waiting for its second factor, or None (and a stale one is dropped).

    A pending sign-in lapses after PENDING_LIFETIME, when the password changes, when
    the person signs out everywhere, or when the account is deactivated. A user who is
    logged in without a second factor (an older session, a test's force_login) counts
    as pending too: they are half-way, and the second step finishes the job.
    """
    data = request.session.get(PENDING_KEY)
    if isinstance(data, dict):
        found = (
            get_user_model()
            ._default_manager.filter(pk=str(data.get("user", "0")), is_active=True)
            .first()
        )
        if (
            found is not None
            and 0 <= _now() - int(data.get("at", 0)) <= PENDING_LIFETIME.total_seconds()
            and constant_time_compare(str(data.get("hash", "")), found.get_session_auth_hash())
            and data.get("generation") == SignInGeneration.current(found.pk)
        ):
            return Pending(user=found, backend=str(data.get("backend", "")))
        del request.session[PENDING_KEY]
        return None
    user = request.user
    if user.is_authenticated and not is_verified(user):
        return Pending(user=user, backend=request.session.get(BACKEND_SESSION_KEY, ""))
    return None


def sign_in_complete(request: HttpRequest, pending: Pending, device: Device) -> None:
    """Log the pending user in, verified by `device`. Django's login sends user_logged_in,
    which django-axes records (and which resets the person's failed attempts)."""
    user = pending.user
    if request.user.is_authenticated and request.user.pk == user.pk:
        request.session.cycle_key()  # more rights now: a new session key
    else:
        auth_login(request, user, backend=pending.backend or None)
    otp_login(request, device)
    request.session.pop(PENDING_KEY, None)
    request.session.pop(SETUP_DEVICE_KEY, None)
    request.session[GENERATION_KEY] = SignInGeneration.current(user.pk)
    request.session[LAST_ACTIVITY_KEY] = _now()


def has_authenticator(user: AbstractBaseUser) -> bool:
    """Whether the user has set up an authenticator app (a confirmed TOTP device)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def second_step_url(user: AbstractBaseUser, next_url: str = "") -> str:
    """Where a pending user goes: the code, or setting up the app first."""
    name = "accounts:verify" if has_authenticator(user) else "accounts:setup"
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return reverse(name) + query


def safe_next(request: HttpRequest) -> str:
    """The `next` page asked for, if it is on this site; else the staff home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def redirect_to(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a whole page, not into a fragment."""
    if request.headers.get("HX-Request") == "true":
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def redirect_to_sign_in(request: HttpRequest, next_url: str | None = None) -> HttpResponse:
    """Send someone who is not signed in with both factors to the step they are at."""
    if next_url is None:
        next_url = request.get_full_path() if request.method in {"GET", "HEAD"} else ""
    pending = pending_get(request)
    if pending is not None:
        return redirect_to(request, second_step_url(pending.user, next_url))
    if next_url:
        return redirect_to(request, redirect_to_login(next_url, settings.LOGIN_URL).url)
    return redirect_to(request, resolve_url(settings.LOGIN_URL))


def forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    """The 403 page, saying why in the reader's language."""
    return render(request, "accounts/forbidden.html", {"reason": reason}, status=403)
