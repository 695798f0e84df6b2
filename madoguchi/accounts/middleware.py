"""Session checks on every signed-in request: signed out everywhere? idle too long?

Both work in `process_view`, after every middleware's request half has run, so the
messages framework is ready for the note that says why the person was signed out.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from madoguchi.accounts.models import SignInGeneration
from madoguchi.accounts.signin import GENERATION_KEY, LAST_ACTIVITY_KEY, redirect_to_sign_in


class _ViewMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)


class SignOutEverywhereMiddleware(_ViewMiddleware):
    """Ends a session signed in under an older SignInGeneration (signed out everywhere,
    or the password changed). A session without a number counts as generation 0."""

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not request.user.is_authenticated:
            return None
        if request.session.get(GENERATION_KEY, 0) == SignInGeneration.current(request.user.pk):
            return None
        logout(request)
        messages.info(request, _("Your session has ended. Please sign in again."))
        return redirect_to_sign_in(request)


class IdleTimeoutMiddleware(_ViewMiddleware):
    """Signs out a session with no request for more than MADOGUCHI_IDLE_MINUTES.

    The last-activity stamp is renewed at most once a STAMP_INTERVAL, so most requests do
    not write the session; the stamp is then up to STAMP_INTERVAL behind the last request,
    and the limit is widened by as much, so nobody is signed out before the full idle time.
    """

    STAMP_INTERVAL = 60  # seconds

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not request.user.is_authenticated:
            return None
        now = int(timezone.now().timestamp())
        last = request.session.get(LAST_ACTIVITY_KEY)
        minutes = settings.MADOGUCHI_IDLE_MINUTES
        if isinstance(last, int) and now - last >= minutes * 60 + self.STAMP_INTERVAL:
            logout(request)
            messages.info(
                request,
                ngettext(
                    "You were signed out after %(minutes)d minute without activity.",
                    "You were signed out after %(minutes)d minutes without activity.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            return redirect_to_sign_in(request)
        if not isinstance(last, int) or now - last >= self.STAMP_INTERVAL:
            request.session[LAST_ACTIVITY_KEY] = now
        return None
