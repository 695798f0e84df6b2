"""Requests, consultations, counselors' blocked time, and the occupancy grid.

No double booking is enforced by the database, the same way on SQLite and PostgreSQL:
every scheduled consultation and every blocked period claims one `Occupancy` row per
5-minute grid cell it covers, and unique constraints on (counselor, cell) and
(seeker, cell) refuse a second claim, whatever the Python code above them did.
"""

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from madoguchi.offices.models import Office, Staff
from madoguchi.seekers.models import Seeker
from madoguchi.terms.models import TermsVersion


class Channel(models.TextChoices):
    WEB = "web", pgettext_lazy("channel", "Online form")
    PHONE = "phone", pgettext_lazy("channel", "Phone")
    COUNTER = "counter", pgettext_lazy("channel", "At the counter")
    IN_CONSULTATION = "in_consultation", pgettext_lazy("channel", "During a consultation")


# R2, R16, R17: what the seeker confirms on every request, with the words shown to them.
DECLARATION_LABELS = {
    "device_ready": _("a camera-capable device with the meeting app ready"),
    "continuing_support": _("wish for continuing consultation with the counselor"),
    "video_terms": _("consent to the video service's own terms"),
    "private_place": _("joining from a private place"),
    "no_recording": _("no recording of the consultation"),
}
REQUIRED_DECLARATIONS = tuple(DECLARATION_LABELS)


class RequestQuerySet(models.QuerySet["Request"]):
    def of_office(self, office: Office) -> "RequestQuerySet":
        return self.filter(office=office)

    def open(self) -> "RequestQuerySet":
        return self.filter(status=Request.Status.REQUESTED)


class Request(models.Model):
    class Status(models.TextChoices):
        PENDING_VERIFICATION = "pending_verification", pgettext_lazy("request", "Not yet verified")
        REQUESTED = "requested", pgettext_lazy("request", "Requested")
        SCHEDULED = "scheduled", pgettext_lazy("request", "Scheduled")
        DECLINED = "declined", pgettext_lazy("request", "Declined")
        EXPIRED = "expired", pgettext_lazy("request", "Expired")
        WITHDRAWN = "withdrawn", pgettext_lazy("request", "Withdrawn")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING_VERIFICATION: frozenset(
            {Status.REQUESTED, Status.EXPIRED, Status.WITHDRAWN}
        ),
        Status.REQUESTED: frozenset(
            {Status.SCHEDULED, Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN}
        ),
    }

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="requests")
    seeker = models.ForeignKey(Seeker, on_delete=models.CASCADE, related_name="requests")
    name = models.CharField(_("name as given"), max_length=100)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices)
    preferences = models.JSONField(
        _("preferred times"), help_text=_('[{"start": ISO time, "duration_minutes": n}]')
    )
    declarations = models.JSONField(_("declarations"), default=dict)
    interpreter_language = models.CharField(_("interpreter language"), max_length=50, blank=True)
    assistant = models.BooleanField(_("an assistant will join"), default=False)
    terms_version = models.ForeignKey(
        TermsVersion, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    decline_reason = models.CharField(_("reason for declining"), max_length=500, blank=True)
    # R19: what the device self-check page found, when the seeker ran it before asking
    # (keys checked_at, os, os_version, browser, browser_version, verdict).
    device_check = models.JSONField(_("device check"), null=True, blank=True)
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    status_changed_at = models.DateTimeField(_("status changed"))

    objects = RequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["office", "status"]),
            models.Index(fields=["created_at"]),  # the deployment-wide reports (R20)
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.seeker} ({self.get_status_display()})"

    def preferred_starts(self) -> list[tuple[dt.datetime, int]]:
        return [
            (dt.datetime.fromisoformat(p["start"]), int(p["duration_minutes"]))
            for p in self.preferences
        ]


class ConsultationQuerySet(models.QuerySet["Consultation"]):
    def of_office(self, office: Office) -> "ConsultationQuerySet":
        return self.filter(office=office)

    def for_counselor(self, counselor: Staff) -> "ConsultationQuerySet":
        return self.filter(counselor=counselor)

    def holding_time(self) -> "ConsultationQuerySet":
        return self.filter(status__in=Consultation.HOLDING_TIME)

    def between(self, start: dt.datetime, end: dt.datetime) -> "ConsultationQuerySet":
        return self.filter(start__lt=end, end__gt=start)


class MeetingState(models.TextChoices):
    """Where a consultation's meeting stands with its provider.

    `create`, `update` and `delete` are calls still to be made (by the worker, retried
    until they succeed); `ready` is a meeting that matches the consultation; `failed`
    and `no_host` need staff; `manual` waits for staff to type the details in.
    """

    CREATE = "create", _("Meeting being created")
    UPDATE = "update", _("Meeting being moved")
    DELETE = "delete", _("Meeting being deleted")
    READY = "ready", _("Meeting ready")
    DELETED = "deleted", _("Meeting deleted")
    FAILED = "failed", _("Meeting could not be made")
    NO_HOST = "no_host", _("No Zoom user to host the meeting")
    MANUAL = "manual", _("Meeting details to be entered")

    @classmethod
    def pending(cls) -> frozenset[str]:
        return frozenset({cls.CREATE, cls.UPDATE, cls.DELETE})


