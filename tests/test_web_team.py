"""The office's team in the staff web (managers): list, add with a mailed link to choose a
password, edit, deactivate and reactivate, reset the second factor; and the refusals."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts.models import SignInGeneration
from madoguchi.api.models import ApiToken
from madoguchi.errors import BookingError
from madoguchi.offices import services
from madoguchi.offices.models import Office, Staff
from madoguchi.records.models import AuditEntry
from tests.factories import local, make_consultation, make_staff, make_token
from tests.signin import PASSWORD, sign_in, sign_in_verified, signed_in_client

# The pages' own words are asserted in English (the source), whatever the catalogue says.
EN = {"Accept-Language": "en"}


def audited(action: str, staff: Staff) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_id=str(staff.pk)))


# The list ---------------------------------------------------------------------------------


def test_team_list_shows_the_offices_staff_only(world):
    sign_in_verified(Client(), world.counselor)  # sato has an authenticator now

    page = signed_in_client(world.manager).get("/staff/team/")

    html = page.content.decode()
    names = [m.user.username for m in page.context["page"].object_list]
    assert names == ["ito", "sato", "suzuki", "tanaka", "watanabe"]
    assert "takahashi" not in html
    sato = page.context["page"].object_list[1]
    assert (sato.two_factor, page.context["page"].object_list[2].two_factor) == (True, False)
    assert (
        AuditEntry.objects.filter(
            action="staff.team_viewed", actor=world.manager.user, office=world.office
        ).count()
        == 1
    )


@pytest.mark.parametrize("who", ["counselor", "coordinator", "auditor", "other_counselor"])
def test_team_pages_are_for_managers_only(world, who):
    client = signed_in_client(getattr(world, who))

    assert client.get("/staff/team/").status_code == 403
    assert client.get(f"/staff/team/{world.counselor.pk}/").status_code == 403
    response = client.post(f"/staff/team/{world.counselor.pk}/deactivate/", {"reason": "x"})

    assert response.status_code == 403
    world.counselor.user.refresh_from_db()
    assert world.counselor.user.is_active is True


def test_the_staff_link_is_in_the_nav_for_managers_only(world):
    assert (
        'href="/staff/team/"' in signed_in_client(world.manager).get("/staff/day/").content.decode()
    )
    assert (
        'href="/staff/team/"'
        not in signed_in_client(world.coordinator).get("/staff/day/").content.decode()
    )


# Adding someone ---------------------------------------------------------------------------


def test_manager_adds_a_counselor_who_gets_a_link_to_choose_a_password(
    world, django_capture_on_commit_callbacks
):
    form = {
        "username": "kato",
        "display_name": "加藤 三郎",
        "role": "counselor",
        "email": "kato@kushiro.example.jp",
        "zoom_user": "kato@zoom.example.jp",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(world.manager).post("/staff/team/new/", form)

    added = Staff.objects.get(user__username="kato")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/team/{added.pk}/"
    assert (added.office, added.role, added.display_name, added.zoom_user) == (
        world.office,
        "counselor",
        "加藤 三郎",
        "kato@zoom.example.jp",
    )
    assert added.user.has_usable_password() is False
    assert [m.to for m in mail.outbox] == [["kato@kushiro.example.jp"]]
    link = re.search(r"http://\S+/staff/password-reset/(\S+)/(\S+)/", mail.outbox[0].body)
    assert link is not None
    assert [e.actor for e in audited("staff.invited", added)] == [world.manager.user]


def test_the_mailed_link_lets_the_new_person_choose_a_password(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        added = services.staff_invite(
            office=world.office,
            username="kato",
            role="coordinator",
            email="kato@kushiro.example.jp",
            actor=world.manager,
        )
    path = re.search(r"(/staff/password-reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    client = Client()

    form_page = client.get(path, follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "kushiro-fog-harbour-27", "new_password2": "kushiro-fog-harbour-27"},
    )

    assert done.status_code == 302
    added.user.refresh_from_db()
    assert added.user.check_password("kushiro-fog-harbour-27") is True


def test_adding_a_taken_user_name_keeps_the_form(world):
    form = {"username": "SATO", "role": "counselor", "email": "x@kushiro.example.jp"}

    page = signed_in_client(world.manager).post("/staff/team/new/", form, headers=EN)

    assert page.status_code == 200
    assert page.context["form"].errors == {"username": ["This user name is taken. Choose another."]}
    assert 'aria-describedby="id_username_helptext id_username_error"' in page.content.decode()
    assert Staff.objects.filter(user__username__iexact="sato").count() == 1


def test_adding_needs_an_email(world):
    page = signed_in_client(world.manager).post(
        "/staff/team/new/", {"username": "kato", "role": "counselor", "email": ""}
    )

    assert list(page.context["form"].errors) == ["email"]
    assert not Staff.objects.filter(user__username="kato").exists()


# Changing someone -------------------------------------------------------------------------


def test_manager_changes_role_and_details_and_it_is_audited(world):
    version = Office.objects.get(pk=world.office.pk).calendar_version
    form = {
        "display_name": "田中 次郎",
        "role": "counselor",
        "email": "tanaka@kushiro.example.jp",
        "zoom_user": "tanaka@zoom.example.jp",
    }

    response = signed_in_client(world.manager).post(f"/staff/team/{world.coordinator.pk}/", form)

    assert response.status_code == 302
    changed = Staff.objects.select_related("user").get(pk=world.coordinator.pk)
    assert (changed.role, changed.display_name, changed.user.email, changed.zoom_user) == (
        "counselor",
        "田中 次郎",
        "tanaka@kushiro.example.jp",
        "tanaka@zoom.example.jp",
    )
    assert Office.objects.get(pk=world.office.pk).calendar_version == version + 1
    [entry] = audited("staff.changed", changed)
    assert entry.details["role"] == {"from": "coordinator", "to": "counselor"}


def test_a_manager_cannot_demote_themselves(world):
    make_staff(world.office, "manager", "yamamoto")  # another manager: not the last one
    form = {"display_name": "", "role": "counselor", "email": "ito@kushiro.example.jp"}

    page = signed_in_client(world.manager).post(
        f"/staff/team/{world.manager.pk}/", form, headers=EN
    )

    assert page.status_code == 200
    assert page.context["form"].errors == {"role": ["You cannot change your own role."]}
    assert Staff.objects.get(pk=world.manager.pk).role == "manager"


def superuser(world) -> Staff:
    """The registry administrator: the only one who changes managers' accounts."""
    admin = make_staff(world.office, "manager", "admin")
    admin.user.is_superuser = True
    admin.user.save(update_fields=["is_superuser"])
    return admin


