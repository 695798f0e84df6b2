"""The seeker registry in the staff web: registering and editing a seeker, and importing
seekers from a CSV file through a preview that saves nothing until confirmed."""

import datetime as dt
import io
import re

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from madoguchi.records.models import AuditEntry
from madoguchi.seekers import services as seeker_services
from madoguchi.seekers.models import Seeker
from madoguchi.web import registry
from tests.factories import make_seeker
from tests.signin import signed_in_client

HEADER = "number,name,name_kana,email,phone,counselor,registered_on,expires_on,language\n"


def new_seeker_form(**changes) -> dict:
    form = {
        "number": "０１０４０－２２２２３３３３",  # full-width, as typed on a Japanese keyboard
        "name": "釧路 花子",
        "name_kana": "クシロ ハナコ",
        "email": "hanako@example.org",
        "phone": "0154-00-1111",
        "counselor": "sato",
        "registered_on": "2026-11-02",
        "expires_on": "2027-11-01",
        "status": "active",
        "language": "ja",
    }
    return form | changes


# A number at another office: said without naming or implying it (the same everywhere).
NUMBER_ELSEWHERE = (
    "This number cannot be registered here. Check the number, or ask the registry administrator."
)


def edit_form(seeker: Seeker, **changes) -> dict:
    form = {
        "number": seeker.number,
        "name": seeker.name,
        "name_kana": seeker.name_kana,
        "email": seeker.email,
        "phone": seeker.phone,
        "counselor": seeker.counselor.user.username if seeker.counselor else "",
        "registered_on": seeker.registered_on.isoformat(),
        "expires_on": seeker.expires_on.isoformat(),
        "status": seeker.status,
        "language": seeker.language,
    }
    return form | changes


def english_client(person):
    client = signed_in_client(person)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def error_of(html: str, field: str) -> list[str]:
    """The error texts tied to `field` (the list the field's aria-describedby names)."""
    match = re.search(
        rf'<div id="id_{field}_error" role="alert"><ul class="errorlist">(.*?)</ul>', html, re.S
    )
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def csv_file(text: str, encoding: str = "utf-8", name: str = "seekers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def payload_of(html: str) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', html)
    assert match, "the preview offers no import button"
    return match.group(1)


def preview_rows(html: str) -> list[list[str]]:
    """The preview table's rows as their cells' text."""
    body = re.search(r'<table class="import-preview">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, "no preview table"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [
        [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in cells]
        for cells in (re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows)
    ]


# Registering ------------------------------------------------------------------------------


def test_register_a_seeker_stores_the_canonical_number_and_audits(world):
    client = signed_in_client(world.coordinator)

    response = client.post("/staff/seekers/new/", new_seeker_form())

    assert response.status_code == 302
    assert response["Location"] == "/staff/seekers/01040-22223333/"
    seeker = Seeker.objects.get(number="01040-22223333")
    assert (seeker.office, seeker.counselor, seeker.name, seeker.expires_on) == (
        world.office,
        world.counselor,
        "釧路 花子",
        dt.date(2027, 11, 1),
    )
    assert list(
        AuditEntry.objects.filter(object_type="seeker", object_id=str(seeker.pk)).values_list(
            "action", "actor"
        )
    ) == [("seeker.created", world.coordinator.user.pk)]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param(
            {"number": "01040-123"},
            "number",
            "A job-seeker number has 13 digits, like 01040-12345678.",
            id="short-number",
        ),
        pytest.param(
            {"number": "01040-87654321"},
            "number",
            "Job seeker with this Job-seeker number already exists.",
            id="number-exists",
        ),
        pytest.param(
            {"expires_on": "2026-10-01"},
            "expires_on",
            "The registration cannot expire before it starts.",
            id="expires-first",
        ),
        pytest.param({"email": "hanako@"}, "email", "Enter a valid email address.", id="bad-email"),
        pytest.param(
            {"number": "01010-11112222"},  # the other office's seeker
            "number",
            NUMBER_ELSEWHERE,
            id="number-elsewhere",
        ),
        pytest.param(
            {"counselor": "takahashi"},
            "counselor",
            "Select a valid choice. takahashi is not one of the available choices.",
            id="other-office-counselor",
        ),
    ],
)
def test_register_shows_the_error_at_its_field_and_keeps_the_input(world, changes, field, message):
    client = english_client(world.manager)

    response = client.post("/staff/seekers/new/", new_seeker_form(**changes))

    html = response.content.decode()
    assert (response.status_code, error_of(html, field)) == (200, [message])
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error"', html)
    assert 'value="釧路 花子"' in html and 'value="クシロ ハナコ"' in html  # nothing typed lost
    assert 'value="0154-00-1111"' in html
    assert Seeker.objects.filter(name="釧路 花子").count() == 0


