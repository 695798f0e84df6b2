from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from madoguchi.errors import BookingError
from madoguchi.records.audit import audit_record
from madoguchi.seekers.models import Seeker
from madoguchi.seekers.numbers import normalize_job_seeker_number


class SeekerForm(forms.ModelForm):
    def clean_number(self) -> str:
        try:
            return normalize_job_seeker_number(self.cleaned_data["number"])
        except BookingError as error:
            raise ValidationError(error.detail) from error


@admin.register(Seeker)
class SeekerAdmin(admin.ModelAdmin):
    form = SeekerForm
    list_display = ["number", "name", "name_kana", "office", "counselor", "status", "restriction"]
    list_filter = ["office", "status", "restriction"]
    search_fields = ["number", "name", "name_kana"]
    list_select_related = ["office", "counselor__user"]
    autocomplete_fields = ["office", "counselor"]
    # Restrictions change only through the services, which record why (R3, R14).
    readonly_fields = [
        "restriction",
        "restriction_reason",
        "restriction_since",
        "created_at",
        "updated_at",
    ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Opening a seeker's record is a view of personal data, so it is audited (R21)."""
        seeker = self.get_object(request, object_id)
        if (
            seeker is not None
            and request.method == "GET"
            and self.has_view_or_change_permission(request, seeker)
        ):
            audit_record(actor=request.user, action="seeker.viewed", obj=seeker)
        return super().change_view(request, object_id, form_url, extra_context)
