"""The tamper-evident audit chain (R21), `madoguchi audit-verify`, and the audit search
page for auditors and managers."""

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from madoguchi.bookings import services as booking_services
from madoguchi.records.audit import audit_record
from madoguchi.records.chain import chain_seal_pending, entry_digest
from madoguchi.records.models import AppendOnlyError, AuditChainHead, AuditEntry
from madoguchi.worker.clock import tick
from tests.conftest import World
from tests.factories import local, make_consultation, make_office
from tests.signin import signed_in_client


def _verify(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit-verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()


def _audit_a_few(world: World, n: int = 3) -> list[AuditEntry]:
    """`n` entries, sealed as they would be once their transaction commits."""
    written = [
        audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
        for _ in range(n)
    ]
    chain_seal_pending()
    return list(AuditEntry.objects.filter(pk__in=[e.pk for e in written]).order_by("id"))


def test_audit_record_is_sealed_when_its_transaction_commits(
    world, django_capture_on_commit_callbacks
):
    chain_seal_pending()  # the world's own entries
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        entry = audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
        assert AuditEntry.objects.get(pk=entry.pk).hash == ""  # not before the commit

    sealed = AuditEntry.objects.get(pk=entry.pk)
    head = AuditChainHead.objects.get(key=str(world.office.pk))
    assert sealed.hash == entry_digest(sealed, sealed.prev_hash) == head.last_hash
    assert sealed.seq == head.length


def test_audit_record_links_each_entry_to_the_one_before(world):
    first, second = _audit_a_few(world, 2)

    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    assert second.hash == entry_digest(second, first.hash)
    assert len(second.hash) == 64


def test_audit_chain_seal_pending_is_idempotent(world):
    entries = _audit_a_few(world, 2)

    assert chain_seal_pending() == 0
    stored = AuditEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("id")
    assert [e.hash for e in stored] == [e.hash for e in entries]


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


def test_audit_verify_detects_an_entry_left_unsealed(world, frozen_now):
    _audit_a_few(world)
    stray = audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
    frozen_now.shift(dt.timedelta(minutes=11))

    code, _out, err = _verify("--office", world.office.code)

    assert code == 1
    assert err.startswith(f"Audit chain broken: entry {stray.pk} ")
    assert "was never sealed" in err


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


def test_audit_bulk_created_entries_are_sealed_in_order(world):
    consultation = make_consultation(world.seeker, local(2026, 12, 2, 10), actor=world.coordinator)
    chain_seal_pending()

    code, out, _err = _verify("--office", world.office.code)

    scheduled = AuditEntry.objects.get(action="consultation.scheduled", object_id=consultation.pk)
    request_entry = AuditEntry.objects.get(
        action="request.scheduled", object_id=consultation.request_id
    )
    assert code == 0
    assert scheduled.seq == request_entry.seq + 1
    assert scheduled.prev_hash == request_entry.hash
    assert out.startswith("Audit chain intact")


def test_worker_round_seals_what_a_crash_left_unsealed(world):
    entry = audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)

    found = tick()

    assert found["audit_sealed"] == AuditEntry.objects.count()  # all, the round's own too
    assert AuditEntry.objects.get(pk=entry.pk).hash != ""
    assert not AuditEntry.objects.filter(hash="").exists()


@pytest.mark.django_db(transaction=True)
def test_audit_record_concurrent_writers_keep_one_valid_chain(world):
    threads, per_thread, errors = 8, 5, []
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
    total = before + threads * per_thread
    assert errors == []
    assert not AuditEntry.objects.filter(hash="").exists()  # each commit sealed its own
    assert (code, err) == (0, "")
    assert out == f"Audit chain intact: {total} entries verified.\n"


# The audit search page ----------------------------------------------------------------


def _entries(response) -> list[tuple[str, str]]:
    return [(e.actor_label, e.action) for e in response.context["page"].object_list]


