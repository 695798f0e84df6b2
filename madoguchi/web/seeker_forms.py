"""The job seeker's request form (R6). It parses and says what is missing in plain
words; the booking rules stay in the services."""

import datetime as dt
import unicodedata

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from madoguchi.bookings.selectors import Slot
from madoguchi.errors import BookingError
from madoguchi.seekers.numbers import normalize_job_seeker_number

NAME_MAX = 100
LANGUAGE_MAX = 50

# R2, R16, R17 in the words the seeker reads on the form; one checkbox each.
DECLARATION_TEXT = {
    "device_ready": _(
        "I have a smartphone, tablet or computer with a camera, and the meeting app (Zoom) "
        "is ready on it."
    ),
    "continuing_support": _("I want continuing consultation with my counselor."),
    "video_terms": _("I agree to the terms of use of the video service (Zoom)."),
    "private_place": _(
        "I will join from a private place where nobody else can see or hear the consultation."
    ),
    "no_recording": _(
        "I will not record the consultation (no video, sound or screenshots), "
        "and nobody with me will."
    ),
}


def clean_text(value: str) -> str:
    """Half-width kana and full-width letters become their usual form (NFKC); control
    characters are refused rather than stored."""
    text = unicodedata.normalize("NFKC", value).strip()
    if any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"} for char in text):
        raise forms.ValidationError(
            _("Please remove special characters (such as tabs or line breaks)."),
            code="control",
        )
    return text


def slot_choices(slots: list[Slot]) -> list:
    """Free start times grouped by day, for a select that works without JavaScript."""
    days: dict[dt.date, list[tuple[str, str]]] = {}
    for slot in slots:
        days.setdefault(slot.start.date(), []).append(
            (slot.start.isoformat(), formats.time_format(slot.start, "H:i"))
        )
    return [("", _("Choose a time"))] + [
        (formats.date_format(day, "DATE_FORMAT") + f" ({formats.date_format(day, 'D')})", times)
        for day, times in days.items()
    ]


class SeekerRequestForm(forms.Form):
    name = forms.CharField(
        label=_("Your name"),
        max_length=NAME_MAX,
        error_messages={"required": _("Please enter your name.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    job_seeker_number = forms.CharField(
        label=_("Job-seeker number"),
        help_text=_("The 13-digit number on your Hello Work card, like 01040-12345678."),
        max_length=40,
        error_messages={"required": _("Please enter your job-seeker number.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    duration = forms.TypedChoiceField(
        label=_("Length of the consultation"),
        coerce=int,
        error_messages={"required": _("Please choose a length.")},
    )
    start_1 = forms.ChoiceField(
        label=_("First choice of start time"),
        error_messages={"required": _("Please choose at least one start time.")},
    )
    start_2 = forms.ChoiceField(label=_("Second choice (if any)"), required=False)
    start_3 = forms.ChoiceField(label=_("Third choice (if any)"), required=False)
    interpreter_language = forms.CharField(
        label=_("Interpreter: language (if an interpreter will join)"),
        max_length=LANGUAGE_MAX,
        required=False,
    )
    assistant = forms.BooleanField(label=_("An assistant will join me"), required=False)
    accept_terms = forms.BooleanField(
        label=_("I have read the terms of use and accept them."),
        error_messages={"required": _("Please read and accept the terms of use.")},
    )
    # Honeypot: hidden from people (CSS and aria-hidden); a bot that fills it is ignored.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, slots: list[Slot], durations: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = slot_choices(slots)
        for key in ("start_1", "start_2", "start_3"):
            start = self.fields[key]
            assert isinstance(start, forms.ChoiceField)
            start.choices = choices
            start.error_messages["invalid_choice"] = _(
                "That time is no longer offered. Please choose another."
            )
        duration = self.fields["duration"]
        assert isinstance(duration, forms.ChoiceField)
        duration.choices = [
            (minutes, _("%(minutes)s minutes") % {"minutes": minutes}) for minutes in durations
        ]
        for key, text in DECLARATION_TEXT.items():
            self.fields[key] = forms.BooleanField(
                label=text,
                error_messages={"required": _("Please tick this box to confirm.")},
            )

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])

    def clean_interpreter_language(self) -> str:
        return clean_text(self.cleaned_data["interpreter_language"])

    def clean_job_seeker_number(self) -> str:
        try:
            return normalize_job_seeker_number(self.cleaned_data["job_seeker_number"])
        except BookingError as error:
            raise forms.ValidationError(error.detail, code=error.code) from error

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        starts = [cleaned.get(key) for key in ("start_1", "start_2", "start_3")]
        chosen = [start for start in starts if start]
        if len(set(chosen)) != len(chosen):
            self.add_error("start_2", _("Please choose different times."))
        return cleaned

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def preferences(self) -> list[tuple[dt.datetime, int]]:
        minutes = self.cleaned_data["duration"]
        return [
            (dt.datetime.fromisoformat(value), minutes)
            for key in ("start_1", "start_2", "start_3")
            if (value := self.cleaned_data.get(key))
        ]

    def declarations(self) -> dict[str, bool]:
        return {key: self.cleaned_data.get(key) is True for key in DECLARATION_TEXT}

    def declaration_fields(self) -> list[forms.BoundField]:
        return [self[key] for key in DECLARATION_TEXT]
