from django.contrib import admin

from madoguchi.records.admin import ReadOnlyAdmin
from madoguchi.terms.models import Consent, TermsVersion


# Read-only: seekers consented to these exact words (R4); a new version is published
# through `terms_publish`, which numbers it and writes the audit entry.
@admin.register(TermsVersion)
class TermsVersionAdmin(ReadOnlyAdmin):
    list_display = ["title", "number", "office", "effective_from"]
    list_filter = ["office"]
    list_select_related = ["office"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["seeker", "version", "channel", "given_at"]
    list_filter = ["channel"]
    search_fields = ["seeker__number"]
    list_select_related = ["seeker", "version"]
