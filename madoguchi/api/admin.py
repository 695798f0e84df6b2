from django.contrib import admin

from madoguchi.api.models import ApiToken
from madoguchi.records.admin import ReadOnlyAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    fields = ["user", "created_at", "last_used_at", "revoked_at"]