@pytest.mark.parametrize("who", ["counselor", "auditor"])
def test_register_is_refused_to_counselors_and_auditors(world, who):
    client = signed_in_client(getattr(world, who))

    page = client.get("/staff/seekers/new/")
    sent = client.post("/staff/seekers/new/", new_seeker_form())

    assert (page.status_code, sent.status_code) == (403, 403)
    assert not Seeker.objects.filter(number="01040-22223333").exists()


# Editing ----------------------------------------------------------------------------------


def test_coordinator_edits_every_field_and_the_change_is_audited_by_name(world):
    client = signed_in_client(world.coordinator)
    form = edit_form(
        world.seeker, number="01040 99998888", counselor="suzuki", phone="0154-22-3333"
    )

    response = client.post(f"/staff/seekers/{world.seeker.number}/edit/", form)

    assert response["Location"] == "/staff/seekers/01040-99998888/"
    world.seeker.refresh_from_db()
    assert (world.seeker.number, world.seeker.counselor, world.seeker.phone) == (
        "01040-99998888",
        world.counselor2,
        "0154-22-3333",
    )
    entry = AuditEntry.objects.get(action="seeker.updated")
    assert (entry.actor, entry.object_id, entry.details) == (
        world.coordinator.user,
        str(world.seeker.pk),
        {"fields": ["number", "phone", "counselor"]},
    )


def test_edit_refuses_a_number_that_exists_and_keeps_the_input(world):
    client = english_client(world.manager)
    form = edit_form(world.seeker, number=world.seeker2.number, name="釧路 一郎")

    response = client.post(f"/staff/seekers/{world.seeker.number}/edit/", form)

    html = response.content.decode()
    assert error_of(html, "number") == ["Job seeker with this Job-seeker number already exists."]
    assert 'value="釧路 一郎"' in html
    name = world.seeker.name
    world.seeker.refresh_from_db()
    assert (world.seeker.number, world.seeker.name) == ("01040-12345678", name)
    assert not AuditEntry.objects.filter(action="seeker.updated").exists()


def test_counselor_edits_only_the_contact_fields_of_their_own_seeker(world):
    client = signed_in_client(world.counselor)
    url = f"/staff/seekers/{world.seeker.number}/edit/"
    page = client.get(url).content.decode()

    response = client.post(
        url,
        {"email": "new@example.org", "phone": "0154-99-0000", "name": "別人", "status": "inactive"},
    )

    assert 'name="email"' in page and 'name="name"' not in page and 'name="number"' not in page
    assert response.status_code == 302
    world.seeker.refresh_from_db()
    assert (world.seeker.email, world.seeker.phone, world.seeker.status) == (
        "new@example.org",
        "0154-99-0000",
        "active",
    )
    assert world.seeker.name != "別人"


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        pytest.param("counselor", "seeker2", 403, id="counselor-other-caseload"),
        pytest.param("counselor", "other_seeker", 404, id="counselor-other-office"),
        pytest.param("coordinator", "other_seeker", 404, id="coordinator-other-office"),
        pytest.param("auditor", "seeker", 403, id="auditor"),
    ],
)
def test_edit_by_direct_url_is_refused(world, who, target, status):
    seeker = getattr(world, target)
    client = signed_in_client(getattr(world, who))
    url = f"/staff/seekers/{seeker.number}/edit/"

    page = client.get(url)
    sent = client.post(url, {"email": "taken@example.org", "phone": "1"})

    assert (page.status_code, sent.status_code) == (status, status)
    assert seeker.name not in page.content.decode()
    seeker.refresh_from_db()
    assert seeker.email != "taken@example.org"
    assert not AuditEntry.objects.filter(action="seeker.updated").exists()