def test_the_last_active_manager_cannot_be_demoted(world):
    other = make_staff(world.office, "manager", "yamamoto")
    admin = superuser(world)
    services.staff_deactivate(staff=world.manager, reason="転勤", actor=admin)
    admin.user.is_active = False  # the administrator's own account is not the office's
    admin.user.save(update_fields=["is_active"])
    with pytest.raises(BookingError) as refused:
        services.staff_update(staff=other, changes={"role": "coordinator"}, actor=other)

    assert refused.value.code == "forbidden"  # oneself, first
    # The administrator, on a page opened before both left: the last manager stays.
    with pytest.raises(BookingError) as last:
        services.staff_update(staff=other, changes={"role": "coordinator"}, actor=admin)
    assert last.value.code == "invalid_transition"
    assert Staff.objects.get(pk=other.pk).role == "manager"


def test_another_offices_staff_member_is_not_found(world):
    client = signed_in_client(world.manager)
    target = world.other_counselor.pk

    assert client.get(f"/staff/team/{target}/").status_code == 404
    edit = client.post(f"/staff/team/{target}/", {"role": "manager", "email": "x@example.jp"})
    actions = [
        client.post(f"/staff/team/{target}/{action}/", {"reason": "x"}).status_code
        for action in ("deactivate", "reactivate", "reset-two-factor", "resend-link")
    ]

    assert edit.status_code == 404
    assert actions == [404, 404, 404, 404]
    other = Staff.objects.select_related("user").get(pk=target)
    assert (other.role, other.user.is_active) == ("counselor", True)
    with pytest.raises(BookingError) as refused:
        services.staff_deactivate(staff=other, reason="x", actor=world.manager)
    assert refused.value.code == "not_found"


