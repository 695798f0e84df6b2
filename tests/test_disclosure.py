"""The disclosure register (R20): recorded by a manager, decided by another, exported once."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import translation

from madoguchi.errors import BookingError
from madoguchi.notifications.models import OutboxMail
from madoguchi.records import disclosure as services
from madoguchi.records.models import AuditEntry, DisclosureRequest
from tests.factories import make_staff
from tests.held_data import hold_data, mails_with_secrets
from tests.signin import signed_in_client

FORM = {
    "requesting_body": "北海道警察釧路方面本部",
    "requesting_person": "刑事課 山田一郎",
    "legal_basis": "cpc_197_2",
    "legal_basis_text": "",
    "reference": "釧方刑第123号",
    "categories": ["registry", "consultations"],
    "date_from": "2026-12-01",
    "date_to": "2026-12-02",
    "due_on": "2026-12-15",
}


@pytest.fixture
def manager2(world):
    return make_staff(world.office, "manager", "kobayashi")


def record(world, **changes):
    fields = {
        "actor": world.manager,
        "requesting_body": FORM["requesting_body"],
        "requesting_person": FORM["requesting_person"],
        "legal_basis": "cpc_197_2",
        "reference": FORM["reference"],
        "numbers": [world.seeker.number],
        "categories": ["registry", "consultations"],
        "date_from": dt.date(2026, 12, 1),
        "date_to": dt.date(2026, 12, 2),
        "due_on": dt.date(2026, 12, 15),
    }
    return services.disclosure_record(**{**fields, **changes})


def approved(world, manager2, **changes):
    disclosure = record(world, **changes)
    return services.disclosure_decide(
        disclosure_id=disclosure.pk, approve=True, reason="令状に基づく照会", actor=manager2
    )


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def actions(disclosure: DisclosureRequest) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="disclosurerequest", object_id=str(disclosure.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_disclosure_form_records_a_pending_request_with_its_scope_audited(world):
    client = signed_in_client(world.manager)

    response = client.post(
        "/staff/disclosures/new/",
        {**FORM, "numbers": f"０１０４０－１２３４５６７８\n{world.seeker2.number}"},
    )

    disclosure = DisclosureRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/disclosures/{disclosure.pk}/"
    assert disclosure.status == "pending"
    assert disclosure.seeker_numbers == ["01040-12345678", "01040-87654321"]
    assert disclosure.categories == ["registry", "consultations"]
    assert disclosure.recorded_by == world.manager.user
    entry = AuditEntry.objects.get(action="disclosure.recorded")
    assert entry.details["seekers"] == ["01040-12345678", "01040-87654321"]
    assert entry.details["legal_basis"] == "cpc_197_2"


def test_disclosure_form_refuses_another_offices_number_next_to_the_field(world):
    client = signed_in_client(world.manager)

    response = client.post(
        "/staff/disclosures/new/", {**FORM, "numbers": world.other_seeker.number}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert DisclosureRequest.objects.count() == 0
    assert 'id="id_numbers_error"' in html
    assert 'aria-describedby="id_numbers_helptext id_numbers_error"' in html
    assert world.other_seeker.number in html


def test_disclosure_other_legal_basis_needs_the_provision(world):
    with pytest.raises(BookingError) as refused:
        record(world, legal_basis="other", legal_basis_text=" ")

    assert refused.value.code == "invalid_input"
    assert refused.value.field == "legal_basis_text"
    other = record(world, legal_basis="other", legal_basis_text="民事訴訟法第186条")
    assert other.legal_basis_label == "民事訴訟法第186条"


def test_disclosure_recorder_cannot_approve_their_own_request(world):
    disclosure = record(world)
    client = signed_in_client(world.manager)

    page = client.get(f"/staff/disclosures/{disclosure.pk}/")
    response = client.post(
        f"/staff/disclosures/{disclosure.pk}/decide/",
        {"decision": "approve", "reason": "自分で承認"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    disclosure.refresh_from_db()
    assert disclosure.status == "pending"
    assert disclosure.decided_by is None
    assert 'name="decision"' not in page.content.decode()
    assert "You recorded this request: another manager must approve or reject it." in [
        str(m) for m in response.context["messages"]
    ]
    assert actions(disclosure) == ["disclosure.recorded", "disclosure.viewed", "disclosure.viewed"]


def test_disclosure_second_manager_approves_with_a_reason(world, manager2):
    disclosure = record(world)
    client = signed_in_client(manager2)

    response = client.post(
        f"/staff/disclosures/{disclosure.pk}/decide/",
        {"decision": "approve", "reason": "令状の写しを確認"},
    )

    disclosure.refresh_from_db()
    assert response.status_code == 302
    assert (disclosure.status, disclosure.decided_by, disclosure.decision_reason) == (
        "approved",
        manager2.user,
        "令状の写しを確認",
    )
    assert actions(disclosure) == ["disclosure.recorded", "disclosure.approved"]


def test_disclosure_decision_needs_a_reason_and_happens_once(world, manager2):
    disclosure = record(world)

    with pytest.raises(BookingError) as no_reason:
        services.disclosure_decide(
            disclosure_id=disclosure.pk, approve=False, reason="  ", actor=manager2
        )
    services.disclosure_decide(
        disclosure_id=disclosure.pk, approve=False, reason="法的根拠が不明", actor=manager2
    )
    with pytest.raises(BookingError) as again:
        services.disclosure_decide(
            disclosure_id=disclosure.pk, approve=True, reason="再検討", actor=manager2
        )

    disclosure.refresh_from_db()
    assert no_reason.value.code == "invalid_input"
    assert again.value.code == "invalid_transition"
    assert disclosure.status == "rejected"
    assert actions(disclosure) == ["disclosure.recorded", "disclosure.rejected"]


def test_disclosure_rejected_request_cannot_be_exported(world, manager2):
    disclosure = record(world)
    services.disclosure_decide(
        disclosure_id=disclosure.pk, approve=False, reason="法的根拠が不明", actor=manager2
    )

    with pytest.raises(BookingError) as refused:
        services.disclosure_export(disclosure_id=disclosure.pk, actor=world.manager)

    assert refused.value.code == "invalid_transition"


def test_disclosure_export_is_exactly_the_approved_scope(world, manager2):
    hold_data(world.seeker, world.coordinator, day=2)
    hold_data(world.seeker, world.coordinator, day=3)  # after the period
    hold_data(world.seeker2, world.coordinator, day=2)  # not named
    disclosure = approved(world, manager2)

    archive = services.disclosure_export(disclosure_id=disclosure.pk, actor=world.manager)

    files = unzip(archive.content)
    assert sorted(files) == ["consultations.json", "manifest.json", "registry.json"]
    registry = json.loads(files["registry.json"])
    consultations = json.loads(files["consultations.json"])
    assert list(registry) == [world.seeker.number] == list(consultations)
    assert registry[world.seeker.number]["name"] == world.seeker.name
    held = consultations[world.seeker.number]
    assert [c["start"] for c in held["consultations"]] == [
        "2026-12-02T01:00:00+00:00",
        "2026-12-02T04:00:00+00:00",
    ]
    assert held["no_shows"] == ["2026-12-02T04:00:00+00:00"]
    assert "notes" not in json.dumps(held["consultations"])
    assert len(held["requests"]) == 4  # all made today, 1 December, inside the period


def test_disclosure_export_manifest_hashes_every_file_and_is_signed(world, manager2):
    disclosure = approved(world, manager2)

    archive = services.disclosure_export(disclosure_id=disclosure.pk, actor=world.manager)

    files = unzip(archive.content)
    manifest = json.loads(files["manifest.json"])
    import hashlib

    assert manifest["files"] == {
        name: hashlib.sha256(data).hexdigest()
        for name, data in files.items()
        if name != "manifest.json"
    }
    assert manifest["reference"] == "釧方刑第123号"
    assert manifest["approved_by"] == "kobayashi"
    assert manifest["signature"] == archive.signature
    assert services.archive_verify(content=archive.content) is True
    assert archive.sha256 == hashlib.sha256(archive.content).hexdigest()


def test_archive_verify_catches_a_changed_file(world, manager2):
    disclosure = approved(world, manager2)
    archive = services.disclosure_export(disclosure_id=disclosure.pk, actor=world.manager)
    files = unzip(archive.content)
    files["registry.json"] = files["registry.json"].replace(b"01040", b"01041")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as changed:
        for name, data in files.items():
            changed.writestr(name, data)

    assert services.archive_verify(content=buffer.getvalue()) is False


def test_archive_verify_catches_a_forged_manifest(world, manager2):
    disclosure = approved(world, manager2)
    archive = services.disclosure_export(disclosure_id=disclosure.pk, actor=world.manager)
    files = unzip(archive.content)
    manifest = json.loads(files["manifest.json"])
    manifest["seekers"] = ["01040-00000000"]
    files["manifest.json"] = json.dumps(manifest).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as changed:
        for name, data in files.items():
            changed.writestr(name, data)

    assert services.archive_verify(content=buffer.getvalue()) is False


def test_disclosure_download_happens_once_and_is_audited_with_its_hash(world, manager2):
    disclosure = approved(world, manager2)
    client = signed_in_client(world.manager)

    first = client.post(f"/staff/disclosures/{disclosure.pk}/export/")
    content = b"".join(first.streaming_content)
    second = client.post(
        f"/staff/disclosures/{disclosure.pk}/export/", follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    page = client.get(f"/staff/disclosures/{disclosure.pk}/").content.decode()

    disclosure.refresh_from_db()
    assert first.status_code == 200
    assert first["Content-Type"] == "application/zip"
    assert first["Content-Disposition"] == (
        f'attachment; filename="disclosure-{disclosure.pk}.zip"'
    )
    assert services.archive_verify(content=content) is True
    assert [str(m) for m in second.context["messages"]] == [
        "Only an approved request can be exported, and only once."
    ]
    assert disclosure.status == "exported"
    entry = AuditEntry.objects.get(action="disclosure.exported")
    assert entry.details["sha256"] == disclosure.export_sha256 == first["X-Archive-SHA256"]
    assert disclosure.export_signature in page
    assert disclosure.export_sha256 in page


@pytest.mark.parametrize("role", ["counselor", "coordinator"])
@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/staff/disclosures/"),
        ("get", "/staff/disclosures/new/"),
        ("post", "/staff/disclosures/new/"),
        ("get", "/staff/disclosures/{pk}/"),
        ("post", "/staff/disclosures/{pk}/decide/"),
        ("post", "/staff/disclosures/{pk}/export/"),
    ],
    ids=["list", "form", "record", "detail", "decide", "export"],
)
def test_disclosure_pages_refuse_counselors_and_coordinators(world, manager2, role, method, path):
    disclosure = approved(world, manager2)
    client = signed_in_client(getattr(world, role))

    response = getattr(client, method)(
        path.format(pk=disclosure.pk),
        {**FORM, "numbers": world.seeker.number, "decision": "approve"}
        if method == "post"
        else None,
    )

    disclosure.refresh_from_db()
    assert response.status_code == 403
    assert FORM["reference"] not in response.content.decode()
    assert disclosure.status == "approved"
    assert DisclosureRequest.objects.count() == 1


def test_auditor_reads_the_register_but_cannot_record_decide_or_export(world, manager2):
    pending = record(world)
    client = signed_in_client(world.auditor)

    listing = client.get("/staff/disclosures/")
    detail = client.get(f"/staff/disclosures/{pending.pk}/")
    new = client.get("/staff/disclosures/new/")
    decide = client.post(
        f"/staff/disclosures/{pending.pk}/decide/", {"decision": "approve", "reason": "x"}
    )
    export = client.post(f"/staff/disclosures/{pending.pk}/export/")

    pending.refresh_from_db()
    assert listing.status_code == detail.status_code == 200
    assert FORM["reference"] in listing.content.decode()
    assert "Record a new request" not in listing.content.decode()
    assert 'name="decision"' not in detail.content.decode()
    assert (new.status_code, decide.status_code, export.status_code) == (403, 403, 403)
    assert pending.status == "pending"


def test_disclosure_of_another_office_is_not_found(world):
    disclosure = record(world)
    other_manager = make_staff(world.other_office, "manager", "nakamura")

    response = signed_in_client(other_manager).get(f"/staff/disclosures/{disclosure.pk}/")

    assert response.status_code == 404
    assert FORM["reference"] not in response.content.decode()


@pytest.mark.parametrize("count", [1, 12], ids=["one", "many"])
def test_disclosure_list_query_count_does_not_grow(world, django_assert_num_queries, count):
    for n in range(count):
        record(world, reference=f"照会{n}")
    client = signed_in_client(world.auditor)
    client.get("/staff/disclosures/")  # session and user caches warm

    with django_assert_num_queries(8):
        response = client.get("/staff/disclosures/")

    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize(
    "content",
    [b"not a zip", b""],
    ids=["garbage", "empty"],
)
def test_archive_verify_refuses_what_is_not_an_archive(content):
    assert services.archive_verify(content=content) is False


def test_disclosure_form_ties_a_malformed_number_to_its_field(world):
    response = signed_in_client(world.manager).post(
        "/staff/disclosures/new/", {**FORM, "numbers": "01040-123"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "numbers": ["求職番号は13桁の数字です（例：01040-12345678）。"]
    }
    assert DisclosureRequest.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_disclosure_concurrent_exports_give_one_archive(world, manager2):
    import threading

    from django.db import connection

    disclosure = approved(world, manager2)
    racers = 6
    start = threading.Barrier(racers)
    outcomes: list[str] = []

    def race(actor):
        try:
            start.wait(timeout=10)
            services.disclosure_export(disclosure_id=disclosure.pk, actor=actor)
            outcomes.append("exported")
        except BookingError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=race, args=(world.manager if n % 2 else manager2,))
        for n in range(racers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["exported"] + ["invalid_transition"] * (racers - 1)
    assert AuditEntry.objects.filter(action="disclosure.exported").count() == 1


def test_disclosure_unanswered_after_the_due_date_is_overdue(world, manager2, frozen_now):
    pending = record(world, reference="期限内", due_on=dt.date(2026, 12, 1))
    late = record(world, reference="期限切れ", due_on=dt.date(2026, 11, 30))
    done = approved(world, manager2, reference="出力済み", due_on=dt.date(2026, 11, 30))
    services.disclosure_export(disclosure_id=done.pk, actor=world.manager)
    done.refresh_from_db()

    assert [pending.overdue, late.overdue, done.overdue] == [False, True, False]


def test_disclosure_export_removes_links_and_passcodes_from_mails(world, manager2):
    secrets = mails_with_secrets(world)
    disclosure = approved(world, manager2, categories=["mails"])

    archive = services.disclosure_export(disclosure_id=disclosure.pk, actor=world.manager)

    mails = json.loads(unzip(archive.content)["mails.json"])[world.seeker.number]
    text = " ".join(m["text"] for m in mails)
    assert len(mails) == OutboxMail.objects.filter(seeker=world.seeker).count() >= 3
    assert "/requests/status/" not in text and "/requests/verify/" not in text
    assert not any(secret in text for secret in secrets)
    assert "[removed]" in text
    assert world.seeker.name in text  # the rest of the mail stays


def test_disclosure_usage_category_says_it_holds_page_views_with_ip_and_device(world):
    disclosure = record(world, categories=["usage"])

    with translation.override("en"):
        labels = disclosure.category_labels()

    assert labels == ["Usage records (meeting events; page views with IP address and device)"]


SET_DECIDER = "UPDATE records_disclosurerequest SET status = %s, decided_by_id = %s WHERE id = %s"
SET_EXPORT = (
    "UPDATE records_disclosurerequest SET status = 'exported', exported_by_id = %s,"
    " export_sha256 = %s WHERE id = %s"
)


def _raw_update(sql: str, params: list) -> None:
    """An UPDATE behind Django's back, in a savepoint so a refusal leaves the test usable."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("status", ["approved", "rejected", "exported"])
