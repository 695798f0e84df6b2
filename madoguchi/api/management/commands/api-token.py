"""`madoguchi api-token USERNAME`: print a new API token and nothing else.

The output is meant for scripts (`TOKEN=$(madoguchi api-token ito)`), so every other
message goes to standard error.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from madoguchi.api.models import ApiToken
from madoguchi.offices.models import Staff


class Command(BaseCommand):
    help = "Issue a new API token for a staff member and print it on standard output."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"The user {username!r} is not active.")
        if not Staff.objects.filter(user=user).exists():
            raise CommandError(f"The user {username!r} is not a staff member of any office.")
        _, token = ApiToken.issue(user)
        self.stdout.write(token)
