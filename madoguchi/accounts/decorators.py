"""Guards for staff pages: signed in with both factors, with an active Staff profile.

@staff_required
def account(request: StaffRequest) -> HttpResponse:
    office = request.staff.office

@staff_required(roles=permissions.CASEWORK)
def inbox(request: StaffRequest) -> HttpResponse: ...

@roles_required(Staff.Role.MANAGER, Staff.Role.AUDITOR)
def audit_log(request: StaffRequest) -> HttpResponse: ...

A guarded view refuses by raising: a `BookingError` with code `forbidden` or `not_found`,
raised anywhere in the view (a `permissions.check_*`, a service), becomes the refused page
(403 or 404). A view that handles other codes itself re-raises these (`REFUSALS`).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, cast, overload

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from madoguchi.accounts.signin import forbidden, is_verified, redirect_to_sign_in
from madoguchi.api import permissions
from madoguchi.errors import BookingError
from madoguchi.offices.models import Staff

# The codes a guarded view answers with the refused page rather than with its own handling.
REFUSALS = frozenset({"forbidden", "not_found"})


class StaffRequest(HttpRequest):
    """The request a guarded view gets: `request.staff` is the signed-in staff member."""

    staff: Staff


class ViewDecorator(Protocol):
    def __call__[View: Callable[..., HttpResponse]](self, view: View, /) -> View: ...


def refused(request: HttpRequest, error: BookingError) -> HttpResponse:
    """The staff pages' refusal: 404 for `not_found` (another office's object looks absent),
    else 403, saying why."""
    status = 404 if error.code == "not_found" else 403
    return render(request, "web/staff/refused.html", {"error": error}, status=status)


@overload
def staff_required[View: Callable[..., HttpResponse]](view: View, /) -> View: ...
@overload
def staff_required(*, roles: frozenset[str] | None = None) -> ViewDecorator: ...
def staff_required(view: Any = None, /, *, roles: frozenset[str] | None = None) -> Any:
    """Let through only a user signed in with password *and* second factor, with an active
    Staff profile; `request.staff` is then that Staff. With `roles`, the staff member's
    role must also be one of them (`permissions.require_role`, else the refused page).

    Anyone else is sent to the sign-in step they are at (the login page with `next`, or
    the code page after the password); a signed-in user without a Staff profile gets 403.
    A refusal raised by the view becomes the refused page (see the module docstring).
    """
    if roles is not None and (not roles or set(roles) - set(Staff.Role.values)):
        raise ValueError(f"staff_required needs roles from {Staff.Role.values}, not {roles!r}")
    if view is None:
        return _guard(roles)
    return _guard(roles)(view)


def _guard(roles: frozenset[str] | None) -> ViewDecorator:
    def decorator[View: Callable[..., HttpResponse]](view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not is_verified(user):
                return redirect_to_sign_in(request)
            staff = getattr(user, "staff", None)
            if staff is None or not user.is_active:
                return forbidden(request, _("This page is for office staff only."))
            staff_request = cast(StaffRequest, request)
            staff_request.staff = staff
            try:
                if roles is not None:
                    permissions.require_role(staff, roles)
                return view(staff_request, *args, **kwargs)
            except BookingError as error:
                if error.code not in REFUSALS:
                    raise
                return refused(request, error)

        return cast(View, guarded)

    return decorator


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
