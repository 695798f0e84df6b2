"""Forms of the staff web. They parse and say what is missing; the rules are the services'."""

import datetime as dt
from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.bookings.models import DECLARATION_LABELS, Channel
from madoguchi.offices.models import Staff
from madoguchi.seekers.models import Seeker


class IntakeForm(forms.Form):
    """A request taken by phone, at the counter or during a consultation (R6, R11)."""

    job_seeker_number = forms.CharField(label=_("Job-seeker number"), max_length=40)
    name = forms.CharField(label=_("Name as the job seeker gives it"), max_length=100)
    channel = forms.ChoiceField(
        label=_("Taken"),
        choices=[(c, label) for c, label in Channel.choices if c != Channel.WEB],
        initial=Channel.PHONE,
    )
    start_1 = forms.DateTimeField(
        label=_("First preferred start"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 300}),
    )
    start_2 = forms.DateTimeField(
        label=_("Second preferred start"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 300}),
    )
    start_3 = forms.DateTimeField(
        label=_("Third preferred start"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 300}),
    )
    minutes = forms.TypedChoiceField(label=_("Length (minutes)"), coerce=int)
    interpreter_language = forms.CharField(
        label=_("Interpreter (language)"), max_length=50, required=False
    )
    assistant = forms.BooleanField(label=_("An assistant will join"), required=False)

    def __init__(self, *args, durations: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        minutes = self.fields["minutes"]
        assert isinstance(minutes, forms.TypedChoiceField)
        minutes.choices = [(m, str(m)) for m in durations]
        for key, label in DECLARATION_LABELS.items():
            self.fields[f"declare_{key}"] = forms.BooleanField(
                label=label, required=False, help_text=_("Read it to the job seeker and ask.")
            )

    def preferences(self) -> list[tuple[dt.datetime, int]]:
        minutes = self.cleaned_data["minutes"]
        starts = [self.cleaned_data.get(f"start_{i}") for i in (1, 2, 3)]
        return [(start, minutes) for start in starts if start is not None]

    def declarations(self) -> dict[str, bool]:
        return {key: self.cleaned_data[f"declare_{key}"] for key in DECLARATION_LABELS}


class BlockForm(forms.Form):
    start = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 300})
    )
    end = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 300})
    )
    reason = forms.CharField(
        label=_("Reason (shown to the office)"), max_length=200, required=False
    )


