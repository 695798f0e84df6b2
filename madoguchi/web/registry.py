"""The seeker registry in the staff web: search, a seeker's record with their no-show
history, restriction and lifting (managers), the review queue (R14), registering and
editing seekers, and importing them from a CSV file with a preview."""

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts.decorators import REFUSALS, StaffRequest, staff_required
from madoguchi.api import permissions
from madoguchi.bookings.models import Consultation
from madoguchi.errors import BookingError
from madoguchi.offices.models import Staff
from madoguchi.records.audit import audit_record
from madoguchi.seekers import services as seeker_services
from madoguchi.seekers.models import Seeker
from madoguchi.web.forms import SeekerForm, SeekerImportForm
from madoguchi.web.staff import PAGE_SIZE


@require_GET
@staff_required(roles=permissions.CASEWORK)
def seekers(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    qs = Seeker.objects.of_office(staff.office).select_related("counselor__user")
    if staff.role == Staff.Role.COUNSELOR:
        qs = qs.caseload_of(staff)
    query = request.GET.get("q", "")
    review = request.GET.get("review") == "1"
    qs = qs.search(query)
    if review:
        qs = qs.filter(restriction=Seeker.Restriction.REVIEW)
    page = Paginator(qs.order_by("name_kana", "number"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Names and numbers on screen are personal data (R21). Never the query: it may be a name.
    audit_record(
        actor=staff,
        action="seeker.list_viewed",
        obj=staff.office,
        office=staff.office,
        details={
            "query_length": len(query),
            "page": page.number,
            "count": page.paginator.count,
            "review": review,
        },
    )
    return render(
        request,
        "web/staff/seekers.html",
        {
            "staff": staff,
            "page": page,
            "q": query,
            "review": review,
            "nav": "seekers",
            "can_register": staff.role in permissions.OFFICE_WIDE,
        },
    )


def _seeker(staff: Staff, number: str) -> Seeker:
    found = (
        Seeker.objects.select_related("counselor__user", "office")
        .filter(office=staff.office, number=number)
        .first()
    )
    if found is None:
        raise BookingError("not_found")
    permissions.check_seeker(staff, found)
    return found


@require_GET
@staff_required
def seeker(request: StaffRequest, number: str) -> HttpResponse:
    staff = request.staff
    found = _seeker(staff, number)
    seeker_services.seeker_view_record(seeker=found, actor=staff)
    history = Paginator(
        Consultation.objects.filter(seeker=found)
        .select_related("counselor__user")
        .order_by("-start", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    no_shows = Consultation.objects.filter(seeker=found, status=Consultation.Status.NO_SHOW).count()
    return render(
        request,
        "web/staff/seeker.html",
        {
            "staff": staff,
            "s": found,
            "history": history,
            "no_shows": no_shows,
            "can_restrict": staff.role == Staff.Role.MANAGER,
            "nav": "seekers",
        },
    )


@require_POST
@staff_required
def seeker_restriction(request: StaffRequest, number: str, action: str) -> HttpResponse:
    """Managers restrict (R3, R14) or lift; each with a reason, audited by the service."""
    staff = request.staff
    try:
        found = _seeker(staff, number)
        permissions.require_role(staff, permissions.MANAGERS)
        if action == "restrict":
            seeker_services.seeker_restrict(
                seeker=found, reason=request.POST.get("reason", ""), actor=staff
            )
            messages.success(
                request, _("Online consultations are now refused for this job seeker.")
            )
        elif action == "lift":
            seeker_services.seeker_lift_restriction(
                seeker=found, reason=request.POST.get("reason", ""), actor=staff
            )
            messages.success(request, _("The restriction is lifted."))
        else:
            raise BookingError("not_found")
    except BookingError as error:
        if error.code in REFUSALS:
            raise
        messages.error(request, error.detail)
    return redirect("staff:seeker", number=number)


# Registering and editing ------------------------------------------------------------------

# What a counselor may change of a seeker in their caseload; coordinators and managers
# may change every field (SeekerForm).
CONTACT_FIELDS = ("email", "phone")


def _counselor_choices(staff: Staff, keep: Staff | None = None) -> list[tuple[str, str]]:
    """The office's active counselors, and `keep` (a seeker's present counselor) even if
    they no longer are one, so that saving other fields does not unassign them."""
    counselors = Staff.objects.active().counselors().of_office(staff.office).select_related("user")
    choices = [(c.user.username, str(c)) for c in counselors.order_by("user__username")]
    if keep is not None and keep.user.username not in dict(choices):
        choices.append((keep.user.username, str(keep)))
    return choices


def _form_error(form: SeekerForm, error: BookingError) -> None:
    """A service's refusal shown next to the field it is about."""
    cause = error.__cause__
    if isinstance(cause, ValidationError) and hasattr(cause, "error_dict"):
        for name, problems in cause.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
        return
    field = "number" if error.code == "invalid_job_seeker_number" else error.field
    form.add_error(field if field in form.fields else None, error.detail)


@require_http_methods(["GET", "POST"])
@staff_required(roles=permissions.OFFICE_WIDE)
def seeker_new(request: StaffRequest) -> HttpResponse:
    """Coordinators and managers register a job seeker."""
    staff = request.staff
    form = SeekerForm(
        request.POST or None,
        counselors=_counselor_choices(staff),
        initial={"status": Seeker.Status.ACTIVE, "language": Seeker.Language.JA},
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = seeker_services.seeker_create(
                office=staff.office, actor=staff, **form.cleaned_data
            )
        except BookingError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The job seeker is registered."))
            return redirect("staff:seeker", number=created.number)
    return render(
        request,
        "web/staff/seeker_form.html",
        {"staff": staff, "form": form, "s": None, "nav": "seekers"},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def seeker_edit(request: StaffRequest, number: str) -> HttpResponse:
    """Coordinators and managers edit every field; a counselor the contact fields of a
    seeker in their caseload; auditors nothing."""
    staff = request.staff
    found = _seeker(staff, number)
    everything = staff.role in permissions.OFFICE_WIDE
    form = SeekerForm(
        request.POST or None,
        initial=SeekerForm.initial_for(found),
        counselors=_counselor_choices(staff, keep=found.counselor) if everything else [],
        fields=None if everything else CONTACT_FIELDS,
    )
    if request.method == "GET":
        seeker_services.seeker_view_record(seeker=found, actor=staff)
    elif form.is_valid():
        try:
            changed = seeker_services.seeker_update(seeker=found, actor=staff, **form.cleaned_data)
        except BookingError as error:
            _form_error(form, error)
        else:
            if changed:
                messages.success(request, _("The changes are saved."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("staff:seeker", number=found.number)
    return render(
        request,
        "web/staff/seeker_form.html",
        {"staff": staff, "form": form, "s": found, "nav": "seekers"},
    )


# Import from CSV with a preview -----------------------------------------------------------

IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 2000
# The checked file travels to the confirm step inside the page, signed (so nobody can
# change it in between) for this staff member and office, and for an hour at most.
IMPORT_MAX_AGE = 60 * 60
IMPORT_SALT = "madoguchi.web.registry.seekers-import"


def _import_sign(staff: Staff, text: str) -> str:
    return signing.dumps(
        {"office": staff.office_id, "csv": text}, salt=f"{IMPORT_SALT}:{staff.pk}", compress=True
    )


def _import_unsign(staff: Staff, token: str) -> str:
    """The CSV text signed by `_import_sign` for this staff member, or BadSignature."""
    data = signing.loads(token, salt=f"{IMPORT_SALT}:{staff.pk}", max_age=IMPORT_MAX_AGE)
    if data.get("office") != staff.office_id or not isinstance(data.get("csv"), str):
        raise signing.BadSignature("signed for another office")
    return data["csv"]


def _fits_in_a_post(payload: str) -> bool:
    """Whether the confirm form, carrying `payload`, stays under Django's body limit (a
    file that barely compresses can sign to more than it)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is None or len(payload) < limit - 4096


def _import_render(
    request: HttpRequest,
    staff: Staff,
    form: SeekerImportForm,
    preview: seeker_services.ImportPreview | None = None,
    payload: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "web/staff/seekers_import.html",
        {
            "staff": staff,
            "form": form,
            "preview": preview,
            "payload": payload,
            "actions": seeker_services.ImportAction,
            "max_rows": IMPORT_MAX_ROWS,
            "nav": "seekers",
        },
        status=status,
    )


def _import_read(form: SeekerImportForm) -> str | None:
    """The uploaded file's text, or None with the reason added to the form."""
    upload = form.cleaned_data["file"]
    if upload.size > IMPORT_MAX_BYTES:
        form.add_error("file", _("The file is larger than 2 MB; split it into smaller files."))
        return None
    try:
        return seeker_services.csv_decode(upload.read())
    except BookingError as error:
        form.add_error("file", error.detail)
        return None


@require_http_methods(["GET", "POST"])
@staff_required(roles=permissions.OFFICE_WIDE)
def seekers_import(request: StaffRequest) -> HttpResponse:
    """Coordinators and managers upload a CSV, see what each row would do (nothing is
    saved), then confirm: all rows in one transaction, refused while any row is wrong."""
    staff = request.staff
    if request.method == "POST" and "payload" in request.POST:
        return _import_confirm(request, staff)
    form = SeekerImportForm(request.POST or None, request.FILES or None)
    if request.method == "GET" or not form.is_valid():
        return _import_render(request, staff, form)
    text = _import_read(form)
    if text is None:
        return _import_render(request, staff, form)
    preview = seeker_services.seekers_import_preview(
        office=staff.office, text=text, max_rows=IMPORT_MAX_ROWS
    )
    if preview.file_errors:
        form.add_error("file", [message for _line, message in preview.file_errors])
        return _import_render(request, staff, form)
    if not preview.rows:
        form.add_error("file", _("The file has no rows to import."))
        return _import_render(request, staff, form)
    payload = "" if preview.errors else _import_sign(staff, text)
    if not _fits_in_a_post(payload):
        form.add_error("file", _("The file is larger than 2 MB; split it into smaller files."))
        return _import_render(request, staff, form)
    return _import_render(request, staff, SeekerImportForm(), preview, payload)


def _import_confirm(request: HttpRequest, staff: Staff) -> HttpResponse:
    try:
        text = _import_unsign(staff, request.POST["payload"])
    except signing.BadSignature:
        form = SeekerImportForm()
        messages.error(
            request,
            _(
                "The checked file could not be taken over safely (it was changed or is more "
                "than an hour old). Nothing was imported; upload the file again."
            ),
        )
        return _import_render(request, staff, form, status=400)
    try:
        result = seeker_services.seekers_import(
            office=staff.office, text=text, actor=staff, max_rows=IMPORT_MAX_ROWS
        )
    except BookingError as error:
        messages.error(request, error.detail)
        return redirect("staff:seekers-import")
    if result.errors:
        # The registry changed since the preview: show the rows as they stand now.
        preview = seeker_services.seekers_import_preview(
            office=staff.office, text=text, max_rows=IMPORT_MAX_ROWS
        )
        return _import_render(request, staff, SeekerImportForm(), preview, status=409)
    messages.success(
        request,
        _("Imported: %(new)s new, %(updated)s updated, %(unchanged)s unchanged.")
        % {
            "new": len(result.created),
            "updated": len(result.updated),
            "unchanged": result.unchanged,
        },
    )
    return redirect("staff:seekers")
