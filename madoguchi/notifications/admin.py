from django.contrib import admin

from madoguchi.notifications.models import OutboxMail
from madoguchi.records.admin import ReadOnlyAdmin


@admin.register(OutboxMail)
class OutboxMailAdmin(ReadOnlyAdmin):
    """Every mail the system sent or will send; in embedded mode the place to read them."""

    list_display = ["created_at", "kind", "language", "status", "attempts", "sent_at", "office"]
    list_filter = ["status", "kind", "office"]
    date_hierarchy = "created_at"
    list_select_related = ["office"]
    fields = [
        "kind",
        "language",
        "to",
        "subject",
        "text",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "message_id",
    ]
