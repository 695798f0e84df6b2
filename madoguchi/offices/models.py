"""Offices, their calendar settings, closures and staff."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from madoguchi.offices import calendar


def default_windows() -> list[list[str]]:
    return [["09:00", "12:00"], ["13:00", "16:00"]]


def default_durations() -> list[int]:
    return [30, 45, 60]


def default_annual_closures() -> list[str]:
    return ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"]


office_code_validator = RegexValidator(r"^[0-9]{5}\Z", _("An office code is five digits."))


def validate_on_grid(value: int) -> None:
    if value % calendar.GRID_MINUTES:
        raise ValidationError(
            _("Use a multiple of %(grid)s minutes.") % {"grid": calendar.GRID_MINUTES}
        )


class Office(models.Model):
    code = models.CharField(
        _("office code"), max_length=5, unique=True, validators=[office_code_validator]
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    court = models.CharField(
        _("court of jurisdiction"),
        max_length=100,
        blank=True,
        help_text=_("Named in the terms of use."),
    )
    time_zone = models.CharField(_("time zone"), max_length=50, default="Asia/Tokyo")
    windows = models.JSONField(
        _("consultation windows"),
        default=default_windows,
        help_text=_('Local times, e.g. [["09:00", "12:00"], ["13:00", "16:00"]].'),
    )
    durations = models.JSONField(
        _("lengths offered (minutes)"),
        default=default_durations,
        help_text=_("Each between 30 and 60 minutes, on a 5-minute grid."),
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("start-time step (minutes)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(60), validate_on_grid],
    )
    lead_days = models.PositiveSmallIntegerField(
        _("days of notice"),
        default=1,
        help_text=_("1 means a consultation must be booked by the end of the previous day."),
    )
    annual_closures = models.JSONField(
        _("annual closure days"),
        default=default_annual_closures,
        help_text=_('Month-day strings closed every year, e.g. "12-29".'),
    )
    no_show_grace_minutes = models.PositiveSmallIntegerField(
        _("no-show grace (minutes)"), default=10
    )
    strike_threshold = models.PositiveSmallIntegerField(_("no-shows before review"), default=2)
    strike_window_days = models.PositiveSmallIntegerField(
        _("no-show counting period (days)"), default=365
    )
    reminder_time = models.TimeField(
        _("day-before reminder at"),
        default=dt.time(17, 0),
        help_text=_("Office-local time of the reminder sent the day before a consultation."),
    )
    self_cancel_enabled = models.BooleanField(_("seekers may cancel online"), default=False)
    retention_days = models.PositiveIntegerField(_("usage record retention (days)"), default=365)
    report_min_cell = models.PositiveSmallIntegerField(
        _("smallest count published"),
        default=5,
        help_text=_("Publishable reports hide any figure below this."),
    )
    zoom_user = models.CharField(_("office Zoom user"), max_length=200, blank=True)
    calendar_version = models.PositiveBigIntegerField(
        _("calendar version"),
        default=0,
        editable=False,
        help_text=_(
            "Goes up whenever a booking or blocked time changes; keys cached availability."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @classmethod
    def calendar_changed(cls, office_id: int) -> None:
        """Bump the calendar version, in the same transaction as the change.

        Cached availability is keyed on it, so no cache outlives a booking change. On
        PostgreSQL this row lock also orders an office's booking writes; take it last.
        """
        cls.objects.filter(pk=office_id).update(calendar_version=F("calendar_version") + 1)

    def clean(self) -> None:
        durations = self.durations if isinstance(self.durations, list) else []
        if not durations or any(
            not isinstance(d, int)
            or not calendar.MIN_DURATION <= d <= calendar.MAX_DURATION
            or d % calendar.GRID_MINUTES
            for d in durations
        ):
            raise ValidationError(
                {"durations": _("Lengths are 30 to 60 minutes, in multiples of 5.")}
            )
        try:
            windows = [
                (dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in self.windows
            ]
        except (TypeError, ValueError) as error:
            raise ValidationError({"windows": _("Windows are pairs of HH:MM times.")}) from error
        if not windows or any(a >= b for a, b in windows):
            raise ValidationError({"windows": _("Each window must end after it starts.")})

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def calendar(self) -> calendar.OfficeCalendar:
        """The office's calendar rules as plain data, for the pure rule functions."""
        return calendar.OfficeCalendar(
            tz=self.tz,
            windows=tuple(
                (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
                for start, end in self.windows
            ),
            durations=tuple(self.durations),
            slot_step_minutes=self.slot_step_minutes,
            lead_days=self.lead_days,
            annual_closures=frozenset(self.annual_closures),
            closures=frozenset(self.closures.values_list("date", flat=True)),
            no_show_grace=dt.timedelta(minutes=self.no_show_grace_minutes),
        )


class Closure(models.Model):
    """A day the office is closed besides weekends, national holidays and annual closures."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("closure day")
        verbose_name_plural = _("closure days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="one_closure_per_office_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}"


class StaffQuerySet(models.QuerySet["Staff"]):
    def active(self) -> "StaffQuerySet":
        return self.filter(user__is_active=True)

    def counselors(self) -> "StaffQuerySet":
        return self.filter(role=Staff.Role.COUNSELOR)

    def of_office(self, office: Office) -> "StaffQuerySet":
        return self.filter(office=office)


class Staff(models.Model):
    class Role(models.TextChoices):
        COUNSELOR = "counselor", pgettext_lazy("role", "Counselor")
        COORDINATOR = "coordinator", pgettext_lazy("role", "Coordinator")
        MANAGER = "manager", pgettext_lazy("role", "Manager")
        AUDITOR = "auditor", pgettext_lazy("role", "Auditor")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    zoom_user = models.CharField(
        _("Zoom user"),
        max_length=200,
        blank=True,
        help_text=_("Zoom user ID or e-mail that hosts this counselor's meetings."),
    )

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["office", "user__username"]

    def __str__(self) -> str:
        return self.display_name or self.user.username

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def is_counselor(self) -> bool:
        return self.role == self.Role.COUNSELOR
