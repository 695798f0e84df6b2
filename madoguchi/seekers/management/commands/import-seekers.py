"""`madoguchi import-seekers FILE.csv --office CODE`: load the registry from a CSV export.

Columns (header row): number, name, name_kana, email, phone, counselor, registered_on,
expires_on, language. All rows or none: any wrong row is reported as `line N: message`
on standard error and nothing is saved.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from madoguchi.offices.models import Office
from madoguchi.seekers.services import seekers_import

# UTF-8 (with or without the BOM Excel writes), else Windows Shift_JIS, which is what
# Excel in Japan writes when told "CSV".
ENCODINGS = ("utf-8-sig", "cp932")


def csv_decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CommandError("The file is neither UTF-8 nor Shift_JIS (cp932) text.")


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
        result = seekers_import(office=office_obj, text=csv_decode(data), actor=None)
        if result.errors:
            for line, message in result.errors:
                self.stderr.write(f"line {line}: {message}")
            raise CommandError(f"{len(result.errors)} row(s) have errors; nothing was imported.")
        self.stdout.write(f"Imported {len(result.created)} job seekers into {office_obj}.")
