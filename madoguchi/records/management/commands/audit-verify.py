"""`madoguchi audit-verify [--office CODE]`: walk the audit chain (R21).

Prints the first broken link (entry id and time) of every broken chain and exits 1, or
the number of entries verified and exits 0. A break in one chain does not stop the walk
of the others.
"""

from django.core.management.base import BaseCommand, CommandError

from madoguchi.offices.models import Office
from madoguchi.records.chain import SYSTEM_CHAIN, ChainReport
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
        broken = [report for report in reports if report.problem]
        if not broken:
            self.stdout.write(f"Audit chain intact: {verified} entries verified.")
            return
        for report in broken:
            self.stderr.write(f"Audit chain broken: {_where(report)}")
        self.stderr.write(
            f"{len(broken)} of {len(reports)} chains broken; {verified} entries verified."
        )
        raise SystemExit(1)


PROBLEMS = {
    "link": "does not link to the entry before it (an entry was removed or inserted)",
    "hash": "does not match its hash (it was changed)",
    "tail": "is not the chain's last entry (entries after it were removed)",
    "unsealed": "was never sealed into the chain (is the worker running?)",
}


def _where(report: ChainReport) -> str:
    entry = report.broken
    where = f"entry {entry.pk} ({entry.at.isoformat()})" if entry else "an empty chain"
    chain = "the system chain" if report.chain == SYSTEM_CHAIN else f"office {report.chain}"
    return f"{where} {PROBLEMS[report.problem]}, in {chain}."
