from django.contrib import admin

from madoguchi.records.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records nobody may add, change or delete by hand: look only."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "office", "ip"]
    list_filter = ["office", "object_type"]
    search_fields = ["action", "actor_label", "object_id"]
    date_hierarchy = "at"
    list_select_related = ["office"]
