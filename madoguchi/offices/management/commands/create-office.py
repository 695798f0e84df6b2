"""`madoguchi create-office CODE NAME`: an office with the spec's defaults and terms v1."""

import re

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from madoguchi.offices.models import Office
from madoguchi.offices.services import office_create


class Command(BaseCommand):
    help = (
        "Create an office with the default calendar settings and version 1 of the "
        "shipped terms of use in force from now."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="the five-digit office number, e.g. 01040")
        parser.add_argument("name", help="the office's name, e.g. ハローワーク釧路")
        parser.add_argument("--name-en", default="", help="the name in English")
        parser.add_argument("--phone", default="", help="the number seekers call to cancel")
        parser.add_argument("--email", default="")
        parser.add_argument("--address", default="")
        parser.add_argument("--court", default="", help="court of jurisdiction in the terms")

    def handle(self, *args, code: str, name: str, **options) -> None:
        code = code.strip()
        if not re.fullmatch(r"[0-9]{5}", code):
            raise CommandError(
                f"CODE must be the five-digit office number (e.g. 01040), not {code!r}."
            )
        if Office.objects.filter(code=code).exists():
            raise CommandError(f"The office {code} already exists.")
        fields = {key: options[key] for key in ("name_en", "phone", "email", "address", "court")}
        try:
            office = office_create(code=code, name=name, **fields)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Created office {office}.")