class OfficeSettingsForm(forms.Form):
    """The office's rules as a manager edits them; windows and lengths as plain text."""

    name_en = forms.CharField(label=_("Name in English"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    windows = forms.CharField(
        label=_("Consultation hours"),
        help_text=_("Office-local times, e.g. 09:00-12:00, 13:00-16:00"),
    )
    durations = forms.CharField(
        label=_("Lengths (minutes)"), help_text=_("e.g. 30, 45, 60 (30 to 60, multiples of 5)")
    )
    slot_step_minutes = forms.IntegerField(label=_("Start times every (minutes)"), min_value=5)
    lead_days = forms.IntegerField(label=_("Book at least this many days ahead"), min_value=1)
    no_show_grace_minutes = forms.IntegerField(
        label=_("No-show after (minutes past the start)"), min_value=1, max_value=60
    )
    strike_threshold = forms.IntegerField(label=_("No-shows before review"), min_value=1)
    strike_window_days = forms.IntegerField(label=_("No-shows counted over (days)"), min_value=1)
    reminder_time = forms.TimeField(
        label=_("Day-before reminder at"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    retention_days = forms.IntegerField(label=_("Keep usage records (days)"), min_value=30)
    self_cancel_enabled = forms.BooleanField(
        label=_("Job seekers may cancel online"), required=False
    )

    def clean_windows(self) -> list[list[str]]:
        windows = []
        for part in self.cleaned_data["windows"].replace("〜", "-").replace("～", "-").split(","):
            start, sep, end = part.strip().partition("-")
            if not sep:
                raise forms.ValidationError(_("Write each window as HH:MM-HH:MM."))
            try:
                windows.append(
                    [
                        dt.time.fromisoformat(start.strip()).strftime("%H:%M"),
                        dt.time.fromisoformat(end.strip()).strftime("%H:%M"),
                    ]
                )
            except ValueError as error:
                raise forms.ValidationError(_("Write each window as HH:MM-HH:MM.")) from error
        return windows

    def clean_durations(self) -> list[int]:
        try:
            return [int(p) for p in self.cleaned_data["durations"].replace("、", ",").split(",")]
        except ValueError as error:
            raise forms.ValidationError(_("Write the lengths as numbers.")) from error

    @classmethod
    def initial_for(cls, office) -> dict:
        return {
            "name_en": office.name_en,
            "phone": office.phone,
            "windows": ", ".join(f"{a}-{b}" for a, b in office.windows),
            "durations": ", ".join(str(d) for d in office.durations),
            "slot_step_minutes": office.slot_step_minutes,
            "lead_days": office.lead_days,
            "no_show_grace_minutes": office.no_show_grace_minutes,
            "strike_threshold": office.strike_threshold,
            "strike_window_days": office.strike_window_days,
            "reminder_time": office.reminder_time,
            "retention_days": office.retention_days,
            "self_cancel_enabled": office.self_cancel_enabled,
        }


class ClosureForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class SeekerForm(forms.Form):
    """A seeker's registry entry as staff type it; `fields` narrows it to what the
    staff member may change (a counselor: the contact fields)."""

    number = forms.CharField(
        label=_("Job-seeker number"),
        max_length=40,
        help_text=_("As on the Hello Work card, e.g. 01040-12345678"),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    name_kana = forms.CharField(label=_("Name (kana)"), max_length=100, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    counselor = forms.ChoiceField(label=_("Counselor"), required=False)
    registered_on = forms.DateField(
        label=_("Registered on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    expires_on = forms.DateField(
        label=_("Registration expires on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(label=_("Registration"), choices=Seeker.Status.choices)
    language = forms.ChoiceField(label=_("Language for mail"), choices=Seeker.Language.choices)

    def __init__(
        self, *args, counselors: list[tuple[str, str]], fields: Iterable[str] | None = None, **kw
    ) -> None:
        super().__init__(*args, **kw)
        counselor = self.fields["counselor"]
        assert isinstance(counselor, forms.ChoiceField)
        counselor.choices = [("", _("— none —")), *counselors]
        if fields is not None:
            for name in set(self.fields) - set(fields):
                del self.fields[name]

    @classmethod
    def initial_for(cls, seeker: Seeker) -> dict:
        initial = {name: getattr(seeker, name) for name in cls.base_fields if name != "counselor"}
        initial["counselor"] = seeker.counselor.user.username if seeker.counselor else ""
        return initial


class SeekerImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: number, name, name_kana, email, phone, counselor, registered_on, "
            "expires_on, language. UTF-8 or Shift_JIS (as Excel saves it)."
        ),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )


# The office's team (managers) ----------------------------------------------------------


class TeamMemberForm(forms.Form):
    """Who a staff member is here: what a manager may change."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=100,
        required=False,
        help_text=_("The name job seekers and colleagues see, e.g. 佐藤 一郎."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Staff.Role.choices)
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("Work address: sign-in links and password resets go here."),
    )
    zoom_user = forms.CharField(
        label=_("Zoom user"),
        max_length=200,
        required=False,
        help_text=_("Zoom user ID or e-mail that hosts this counselor's meetings."),
    )

    def __init__(
        self, *args: object, managers: bool = False, locked: bool = False, **kwargs: object
    ) -> None:
        """`managers`: the manager role may be chosen (a superuser only). `locked`: another
        manager's role and e-mail are shown but cannot be changed (see staff_update)."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        role = self.fields["role"]
        if locked:
            role.disabled = self.fields["email"].disabled = True
        elif not managers:
            role.choices = [c for c in Staff.Role.choices if c[0] != Staff.Role.MANAGER]  # type: ignore[attr-defined]
            role.help_text = _(
                "Only the registry administrator makes managers (Django admin or the "
                "create-staff command): two managers approve a disclosure."
            )

    @classmethod
    def initial_for(cls, staff) -> dict:
        return {
            "display_name": staff.display_name,
            "role": staff.role,
            "email": staff.user.email,
            "zoom_user": staff.zoom_user,
        }


class TeamInviteForm(TeamMemberForm):
    """A new staff member: the same, and the user name they sign in with."""

    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text=_("What they type to sign in: letters, digits and @ . + - _ only."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    field_order = ["username", "display_name", "role", "email", "zoom_user"]

    def __init__(self, *args: object, managers: bool = False, **kwargs: object) -> None:
        super().__init__(*args, managers=managers, **kwargs)  # type: ignore[arg-type]
        self.fields["email"].required = True  # the link to choose a password goes there

    def clean_username(self) -> str:
        from django.contrib.auth import get_user_model

        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is taken. Choose another."))
        return username
