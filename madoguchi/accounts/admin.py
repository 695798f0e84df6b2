"""The Django admin, behind the same two-step sign-in as the staff pages."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp.admin import OTPAdminSite

from madoguchi.accounts.signin import forbidden, is_verified, redirect_to, redirect_to_sign_in


class StaffAdminSite(OTPAdminSite):
    """django-otp's admin site (only users verified by a second factor get in), with our
    sign-in pages instead of its own login form: one way in, one lock-out, one audit."""

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index", current_app=self.name)
        if not is_verified(request.user):
            return redirect_to_sign_in(request, next_url)
        if self.has_permission(request):
            return redirect_to(request, next_url)
        # Signed in, but not admin staff: a page that says so (a redirect would loop).
        return forbidden(request, _("Your account cannot use the administration pages."))
