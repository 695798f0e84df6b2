"""Sign-in writes: second factors, recovery codes, and ending sessions. Each is audited."""

import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import models, transaction
from django.db.models import F
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts.models import SignInGeneration
from madoguchi.records.audit import audit_record

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"


def normalize_code(code: str) -> str:
    """Codes as typed: full-width digits (IME input) become ASCII; spaces and hyphens go."""
    text = unicodedata.normalize("NFKC", code)
    return "".join(ch for ch in text if not ch.isspace() and ch != "-").lower()


def _audit(user: AbstractBaseUser, action: str, details: dict[str, Any] | None = None) -> None:
    """Audit on the person's Staff record (or the user, for an admin without one)."""
    staff = getattr(user, "staff", None)
    obj: models.Model = staff if staff is not None else user
    audit_record(
        actor=user,
        action=action,
        obj=obj,
        office=getattr(staff, "office", None),
        details=details,
    )


def totp_device_for_setup(*, user: AbstractBaseUser, device_id: int | None) -> TOTPDevice:
    """The unconfirmed authenticator this sign-in is setting up, or a new one.

    A new one gets a new secret, and older unconfirmed ones are removed: a secret seen
    by someone else in an earlier, abandoned set-up never becomes the person's device.
    """
    if device_id is not None:
        found = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if found is not None:
            return found
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def totp_device_confirm(*, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm `device` with a code from the app; then make the person's recovery codes.

    Returns the new recovery codes (to be shown once), or None when the code is wrong
    or tried too soon after wrong ones (django-otp's throttling).
    """
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if locked.confirmed or not locked.verify_token(normalize_code(code)):
            return None
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user_id=locked.user_id).exclude(pk=locked.pk).delete()
        codes = _recovery_codes_replace(locked.user)
        _audit(locked.user, "staff.two_factor_enrolled")
    device.confirmed = True
    return codes


def recovery_codes_regenerate(*, user: AbstractBaseUser) -> list[str]:
    """New recovery codes for `user`; the old ones stop working."""
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        _audit(user, "staff.recovery_codes_regenerated")
    return codes


def _recovery_codes_replace(user: AbstractBaseUser) -> list[str]:
    # The device is kept (only its tokens change), so a session verified by a recovery
    # code stays verified after the person makes new codes.
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    device.token_set.all().delete()
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())
    ordered = sorted(codes)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in ordered)
    return ordered


def recovery_codes_left(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_throttled(*, user: AbstractBaseUser, recovery: bool) -> bool:
    """True while django-otp makes the person wait after wrong codes (1, 2, 4, 8 … s)."""
    model = StaticDevice if recovery else TOTPDevice
    return any(
        not device.verify_is_allowed()[0]
        for device in model.objects.devices_for_user(user, confirmed=True)
    )


def second_factor_verify(*, user: AbstractBaseUser, code: str, recovery: bool) -> Device | None:
    """The device that accepts `code` (a recovery code is used up), or None."""
    model: type[TOTPDevice] | type[StaticDevice] = StaticDevice if recovery else TOTPDevice
    token = normalize_code(code)
    with transaction.atomic():
        devices = model.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices:
            if device.verify_token(token):
                if recovery:
                    _audit(user, "staff.recovery_code_used", {"left": recovery_codes_left(user)})
                return device
    return None


def sign_in_generation_bump(*, user: AbstractBaseUser) -> int:
    """End every session of `user`, on every device; returns the new generation."""
    SignInGeneration.objects.get_or_create(user_id=user.pk)
    SignInGeneration.objects.filter(user_id=user.pk).update(number=F("number") + 1)
    return SignInGeneration.current(user.pk)


def sign_out_everywhere(*, user: AbstractBaseUser) -> int:
    """The person's own "sign out everywhere": every session ends, this one included."""
    with transaction.atomic():
        number = sign_in_generation_bump(user=user)
        _audit(user, "staff.signed_out_everywhere")
    return number


def password_changed(*, user: AbstractBaseUser, reset: bool) -> int:
    """After a password change or reset: end the person's other sessions and audit it.

    The second factor is left as it is: a mailbox alone must not be enough to get in.
    """
    with transaction.atomic():
        number = sign_in_generation_bump(user=user)
        _audit(user, "staff.password_reset" if reset else "staff.password_changed")
    return number


def password_set_link_send(*, user: AbstractBaseUser) -> None:
    """Mail `user` a link to choose their password: Django's password-reset link, to the
    page and with the token of the reset that staff already use. Sent after commit; the
    link (a secret) is never stored, logged or shown to whoever asked for it."""

    def send() -> None:
        context = {
            "user": user,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),  # type: ignore[arg-type]
            "base_url": settings.MADOGUCHI_BASE_URL.rstrip("/"),
            "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        }
        PasswordResetForm().send_mail(
            "accounts/password_set_subject.txt",
            "accounts/password_set_email.txt",
            context,
            None,
            getattr(user, "email", ""),
        )

    transaction.on_commit(send)


def email_change_notice_send(*, user: AbstractBaseUser, old_email: str) -> None:
    """Tell the OLD address that the account's e-mail changed (and to where, masked), so
    that a change the owner did not make is noticed. Sent after commit."""
    new_email = getattr(user, "email", "")
    local, _at, domain = new_email.partition("@")

    def send() -> None:
        context = {
            "user": user,
            "new_email": f"{local[:1]}***@{domain}" if domain else "",
        }
        PasswordResetForm().send_mail(
            "accounts/email_changed_subject.txt",
            "accounts/email_changed_email.txt",
            context,
            None,
            old_email,
        )

    transaction.on_commit(send)


def second_factors_remove(*, user: AbstractBaseUser) -> int:
    """Remove every authenticator and recovery code of `user` and end their sessions: the
    next sign-in sets up a new authenticator. The caller audits (who asked, and why)."""
    with transaction.atomic():
        removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()  # its tokens go with it
        sign_in_generation_bump(user=user)
    return removed
