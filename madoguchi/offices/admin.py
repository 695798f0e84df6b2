from django.contrib import admin

from madoguchi.offices.models import Closure, Office, Staff


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "phone"]
    search_fields = ["code", "name", "name_en"]
    readonly_fields = ["created_at"]
    inlines = [ClosureInline]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "office", "role"]
    list_filter = ["office", "role"]
    search_fields = ["user__username", "display_name"]
    list_select_related = ["user", "office"]
    raw_id_fields = ["user"]