def test_opening_the_edit_page_is_audited_as_a_view(world):
    signed_in_client(world.coordinator).get(f"/staff/seekers/{world.seeker.number}/edit/")

    assert list(
        AuditEntry.objects.filter(object_type="seeker").values_list("action", "object_id")
    ) == [("seeker.viewed", str(world.seeker.pk))]


def test_list_and_record_link_to_register_import_and_edit(world):
    coordinator = signed_in_client(world.coordinator)
    counselor = signed_in_client(world.counselor)

    listing = coordinator.get("/staff/seekers/").content.decode()
    record = coordinator.get(f"/staff/seekers/{world.seeker.number}/").content.decode()
    counselor_listing = counselor.get("/staff/seekers/").content.decode()
    counselor_record = counselor.get(f"/staff/seekers/{world.seeker.number}/").content.decode()

    assert 'href="/staff/seekers/new/"' in listing and 'href="/staff/seekers/import/"' in listing
    assert 'href="/staff/seekers/new/"' not in counselor_listing
    assert f'href="/staff/seekers/{world.seeker.number}/edit/"' in record
    assert f'href="/staff/seekers/{world.seeker.number}/edit/"' in counselor_record


# Import with a preview --------------------------------------------------------------------

GOOD_CSV = (
    HEADER + "０１０４０－３３３３４４４４,釧路 三郎,クシロ サブロウ,saburo@example.org,,sato,"
    "2026-04-01,2027-03-31,ja\n"
    + "01040-12345678,釧路 一郎,クシロ イチロウ,ichiro@example.org,0154-00-0000,sato,"
    "2026-01-05,2027-12-31,ja\n"
)


@pytest.fixture
def known(world):
    """world.seeker as GOOD_CSV's second row writes it but for the name and phone."""
    Seeker.objects.filter(pk=world.seeker.pk).update(
        name="釧路 一郎(旧)",
        name_kana="クシロ イチロウ",
        email="ichiro@example.org",
        registered_on=dt.date(2026, 1, 5),
        expires_on=dt.date(2027, 12, 31),
    )
    return world


def test_preview_says_what_each_row_will_do_and_saves_nothing(known):
    client = english_client(known.coordinator)
    before = (Seeker.objects.count(), AuditEntry.objects.count())

    response = client.post("/staff/seekers/import/", {"file": csv_file(GOOD_CSV)})

    assert preview_rows(response.content.decode()) == [
        ["2", "01040-33334444", "釧路 三郎", "New", "—"],
        ["3", "01040-12345678", "釧路 一郎", "Update (Name, Phone)", "—"],
    ]
    assert (Seeker.objects.count(), AuditEntry.objects.count()) == before
    assert Seeker.objects.get(pk=known.seeker.pk).name == "釧路 一郎(旧)"


def test_confirm_imports_all_rows_in_one_go_and_audits_the_counts(known):
    client = english_client(known.coordinator)
    preview = client.post("/staff/seekers/import/", {"file": csv_file(GOOD_CSV)})

    response = client.post(
        "/staff/seekers/import/", {"payload": payload_of(preview.content.decode())}
    )

    assert response["Location"] == "/staff/seekers/"
    assert list(
        Seeker.objects.filter(office=known.office).values_list("number", "name", "phone")
    ) == [
        ("01040-12345678", "釧路 一郎", "0154-00-0000"),
        ("01040-33334444", "釧路 三郎", ""),
        (known.seeker2.number, known.seeker2.name, ""),
    ]
    entry = AuditEntry.objects.get(action="seeker.imported")
    assert (entry.actor, entry.details) == (
        known.coordinator.user,
        {"count": 1, "updated": 1, "unchanged": 0},
    )
    followed = client.get("/staff/seekers/").content.decode()
    assert "Imported: 1 new, 1 updated, 0 unchanged." in followed


