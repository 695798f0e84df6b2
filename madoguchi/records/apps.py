from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "madoguchi.records"
    verbose_name = _("Records and audit")
