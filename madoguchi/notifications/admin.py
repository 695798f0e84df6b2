from django.contrib import admin

from madoguchi.notifications.models import OutboxMail
from madoguchi.records.admin import ReadOnlyAdmin
from madoguchi.records.audit import audit_record


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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A mail holds a seeker's name and meeting details: opening it is audited (R21)."""
        mail = self.get_object(request, object_id)
        if mail is not None and request.method == "GET" and self.has_view_permission(request, mail):
            audit_record(actor=request.user, action="mail.viewed", obj=mail)
        return super().change_view(request, object_id, form_url, extra_context)