def test_a_second_import_of_the_same_file_changes_nothing(known):
    client = english_client(known.coordinator)
    first = client.post("/staff/seekers/import/", {"file": csv_file(GOOD_CSV)})
    client.post("/staff/seekers/import/", {"payload": payload_of(first.content.decode())})

    again = client.post("/staff/seekers/import/", {"file": csv_file(GOOD_CSV)})

    assert [row[3] for row in preview_rows(again.content.decode())] == ["Unchanged", "Unchanged"]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda token: token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"), id="edited"
        ),
        pytest.param(
            lambda token: signing.dumps(
                {"office": 1, "csv": GOOD_CSV}, salt="madoguchi.web.registry.seekers-import:999"
            ),
            id="signed-for-someone-else",
        ),
    ],
)
def test_a_tampered_payload_is_refused_and_nothing_is_saved(known, tamper):
    client = english_client(known.coordinator)
    preview = client.post("/staff/seekers/import/", {"file": csv_file(GOOD_CSV)})
    count = Seeker.objects.count()

    response = client.post(
        "/staff/seekers/import/", {"payload": tamper(payload_of(preview.content.decode()))}
    )

    assert response.status_code == 400
    assert "could not be taken over safely" in response.content.decode()
    assert Seeker.objects.count() == count
    assert not AuditEntry.objects.filter(action="seeker.imported").exists()


def test_a_payload_signed_for_another_office_is_refused(world):
    token = registry._import_sign(world.coordinator, GOOD_CSV)
    world.coordinator.office = world.other_office  # moved since the preview

    with pytest.raises(signing.BadSignature):
        registry._import_unsign(world.coordinator, token)


def test_rows_with_errors_block_the_import_and_are_named(world):
    client = english_client(world.coordinator)
    text = (
        HEADER
        + "01040-33334444,釧路 三郎,,,,sato,2026-04-01,2027-03-31,ja\n"
        + "01040-123,釧路 四郎,,,,sato,2026-04-01,2027-03-31,ja\n"
        + "01040-55556666,,,not-an-address,,nobody,2026/4/1,2027-03-31,ja\n"
        + "01010-11112222,札幌 太郎,,,,,2026-04-01,2027-03-31,ja\n"
        + "01040 33334444,釧路 三郎,,,,,2026-04-01,2026-03-31,ja\n"
    )

    response = client.post("/staff/seekers/import/", {"file": csv_file(text)})

    html = response.content.decode()
    assert preview_rows(html) == [
        ["2", "01040-33334444", "釧路 三郎", "New", "—"],
        [
            "3",
            "01040-123",
            "釧路 四郎",
            "—",
            "A job-seeker number has 13 digits, like 01040-12345678.",
        ],
        [
            "4",
            "01040-55556666",
            "",
            "—",
            "There is no counselor nobody at this office. Give the seeker&#x27;s name.",
        ],
        ["5", "01010-11112222", "札幌 太郎", "—", NUMBER_ELSEWHERE],
        ["6", "01040-33334444", "釧路 三郎", "—", "number also on line 2"],
    ]
    assert "These rows have errors: 3, 4, 5, 6." in html
    assert 'name="payload"' not in html
    assert Seeker.objects.count() == 3


def test_row_errors_name_the_field_in_plain_words(world):
    client = english_client(world.coordinator)
    text = HEADER + "01040-33334444,釧路 三郎,,nope,,,2026-04-01,2026-03-31,ja\n"

    response = client.post("/staff/seekers/import/", {"file": csv_file(text)})

    assert preview_rows(response.content.decode())[0][4] == (
        "E-mail: Enter a valid email address. The registration cannot expire before it starts."
    )


