from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "madoguchi.accounts"
    verbose_name = _("Sign-in")

    def ready(self) -> None:
        from django.contrib import admin

        from madoguchi.accounts.admin import StaffAdminSite

        # The admin site was made by django.contrib.admin; from now on it asks for the
        # second factor too and signs people in through our pages (django-otp's own advice).
        admin.site.__class__ = StaffAdminSite
