"""The tamper-evident audit chain (R21), `madoguchi audit-verify`, and the audit search
page for auditors and managers."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from madoguchi.records.audit import audit_record
from madoguchi.records.chain import entry_digest
from madoguchi.records.models import AppendOnlyError, AuditChainHead, AuditEntry
from tests.conftest import World
from tests.factories import local, make_consultation


def _verify(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit-verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def _audit_a_few(world: World, n: int = 3) -> list[AuditEntry]:
    return [
        audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
        for _ in range(n)
    ]


def test_audit_record_links_each_entry_to_the_one_before(world):
    first, second = _audit_a_few(world, 2)

    head = AuditChainHead.objects.get(key=str(world.office.pk))
    assert second.prev_hash == first.hash
    assert second.hash == entry_digest(second, first.hash)
    assert head.last_hash == second.hash
    assert len(second.hash) == 64


def test_audit_verify_intact_chain_exits_0_with_the_count(world):
    _audit_a_few(world)
    total = AuditEntry.objects.filter(office=world.office).count()

    code, out, err = _verify("--office", world.office.code)

    assert (code, err) == (0, "")
    assert out == f"Audit chain intact: {total} entries verified.\n"


def test_audit_verify_all_chains_counts_every_entry(world):
    _audit_a_few(world)

    code, out, _err = _verify()

    assert code == 0
    assert out == f"Audit chain intact: {AuditEntry.objects.count()} entries verified.\n"


def test_audit_verify_detects_an_entry_edited_with_raw_sql(world):
    _first, edited, _third = _audit_a_few(world)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_auditentry SET actor_label = %s WHERE id = %s", ["nobody", edited.pk]
        )

    code, out, err = _verify("--office", world.office.code)

    assert (code, out) == (1, "")
    assert err.startswith(f"Audit chain broken: entry {edited.pk} ({edited.at.isoformat()})")
    assert "does not match its hash" in err


def test_audit_verify_detects_a_deleted_entry(world):
    _first, deleted, third = _audit_a_few(world)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_auditentry WHERE id = %s", [deleted.pk])

    code, _out, err = _verify("--office", world.office.code)

    assert code == 1
    assert err.startswith(f"Audit chain broken: entry {third.pk} ")
    assert "does not link to the entry before it" in err


def test_audit_verify_detects_the_last_entry_deleted(world):
    *_, last = _audit_a_few(world)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_auditentry WHERE id = %s", [last.pk])

    code, _out, err = _verify("--office", world.office.code)

    assert code == 1
    assert "entries after it were removed" in err


def test_audit_entry_refuses_update_and_delete_from_django(world):
    entry = _audit_a_few(world, 1)[0]

    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "seeker.viewed"


def test_audit_bulk_create_chains_in_order(world):
    consultation = make_consultation(world.seeker, local(2026, 12, 2, 10), actor=world.coordinator)

    code, out, _err = _verify("--office", world.office.code)

    scheduled = AuditEntry.objects.get(action="consultation.scheduled", object_id=consultation.pk)
    before = AuditEntry.objects.filter(office=world.office, pk__lt=scheduled.pk).last()
    assert code == 0
    assert scheduled.prev_hash == AuditEntry.objects.get(pk=scheduled.pk - 1).hash
    assert before is not None
    assert out.startswith("Audit chain intact")


@pytest.mark.django_db(transaction=True)
def test_audit_record_concurrent_writers_keep_one_valid_chain(world):
    threads, errors = 8, []
    per_thread = 5
    start = threading.Barrier(threads)
    before = AuditEntry.objects.filter(office=world.office).count()

    def write() -> None:
        try:
            start.wait(timeout=10)
            for _ in range(per_thread):
                with transaction.atomic():
                    audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=write) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    code, out, err = _verify("--office", world.office.code)
    assert errors == []
    assert AuditEntry.objects.filter(office=world.office).count() == before + threads * per_thread
    assert (code, err) == (0, "")
    assert out == f"Audit chain intact: {before + threads * per_thread} entries verified.\n"