def test_confirm_revalidates_and_refuses_rows_wrong_by_now(world):
    client = english_client(world.coordinator)
    preview = client.post("/staff/seekers/import/", {"file": csv_file(GOOD_CSV)})
    make_seeker(world.other_office, number="01040-33334444")  # registered elsewhere meanwhile

    response = client.post(
        "/staff/seekers/import/", {"payload": payload_of(preview.content.decode())}
    )

    assert response.status_code == 409
    assert "These rows have errors: 2." in response.content.decode()
    assert Seeker.objects.filter(office=world.office).count() == 2


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        pytest.param("utf-8-sig", HEADER, id="utf8-bom"),
        pytest.param("cp932", HEADER.replace("\n", "\r\n"), id="shift-jis"),
    ],
)
def test_import_reads_excel_files(world, encoding, text):
    client = english_client(world.coordinator)
    row = "01040-33334444,釧路 髙橋 花子,クシロ ハナコ,,,sato,2026/4/1,2027/3/31,\r\n"

    preview = client.post("/staff/seekers/import/", {"file": csv_file(text + row, encoding)})
    client.post("/staff/seekers/import/", {"payload": payload_of(preview.content.decode())})

    assert list(
        Seeker.objects.filter(number="01040-33334444").values_list(
            "name", "name_kana", "registered_on", "language"
        )
    ) == [("釧路 髙橋 花子", "クシロ ハナコ", dt.date(2026, 4, 1), "ja")]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        pytest.param(
            lambda: csv_file(HEADER + "x" * (2 * 1024 * 1024)),
            "The file is larger than 2 MB; split it into smaller files.",
            id="too-large",
        ),
        pytest.param(
            lambda: csv_file(HEADER + "01040-00000001,a,,,,,2026-04-01,2027-03-31,ja\n" * 2001),
            "The file has more than 2000 rows; split it.",
            id="too-many-rows",
        ),
        pytest.param(
            lambda: SimpleUploadedFile("x.csv", b"\xff\xfe\x00\x81", content_type="text/csv"),
            "The file is neither UTF-8 nor Shift_JIS (cp932) text.",
            id="not-text",
        ),
        pytest.param(
            lambda: csv_file("number,name\n01040-00000001,a\n"),
            "missing columns: registered_on, expires_on",
            id="missing-columns",
        ),
    ],
)
def test_an_unusable_file_is_refused_at_the_file_field(world, upload, message):
    client = english_client(world.manager)

    response = client.post("/staff/seekers/import/", {"file": upload()})

    html = response.content.decode()
    assert error_of(html, "file") == [message]
    assert "import-preview" not in html


@pytest.mark.parametrize("who", ["counselor", "auditor"])
def test_import_is_refused_to_counselors_and_auditors(world, who):
    client = signed_in_client(getattr(world, who))
    token = registry._import_sign(getattr(world, who), GOOD_CSV)

    page = client.get("/staff/seekers/import/")
    preview = client.post("/staff/seekers/import/", {"file": csv_file(GOOD_CSV)})
    confirm = client.post("/staff/seekers/import/", {"payload": token})

    assert (page.status_code, preview.status_code, confirm.status_code) == (403, 403, 403)
    assert not Seeker.objects.filter(number="01040-33334444").exists()


@pytest.mark.parametrize("rows", [1, 40])
def test_preview_query_count_does_not_grow_with_the_rows(world, rows, django_assert_num_queries):
    for n in range(rows):
        make_seeker(world.office, world.counselor, number=f"01040-5{n:07d}")
    text = HEADER + "".join(
        f"01040-5{n:07d},名前 {n},,,,{'sato' if n % 2 else 'suzuki'},2026-04-01,2027-03-31,ja\n"
        for n in range(rows * 2)
    )
    client = signed_in_client(world.coordinator)

    with django_assert_num_queries(8):  # sign-in and staff: 6; counselors, seekers: 2
        response = client.post("/staff/seekers/import/", {"file": csv_file(text)})

    assert len(preview_rows(response.content.decode())) == rows * 2


