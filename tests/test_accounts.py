"""Staff sign-in: password, then a second factor; lock-out; idle time-out; sign out
everywhere; password reset; the guards staff pages use; the admin behind it all."""

import datetime as dt
import logging
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts.decorators import StaffRequest, roles_required
from madoguchi.accounts.models import SignInGeneration
from madoguchi.accounts.signin import PENDING_KEY
from madoguchi.offices.models import Staff
from madoguchi.records.models import AuditEntry
from tests.signin import PASSWORD, sign_in, sign_in_verified, totp_code

LOGIN = "/staff/login/"
SETUP = "/staff/two-factor/setup/"
VERIFY = "/staff/two-factor/verify/"
ACCOUNT = "/staff/account/"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@roles_required(Staff.Role.MANAGER, Staff.Role.AUDITOR)
def managers_page(request: StaffRequest) -> HttpResponse:
    """A page for the roles_required tests (served only under @pytest.mark.urls)."""
    return HttpResponse(f"{request.staff.username} {request.staff.role}")


urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include("madoguchi.accounts.urls")),
    path("test-only/managers/", managers_page),
]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 is slow by design; these tests hash dozens of passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def english() -> Client:
    return Client(headers={"Accept-Language": "en"})


def with_password(staff: Staff, password: str = PASSWORD) -> Staff:
    staff.user.set_password(password)
    staff.user.save(update_fields=["password"])
    return staff


def password_step(client: Client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def signed_in_as(client: Client) -> str | None:
    """Who the account page says is signed in with both factors, or None."""
    response = client.get(ACCOUNT)
    return response.context["staff"].username if response.status_code == 200 else None


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# First sign-in: the authenticator is set up -------------------------------------------


def test_first_sign_in_sets_up_the_app_then_shows_recovery_codes(world, frozen_now):
    user = with_password(world.counselor).user
    client = english()

    after_password = password_step(client, "sato")
    assert (after_password.status_code, after_password.url) == (302, f"{SETUP}?next=%2Fstaff%2F")
    page = client.get(after_password.url)
    device = TOTPDevice.objects.get(user=user)
    secret = page.context["secret"]
    assert device.confirmed is False
    assert secret.replace(" ", "") == device.config_url.split("secret=")[1].split("&")[0]
    assert secret in page.content.decode()
    assert '<svg viewBox="0 0' in page.content.decode()  # inline SVG: no data: URL
    assert "style=" not in page.content.decode()  # the CSP forbids inline style
    assert client.get(ACCOUNT).url == f"{SETUP}?next=%2Fstaff%2Faccount%2F"

    right = totp_code(device)
    refused = client.post(after_password.url, {"code": wrong(right)})
    too_soon = client.post(after_password.url, {"code": right})
    frozen_now.shift(dt.timedelta(seconds=2))
    done = client.post(after_password.url, {"code": totp_code(device)})

    assert refused.context["form"].errors == {
        "code": ["That code is not right. Check the app and try again."]
    }
    assert too_soon.context["form"].errors == {
        "code": ["Too many wrong codes. Wait a minute, then try again."]
    }
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == len(set(codes)) == 10
    assert sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    ) == (codes)
    assert all(f"<code>{code}</code>" in done.content.decode() for code in codes)
    assert "no-store" in done["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed is True
    assert signed_in_as(client) == "sato"
    assert list(
        AuditEntry.objects.filter(action="staff.two_factor_enrolled").values_list(
            "actor_label", "object_type", "object_id", "office"
        )
    ) == [("sato", "staff", str(world.counselor.pk), world.office.pk)]


def test_setup_page_keeps_its_secret_until_confirmed(world):
    with_password(world.counselor)
    client = english()
    password_step(client, "sato")

    first = client.get(SETUP).context["secret"]
    again = client.get(SETUP).context["secret"]

    assert first == again
    assert TOTPDevice.objects.filter(user=world.counselor.user).count() == 1


# Later sign-ins: the code, or a recovery code -------------------------------------------


def test_next_sign_in_asks_for_the_code_and_returns_to_the_page_asked_for(world, frozen_now):
    device = sign_in(Client(), world.counselor)
    frozen_now.shift(dt.timedelta(minutes=1))
    client = english()

    asked = client.get(ACCOUNT)
    after_password = client.post(LOGIN, {"username": "sato", "password": PASSWORD, "next": ACCOUNT})
    pending_page = client.get(ACCOUNT)
    refused = client.post(after_password.url, {"code": wrong(totp_code(device))})
    frozen_now.shift(dt.timedelta(seconds=2))
    done = client.post(after_password.url, {"code": totp_code(device).translate(FULL_WIDTH)})

    assert asked.url == f"{LOGIN}?next=/staff/account/"
    assert after_password.url == f"{VERIFY}?next=%2Fstaff%2Faccount%2F"
    assert pending_page.url == f"{VERIFY}?next=%2Fstaff%2Faccount%2F"
    assert refused.context["form"].errors == {
        "code": ["That code is not right. Check it and try again."]
    }
    assert done.url == ACCOUNT
    assert signed_in_as(client) == "sato"


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        ("/staff/account/", "/staff/account/"),
        ("https://evil.example/staff/", "/staff/"),
        ("//evil.example/", "/staff/"),
    ],
    ids=["own-page", "other-site", "scheme-relative"],
)
def test_sign_in_returns_only_to_pages_of_this_site(world, asked, sent_to):
    device = sign_in(Client(), world.counselor)
    client = Client()

    after_password = client.post(LOGIN, {"username": "sato", "password": PASSWORD, "next": asked})
    done = client.post(after_password.url, {"code": totp_code(device)})

    assert done.url == sent_to


