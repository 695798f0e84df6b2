"""What sign-in keeps in the database beyond django-otp's devices."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInGeneration(models.Model):
    """How many times all of a person's sessions were ended.

    A session remembers the number it was signed in under; once the number moves on
    (sign out everywhere, a password change or reset) that session is over, on every
    device, without having to find the sessions themselves.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sign_in_generation",
    )
    number = models.PositiveIntegerField(_("generation"), default=0)

    class Meta:
        verbose_name = _("sign-in generation")
        verbose_name_plural = _("sign-in generations")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.number}"

    @classmethod
    def current(cls, user_id: int) -> int:
        """The user's generation now; 0 for someone whose sessions were never all ended."""
        number = cls.objects.filter(user_id=user_id).values_list("number", flat=True).first()
        return number or 0
