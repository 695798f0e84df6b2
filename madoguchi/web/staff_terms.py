"""Terms versions in the staff web (R4, R5): managers draft, preview and publish a new
version, and withdraw one that has not taken effect; auditors read. Only the staff
member's own office; published text is never edited."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts.decorators import StaffRequest, roles_required
from madoguchi.errors import BookingError
from madoguchi.offices.models import Staff
from madoguchi.terms.diff import terms_diff
from madoguchi.terms.models import TermsVersion
from madoguchi.terms.selectors import terms_office_version
from madoguchi.terms.services import terms_publish, terms_withdraw
from madoguchi.web.staff import PAGE_SIZE

READERS = (Staff.Role.MANAGER, Staff.Role.AUDITOR)


class TermsDraftForm(forms.Form):
    """A new version as the manager writes it. When it takes effect: a future date-time, or
    now, which must be confirmed (seekers' next requests then count as consent to it)."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    body_ja = forms.CharField(label=gettext_lazy("Text (Japanese)"), widget=forms.Textarea)
    body_en = forms.CharField(label=gettext_lazy("Text (English)"), widget=forms.Textarea)
    changes_ja = forms.CharField(
        label=gettext_lazy("What changed (Japanese)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown to job seekers with the new version."),
    )
    changes_en = forms.CharField(
        label=gettext_lazy("What changed (English)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown to job seekers with the new version."),
    )
    effective_from = forms.DateTimeField(
        label=gettext_lazy("Takes effect on"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}),
        help_text=gettext_lazy("Office-local date and time, in the future."),
    )
    effective_now = forms.BooleanField(
        label=gettext_lazy(
            "Instead, put it in force now: I confirm that job seekers' next requests count as "
            "consent to it."
        ),
        required=False,
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("effective_now"):
            data["effective_from"] = None
        elif not data.get("effective_from"):
            self.add_error(
                "effective_from",
                _("Give the date and time it takes effect, or confirm that it takes effect now."),
            )
        elif data["effective_from"] <= timezone.now():
            self.add_error(
                "effective_from",
                _("Choose a time in the future, or confirm that it takes effect now."),
            )
        return data


def _state(version: TermsVersion, in_force: TermsVersion | None, now: dt.datetime) -> str:
    if version.withdrawn_at is not None:
        return "withdrawn"
    if version.effective_from > now:
        return "upcoming"
    return "current" if version == in_force else "past"


@require_GET
@roles_required(*READERS)
def terms_list(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    now = timezone.now()
    versions = (
        TermsVersion.objects.filter(office=staff.office)
        .select_related("created_by__user")
        .order_by("-number")
    )
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    in_force = TermsVersion.objects.in_force_at(staff.office, now)
    language = translation.get_language() or "ja"
    rows = [
        {"version": v, "state": _state(v, in_force, now), "changes": v.changes(language)}
        for v in page.object_list
    ]
    return render(
        request,
        "web/staff/terms.html",
        {"staff": staff, "page": page, "rows": rows, "nav": "terms"},
    )


def _draft_start(staff: Staff) -> dict:
    """The new version starts from the latest published one (the one it will follow)."""
    latest = TermsVersion.objects.published().filter(office=staff.office).order_by("-number")
    base = latest.first()
    if base is None:
        return {}
    return {"title": base.title, "body_ja": base.body_ja, "body_en": base.body_en}


@require_http_methods(["GET", "POST"])
@roles_required(Staff.Role.MANAGER)
def terms_new(request: StaffRequest) -> HttpResponse:
    """GET: the draft; POST "preview": the diff against the latest version; POST "publish"."""
    staff = request.staff
    with timezone.override(staff.office.tz):
        form = TermsDraftForm(request.POST or None, initial=_draft_start(staff))
        preview = None
        if request.method == "POST" and form.is_valid():
            if request.POST.get("action") == "publish":
                version = _publish(staff, form)
                if version is not None:
                    messages.success(
                        request, _("Version %(n)s is published.") % {"n": version.number}
                    )
                    return redirect("staff:terms-detail", number=version.number)
            else:
                preview = _preview(staff, form.cleaned_data)
        return render(
            request,
            "web/staff/terms_new.html",
            {"staff": staff, "form": form, "preview": preview, "nav": "terms"},
        )


def _publish(staff: Staff, form: TermsDraftForm) -> TermsVersion | None:
    """The published version, or None with the refusal added to the form."""
    try:
        return terms_publish(office=staff.office, actor=staff, **_publish_args(form.cleaned_data))
    except BookingError as error:
        form.add_error(error.field if error.field in form.fields else None, error.detail)
        return None


def _publish_args(cleaned: dict) -> dict:
    keys = ("title", "body_ja", "body_en", "changes_ja", "changes_en", "effective_from")
    return {key: cleaned[key] for key in keys}


def _preview(staff: Staff, data: dict) -> dict:
    base = TermsVersion.objects.published().filter(office=staff.office).order_by("-number").first()
    return {
        "base": base,
        "effective_from": data["effective_from"],
        "diff_ja": terms_diff(base.body_ja if base else "", data["body_ja"]),
        "diff_en": terms_diff(base.body_en if base else "", data["body_en"]),
        "changes_ja": data["changes_ja"],
        "changes_en": data["changes_en"],
    }


@require_GET
@roles_required(*READERS)
def terms_detail(request: StaffRequest, number: int) -> HttpResponse:
    staff = request.staff
    try:
        version, previous = terms_office_version(office=staff.office, number=number)
    except TermsVersion.DoesNotExist:
        raise BookingError("not_found") from None
    now = timezone.now()
    in_force = TermsVersion.objects.in_force_at(staff.office, now)
    context = {
        "staff": staff,
        "version": version,
        "previous": previous,
        "state": _state(version, in_force, now),
        "diff_ja": terms_diff(previous.body_ja, version.body_ja) if previous else [],
        "diff_en": terms_diff(previous.body_en, version.body_en) if previous else [],
        "may_withdraw": staff.role == Staff.Role.MANAGER and version.is_upcoming(now),
        "nav": "terms",
    }
    return render(request, "web/staff/terms_detail.html", context)


@require_POST
@roles_required(Staff.Role.MANAGER)
def terms_withdraw_view(request: StaffRequest, number: int) -> HttpResponse:
    staff = request.staff
    version = TermsVersion.objects.filter(office=staff.office, number=number).first()
    if version is None:
        raise BookingError("not_found")
    try:
        terms_withdraw(version=version, actor=staff)
    except BookingError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Version %(n)s is withdrawn.") % {"n": number})
    return redirect("staff:terms-detail", number=number)
