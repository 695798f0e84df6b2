"""The staff web: the request inbox, the consultation page and the day calendar.

Each view parses its input, checks the role (`madoguchi.api.permissions`, the same rules
as the API), calls one service and renders. A rule that says no comes back as the
service's own message on the page; nothing is lost from the form.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts.decorators import REFUSALS, StaffRequest, refused, staff_required
from madoguchi.api import permissions
from madoguchi.bookings import selectors as booking_selectors
from madoguchi.bookings import services as booking_services
from madoguchi.bookings.models import BlockedTime, Channel, Consultation, Occupancy, Request
from madoguchi.errors import BookingError
from madoguchi.meetings import services as meeting_services
from madoguchi.offices import calendar
from madoguchi.offices.models import Staff
from madoguchi.records.audit import audit_record
from madoguchi.seekers.models import Seeker
from madoguchi.seekers.numbers import normalize_job_seeker_number
from madoguchi.web.forms import BlockForm, IntakeForm

PAGE_SIZE = 20


@require_GET
@staff_required
def home(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    if staff.role == Staff.Role.AUDITOR:
        return redirect("accounts:account")
    if staff.role == Staff.Role.COUNSELOR:
        return redirect("staff:day")
    return redirect("staff:inbox")


# The request inbox -------------------------------------------------------------------


@require_GET
@staff_required(roles=permissions.CASEWORK)
def inbox(request: StaffRequest) -> HttpResponse:
    """Requests waiting to be scheduled, each preference marked free or taken for the
    seeker's own counselor, so the usual case is one press."""
    staff = request.staff
    qs = booking_selectors.requests_list(office=staff.office, status=Request.Status.REQUESTED)
    if staff.role == Staff.Role.COUNSELOR:
        qs = qs.filter(seeker__counselor=staff)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    taken = _taken_cells(rows)
    now = timezone.now()
    items = []
    for row in rows:
        counselor = row.seeker.counselor
        choices = []
        for start, minutes in row.preferred_starts():
            end = start + dt.timedelta(minutes=minutes)
            cells = calendar.grid_cells(start, end)
            free = counselor is not None and not any(
                (counselor.pk, cell) in taken or (row.seeker_id, cell) in taken for cell in cells
            )
            choices.append(
                {
                    "start": start.astimezone(staff.office.tz),
                    "end": end.astimezone(staff.office.tz),
                    "minutes": minutes,
                    "free": free,
                    "short_notice": start.astimezone(staff.office.tz).date()
                    <= now.astimezone(staff.office.tz).date(),
                }
            )
        items.append({"request": row, "counselor": counselor, "choices": choices})
    # Not paginated: bounded by nature, one office's active counselors (the choice list).
    counselors = Staff.objects.filter(
        office=staff.office, role=Staff.Role.COUNSELOR, user__is_active=True
    ).select_related("user")
    return render(
        request,
        "web/staff/inbox.html",
        {"page": page, "items": items, "counselors": counselors, "staff": staff},
    )


def _taken_cells(rows: list[Request]) -> set[tuple[int, dt.datetime]]:
    """(counselor id or seeker id, cell) pairs already claimed around these requests'
    preferences: one query for the whole page."""
    starts = [start for row in rows for start, _minutes in row.preferred_starts()]
    if not starts:
        return set()
    low, high = min(starts), max(starts) + dt.timedelta(hours=2)
    counselor_ids = {row.seeker.counselor_id for row in rows if row.seeker.counselor_id}
    seeker_ids = {row.seeker_id for row in rows}
    claims = Occupancy.objects.filter(cell__gte=low, cell__lt=high).values_list(
        "counselor_id", "seeker_id", "cell"
    )
    taken: set[tuple[int, dt.datetime]] = set()
    for counselor_id, seeker_id, cell in claims:
        if counselor_id in counselor_ids:
            taken.add((counselor_id, cell))
        if seeker_id in seeker_ids:
            taken.add((seeker_id, cell))
    return taken