@pytest.mark.parametrize("role", ["auditor", "manager"])
def test_audit_page_lists_the_office_entries_and_audits_its_opening(world, role):
    person = getattr(world, role)
    client = signed_in_client(person)
    audit_record(actor=world.counselor, action="seeker.viewed", obj=world.seeker)
    audit_record(actor=world.other_counselor, action="seeker.viewed", obj=world.other_seeker)

    response = client.get(reverse("staff:audit"), {"actor": "sato"})

    assert response.status_code == 200
    assert _entries(response) == [("sato", "seeker.viewed")]
    opened = AuditEntry.objects.filter(action="audit.viewed").get()
    assert (opened.actor_label, opened.office_id) == (person.user.username, world.office.pk)
    assert opened.details == {"filters": {"actor": "sato"}}
    assert opened.ip == "127.0.0.1"


@pytest.mark.parametrize("role", ["counselor", "coordinator", "other_counselor"])
def test_audit_page_refuses_other_roles(world, role):
    client = signed_in_client(getattr(world, role))

    response = client.get(reverse("staff:audit"))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="audit.viewed").exists()


def test_audit_page_finds_who_read_a_seekers_notes(world, frozen_now):
    consultation = make_consultation(world.seeker, local(2026, 12, 2, 10), actor=world.coordinator)
    other = make_consultation(world.seeker2, local(2026, 12, 2, 13), actor=world.coordinator)
    frozen_now.move_to(local(2026, 12, 2, 13, 5))
    for c, counselor in ((consultation, world.counselor), (other, world.counselor2)):
        booking_services.consultation_start(consultation_id=c.pk, actor=counselor)
        booking_services.consultation_record_notes(
            consultation_id=c.pk, outcome="", notes="話した内容", actor=counselor
        )
    for reader, c in (
        (world.counselor, consultation),
        (world.manager, consultation),
        (world.coordinator, consultation),  # sees the page, not the notes
        (world.counselor2, other),
    ):
        assert signed_in_client(reader).get(f"/staff/consultations/{c.pk}/").status_code == 200
    client = signed_in_client(world.auditor)

    response = client.get(
        reverse("staff:audit"),
        {"seeker": "０１０４０－１２３４５６７８", "action": "consultation.notes_viewed"},
    )

    assert _entries(response) == [
        ("ito", "consultation.notes_viewed"),
        ("sato", "consultation.notes_viewed"),
    ]
    assert {e.ip for e in response.context["page"].object_list} == {"127.0.0.1"}


def test_audit_page_seeker_filter_covers_seeker_request_and_consultation(world):
    consultation = make_consultation(world.seeker, local(2026, 12, 2, 10), actor=world.coordinator)
    audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
    audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker2)
    client = signed_in_client(world.auditor)

    response = client.get(reverse("staff:audit"), {"seeker": "01040-12345678"})

    actions = {action for _actor, action in _entries(response)}
    assert actions == {
        "seeker.viewed",
        "request.created",
        "request.scheduled",
        "consultation.scheduled",
    }
    assert all(
        (e.object_type, e.object_id)
        in {
            ("seeker", str(world.seeker.pk)),
            ("request", str(consultation.request_id)),
            ("consultation", str(consultation.pk)),
        }
        for e in response.context["page"].object_list
    )


def test_audit_page_filters_by_date_range_in_office_time(world, frozen_now):
    audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
    frozen_now.move_to(local(2026, 12, 3, 9, 0))
    audit_record(actor=world.manager, action="seeker.restricted", obj=world.seeker)
    client = signed_in_client(world.auditor)

    response = client.get(
        reverse("staff:audit"), {"date_from": "2026-12-03", "date_to": "2026-12-03", "actor": "ito"}
    )

    assert _entries(response) == [("ito", "seeker.restricted")]


def test_audit_page_filters_by_object(world):
    audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
    audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker2)
    client = signed_in_client(world.auditor)

    response = client.get(
        reverse("staff:audit"), {"object_type": "seeker", "object_id": str(world.seeker2.pk)}
    )

    assert [e.object_id for e in response.context["page"].object_list] == [str(world.seeker2.pk)]