# Deactivating, reactivating, resetting the second factor -----------------------------------


def test_deactivation_signs_out_everywhere_and_stops_api_tokens(world):
    token = make_token(world.counselor)
    their_browser = signed_in_client(world.counselor)
    assert their_browser.get("/staff/day/").status_code == 200
    api = {"Authorization": f"Bearer {token}"}
    assert Client().get("/api/v1/seekers", headers=api).status_code == 200

    response = signed_in_client(world.manager).post(
        f"/staff/team/{world.counselor.pk}/deactivate/", {"reason": "退職"}
    )

    assert response.status_code == 302
    world.counselor.user.refresh_from_db()
    assert world.counselor.user.is_active is False
    assert their_browser.get("/staff/day/").status_code == 302
    assert Client().get("/api/v1/seekers", headers=api).status_code == 401
    assert ApiToken.objects.filter(user=world.counselor.user, revoked_at__isnull=True).count() == 0
    [entry] = audited("staff.deactivated", world.counselor)
    assert entry.details == {"reason": "退職", "api_tokens_revoked": 1}


def test_deactivation_needs_a_reason(world):
    client = signed_in_client(world.manager)

    response = client.post(
        f"/staff/team/{world.counselor.pk}/deactivate/", {"reason": " "}, headers=EN
    )

    assert response.status_code == 302
    world.counselor.user.refresh_from_db()
    assert world.counselor.user.is_active is True
    assert [str(m) for m in response.wsgi_request._messages] == ["Give a reason."]


def test_a_manager_cannot_deactivate_themselves(world):
    with pytest.raises(BookingError) as refused:
        services.staff_deactivate(staff=world.manager, reason="x", actor=world.manager)

    assert refused.value.code == "forbidden"
    world.manager.user.refresh_from_db()
    assert world.manager.user.is_active is True


def test_the_last_active_manager_cannot_be_deactivated(world):
    other = make_staff(world.office, "manager", "yamamoto")
    admin = superuser(world)
    services.staff_deactivate(staff=other, reason="転勤", actor=admin)
    admin.user.is_active = False  # the administrator's own account is not the office's
    admin.user.save(update_fields=["is_active"])

    with pytest.raises(BookingError) as refused:
        services.staff_deactivate(staff=world.manager, reason="転勤", actor=admin)

    assert refused.value.code == "invalid_transition"
    world.manager.user.refresh_from_db()
    assert world.manager.user.is_active is True


def test_reactivated_staff_sign_in_again_but_old_tokens_stay_revoked(world):
    token = make_token(world.counselor)
    services.staff_deactivate(staff=world.counselor, reason="休職", actor=world.manager)

    response = signed_in_client(world.manager).post(
        f"/staff/team/{world.counselor.pk}/reactivate/", {"reason": "復職"}
    )

    assert response.status_code == 302
    world.counselor.user.refresh_from_db()
    assert world.counselor.user.is_active is True
    assert signed_in_client(world.counselor).get("/staff/day/").status_code == 200
    api = {"Authorization": f"Bearer {token}"}
    assert Client().get("/api/v1/seekers", headers=api).status_code == 401
    assert len(audited("staff.reactivated", world.counselor)) == 1


def test_two_factor_reset_removes_devices_and_signs_out(world):
    their_browser = signed_in_client(world.counselor)
    StaticDevice.objects.create(user=world.counselor.user, name="recovery codes", confirmed=True)
    generation = SignInGeneration.current(world.counselor.user.pk)

    response = signed_in_client(world.manager).post(
        f"/staff/team/{world.counselor.pk}/reset-two-factor/", {"reason": "機種変更"}
    )

    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=world.counselor.user).count() == 0
    assert StaticDevice.objects.filter(user=world.counselor.user).count() == 0
    assert SignInGeneration.current(world.counselor.user.pk) == generation + 1
    assert their_browser.get("/staff/day/").status_code == 302
    [entry] = audited("staff.two_factor_reset", world.counselor)
    assert entry.details == {"reason": "機種変更", "authenticators_removed": 1}
    assert entry.actor == world.manager.user


