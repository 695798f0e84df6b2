"""Reads of offices and their staff."""

from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.offices.models import Office, Staff, StaffQuerySet


def team_list(*, office: Office) -> StaffQuerySet:
    """The office's staff, active first, each with `two_factor` (a confirmed
    authenticator): one query for a page, however many people."""
    enrolled = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
    return (
        Staff.objects.of_office(office)
        .select_related("user")
        .annotate(two_factor=Exists(enrolled))
        .order_by("-user__is_active", "user__username")
    )


def team_member(*, office: Office, staff_id: int) -> Staff | None:
    """One staff member of `office` (another office's answers None, never their data)."""
    return team_list(office=office).filter(pk=staff_id).first()
