"""Sign-in forms. Codes are checked by the services; the forms only tidy what was typed."""

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.services import normalize_code


class SignInForm(AuthenticationForm):
    """Django's form (its one error never says whether the user name exists)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["username"].widget.attrs.update(autocapitalize="none", spellcheck="false")


def _code_widget(**attrs: str) -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
            "autofocus": "autofocus",
            **attrs,
        }
    )


class AuthenticatorCodeForm(forms.Form):
    """The 6 digits an authenticator app shows (full-width digits and spaces are fine)."""

    code = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=20,
        widget=_code_widget(inputmode="numeric"),
    )

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if not re.fullmatch(r"[0-9]{6}", code):
            raise forms.ValidationError(_("Enter the 6 digits the app shows."))
        return code


class RecoveryCodeForm(forms.Form):
    """One of the person's printed recovery codes; it works once."""

    code = forms.CharField(label=_("Recovery code"), max_length=40, widget=_code_widget())

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if not re.fullmatch(r"[a-z0-9]{6,16}", code):
            raise forms.ValidationError(_("Enter the recovery code as it is printed."))
        return code


class StaffPasswordResetForm(PasswordResetForm):
    """Django's reset form: mail goes only to an active account with that address, and the
    page after it is the same either way."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["email"].label = _("Your work e-mail address")
