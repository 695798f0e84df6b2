from django.contrib import admin

from madoguchi.meetings.models import MeetingEvent
from madoguchi.records.admin import ReadOnlyAdmin


@admin.register(MeetingEvent)
class MeetingEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "event", "meeting_id", "is_host", "consultation", "received_at"]
    list_filter = ["event", "is_host"]
    date_hierarchy = "at"
    search_fields = ["meeting_id"]