class Consultation(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", pgettext_lazy("consultation", "Scheduled")
        IN_PROGRESS = "in_progress", pgettext_lazy("consultation", "In progress")
        COMPLETED = "completed", pgettext_lazy("consultation", "Completed")
        CANCELLED = "cancelled", pgettext_lazy("consultation", "Cancelled")
        NO_SHOW = "no_show", pgettext_lazy("consultation", "No-show")
        STOPPED = "stopped", pgettext_lazy("consultation", "Stopped")

    class StopReason(models.TextChoices):
        THREAT = "threat", _("Threats")
        ABUSE = "abuse", _("Abusive language")
        NON_JOB_PURPOSE = "non_job_purpose", _("Use other than job seeking")
        OTHER = "other", _("Other")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.SCHEDULED: frozenset({Status.IN_PROGRESS, Status.CANCELLED, Status.NO_SHOW}),
        Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.STOPPED}),
        # Only the webhook: a join Zoom delivered late shows the no-show was wrong (R13).
        Status.NO_SHOW: frozenset({Status.SCHEDULED}),
    }
    # Statuses whose time stays claimed in the occupancy grid.
    HOLDING_TIME = frozenset(
        {Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED, Status.STOPPED}
    )

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="consultations")
    seeker = models.ForeignKey(Seeker, on_delete=models.PROTECT, related_name="consultations")
    counselor = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="consultations")
    request = models.OneToOneField(
        Request, on_delete=models.SET_NULL, null=True, blank=True, related_name="consultation"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED
    )
    status_changed_at = models.DateTimeField(_("status changed"))
    override_reason = models.CharField(_("reason for short notice"), max_length=500, blank=True)
    meeting_provider = models.CharField(_("meeting provider"), max_length=10, blank=True)
    meeting_id = models.CharField(_("meeting ID"), max_length=50, blank=True)
    meeting_passcode = models.CharField(_("passcode"), max_length=20, blank=True)
    meeting_join_url = models.URLField(_("join link"), max_length=500, blank=True)
    meeting_state = models.CharField(
        _("meeting state"), max_length=10, choices=MeetingState.choices, blank=True
    )
    meeting_host = models.CharField(_("meeting host"), max_length=200, blank=True)
    meeting_ref = models.CharField(_("meeting reference"), max_length=20, blank=True)
    meeting_error = models.CharField(_("meeting error"), max_length=300, blank=True)
    meeting_attempts = models.PositiveSmallIntegerField(_("meeting call attempts"), default=0)
    meeting_next_attempt_at = models.DateTimeField(null=True, blank=True)
    meeting_claimed_until = models.DateTimeField(null=True, blank=True)
    calendar_sequence = models.PositiveIntegerField(_("calendar file sequence"), default=0)
    reminded_day_before_at = models.DateTimeField(null=True, blank=True)
    reminded_hour_before_at = models.DateTimeField(null=True, blank=True)
    # What came of it, and the counselor's notes: read by the counselor and managers only.
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # When the meeting's details first existed (and the seeker could be told them); no
    # automatic no-show for a consultation whose seeker never had them (R13).
    meeting_ready_at = models.DateTimeField(_("meeting ready since"), null=True, blank=True)
    # A meeting to delete before a new one is made (the host changed on a move).
    meeting_replaced_id = models.CharField(max_length=50, blank=True)
    cancel_channel = models.CharField(
        _("cancelled through"), max_length=20, choices=Channel.choices, blank=True
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=500, blank=True)
    stop_reason_code = models.CharField(
        _("reason for stopping"), max_length=20, choices=StopReason.choices, blank=True
    )
    stop_note = models.TextField(_("note on stopping"), blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    seeker_joined_at = models.DateTimeField(_("seeker joined"), null=True, blank=True)
    contact_recorded_at = models.DateTimeField(_("contact recorded"), null=True, blank=True)
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["office", "start"]),
            models.Index(fields=["start"]),  # the deployment-wide reports (R20)
            models.Index(fields=["counselor", "start"]),
            models.Index(fields=["status", "start"]),
            models.Index(fields=["meeting_state", "meeting_next_attempt_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="consultation_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.start:%Y-%m-%d %H:%M} {self.counselor}"

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def no_show_at(self, grace: dt.timedelta) -> dt.datetime:
        return self.start + grace


class BlockedTime(models.Model):
    """Time a counselor is not available for consultations (meetings, leave, ...)."""

    counselor = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="blocked_times")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        Staff, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("blocked time")
        verbose_name_plural = _("blocked times")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="blocked_time_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.counselor} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"


class Occupancy(models.Model):
    """One 5-minute cell of a counselor's (and a seeker's) time, claimed once."""

    cell = models.DateTimeField()
    counselor = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    seeker = models.ForeignKey(
        Seeker, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, null=True, blank=True, related_name="cells"
    )
    blocked_time = models.ForeignKey(
        BlockedTime, on_delete=models.CASCADE, null=True, blank=True, related_name="cells"
    )

    class Meta:
        verbose_name = _("occupied time cell")
        verbose_name_plural = _("occupied time cells")
        constraints = [
            models.UniqueConstraint(
                fields=["counselor", "cell"], name="counselor_cell_claimed_once"
            ),
            models.UniqueConstraint(fields=["seeker", "cell"], name="seeker_cell_claimed_once"),
            models.CheckConstraint(
                condition=(
                    models.Q(consultation__isnull=False, blocked_time__isnull=True)
                    | models.Q(consultation__isnull=True, blocked_time__isnull=False)
                ),
                name="cell_claimed_by_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.counselor_id} {self.cell:%Y-%m-%d %H:%M}"