def test_a_code_cannot_be_used_twice(world, frozen_now):
    device = sign_in(Client(), world.counselor)
    frozen_now.shift(dt.timedelta(minutes=1))
    code = totp_code(device)
    first, second = english(), english()
    password_step(first, "sato")
    password_step(second, "sato")

    used = first.post(VERIFY, {"code": code})
    replayed = second.post(VERIFY, {"code": code})

    assert used.status_code == 302
    assert replayed.status_code == 200
    assert (signed_in_as(first), signed_in_as(second)) == ("sato", None)


def test_a_recovery_code_works_once(world, frozen_now):
    sign_in(Client(), world.counselor)
    code = StaticToken.objects.filter(device__user=world.counselor.user).first().token
    first, second = english(), english()
    password_step(first, "sato")
    password_step(second, "sato")

    form_page = first.get(f"{VERIFY}?method=recovery")
    used = first.post(f"{VERIFY}?method=recovery", {"code": code.upper()})
    frozen_now.shift(dt.timedelta(seconds=5))
    reused = second.post(f"{VERIFY}?method=recovery", {"code": code})

    assert form_page.context["form"].fields["code"].label == "Recovery code"
    assert used.status_code == 302
    assert signed_in_as(first) == "sato"
    assert reused.context["form"].errors == {
        "code": ["That code is not right. Check it and try again."]
    }
    assert signed_in_as(second) is None
    assert StaticToken.objects.filter(device__user=world.counselor.user).count() == 9
    assert list(
        AuditEntry.objects.filter(action="staff.recovery_code_used").values_list(
            "actor_label", "details"
        )
    ) == [("sato", {"left": 9})]


def test_new_recovery_codes_replace_the_old_ones(world):
    client = Client()
    sign_in(client, world.counselor)
    old = set(
        StaticToken.objects.filter(device__user=world.counselor.user).values_list(
            "token", flat=True
        )
    )

    page = client.get("/staff/two-factor/recovery-codes/")
    made = client.post("/staff/two-factor/recovery-codes/")

    assert page.context["recovery_codes_left"] == 10
    new = set(made.context["codes"])
    assert len(new) == 10 and not new & old
    assert (
        set(
            StaticToken.objects.filter(device__user=world.counselor.user).values_list(
                "token", flat=True
            )
        )
        == new
    )
    assert signed_in_as(client) == "sato"  # the session stays verified


