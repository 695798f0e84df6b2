"""`madoguchi import-seekers FILE.csv --office CODE`: load the registry from a CSV export.

Columns (header row): number, name, name_kana, email, phone, counselor, registered_on,
expires_on, language. A number already registered at the office updates that seeker.
All rows or none: any wrong row is reported as `line N: message` on standard error and
nothing is saved.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from madoguchi.errors import BookingError
from madoguchi.offices.models import Office
from madoguchi.seekers.services import csv_decode, seekers_import


class Command(BaseCommand):
    help = "Import job seekers from a CSV file into an office's registry (all rows or none)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE.csv")
        parser.add_argument("--office", required=True, help="the office's five-digit code")

    def handle(self, *args, file: Path, office: str, **options) -> None:
        office_obj = Office.objects.filter(code=office).first()
        if office_obj is None:
            raise CommandError(f"There is no office with the code {office!r}.")
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        try:
            result = seekers_import(office=office_obj, text=csv_decode(data), actor=None)
        except BookingError as error:
            raise CommandError(error.detail) from error
        if result.errors:
            for line, message in result.errors:
                self.stderr.write(f"line {line}: {message}")
            rows = len({line for line, _message in result.errors})
            raise CommandError(f"{rows} row(s) have errors; nothing was imported.")
        self.stdout.write(f"Imported {len(result.created)} job seekers into {office_obj}.")
        if result.updated or result.unchanged:
            self.stdout.write(f"Updated {len(result.updated)}, left {result.unchanged} unchanged.")