def _parse_start(value: str, staff: Staff) -> dt.datetime:
    try:
        start = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise BookingError("invalid_input", _("Give a date and time."), field="start") from error
    if start.tzinfo is None:
        start = start.replace(tzinfo=staff.office.tz)
    return start


def _int(value: str | None, field: str) -> int:
    try:
        return int(value or "")
    except ValueError as error:
        raise BookingError("invalid_input", _("Give a number."), field=field) from error


@require_POST
@staff_required
def request_schedule(request: StaffRequest, request_id: int) -> HttpResponse:
    staff = request.staff
    counselor = request.POST.get("counselor") or None
    try:
        if staff.role == Staff.Role.COUNSELOR and counselor not in (None, staff.username):
            raise BookingError("forbidden", _("Counselors book consultations for themselves."))
        consultation = booking_services.consultation_schedule(
            request_id=request_id,
            start=_parse_start(request.POST.get("start", ""), staff),
            duration_minutes=_int(request.POST.get("minutes"), "minutes"),
            counselor=counselor,
            override_reason=request.POST.get("override_reason", ""),
            actor=staff,
            authorize=lambda found: permissions.check_request(staff, found),
        )
    except BookingError as error:
        if error.code in REFUSALS:
            raise
        messages.error(request, error.detail)
        return redirect(_back(request, reverse("staff:inbox")))
    messages.success(
        request,
        _("Scheduled: %(when)s with %(counselor)s.")
        % {
            "when": consultation.start.astimezone(staff.office.tz).strftime("%Y-%m-%d %H:%M"),
            "counselor": consultation.counselor,
        },
    )
    return redirect("staff:consultation", consultation_id=consultation.pk)


@require_POST
@staff_required
def request_decline(request: StaffRequest, request_id: int) -> HttpResponse:
    staff = request.staff
    try:
        found = Request.objects.select_related("seeker").filter(pk=request_id).first()
        if found is None:
            raise BookingError("not_found")
        permissions.check_request(staff, found, permissions.OFFICE_WIDE)
        booking_services.request_decline(
            request_id=request_id, reason=request.POST.get("reason", ""), actor=staff
        )
    except BookingError as error:
        if error.code in REFUSALS:
            raise
        messages.error(request, error.detail)
        return redirect(_back(request, reverse("staff:inbox")))
    messages.success(request, _("The request was declined; the job seeker is told why."))
    return redirect("staff:inbox")


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/staff/") else default


# The consultation page ---------------------------------------------------------------


def _consultation(staff: Staff, consultation_id: int) -> Consultation:
    found = (
        Consultation.objects.select_related(
            "office", "seeker__counselor__user", "counselor__user", "request"
        )
        .filter(pk=consultation_id)
        .first()
    )
    if found is None:
        raise BookingError("not_found")
    permissions.check_consultation(staff, found)
    return found


@require_GET
@staff_required
def consultation(request: StaffRequest, consultation_id: int) -> HttpResponse:
    staff = request.staff
    found = _consultation(staff, consultation_id)
    notes = _may_read_notes(staff, found)
    audit_record(
        actor=staff,
        action="consultation.notes_viewed" if notes and found.notes else "consultation.viewed",
        obj=found,
    )
    tz = found.office.tz
    grace = dt.timedelta(minutes=found.office.no_show_grace_minutes)
    return render(
        request,
        "web/staff/consultation.html",
        {
            "c": found,
            "staff": staff,
            "start": found.start.astimezone(tz),
            "end": found.end.astimezone(tz),
            "no_show_at": (found.start + grace).astimezone(tz),
            "declarations": _declarations(found.request),
            "channels": Channel.choices,
            "stop_reasons": Consultation.StopReason.choices,
            "is_host": found.counselor_id == staff.pk,
            "can_restrict": staff.role == Staff.Role.MANAGER,
            "may_read_notes": notes,
            "took_place": found.status
            in (
                Consultation.Status.IN_PROGRESS,
                Consultation.Status.COMPLETED,
                Consultation.Status.STOPPED,
            ),
        },
    )


