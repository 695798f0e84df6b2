"""Signing staff in from tests: through the real pages, or straight to a verified session.

from tests.signin import sign_in, sign_in_verified, signed_in_client

sign_in(client, world.counselor)             # password, then the second factor, by HTTP
sign_in_verified(client, world.coordinator)  # the same end state, without the pages
client = signed_in_client(world.manager)     # a new Client, signed in the fast way
"""

import time

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts.models import SignInGeneration
from madoguchi.accounts.signin import GENERATION_KEY, LAST_ACTIVITY_KEY
from madoguchi.offices.models import Staff

PASSWORD = "kushiro-harbour-fog-2026"


def _user(person: Staff | User) -> User:
    return person.user if isinstance(person, Staff) else person


def totp_code(device: TOTPDevice) -> str:
    """The code the person's app shows now — or, if that one was already used (the test
    clock is frozen), the next one, which the device still accepts (tolerance 1)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    step = max(totp.t(), device.last_t + 1)
    if step > totp.t() + device.tolerance:
        raise AssertionError("no unused TOTP code left in this time step: move the clock on")
    totp.time = device.t0 + step * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in(client: Client, person: Staff | User, password: str = PASSWORD) -> TOTPDevice:
    """Sign `person` in through the pages: the password (set to `password` first if it is
    not already), then the authenticator code, setting the app up on a first sign-in.
    Returns the person's authenticator device."""
    user = _user(person)
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    response = client.post(
        reverse("accounts:login"), {"username": user.get_username(), "password": password}
    )
    assert response.status_code == 302, "the password step did not pass"
    step_url = response["Location"]
    if step_url.startswith(reverse("accounts:setup")):
        client.get(step_url)
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        done = client.post(step_url, {"code": totp_code(device)})
        assert done.status_code == 200 and "codes" in done.context, "set-up did not pass"
    else:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        done = client.post(step_url, {"code": totp_code(device)})
        assert done.status_code == 302, "the code step did not pass"
    device.refresh_from_db()
    return device


def sign_in_verified(client: Client, person: Staff | User) -> TOTPDevice:
    """A session as if `person` had signed in with both factors, without the pages (fast:
    no password hashing). Gives them a confirmed authenticator if they have none."""
    user = _user(person)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[GENERATION_KEY] = SignInGeneration.current(user.pk)
    session[LAST_ACTIVITY_KEY] = int(timezone.now().timestamp())
    session.save()
    return device


def signed_in_client(person: Staff | User) -> Client:
    """A new test client with `person` signed in with both factors (see sign_in_verified)."""
    client = Client()
    sign_in_verified(client, person)
    return client