def test_audit_page_bad_input_is_told_at_the_field(world):
    client = signed_in_client(world.auditor)

    response = client.get(
        reverse("staff:audit"), {"seeker": "12", "date_from": "2026-12-03", "date_to": "2026-12-01"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []
    assert 'aria-describedby="id_seeker_error"' in html
    assert 'id="id_seeker_error"' in html
    assert set(response.context["form"].errors) == {"seeker", "date_to"}
    assert 'aria-describedby="id_date_to_error"' in html


def test_audit_page_paginates_with_a_pinned_query_count(world, django_assert_num_queries):
    for _ in range(45):
        audit_record(actor=world.manager, action="seeker.viewed", obj=world.seeker)
    client = signed_in_client(world.auditor)
    client.get(reverse("staff:audit"))  # warm the session and the sign-in checks

    # Session, user, OTP device, sign-out generation, staff, office; the opening's
    # audit entry (sealed after the commit); the count; the page.
    with django_assert_num_queries(9):
        response = client.get(reverse("staff:audit"), {"action": "seeker.", "page": 2})

    assert response.context["page"].number == 2
    assert len(response.context["page"].object_list) == 20
    assert response.context["page"].paginator.num_pages == 3


def test_staff_nav_links_audit_and_usage_for_auditors_and_managers_only(world):
    auditor = signed_in_client(world.auditor).get(reverse("staff:audit")).content.decode()
    counselor = signed_in_client(world.counselor).get(reverse("staff:day")).content.decode()

    assert reverse("staff:audit") in auditor and reverse("staff:usage") in auditor
    assert reverse("staff:audit") not in counselor and reverse("staff:usage") not in counselor


def test_api_change_records_the_client_address(world, api_as, settings):
    settings.MADOGUCHI_BEHIND_PROXY = True
    api = api_as(world.manager)
    api.headers["X-Forwarded-For"] = "198.51.100.7, 203.0.113.9"

    response = api.post(f"/api/v1/seekers/{world.seeker.number}/restrict", {"reason": "abuse"})

    entry = AuditEntry.objects.get(action="seeker.restricted")
    assert response.status_code == 200
    assert (entry.actor_label, entry.ip) == ("ito", "203.0.113.9")


def test_worker_entries_have_no_address(world):
    entry = audit_record(actor=None, action="request.expired", obj=world.seeker)

    assert (entry.actor_label, entry.ip) == ("system", None)


def test_office_with_audit_entries_cannot_be_deleted(world):
    office = make_office(code="01999", name="閉鎖予定")
    audit_record(actor=None, action="office.updated", obj=office, office=office)
    chain_seal_pending()

    with pytest.raises(ProtectedError) as refused:
        office.delete()

    assert {type(found) for found in refused.value.protected_objects} == {AuditEntry}
    assert AuditEntry.objects.filter(office=office).count() >= 1
    assert _verify()[0] == 0


def test_audit_verify_reports_every_broken_chain(world):
    _first, edited, _third = _audit_a_few(world)
    other = audit_record(
        actor=world.other_counselor, action="seeker.viewed", obj=world.other_seeker
    )
    later = audit_record(
        actor=world.other_counselor, action="seeker.viewed", obj=world.other_seeker
    )
    chain_seal_pending()
    assert other.office_id == later.office_id == world.other_office.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_auditentry SET actor_label = %s WHERE id IN (%s, %s)",
            ["nobody", edited.pk, later.pk],
        )
    edited.refresh_from_db()
    later.refresh_from_db()

    code, out, err = _verify()

    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert sorted(lines[:-1]) == sorted(
        [
            f"Audit chain broken: entry {edited.pk} ({edited.at.isoformat()}) does not match "
            f"its hash (it was changed), in office {world.office.pk}.",
            f"Audit chain broken: entry {later.pk} ({later.at.isoformat()}) does not match "
            f"its hash (it was changed), in office {world.other_office.pk}.",
        ]
    )
    assert lines[-1].startswith("2 of ") and " chains broken; " in lines[-1]
