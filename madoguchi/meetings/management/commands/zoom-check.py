"""`madoguchi zoom-check [--office CODE]`: can every counselor host, with recording off?

Zoom has no per-meeting switch that forbids *manual* recording (R16): it must be off in
the host user's (or the account's) settings. This reads each counselor's host user's
recording settings and says, per counselor, whether recording is off. Exit status 1
when any counselor has no Zoom user, a user Zoom does not know, or recording on.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from madoguchi.meetings.services import zoom_client
from madoguchi.meetings.zoom import ZoomError
from madoguchi.offices.models import Office, Staff


class Command(BaseCommand):
    help = "Check each counselor's Zoom host user: it exists and recording is off."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--office", help="only this office (5-digit code)")

    def handle(self, *args: Any, office: str | None = None, **options: Any) -> None:
        offices = Office.objects.order_by("code")
        if office:
            offices = offices.filter(code=office)
            if not offices.exists():
                raise CommandError(f"There is no office {office}.")
        client = zoom_client()
        problems = 0
        checked: dict[str, str] = {}
        for each in offices:
            counselors = (
                Staff.objects.filter(office=each, role=Staff.Role.COUNSELOR, user__is_active=True)
                .select_related("user")
                .order_by("user__username")
            )
            for counselor in counselors:
                host = (counselor.zoom_user or each.zoom_user or settings.ZOOM_DEFAULT_USER).strip()
                if not host:
                    verdict = "no Zoom user (set one with create-staff --zoom-user)"
                elif host in checked:
                    verdict = checked[host]
                else:
                    try:
                        recording = client.recording_settings(host)
                    except ZoomError as error:
                        verdict = f"cannot check: {error.message}"
                    else:
                        verdict = (
                            "ok: recording off"
                            if recording.recording_off
                            else "RECORDING ON: turn off local and cloud recording "
                            "for this user (or lock it for the account)"
                        )
                    checked[host] = verdict
                if not verdict.startswith("ok"):
                    problems += 1
                self.stdout.write(
                    f"{each.code} {counselor.user.username:<16} {host or '-':<32} {verdict}"
                )
        if problems:
            raise CommandError(f"{problems} counselor(s) need attention.")
