"""`madoguchi audit-verify [--office CODE]`: walk the audit chain (R21).

Prints the first broken link (entry id and time) and exits 1, or the number of
entries verified and exits 0.
"""

from django.core.management.base import BaseCommand, CommandError

from madoguchi.offices.models import Office
from madoguchi.records.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the tamper-evident audit chain (all chains, or one office's)."

    def add_arguments(self, parser):
        parser.add_argument("--office", metavar="CODE", help="only this office's chain")

    def handle(self, *args, office: str | None, **options) -> None:
        found = None
        if office:
            found = Office.objects.filter(code=office).first()
            if found is None:
                raise CommandError(f"There is no office {office!r}.")
        reports = audit_chain_verify(office=found, every=found is None)
        verified = sum(report.verified for report in reports)
        broken = next((r for r in reports if r.problem), None)
        if broken is None:
            self.stdout.write(f"Audit chain intact: {verified} entries verified.")
            return
        entry = broken.broken
        where = f"entry {entry.pk} ({entry.at.isoformat()})" if entry else "an empty chain"
        what = {
            "link": "does not link to the entry before it (an entry was removed or inserted)",
            "hash": "does not match its hash (it was changed)",
            "tail": "is not the chain's last entry (entries after it were removed)",
            "unsealed": "was never sealed into the chain (is the worker running?)",
        }[broken.problem]
        self.stderr.write(f"Audit chain broken: {where} {what}; {verified} entries verified.")
        raise SystemExit(1)