def test_disclosure_decided_without_a_decider_is_refused_by_the_database(world, manager2, status):
    disclosure = approved(world, manager2)

    with pytest.raises(IntegrityError):
        _raw_update(SET_DECIDER, [status, None, disclosure.pk])

    disclosure.refresh_from_db()
    assert (disclosure.status, disclosure.decided_by_id) == ("approved", manager2.user.pk)


def test_disclosure_pending_without_a_decider_is_allowed_by_the_database(world, manager2):
    disclosure = approved(world, manager2)

    _raw_update(SET_DECIDER, ["pending", None, disclosure.pk])

    disclosure.refresh_from_db()
    assert (disclosure.status, disclosure.decided_by_id) == ("pending", None)


@pytest.mark.parametrize(
    ("exporter", "sha256"),
    [(False, ""), (False, "ab" * 32), (True, "")],
    ids=["neither", "no-exporter", "no-hash"],
)
def test_disclosure_exported_without_exporter_and_hash_is_refused_by_the_database(
    world, manager2, exporter, sha256
):
    disclosure = approved(world, manager2)
    exported_by = world.manager.user.pk if exporter else None

    with pytest.raises(IntegrityError):
        _raw_update(SET_EXPORT, [exported_by, sha256, disclosure.pk])

    disclosure.refresh_from_db()
    assert disclosure.status == "approved"
    _raw_update(SET_EXPORT, [world.manager.user.pk, "ab" * 32, disclosure.pk])  # both: allowed
    disclosure.refresh_from_db()
    assert (disclosure.status, disclosure.exported_by_id) == ("exported", world.manager.user.pk)
