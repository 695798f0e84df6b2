"""`madoguchi create-staff USERNAME --office CODE --role ROLE`: a staff member of an office.

The password comes from `--password-file`, else the `MADOGUCHI_PASSWORD` variable, else
a prompt when standard input is a terminal. Without any of them the user gets no usable
password: they can use the API with a token but cannot sign in to the web pages.
"""

import getpass
import os
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from madoguchi.offices.models import Office, Staff
from madoguchi.offices.services import staff_create


class Command(BaseCommand):
    help = "Create a staff member (counselor, coordinator, manager or auditor) of an office."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--office", required=True, help="the office's five-digit code")
        parser.add_argument("--role", required=True, choices=Staff.Role.values)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--zoom-user", default="", help="Zoom user ID or e-mail that hosts their meetings"
        )
        parser.add_argument("--display-name", default="", help="the name shown to seekers")
        parser.add_argument(
            "--password-file", type=Path, help="a file whose first line is the password"
        )

    def handle(self, *args, username: str, office: str, role: str, **options) -> None:
        office_obj = Office.objects.filter(code=office).first()
        if office_obj is None:
            raise CommandError(f"There is no office with the code {office!r}.")
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"The user {username!r} already exists.")
        password = self.password_get(options["password_file"])
        if password is not None:
            self.password_check(password, username=username, email=options["email"])
        try:
            staff = staff_create(
                username=username,
                office=office_obj,
                role=role,
                email=options["email"],
                zoom_user=options["zoom_user"],
                display_name=options["display_name"],
                password=password,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Created {role} {username} at {staff.office}.")
        if password is None:
            self.stdout.write(
                f"No password was set: {username} cannot sign in to the web pages and can "
                f"use only an API token (madoguchi api-token {username})."
            )

    def password_get(self, path: Path | None) -> str | None:
        if path is not None:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"Cannot read the password file {path}: {error}") from error
            return self.password_nonempty(lines[0] if lines else "")
        if os.environ.get("MADOGUCHI_PASSWORD"):
            return os.environ["MADOGUCHI_PASSWORD"]
        if not sys.stdin.isatty():
            return None
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return self.password_nonempty(password)

    @staticmethod
    def password_nonempty(password: str) -> str:
        if not password:
            raise CommandError("The password is empty.")
        return password

    @staticmethod
    def password_check(password: str, *, username: str, email: str) -> None:
        """Django's password validators, against the user about to be created."""
        try:
            validate_password(password, user=get_user_model()(username=username, email=email))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
