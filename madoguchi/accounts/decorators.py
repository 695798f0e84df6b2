"""Guards for staff pages: signed in with both factors, with an active Staff profile.

@staff_required
def calendar(request: StaffRequest) -> HttpResponse:
    office = request.staff.office

@roles_required(Staff.Role.MANAGER, Staff.Role.AUDITOR)
def audit_log(request: StaffRequest) -> HttpResponse: ...
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, cast

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from madoguchi.accounts.signin import forbidden, is_verified, redirect_to_sign_in
from madoguchi.offices.models import Staff


class StaffRequest(HttpRequest):
    """The request a guarded view gets: `request.staff` is the signed-in staff member."""

    staff: Staff


class ViewDecorator(Protocol):
    def __call__[View: Callable[..., HttpResponse]](self, view: View, /) -> View: ...


def staff_required[View: Callable[..., HttpResponse]](view: View) -> View:
    """Let through only a user signed in with password *and* second factor, with an active
    Staff profile; `request.staff` is then that Staff.

    Anyone else is sent to the sign-in step they are at (the login page with `next`, or
    the code page after the password); a signed-in user without a Staff profile gets 403.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not is_verified(user):
            return redirect_to_sign_in(request)
        staff = getattr(user, "staff", None)
        if staff is None or not user.is_active:
            return forbidden(request, _("This page is for office staff only."))
        request.staff = staff  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return cast(View, guarded)


def roles_required(*roles: str) -> ViewDecorator:
    """`staff_required`, and the staff member's role must be one of `roles` (else 403)."""
    unknown = set(roles) - set(Staff.Role.values)
    if not roles or unknown:
        raise ValueError(f"roles_required needs roles from {Staff.Role.values}, not {roles!r}")
    allowed = frozenset(str(role) for role in roles)

    def decorator[View: Callable[..., HttpResponse]](view: View) -> View:
        @wraps(view)
        def checked(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.staff.role not in allowed:
                return forbidden(request, _("Your role does not give access to this page."))
            return view(request, *args, **kwargs)

        return staff_required(cast(View, checked))

    return decorator
