"""Forms of the staff web. They parse and say what is missing; the rules are the services'."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.bookings.models import DECLARATION_LABELS, Channel


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