def _declarations(request: Request | None) -> list[tuple[str, bool]]:
    from madoguchi.bookings.models import DECLARATION_LABELS

    if request is None:
        return []
    return [
        (str(label), request.declarations.get(key) is True)
        for key, label in DECLARATION_LABELS.items()
    ]


Action = Callable[..., Any]


def _act(
    request: StaffRequest, consultation_id: int, service: Action, done: str, **kw
) -> HttpResponse:
    staff = request.staff
    try:
        _consultation(staff, consultation_id)
        service(consultation_id=consultation_id, actor=staff, **kw)
    except BookingError as error:
        if error.code in REFUSALS:
            raise
        messages.error(request, error.detail)
    else:
        messages.success(request, done)
    return redirect("staff:consultation", consultation_id=consultation_id)


@require_POST
@staff_required
def consultation_action(request: StaffRequest, consultation_id: int, action: str) -> HttpResponse:
    """start, complete, contact, no-show, cancel or stop: one service each."""
    post = request.POST
    if action == "start":
        return _act(request, consultation_id, booking_services.consultation_start, _("Started."))
    if action == "complete":
        return _act(
            request, consultation_id, booking_services.consultation_complete, _("Completed.")
        )
    if action == "contact":
        return _act(
            request,
            consultation_id,
            booking_services.consultation_record_contact,
            _("Contact recorded: this consultation will not become a no-show."),
        )
    if action == "no-show":
        return _act(
            request,
            consultation_id,
            booking_services.consultation_mark_no_show,
            _("Recorded as a no-show."),
        )
    if action == "cancel":
        return _act(
            request,
            consultation_id,
            booking_services.consultation_cancel,
            _("Cancelled; the meeting goes and the job seeker is told."),
            channel=post.get("channel", ""),
            reason=post.get("reason", ""),
        )
    if action == "stop":
        staff = request.staff
        restrict = post.get("restrict") == "1" and staff.role == Staff.Role.MANAGER
        return _act(
            request,
            consultation_id,
            booking_services.consultation_stop,
            _("Stopped."),
            reason_code=post.get("reason_code", ""),
            note=post.get("note", ""),
            restrict_seeker=restrict,
        )
    raise BookingError("not_found")