def test_a_new_link_can_be_mailed(world, django_capture_on_commit_callbacks):
    services.staff_update(
        staff=world.counselor, changes={"email": "sato@kushiro.example.jp"}, actor=world.manager
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in_client(world.manager).post(
            f"/staff/team/{world.counselor.pk}/resend-link/"
        )

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["sato@kushiro.example.jp"]]
    assert len(audited("staff.invited", world.counselor)) == 1


def test_someone_without_an_email_can_still_be_edited(world):
    form = {"display_name": "佐藤 一郎", "role": "counselor", "email": "", "zoom_user": ""}

    response = signed_in_client(world.manager).post(f"/staff/team/{world.counselor.pk}/", form)

    assert response.status_code == 302
    assert Staff.objects.get(pk=world.counselor.pk).display_name == "佐藤 一郎"


def test_after_a_two_factor_reset_the_next_sign_in_enrols_again(world):
    sign_in(Client(), world.counselor)  # enrolled, with a confirmed authenticator
    services.staff_two_factor_reset(staff=world.counselor, reason="紛失", actor=world.manager)

    step = Client().post(reverse("accounts:login"), {"username": "sato", "password": PASSWORD})

    assert step.status_code == 302
    assert step["Location"].startswith(reverse("accounts:setup"))


def test_the_list_shows_the_last_sign_in(world):
    sign_in(Client(), world.counselor)

    page = signed_in_client(world.manager).get("/staff/team/")

    sato = next(m for m in page.context["page"].object_list if m.pk == world.counselor.pk)
    assert sato.user.last_login == timezone.now()
    assert "2026-12-01 10:00" in page.content.decode()


def test_deactivating_a_counselor_warns_of_their_bookings(world):
    make_consultation(world.seeker, local(2026, 12, 2, 10, 0), actor=world.coordinator)

    response = signed_in_client(world.manager).post(
        f"/staff/team/{world.counselor.pk}/deactivate/", {"reason": "退職"}, follow=True, headers=EN
    )

    assert [str(m) for m in response.context["messages"]] == [
        "Deactivated: they are signed out everywhere.",
        "1 consultation is booked with them: move or cancel it.",
    ]


# Managers' accounts are the registry administrator's (R20: two managers approve) ----------


