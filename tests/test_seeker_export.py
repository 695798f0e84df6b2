"""A seeker's own-data export (開示請求): everything held about them, for managers only."""

import hashlib
import io
import json
import zipfile

import pytest

from madoguchi.notifications.models import OutboxMail
from madoguchi.records import disclosure as services
from madoguchi.records.models import AuditEntry
from madoguchi.terms.models import Consent
from tests.factories import make_staff
from tests.held_data import hold_data, mails_with_secrets
from tests.signin import signed_in_client


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def url(seeker) -> str:
    return f"/staff/disclosures/own-data/{seeker.number}/"


def test_seeker_export_holds_everything_about_the_seeker(world):
    held = hold_data(world.seeker, world.coordinator)
    hold_data(world.seeker2, world.coordinator, day=3)
    client = signed_in_client(world.manager)

    response = client.post(url(world.seeker))

    content = b"".join(response.streaming_content)
    files = unzip(content)
    assert response["Content-Disposition"] == 'attachment; filename="own-data-01040-12345678.zip"'
    assert sorted(files) == [
        "consultations.json",
        "mails.json",
        "manifest.json",
        "notes.json",
        "registry.json",
        "summary.txt",
        "usage.json",
    ]
    registry = json.loads(files["registry.json"])
    assert registry["email"] == world.seeker.email
    assert len(registry["consents"]) == Consent.objects.filter(seeker=world.seeker).count() > 0
    bookings = json.loads(files["consultations.json"])
    assert [c["id"] for c in bookings["consultations"]] == [held.completed.pk, held.no_show.pk]
    assert bookings["no_shows"] == ["2026-12-02T04:00:00+00:00"]
    assert json.loads(files["notes.json"]) == [
        {
            "consultation": held.completed.pk,
            "start": "2026-12-02T01:00:00+00:00",
            "outcome": "求人3件を紹介",
            "notes": "介護職を希望。次回は応募書類を確認。",
            "stop_note": "",
        }
    ]
    usage = json.loads(files["usage.json"])
    assert [e["event"] for e in usage["meeting_events"]] == ["meeting.participant_joined"]
    assert [v["page"] for v in usage["page_views"]] == ["seeker-request-status"]
    mails = json.loads(files["mails.json"])
    assert [m["subject"] for m in mails if m["status"] == "sent"] == [held.mail.subject]
    assert world.seeker2.number not in files["consultations.json"].decode()
    assert services.archive_verify(content=content) is True


def test_seeker_export_summary_is_in_japanese(world):
    hold_data(world.seeker, world.coordinator)

    archive = services.seeker_export(seeker=world.seeker, actor=world.manager)

    summary = unzip(archive.content)["summary.txt"].decode()
    assert summary.startswith("保有個人情報の開示（オンライン職業相談）\nハローワーク釧路")
    assert f"求職番号 {world.seeker.number}" in summary
    assert "■ 参加が確認できず取消しとなった相談（1件）\n・2026-12-02 13:00\n" in summary
    assert "記録：介護職を希望。次回は応募書類を確認。" in summary


def test_seeker_export_is_audited_with_the_archive_hash(world):
    archive = services.seeker_export(seeker=world.seeker, actor=world.manager)

    entry = AuditEntry.objects.get(action="seeker.exported")
    assert (entry.object_id, entry.actor) == (str(world.seeker.pk), world.manager.user)
    assert entry.details["sha256"] == archive.sha256 == hashlib.sha256(archive.content).hexdigest()
    assert entry.details["withheld"] == ""
    assert services.archive_verify(content=archive.content) is True


def test_seeker_export_withholds_notes_only_with_a_reason(world):
    hold_data(world.seeker, world.coordinator)
    client = signed_in_client(world.manager)

    refused = client.post(url(world.seeker), {"withhold_notes": "1", "withhold_reason": " "})
    response = client.post(
        url(world.seeker), {"withhold_notes": "1", "withhold_reason": "相談業務に支障"}
    )

    html = refused.content.decode()
    assert refused.status_code == 422
    assert 'aria-describedby="withhold-reason-error"' in html
    assert 'id="withhold-reason-error"' in html
    files = unzip(b"".join(response.streaming_content))
    assert "notes.json" not in files
    assert "介護職" not in b"".join(files.values()).decode()
    assert json.loads(files["manifest.json"])["notes_withheld"] == "相談業務に支障"
    assert "相談記録は開示していません。理由：相談業務に支障" in files["summary.txt"].decode()
    assert AuditEntry.objects.get(action="seeker.exported").details["withheld"] == "相談業務に支障"


@pytest.mark.parametrize("role", ["counselor", "coordinator", "auditor"])
def test_seeker_export_refuses_other_roles(world, role):
    client = signed_in_client(getattr(world, role))

    page = client.get(url(world.seeker))
    download = client.post(url(world.seeker))

    assert (page.status_code, download.status_code) == (403, 403)
    assert world.seeker.email not in download.content.decode()
    assert not AuditEntry.objects.filter(action="seeker.exported").exists()


def test_seeker_export_of_another_offices_seeker_is_not_found(world):
    response = signed_in_client(world.manager).post(url(world.other_seeker))

    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="seeker.exported").exists()


def test_seeker_record_links_the_export_for_managers_only(world):
    link = f'href="{url(world.seeker)}"'

    as_manager = signed_in_client(world.manager).get(f"/staff/seekers/{world.seeker.number}/")
    as_coordinator = signed_in_client(world.coordinator).get(
        f"/staff/seekers/{world.seeker.number}/"
    )

    assert link in as_manager.content.decode()
    assert link not in as_coordinator.content.decode()


def test_seeker_export_page_says_what_the_archive_holds(world):
    other_manager = make_staff(world.office, "manager", "kobayashi")

    page = signed_in_client(other_manager).get(url(world.seeker))

    html = page.content.decode()
    assert page.status_code == 200
    assert ": 01040-12345678</h1>" in html
    assert 'name="withhold_reason"' in html
    assert not AuditEntry.objects.filter(action="seeker.exported").exists()


def test_seeker_export_removes_links_and_passcodes_from_mails(world):
    secrets = mails_with_secrets(world)

    archive = services.seeker_export(seeker=world.seeker, actor=world.manager)

    mails = json.loads(unzip(archive.content)["mails.json"])
    text = " ".join(m["text"] for m in mails)
    assert len(mails) == OutboxMail.objects.filter(seeker=world.seeker).count() >= 3
    assert "/requests/status/" not in text and "/requests/verify/" not in text
    assert not any(secret in text for secret in secrets)
    assert text.count("[removed]") >= 4