@require_POST
@staff_required
def consultation_start_meeting(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """The host's start link, fetched fresh and followed at once (never shown on a page)."""
    staff = request.staff
    try:
        found = _consultation(staff, consultation_id)
        url = meeting_services.meeting_start_url(consultation=found, actor=staff)
    except BookingError as error:
        if error.code in REFUSALS:
            raise
        messages.error(request, error.detail)
        return redirect("staff:consultation", consultation_id=consultation_id)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    return response


# The day calendar ----------------------------------------------------------------------


def _date_param(request: HttpRequest, tz: dt.tzinfo) -> dt.date:
    """`?date=YYYY-MM-DD`, else today in the office's time zone."""
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.now().astimezone(tz).date()


def _counselors(office: Any, username: str = "") -> list[Staff]:
    # The calendars are not paginated: bounded by nature, one office's active counselors
    # over one day or one week (a column or row each), in a fixed number of queries.
    counselors = Staff.objects.filter(
        office=office, role=Staff.Role.COUNSELOR, user__is_active=True
    ).select_related("user")
    if username:
        counselors = counselors.filter(user__username=username)
    return list(counselors.order_by("user__username"))


def _may_see(staff: Staff, consultation: Consultation) -> bool:
    """Counselors see their own consultations (theirs or their seekers'); the others only
    as busy. Everyone else who works cases sees them all."""
    return staff.role != Staff.Role.COUNSELOR or staff.pk in (
        consultation.counselor_id,
        consultation.seeker.counselor_id,
    )


def _calendar_entries(
    staff: Staff,
    counselors: list[Staff],
    begin: dt.datetime,
    end: dt.datetime,
    *,
    holding_only: bool,
) -> dict[int, list[dict[str, Any]]]:
    """Each counselor's consultations and blocked time between `begin` and `end`, in time
    order, in office local time: two queries whatever the period."""
    tz = staff.office.tz
    consultations = (
        Consultation.objects.of_office(staff.office)
        .between(begin, end)
        .select_related("seeker")
        .order_by("start", "id")
    )
    if holding_only:
        consultations = consultations.filter(status__in=Consultation.HOLDING_TIME)
    blocks = BlockedTime.objects.filter(
        counselor__office=staff.office, start__lt=end, end__gt=begin
    ).order_by("start")
    entries: dict[int, list[dict[str, Any]]] = {c.pk: [] for c in counselors}
    for c in consultations:
        if c.counselor_id in entries:
            entries[c.counselor_id].append(
                {
                    "kind": "consultation",
                    "start": c.start.astimezone(tz),
                    "end": c.end.astimezone(tz),
                    "c": c,
                    "visible": _may_see(staff, c),
                }
            )
    for b in blocks:
        if b.counselor_id in entries:
            entries[b.counselor_id].append(
                {
                    "kind": "blocked",
                    "start": b.start.astimezone(tz),
                    "end": b.end.astimezone(tz),
                    "b": b,
                }
            )
    for rows in entries.values():
        rows.sort(key=lambda entry: entry["start"])
    return entries


def _segments(
    entries: list[dict[str, Any]], bands: list[calendar.Band], day: dt.date, tz: dt.tzinfo
) -> list[dict[str, Any]]:
    """One day's entries laid on the office's bands (windows and the lunch break): each
    entry in the first band it overlaps, else in an "outside" segment before or after
    the hours. An entry begun on an earlier day counts from midnight."""
    midnight = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    segments: list[dict[str, Any]] = [
        {
            "kind": band.kind,
            "start": dt.datetime.combine(day, band.start, tzinfo=tz),
            "end": dt.datetime.combine(day, band.end, tzinfo=tz),
            "entries": [],
        }
        for band in bands
    ]
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    for entry in entries:
        start = max(entry["start"], midnight)
        home = next((s for s in segments if start < s["end"] and entry["end"] > s["start"]), None)
        if home is not None:
            home["entries"].append(entry)
        elif not segments or entry["end"] <= segments[0]["start"]:
            before.append(entry)
        else:
            after.append(entry)
    outside = [{"kind": "outside", "entries": found} for found in (before, after)]
    return ([outside[0]] if before else []) + segments + ([outside[1]] if after else [])


@require_GET
@staff_required(roles=permissions.CASEWORK)
def day(request: StaffRequest) -> HttpResponse:
    """One office day: every counselor's consultations and blocked time, in time order.
    Counselors see their own consultations in full and the others' only as busy."""
    staff = request.staff
    office = staff.office
    date = _date_param(request, office.tz)
    begin = dt.datetime.combine(date, dt.time.min, tzinfo=office.tz)
    counselors = _counselors(office)
    entries = _calendar_entries(
        staff, counselors, begin, begin + dt.timedelta(days=1), holding_only=False
    )
    cal = office.calendar()
    office_day = calendar.is_office_day(cal, date)
    bands = calendar.day_bands(cal.windows) if office_day else []
    columns = [
        {
            "counselor": c,
            "entries": entries[c.pk],
            "segments": _segments(entries[c.pk], bands, date, office.tz),
        }
        for c in counselors
    ]
    return render(
        request,
        "web/staff/day.html",
        {
            "staff": staff,
            "date": date,
            "previous": date - dt.timedelta(days=1),
            "next": date + dt.timedelta(days=1),
            "office_day": office_day,
            "holiday": calendar.national_holiday(date),
            "columns": columns,
            "windows": office.windows,
        },
    )


# Requests taken by phone, at the counter or in a consultation -------------------------


@require_http_methods(["GET", "POST"])
@staff_required(roles=permissions.CASEWORK)
def intake(request: StaffRequest) -> HttpResponse:
    staff = request.staff
    form = IntakeForm(request.POST or None, durations=staff.office.durations)
    if request.method == "POST" and form.is_valid():
        try:
            number = normalize_job_seeker_number(form.cleaned_data["job_seeker_number"])
            seeker = Seeker.objects.filter(office=staff.office, number=number).first()
            if seeker is not None:
                permissions.check_seeker(staff, seeker)
            created = booking_services.request_create(
                office=staff.office,
                job_seeker_number=number,
                name=form.cleaned_data["name"],
                preferences=form.preferences(),
                channel=form.cleaned_data["channel"],
                declarations=form.declarations(),
                interpreter_language=form.cleaned_data["interpreter_language"],
                assistant=form.cleaned_data["assistant"],
                actor=staff,
            )
        except BookingError as error:
            if error.code in REFUSALS:
                raise
            form.add_error(_FORM_FIELDS.get(error.field or ""), error.detail)
        else:
            messages.success(request, _("The request is in the inbox."))
            return redirect(f"{reverse('staff:inbox')}#request-{created.pk}")
    return render(request, "web/staff/intake.html", {"form": form, "staff": staff})


# The form's field for each service field that a refusal may name.
_FORM_FIELDS = {"job_seeker_number": "job_seeker_number", "name": "name"}


# Blocked time --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def blocks(request: StaffRequest) -> HttpResponse:
    """A counselor's own blocked time (training, leave): add and remove."""
    staff = request.staff
    if staff.role != Staff.Role.COUNSELOR:
        raise BookingError("forbidden", _("Counselors block their own time."))
    form = BlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tz = staff.office.tz
        try:
            booking_services.blocked_time_create(
                counselor=staff,
                start=_aware(form.cleaned_data["start"], tz),
                end=_aware(form.cleaned_data["end"], tz),
                reason=form.cleaned_data["reason"],
                actor=staff,
            )
        except BookingError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, _("The time is blocked."))
            return redirect("staff:blocks")
    upcoming = BlockedTime.objects.filter(counselor=staff, end__gt=timezone.now()).order_by(
        "start", "id"
    )
    page = Paginator(upcoming, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/staff/blocks.html",
        {"form": form, "staff": staff, "blocks": page.object_list, "page": page, "nav": "blocks"},
    )