def test_rows_of_empty_cells_are_not_rows(world):
    client = english_client(world.coordinator)
    text = HEADER + "01040-33334444,釧路 三郎,,,,,2026-04-01,2027-03-31,ja\n,,,,,,,,\n , ,,,,,,,\n"

    response = client.post("/staff/seekers/import/", {"file": csv_file(text)})

    assert preview_rows(response.content.decode()) == [
        ["2", "01040-33334444", "釧路 三郎", "New", "—"]
    ]


def test_a_file_without_rows_is_refused(world):
    client = english_client(world.coordinator)

    response = client.post("/staff/seekers/import/", {"file": csv_file(HEADER + ",,,,,,,,\n")})

    assert error_of(response.content.decode(), "file") == ["The file has no rows to import."]


# The services behind the pages ------------------------------------------------------------


def test_seeker_update_without_a_change_saves_and_audits_nothing(world):
    updated_at = world.seeker.updated_at

    changed = seeker_services.seeker_update(
        seeker=world.seeker, actor=world.coordinator, email=world.seeker.email, counselor="sato"
    )

    world.seeker.refresh_from_db()
    assert (changed, world.seeker.updated_at) == ([], updated_at)
    assert not AuditEntry.objects.filter(action="seeker.updated").exists()


def test_seeker_update_refuses_fields_it_does_not_edit(world):
    with pytest.raises(ValueError, match="restriction"):
        seeker_services.seeker_update(
            seeker=world.seeker, actor=world.coordinator, restriction="none"
        )


def test_import_command_updates_a_registered_seeker(world, tmp_path):
    path = tmp_path / "seekers.csv"
    path.write_text(
        HEADER
        + f"{world.seeker.number},釧路 一郎,,,0154-00-0000,suzuki,2026-01-05,2027-12-31,ja\n",
        encoding="utf-8",
    )
    out = io.StringIO()

    call_command("import-seekers", str(path), "--office", "01040", stdout=out)

    world.seeker.refresh_from_db()
    assert (world.seeker.name, world.seeker.phone, world.seeker.counselor) == (
        "釧路 一郎",
        "0154-00-0000",
        world.counselor2,
    )
    assert out.getvalue() == (
        "Imported 0 job seekers into 01040 ハローワーク釧路.\nUpdated 1, left 0 unchanged.\n"
    )


def test_editing_other_fields_keeps_a_counselor_who_has_left(world):
    world.counselor.user.is_active = False
    world.counselor.user.save(update_fields=["is_active"])
    client = signed_in_client(world.coordinator)

    response = client.post(
        f"/staff/seekers/{world.seeker.number}/edit/", edit_form(world.seeker, phone="0154-1")
    )

    assert response.status_code == 302
    world.seeker.refresh_from_db()
    assert (world.seeker.phone, world.seeker.counselor) == ("0154-1", world.counselor)


def test_the_list_and_search_are_audited_without_the_query(world):
    client = signed_in_client(world.coordinator)

    client.get("/staff/seekers/", {"q": "求職 花子", "review": "1", "page": "1"})
    client.get("/staff/seekers/")

    entries = list(AuditEntry.objects.filter(action="seeker.list_viewed").order_by("pk"))
    assert [(e.actor, e.office_id, e.details) for e in entries] == [
        (
            world.coordinator.user,
            world.office.pk,
            {"query_length": 5, "page": 1, "count": 0, "review": True},
        ),
        (
            world.coordinator.user,
            world.office.pk,
            {"query_length": 0, "page": 1, "count": 2, "review": False},
        ),
    ]
    assert "求職" not in str([e.details for e in entries])


def test_edit_to_a_number_at_another_office_says_the_same_neutral_words(world):
    client = english_client(world.manager)
    form = edit_form(world.seeker, number=world.other_seeker.number)

    response = client.post(f"/staff/seekers/{world.seeker.number}/edit/", form)

    html = response.content.decode()
    assert error_of(html, "number") == [NUMBER_ELSEWHERE]
    assert "another office" not in html
    world.seeker.refresh_from_db()
    assert world.seeker.number == "01040-12345678"