def test_a_pending_sign_in_lapses_after_15_minutes(world, frozen_now):
    sign_in(Client(), world.counselor)
    client = english()
    password_step(client, "sato")

    frozen_now.shift(dt.timedelta(minutes=16))
    response = client.get(VERIFY, follow=True)

    assert response.redirect_chain == [(LOGIN, 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Please sign in again: the sign-in took too long."
    ]
    assert PENDING_KEY not in client.session


# Lock-out and what the login page gives away ----------------------------------------


def test_five_wrong_passwords_lock_out_even_the_right_one(world, frozen_now):
    with_password(world.counselor)
    client = english()

    first_four = [password_step(client, "sato", "wrong-password").status_code for _ in range(4)]
    fifth = password_step(client, "sato", "wrong-password")
    right = password_step(client, "sato")
    frozen_now.shift(dt.timedelta(minutes=16))
    after_cool_off = password_step(client, "sato")

    assert first_four == [200, 200, 200, 200]
    for locked in (fifth, right):
        text = locked.content.decode()
        assert locked.status_code == 429
        assert "Wait 15 minutes and try again." in text
        assert "ask your office manager" in text
        assert "sato" not in text
    assert after_cool_off.status_code == 302 and after_cool_off.url.startswith(SETUP)


def test_unknown_user_and_wrong_password_get_the_same_answer(world):
    with_password(world.counselor)
    client = english()

    wrong_password = password_step(client, "sato", "wrong-password")
    unknown_user = password_step(client, "nobody", "wrong-password")
    no_password_set = password_step(client, "suzuki", "wrong-password")
    unknown_locked = [password_step(client, "stranger", "x").status_code for _ in range(5)]

    errors = [r.context["form"].errors for r in (wrong_password, unknown_user, no_password_set)]
    assert errors[0] == errors[1] == errors[2]
    assert unknown_locked == [200, 200, 200, 200, 429]


def test_passwords_and_codes_are_never_logged_nor_stored(world, frozen_now, caplog):
    caplog.set_level(logging.DEBUG)
    with_password(world.counselor)
    client = Client()
    password_step(client, "sato", "wrong-secret-horse")

    device = sign_in(client, world.counselor)
    frozen_now.shift(dt.timedelta(minutes=1))
    code = totp_code(device)
    password_step(client, "sato")
    client.post(VERIFY, {"code": code})

    logged = caplog.text + "".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert "AXES" in caplog.text  # the log was captured
    for secret in (PASSWORD, "wrong-secret-horse", code):
        assert secret not in logged
    assert not AuditEntry.objects.filter(details__icontains=code).exists()


# Staying signed in, and signing out ---------------------------------------------------


def test_idle_for_more_than_30_minutes_signs_out(world, frozen_now):
    client = english()
    sign_in(client, world.counselor)
    client.get(ACCOUNT)

    frozen_now.shift(dt.timedelta(minutes=29))
    still_in = client.get(ACCOUNT)
    frozen_now.shift(dt.timedelta(minutes=31))
    out = client.get(ACCOUNT, follow=True)

    assert still_in.status_code == 200
    assert out.redirect_chain == [(f"{LOGIN}?next=/staff/account/", 302)]
    assert [str(m) for m in out.context["messages"]] == [
        "You were signed out after 30 minutes without activity."
    ]
    assert "_auth_user_id" not in client.session


def test_an_htmx_request_is_sent_to_the_sign_in_as_a_whole_page(world):
    response = Client().get(ACCOUNT, headers={"HX-Request": "true"})

    assert (response.status_code, response["HX-Redirect"]) == (
        200,
        f"{LOGIN}?next=/staff/account/",
    )


def test_sign_out_ends_this_session_only(world, frozen_now):
    here, there = Client(), Client()
    sign_in(here, world.counselor)
    frozen_now.shift(dt.timedelta(minutes=1))
    sign_in(there, world.counselor)

    by_get = here.get("/staff/logout/")
    out = here.post("/staff/logout/")

    assert by_get.status_code == 405
    assert out.url == LOGIN
    assert (signed_in_as(here), signed_in_as(there)) == (None, "sato")


def test_sign_out_everywhere_ends_every_session(world, frozen_now):
    here, there, colleague = Client(), Client(), Client()
    sign_in(here, world.counselor)
    frozen_now.shift(dt.timedelta(minutes=1))
    sign_in(there, world.counselor)
    sign_in_verified(colleague, world.counselor2)

    by_get = here.get("/staff/sign-out-everywhere/")
    out = here.post("/staff/sign-out-everywhere/")

    assert by_get.status_code == 405
    assert out.url == LOGIN
    assert (signed_in_as(here), signed_in_as(there), signed_in_as(colleague)) == (
        None,
        None,
        "suzuki",
    )
    assert SignInGeneration.current(world.counselor.user.pk) == 1
    assert list(
        AuditEntry.objects.filter(action="staff.signed_out_everywhere").values_list(
            "actor_label", "object_type", "object_id", "office"
        )
    ) == [("sato", "staff", str(world.counselor.pk), world.office.pk)]
    frozen_now.shift(dt.timedelta(minutes=1))
    sign_in(there, world.counselor)
    assert signed_in_as(there) == "sato"


def test_password_change_ends_the_other_sessions_and_keeps_this_one(world, frozen_now):
    here, there = english(), Client()
    sign_in(here, world.counselor)
    frozen_now.shift(dt.timedelta(minutes=1))
    sign_in(there, world.counselor)
    new = "new-password-for-the-harbour"

    changed = here.post(
        "/staff/password-change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert changed.url == ACCOUNT
    assert (signed_in_as(here), signed_in_as(there)) == ("sato", None)
    assert AuditEntry.objects.filter(action="staff.password_changed").count() == 1


# Password reset by mail ---------------------------------------------------------------


def reset_link() -> str:
    (message,) = mail.outbox
    match = re.search(r"http://127\.0\.0\.1:8000(/staff/password-reset/\S+/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_by_mail_ends_sessions_and_keeps_the_authenticator(world, frozen_now):
    user = world.counselor.user
    user.email = "sato@kushiro.example"
    user.save(update_fields=["email"])
    signed_in = Client()
    sign_in(signed_in, world.counselor)
    frozen_now.shift(dt.timedelta(minutes=1))
    client = english()
    new = "a-brand-new-password-2026"

    asked = client.post("/staff/password-reset/", {"email": "SATO@kushiro.example"})
    link = reset_link()
    form_url = client.get(link).url
    saved = client.post(form_url, {"new_password1": new, "new_password2": new})
    used_again = client.get(link)

    assert asked.url == "/staff/password-reset/sent/"
    assert mail.outbox[0].to == ["sato@kushiro.example"]
    assert mail.outbox[0].subject == "Madoguchi: choose a new staff password"
    assert saved.url == "/staff/password-reset/done/"
    assert used_again.context["validlink"] is False
    assert signed_in_as(signed_in) is None
    assert password_step(client, "sato").status_code == 200  # the old password is gone
    after_new = password_step(client, "sato", new)
    assert after_new.url.startswith(VERIFY)  # the authenticator is still asked for
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert AuditEntry.objects.filter(action="staff.password_reset").count() == 1


def without_csrf_tokens(content: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content.decode())


def test_password_reset_does_not_tell_whether_the_address_exists(world):
    world.counselor.user.email = "sato@kushiro.example"
    world.counselor.user.save(update_fields=["email"])
    with_password(world.counselor)
    client = english()

    known = client.post("/staff/password-reset/", {"email": "sato@kushiro.example"}, follow=True)
    unknown = client.post("/staff/password-reset/", {"email": "who@kushiro.example"}, follow=True)

    assert known.redirect_chain == unknown.redirect_chain == [("/staff/password-reset/sent/", 302)]
    assert without_csrf_tokens(known.content) == without_csrf_tokens(unknown.content)
    assert [m.to for m in mail.outbox] == [["sato@kushiro.example"]]


# The guards staff pages use, and the admin --------------------------------------------


def test_a_password_alone_reaches_no_staff_page_and_not_the_admin(world):
    with_password(world.manager)
    client = english()
    password_step(client, "ito")

    staff_page = client.get(ACCOUNT)
    admin = client.get("/admin/", follow=True)

    assert staff_page.url == f"{SETUP}?next=%2Fstaff%2Faccount%2F"
    assert admin.redirect_chain[-1][0] == f"{SETUP}?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session  # nobody is logged in yet


def test_a_session_without_second_factor_is_sent_to_it(world):
    TOTPDevice.objects.create(user=world.manager.user, name="authenticator", confirmed=True)
    client = Client()
    client.force_login(world.manager.user)

    staff_page = client.get(ACCOUNT)
    admin = client.get("/admin/offices/office/", follow=True)

    assert staff_page.url == f"{VERIFY}?next=%2Fstaff%2Faccount%2F"
    assert admin.redirect_chain[-1][0] == f"{VERIFY}?next=%2Fadmin%2Foffices%2Foffice%2F"


def test_admin_opens_for_verified_admin_staff_only(world):
    manager, counselor = Client(), english()
    sign_in_verified(manager, world.manager)
    sign_in_verified(counselor, world.counselor)

    assert manager.get("/admin/").status_code == 200
    refused = counselor.get("/admin/", follow=True)
    assert refused.status_code == 403
    assert "Your account cannot use the administration pages." in refused.content.decode()
    assert Client().get("/admin/login/?next=/admin/").url == "/staff/login/?next=/admin/"


def test_a_user_without_staff_profile_is_refused_staff_pages(db):
    root = get_user_model().objects.create_superuser("root")
    client = english()
    sign_in_verified(client, root)

    response = client.get(ACCOUNT)

    assert response.status_code == 403
    assert "This page is for office staff only." in response.content.decode()
    assert client.get("/admin/").status_code == 200


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("persona", "status"),
    [("manager", 200), ("auditor", 200), ("coordinator", 403), ("counselor", 403)],
)
def test_roles_required_lets_in_the_named_roles_only(world, persona, status):
    staff = getattr(world, persona)
    client = english()
    sign_in_verified(client, staff)

    response = client.get("/test-only/managers/")

    assert response.status_code == status
    if status == 200:
        assert response.content.decode() == f"{staff.username} {staff.role}"
    else:
        assert "Your role does not give access to this page." in response.content.decode()


@pytest.mark.urls(__name__)
def test_roles_required_sends_strangers_to_the_sign_in(db):
    response = Client().get("/test-only/managers/")

    assert response.url == "/staff/login/?next=/test-only/managers/"


def test_roles_required_refuses_unknown_roles():
    with pytest.raises(ValueError, match="janitor"):
        roles_required("manager", "janitor")