@require_POST
@staff_required
def block_delete(request: StaffRequest, block_id: int) -> HttpResponse:
    staff = request.staff
    block = BlockedTime.objects.filter(pk=block_id, counselor=staff).first()
    if block is None:
        raise BookingError("not_found")
    booking_services.blocked_time_delete(block_id=block.pk, actor=staff)
    messages.success(request, _("The blocked time is removed."))
    return redirect("staff:blocks")


def _aware(value: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=tz)


# Notes, the next consultation, the proof ------------------------------------------------


def _may_read_notes(staff: Staff, consultation: Consultation) -> bool:
    """Notes are the counselor's (theirs or their seeker's) and managers', no one else's."""
    if staff.role == Staff.Role.MANAGER:
        return True
    return staff.role == Staff.Role.COUNSELOR and _may_see(staff, consultation)


@require_POST
@staff_required
def consultation_notes(request: StaffRequest, consultation_id: int) -> HttpResponse:
    staff = request.staff
    try:
        found = _consultation(staff, consultation_id)
        if not _may_read_notes(staff, found):
            raise BookingError("forbidden", _("Notes are for the counselor and managers."))
        booking_services.consultation_record_notes(
            consultation_id=consultation_id,
            outcome=request.POST.get("outcome", ""),
            notes=request.POST.get("notes", ""),
            actor=staff,
        )
    except BookingError as error:
        if error.code in REFUSALS:
            raise
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Notes saved."))
    return redirect("staff:consultation", consultation_id=consultation_id)