@pytest.mark.parametrize(
    ("action", "call"),
    [
        (
            "email",
            lambda b, a: services.staff_update(staff=b, changes={"email": "a@x.jp"}, actor=a),
        ),
        (
            "demote",
            lambda b, a: services.staff_update(staff=b, changes={"role": "counselor"}, actor=a),
        ),
        ("resend", lambda b, a: services.staff_invite_resend(staff=b, actor=a)),
        ("reset", lambda b, a: services.staff_two_factor_reset(staff=b, reason="x", actor=a)),
        ("deactivate", lambda b, a: services.staff_deactivate(staff=b, reason="x", actor=a)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_manager_cannot_take_over_another_managers_account(world, action, call):
    other = make_staff(world.office, "manager", "yamamoto", email="yamamoto@kushiro.example.jp")
    devices = TOTPDevice.objects.filter(user=other.user).count()

    with pytest.raises(BookingError) as refused:
        call(other, world.manager)

    assert refused.value.code == "forbidden"
    other = Staff.objects.select_related("user").get(pk=other.pk)
    assert (other.role, other.user.email, other.user.is_active) == (
        "manager",
        "yamamoto@kushiro.example.jp",
        True,
    )
    assert TOTPDevice.objects.filter(user=other.user).count() == devices
    assert mail.outbox == []
    assert (
        AuditEntry.objects.filter(object_id=str(other.pk)).exclude(action="staff.created").count()
        == 0
    )


def test_a_manager_cannot_make_a_manager(world):
    with pytest.raises(BookingError) as invited:
        services.staff_invite(
            office=world.office,
            username="mine",
            role="manager",
            email="mine@example.jp",
            actor=world.manager,
        )
    with pytest.raises(BookingError) as promoted:
        services.staff_update(
            staff=world.counselor, changes={"role": "manager"}, actor=world.manager
        )

    assert (invited.value.code, promoted.value.code) == ("forbidden", "forbidden")
    assert not Staff.objects.filter(user__username="mine").exists()
    assert Staff.objects.get(pk=world.counselor.pk).role == "counselor"


def test_the_registry_administrator_can_change_a_managers_account(
    world, django_capture_on_commit_callbacks
):
    other = make_staff(world.office, "manager", "yamamoto", email="yamamoto@kushiro.example.jp")
    admin = superuser(world)

    with django_capture_on_commit_callbacks(execute=True):
        services.staff_update(
            staff=other, changes={"email": "yamamoto2@kushiro.example.jp"}, actor=admin
        )
        made = services.staff_invite(
            office=world.office, username="kato", role="manager", email="k@x.jp", actor=admin
        )

    assert Staff.objects.get(pk=other.pk).user.email == "yamamoto2@kushiro.example.jp"
    assert made.role == "manager"


def test_the_manager_role_is_not_offered_and_another_managers_page_says_why(world):
    other = make_staff(world.office, "manager", "yamamoto", email="yamamoto@kushiro.example.jp")
    client = signed_in_client(world.manager)

    add = client.get("/staff/team/new/", headers=EN)
    theirs = client.get(f"/staff/team/{other.pk}/", headers=EN)
    counselor = client.get(f"/staff/team/{world.counselor.pk}/", headers=EN)

    assert [v for v, _label in add.context["form"].fields["role"].choices] == [
        "counselor",
        "coordinator",
        "auditor",
    ]
    assert [v for v, _label in counselor.context["form"].fields["role"].choices] == [
        "counselor",
        "coordinator",
        "auditor",
    ]
    assert "Only the registry administrator makes managers" in add.content.decode()
    html = theirs.content.decode()
    assert "Only the registry administrator can change its role or e-mail" in html
    assert theirs.context["form"].fields["email"].disabled is True
    assert theirs.context["form"].fields["role"].disabled is True
    for action in ("deactivate", "reset-two-factor", "resend-link"):
        assert f"/staff/team/{other.pk}/{action}/" not in html
    assert f"/staff/team/{world.counselor.pk}/deactivate/" in counselor.content.decode()


def test_posting_another_managers_email_changes_only_the_display_name(world):
    other = make_staff(world.office, "manager", "yamamoto", email="yamamoto@kushiro.example.jp")
    form = {"display_name": "山本", "role": "counselor", "email": "a@x.jp", "zoom_user": ""}

    response = signed_in_client(world.manager).post(f"/staff/team/{other.pk}/", form)
    refused = signed_in_client(world.manager).post(
        f"/staff/team/{other.pk}/resend-link/", {"reason": "x"}
    )

    assert (response.status_code, refused.status_code) == (302, 403)
    other = Staff.objects.select_related("user").get(pk=other.pk)
    assert (other.display_name, other.role, other.user.email) == (
        "山本",
        "manager",
        "yamamoto@kushiro.example.jp",
    )
    assert mail.outbox == []


def test_an_email_change_is_mailed_to_the_old_address(world, django_capture_on_commit_callbacks):
    services.staff_update(
        staff=world.counselor, changes={"email": "sato@kushiro.example.jp"}, actor=world.manager
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.staff_update(
            staff=world.counselor, changes={"email": "new@other.example.jp"}, actor=world.manager
        )

    [notice] = mail.outbox
    assert notice.to == ["sato@kushiro.example.jp"]
    assert notice.subject == "Madoguchi：職員アカウントのメールアドレスが変更されました"
    assert "n***@other.example.jp" in notice.body
    assert "new@other.example.jp" not in notice.body
    [entry] = [
        e
        for e in audited("staff.changed", world.counselor)
        if "email" in e.details and e.details["email"]["to"] == "new@other.example.jp"
    ]
    assert entry.details["email"] == {
        "from": "sato@kushiro.example.jp",
        "to": "new@other.example.jp",
    }
