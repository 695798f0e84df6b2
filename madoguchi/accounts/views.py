"""Staff sign-in pages: password, second factor, account, sign-out, password reset."""

import base64
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts import services, signin
from madoguchi.accounts.decorators import StaffRequest, staff_required
from madoguchi.accounts.forms import (
    AuthenticatorCodeForm,
    RecoveryCodeForm,
    SignInForm,
    StaffPasswordResetForm,
)

_form_methods = require_http_methods(["GET", "POST"])


def _post_data(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@_form_methods
def sign_in(request: HttpRequest) -> HttpResponse:
    """Step 1: user name and password. django-axes counts the failures."""
    next_url = signin.safe_next(request)
    if signin.is_verified(request.user):
        return redirect(next_url)
    form = SignInForm(request, data=_post_data(request))
    if form.is_valid():
        user = form.get_user()
        signin.pending_start(request, user)
        return redirect(signin.second_step_url(user, next_url))
    if getattr(request, "axes_locked_out", False):
        # Our page in the reader's language instead of django-axes' plain English text;
        # it names no user, so it tells nothing about whether the account exists.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def _pending_or_redirect(request: HttpRequest) -> signin.Pending | HttpResponse:
    """The pending sign-in; without one, back to the password step (or on, if signed in)."""
    lapsed = signin.PENDING_KEY in request.session
    pending = signin.pending_get(request)
    if pending is not None:
        return pending
    if signin.is_verified(request.user):
        return redirect(signin.safe_next(request))
    if lapsed or request.method == "POST":
        messages.info(request, _("Please sign in again: the sign-in took too long."))
    return redirect(settings.LOGIN_URL)


def _qr_svg(device: TOTPDevice) -> SafeString:
    qr = segno.make(device.config_url, error="m")
    title = _("QR code to add this account to your authenticator app")
    svg = qr.svg_inline(scale=4, omitsize=True, title=title, dark="#000", light="#fff")
    # segno escapes the title; the rest is its own SVG markup, made from our data only.
    return mark_safe(svg)  # noqa: S308


def _grouped_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@_form_methods
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Step 2 the first time: add the account to an authenticator app, confirm with a code,
    and get recovery codes (shown this once)."""
    pending = _pending_or_redirect(request)
    if isinstance(pending, HttpResponse):
        return pending
    next_url = signin.safe_next(request)
    if signin.has_authenticator(pending.user):
        return redirect(signin.second_step_url(pending.user, next_url))
    device = services.totp_device_for_setup(
        user=pending.user, device_id=request.session.get(signin.SETUP_DEVICE_KEY)
    )
    request.session[signin.SETUP_DEVICE_KEY] = device.pk
    form = AuthenticatorCodeForm(_post_data(request))
    if form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("code", _("Too many wrong codes. Wait a minute, then try again."))
        else:
            codes = services.totp_device_confirm(device=device, code=form.cleaned_data["code"])
            if codes is not None:
                signin.sign_in_complete(request, pending, device)
                messages.success(request, _("Two-step sign-in is on."))
                return _recovery_codes_page(request, codes, next_url, first_time=True)
            form.add_error("code", _("That code is not right. Check the app and try again."))
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "qr_svg": _qr_svg(device), "secret": _grouped_secret(device)},
    )


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@_form_methods
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Step 2 from then on: the code from the app, or one recovery code."""
    pending = _pending_or_redirect(request)
    if isinstance(pending, HttpResponse):
        return pending
    next_url = signin.safe_next(request)
    if not signin.has_authenticator(pending.user):
        return redirect(signin.second_step_url(pending.user, next_url))
    recovery = request.GET.get("method") == "recovery"
    form_class = RecoveryCodeForm if recovery else AuthenticatorCodeForm
    form = form_class(_post_data(request))
    if form.is_valid():
        if services.second_factor_throttled(user=pending.user, recovery=recovery):
            form.add_error("code", _("Too many wrong codes. Wait a minute, then try again."))
        else:
            device = services.second_factor_verify(
                user=pending.user, code=form.cleaned_data["code"], recovery=recovery
            )
            if device is not None:
                signin.sign_in_complete(request, pending, device)
                return redirect(next_url)
            form.add_error("code", _("That code is not right. Check it and try again."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "recovery": recovery})


def _recovery_codes_page(
    request: HttpRequest, codes: list[str], next_url: str, *, first_time: bool
) -> HttpResponse:
    # Rendered straight into the POST's answer (never_cache: not kept by the browser
    # either): the codes are not stored anywhere to be shown later.
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "next": next_url, "first_time": first_time},
    )


@never_cache
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out of this browser."""
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect(settings.LOGIN_URL)


@require_POST
@staff_required
def sign_out_everywhere(request: StaffRequest) -> HttpResponse:
    """End every session of this person, on every device, this one included."""
    services.sign_out_everywhere(user=request.staff.user)
    logout(request)
    messages.info(request, _("You are signed out on every device."))
    return redirect(settings.LOGIN_URL)


@never_cache
@_form_methods
@staff_required
def account(request: StaffRequest) -> HttpResponse:
    """The person's own page: who they are here, their second factors, their sessions."""
    user = request.staff.user
    return render(
        request,
        "accounts/account.html",
        {
            "staff": request.staff,
            "authenticators": TOTPDevice.objects.devices_for_user(user, confirmed=True),
            "recovery_codes_left": services.recovery_codes_left(user),
            "idle_minutes": settings.MADOGUCHI_IDLE_MINUTES,
        },
    )


@never_cache
@_form_methods
@staff_required
def recovery_codes(request: StaffRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once."""
    if request.method == "POST":
        codes = services.recovery_codes_regenerate(user=request.staff.user)
        return _recovery_codes_page(request, codes, reverse("accounts:account"), first_time=False)
    return render(
        request,
        "accounts/recovery_codes_new.html",
        {"recovery_codes_left": services.recovery_codes_left(request.staff.user)},
    )


@method_decorator(staff_required, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password; every other session of the person ends, this one stays."""

    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)  # keeps this session (new auth hash)
            number = services.password_changed(user=form.user, reset=False)
        self.request.session[signin.GENERATION_KEY] = number
        messages.success(self.request, _("Your password is changed. Other sessions are ended."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by mail. The answer is the same whether the address is known."""

    form_class = StaffPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    subject_template_name = "accounts/password_reset_subject.txt"
    email_template_name = "accounts/password_reset_email.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    title = gettext_lazy("Reset your password")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # Links are built from the configured address, never from the request's Host.
        self.extra_email_context = {
            "base_url": settings.MADOGUCHI_BASE_URL.rstrip("/"),
            "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        }
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
    title = gettext_lazy("Check your mail")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose a new password from the mailed link. Every session of the person ends; the
    authenticator stays, so the next sign-in still asks for its code."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    title = gettext_lazy("Choose a new password")

    def form_valid(self, form: SetPasswordForm[User]) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            services.password_changed(user=form.user, reset=True)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
    title = gettext_lazy("Password changed")