@require_POST
@staff_required
def consultation_book_next(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """R11: the next consultation, booked during this one, with the same counselor."""
    staff = request.staff
    try:
        found = _consultation(staff, consultation_id)
        start = _parse_start(request.POST.get("start", ""), staff)
        minutes = _int(request.POST.get("minutes"), "minutes")
        next_request = booking_services.request_create(
            office=found.office,
            job_seeker_number=found.seeker.number,
            name=found.seeker.name,
            preferences=[(start, minutes)],
            channel=Channel.IN_CONSULTATION,
            declarations=found.request.declarations if found.request else {},
            interpreter_language=found.request.interpreter_language if found.request else "",
            assistant=found.request.assistant if found.request else False,
            actor=staff,
        )
    except BookingError as error:
        if error.code in REFUSALS:
            raise
        messages.error(request, error.detail)
        return redirect("staff:consultation", consultation_id=consultation_id)
    try:
        booked = booking_services.consultation_schedule(
            request_id=next_request.pk,
            start=start,
            duration_minutes=minutes,
            counselor=found.counselor.username,
            actor=staff,
        )
    except BookingError as error:
        messages.error(
            request,
            _("%(why)s The request is in the inbox to be scheduled.") % {"why": error.detail},
        )
        return redirect("staff:consultation", consultation_id=consultation_id)
    messages.success(
        request,
        _("The next consultation is booked: %(when)s.")
        % {"when": booked.start.astimezone(found.office.tz).strftime("%Y-%m-%d %H:%M")},
    )
    return redirect("staff:consultation", consultation_id=consultation_id)


@require_GET
@staff_required
def consultation_proof(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """A printable record that the consultation took place (求職活動実績の証明に使える記録)."""
    staff = request.staff
    found = _consultation(staff, consultation_id)
    if found.status != Consultation.Status.COMPLETED:
        return refused(
            request,
            BookingError(
                "invalid_transition", _("A record is printed for completed consultations.")
            ),
        )
    audit_record(actor=staff, action="consultation.proof_printed", obj=found)
    tz = found.office.tz
    return render(
        request,
        "web/staff/proof.html",
        {
            "c": found,
            "staff": staff,
            "start": (found.actual_start or found.start).astimezone(tz),
            "end": (found.actual_end or found.end).astimezone(tz),
            "printed": timezone.now().astimezone(tz),
        },
    )


@require_GET
@staff_required(roles=permissions.CASEWORK)
def week(request: StaffRequest) -> HttpResponse:
    """Monday to Friday for every counselor (or one, `?counselor=`), closures marked."""
    staff = request.staff
    office = staff.office
    tz = office.tz
    anchor = _date_param(request, tz)
    monday = anchor - dt.timedelta(days=anchor.weekday())
    days = [monday + dt.timedelta(days=i) for i in range(5)]
    begin = dt.datetime.combine(days[0], dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    only = request.GET.get("counselor", "")
    counselors = _counselors(office, username=only)
    entries = _calendar_entries(staff, counselors, begin, end, holding_only=True)
    cal = office.calendar()
    open_days = {d for d in days if calendar.is_office_day(cal, d)}
    bands = calendar.day_bands(cal.windows)
    rows = [
        {
            "counselor": counselor,
            "cells": [
                _segments(
                    [
                        e
                        for e in entries[counselor.pk]
                        if e["start"].date() <= day <= e["end"].date()
                    ],
                    bands if day in open_days else [],
                    day,
                    tz,
                )
                for day in days
            ],
        }
        for counselor in counselors
    ]
    return render(
        request,
        "web/staff/week.html",
        {
            "staff": staff,
            "nav": "week",
            "days": [
                {
                    "date": d,
                    "open": d in open_days,
                    "holiday": calendar.national_holiday(d),
                }
                for d in days
            ],
            "rows": rows,
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "only": only,
        },
    )


@require_GET
@staff_required
def consultation_live(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """The consultation's status block alone, polled by htmx while the page is open."""
    staff = request.staff
    found = _consultation(staff, consultation_id)
    return render(request, "web/staff/_live.html", {"c": found})
