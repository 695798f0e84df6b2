"""The terms of use in the web (R4, R5): the seeker's pages (in force, history, one version
with what changed) and the managers' pages to publish and withdraw versions."""

import datetime as dt

import pytest
from django.test import Client

from madoguchi.offices.models import Office
from madoguchi.records.models import AuditEntry
from madoguchi.terms.diff import DiffLine, terms_diff
from madoguchi.terms.models import TermsVersion
from madoguchi.terms.services import terms_publish, terms_withdraw
from tests.factories import local
from tests.signin import signed_in_client

V1_FROM = local(2026, 1, 5, 9, 0)
V2_FROM = local(2026, 11, 20, 0, 0)  # before the frozen clock (Tue 2026-12-01 10:00)
V3_FROM = local(2026, 12, 10, 0, 0)  # after it


def publish(world, *, effective_from, body_en=None, body_ja=None, **changes):
    v1 = TermsVersion.objects.get(office=world.office, number=1)
    return terms_publish(
        office=world.office,
        title=v1.title,
        body_ja=body_ja or v1.body_ja,
        body_en=body_en or v1.body_en,
        changes_ja=changes.get("changes_ja", "変更点"),
        changes_en=changes.get("changes_en", "What changed"),
        effective_from=effective_from,
        actor=world.manager,
    )


@pytest.fixture
def versions(world, frozen_now):
    """v1 from January, v2 in force since 20 November, v3 to take effect on 10 December."""
    TermsVersion.objects.filter(office=world.office).update(effective_from=V1_FROM)
    frozen_now.move_to(V2_FROM - dt.timedelta(days=1))
    v1 = TermsVersion.objects.get(office=world.office, number=1)
    v2 = publish(
        world,
        effective_from=V2_FROM,
        body_en=v1.body_en.replace("lasts 30 to 60 minutes", "lasts 30 to 50 minutes"),
        changes_en="Consultations last at most 50 minutes.",
        changes_ja="相談時間は最長50分になりました。",
    )
    v3 = publish(
        world,
        effective_from=V3_FROM,
        body_en=v2.body_en + "\n\n12. Interpreters\nAn interpreter may join on request.",
        changes_en="Adds a section on interpreters.",
        changes_ja="通訳の項を追加しました。",
    )
    frozen_now.move_to(local(2026, 12, 1, 10, 0))
    return v1, v2, v3


def get(path: str, language: str = "en", client: Client | None = None):
    return (client or Client()).get(path, HTTP_ACCEPT_LANGUAGE=language)


# The diff ------------------------------------------------------------------------------


def test_terms_diff_marks_changed_added_and_removed_lines():
    old = "1. About\nA\nB\nC\n\n2. Use\nD"
    new = "1. About\nA\nB2\nC\n\n2. Use\nD\nE"

    groups = terms_diff(old, new, context=1)

    assert groups == [
        [
            DiffLine("same", "A"),
            DiffLine("removed", "B"),
            DiffLine("added", "B2"),
            DiffLine("same", "C"),
        ],
        [DiffLine("same", "D"), DiffLine("added", "E")],
    ]


def test_terms_diff_of_the_same_text_is_empty():
    assert terms_diff("A\n\nB  \n", "A\nB") == []


# The seeker's pages --------------------------------------------------------------------


def test_terms_page_shows_the_version_in_force_with_number_and_date(world, versions):
    response = get("/offices/01040/terms/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<dt>Version</dt><dd>2</dd>" in html
    assert ">2026-11-20 00:00</time>" in html
    assert "lasts 30 to 50 minutes" in html
    assert "A new version (3) takes effect on 2026-12-10 00:00." in html
    assert "please call the office (0154-41-1201)" in html  # filled from the office


def test_terms_page_is_in_the_page_language(world, versions):
    response = get("/offices/01040/terms/", language="ja")

    html = response.content.decode()
    assert versions[1].body_ja.splitlines()[0] in html
    assert "lasts 30 to 50 minutes" not in html


def test_terms_page_changes_when_the_new_version_takes_effect(world, versions, frozen_now):
    frozen_now.move_to(V3_FROM)

    response = get("/offices/01040/terms/")

    html = response.content.decode()
    assert "<dt>Version</dt><dd>3</dd>" in html
    assert "An interpreter may join on request." in html
    assert "takes effect on" not in html


def test_terms_page_is_cached_only_until_the_next_version(world, versions, frozen_now):
    frozen_now.move_to(V3_FROM - dt.timedelta(seconds=90))

    soon = get("/offices/01040/terms/")
    frozen_now.move_to(V3_FROM)
    later = get("/offices/01040/terms/")

    assert soon["Cache-Control"] == "private, max-age=90"
    assert later["Cache-Control"] == "private, max-age=300"
    assert "Accept-Language" in later["Vary"]


def test_terms_history_lists_versions_newest_first_with_upcoming(world, versions):
    response = get("/offices/01040/terms/history/")

    html = response.content.decode()
    assert response.status_code == 200
    positions = [html.index(f"Version {n}") for n in (3, 2, 1)]
    assert positions == sorted(positions)
    assert html.count('<span class="status warn">upcoming</span>') == 1
    assert html.count('<span class="status ok">in force</span>') == 1
    assert html.index("upcoming") < html.index("Version 2")
    assert "Adds a section on interpreters." in html
    assert "Consultations last at most 50 minutes." in html
    assert 'Takes effect on\n  <time datetime="2026-12-10T00:00:00+09:00">' in html


def test_terms_history_leaves_out_withdrawn_versions(world, versions):
    terms_withdraw(version=versions[2], actor=world.manager)

    response = get("/offices/01040/terms/history/")

    html = response.content.decode()
    assert "Version 3" not in html
    assert "Version 2" in html


def test_terms_history_query_count(world, versions, django_assert_num_queries):
    client = Client()
    get("/offices/01040/terms/history/", client=client)

    with django_assert_num_queries(3):  # the office, its versions; the usage record (R19)
        get("/offices/01040/terms/history/", client=client)


def test_terms_version_page_shows_summary_and_diff(world, versions):
    response = get("/offices/01040/terms/2/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Terms of use, version 2</h1>" in html
    assert "Consultations last at most 50 minutes." in html
    assert "Changes to the text since version 1" in html
    removed = (
        '<del><span class="visually-hidden">Removed: </span>- A consultation lasts 30 to 60 minutes'
    )
    added = (
        '<ins><span class="visually-hidden">Added: </span>- A consultation lasts 30 to 50 minutes'
    )
    assert html.count(removed) == 1
    assert html.count(added) == 1
    assert html.count("<ins>") == 1 and html.count("<del>") == 1


def test_terms_version_page_of_an_upcoming_version(world, versions):
    response = get("/offices/01040/terms/3/")

    html = response.content.decode()
    assert "Takes effect on" in html
    assert '<span class="status warn">upcoming</span>' in html
    assert html.count("<ins>") == 2  # the heading and the sentence
    assert "<del>" not in html


def test_terms_version_page_of_the_first_version(world, versions):
    response = get("/offices/01040/terms/1/")

    html = response.content.decode()
    assert "This is the first version." in html
    assert "<ins>" not in html
    assert "no longer in force" in html


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("/offices/99999/terms/", "There is no office with this number.", id="office"),
        pytest.param(
            "/offices/99999/terms/history/", "There is no office with this number.", id="history"
        ),
        pytest.param(
            "/offices/01040/terms/9/", "This version of the terms does not exist.", id="version"
        ),
    ],
)
def test_terms_pages_unknown_office_or_version_is_a_404_page(world, versions, path, message):
    response = get(path)

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()
    assert message in response.content.decode()


def test_terms_version_page_withdrawn_version_is_a_404(world, versions):
    terms_withdraw(version=versions[2], actor=world.manager)

    response = get("/offices/01040/terms/3/")

    assert response.status_code == 404


def test_terms_pages_of_another_office_show_its_own_terms(world, versions):
    response = get("/offices/01010/terms/history/")

    html = response.content.decode()
    assert "Version 1" in html
    assert "Version 2" not in html


# The staff web: managers publish and withdraw, auditors read -----------------------------


def draft(world, **overrides) -> dict:
    v1 = TermsVersion.objects.get(office=world.office, number=1)
    form = {
        "title": v1.title,
        "body_ja": v1.body_ja + "\n13. 通訳\n通訳者が同席できます。",
        "body_en": v1.body_en + "\n13. Interpreters\nAn interpreter may join.",
        "changes_ja": "通訳の項を追加",
        "changes_en": "Adds interpreters",
        "effective_from": "2026-12-10T09:00",
        "action": "preview",
    }
    return form | overrides


def test_staff_terms_list_shows_versions_and_states(world, versions, django_assert_num_queries):
    client = signed_in_client(world.manager)
    terms_withdraw(version=versions[2], actor=world.manager)
    v4 = publish(world, effective_from=local(2026, 12, 20, 0, 0))

    # session, user, OTP device, sign-in generation, staff, office; count, page, in force
    with django_assert_num_queries(9):
        response = client.get("/staff/terms/", HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    states = [html.index(f"Version {n}</a>") for n in (4, 3, 2, 1)]
    assert states == sorted(states)
    assert html.count('<span class="status warn">upcoming</span>') == 1
    assert html.count('<span class="status bad">withdrawn</span>') == 1
    assert html.count('<span class="status ok">in force</span>') == 1
    assert f'href="/staff/terms/{v4.number}/"' in html
    assert 'href="/staff/terms/new/"' in html
    assert 'aria-current="page">Terms</a>' in html
    assert "<td>Consultations last at most 50 minutes.</td>" in html


def test_staff_terms_list_for_auditor_reads_without_drafting(world, versions):
    client = signed_in_client(world.auditor)

    list_page = client.get("/staff/terms/", HTTP_ACCEPT_LANGUAGE="en")
    detail = client.get("/staff/terms/3/", HTTP_ACCEPT_LANGUAGE="en")

    assert list_page.status_code == 200
    assert "/staff/terms/new/" not in list_page.content.decode()
    assert detail.status_code == 200
    assert "Withdraw this version" not in detail.content.decode()


@pytest.mark.parametrize("persona", ["counselor", "coordinator"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/staff/terms/"),
        ("get", "/staff/terms/new/"),
        ("get", "/staff/terms/1/"),
        ("post", "/staff/terms/3/withdraw/"),
    ],
)
def test_staff_terms_refused_to_counselors_and_coordinators(world, versions, persona, method, path):
    client = signed_in_client(getattr(world, persona))

    response = getattr(client, method)(path)

    assert response.status_code == 403
    assert TermsVersion.objects.get(office=world.office, number=3).withdrawn_at is None


def test_staff_terms_auditor_cannot_publish_or_withdraw(world, versions):
    client = signed_in_client(world.auditor)

    publish_response = client.post("/staff/terms/new/", draft(world, action="publish"))
    withdraw_response = client.post("/staff/terms/3/withdraw/")

    assert (publish_response.status_code, withdraw_response.status_code) == (403, 403)
    assert TermsVersion.objects.filter(office=world.office).count() == 3
    assert TermsVersion.objects.get(office=world.office, number=3).withdrawn_at is None


def test_staff_terms_new_starts_from_the_latest_published_text(world, versions):
    client = signed_in_client(world.manager)

    response = client.get("/staff/terms/new/", HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert "An interpreter may join on request.</textarea>" in html
    assert "Publish this version" not in html


def test_staff_terms_preview_shows_the_diff_before_publishing(world):
    client = signed_in_client(world.manager)

    response = client.post("/staff/terms/new/", draft(world), HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Takes effect on 2026-12-10 09:00." in html
    assert '<span class="visually-hidden">Added: </span>An interpreter may join.</ins>' in html
    assert '<span class="visually-hidden">Added: </span>通訳者が同席できます。</ins>' in html
    assert 'name="action" value="publish"' in html
    assert TermsVersion.objects.filter(office=world.office).count() == 1


def test_staff_terms_publish_creates_the_version_and_audits(world):
    client = signed_in_client(world.manager)

    response = client.post("/staff/terms/new/", draft(world, action="publish"))

    version = TermsVersion.objects.get(office=world.office, number=2)
    assert response.status_code == 302
    assert response["Location"] == "/staff/terms/2/"
    assert version.effective_from == local(2026, 12, 10, 9, 0)
    assert (version.changes_en, version.created_by) == ("Adds interpreters", world.manager)
    entry = AuditEntry.objects.get(action="terms.published", object_id=str(version.pk))
    assert (entry.actor, entry.office) == (world.manager.user, world.office)
    assert entry.details == {"number": 2, "effective_from": "2026-12-10T09:00:00+09:00"}


def test_staff_terms_publish_refuses_a_time_in_the_past(world):
    client = signed_in_client(world.manager)

    response = client.post(
        "/staff/terms/new/",
        draft(world, effective_from="2026-12-01T09:59", action="publish"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose a time in the future, or confirm that it takes effect now." in html
    assert 'aria-describedby="id_effective_from_helptext id_effective_from_error"' in html
    assert 'aria-invalid="true"' in html
    assert TermsVersion.objects.filter(office=world.office).count() == 1


def test_staff_terms_publish_now_needs_the_confirmation(world):
    client = signed_in_client(world.manager)

    without = client.post("/staff/terms/new/", draft(world, effective_from="", action="publish"))
    confirmed = client.post(
        "/staff/terms/new/",
        draft(world, effective_from="", effective_now="on", action="publish"),
    )

    assert without.status_code == 200
    assert confirmed.status_code == 302
    version = TermsVersion.objects.get(office=world.office, number=2)
    assert version.effective_from == local(2026, 12, 1, 10, 0)
    assert TermsVersion.objects.in_force_at(world.office, local(2026, 12, 1, 10, 0)) == version


def test_staff_terms_publish_refuses_a_date_before_the_latest_version(world, versions):
    client = signed_in_client(world.manager)

    response = client.post(
        "/staff/terms/new/",
        draft(world, effective_from="2026-12-05T09:00", action="publish"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "cannot take effect before the latest published version" in response.content.decode()
    assert TermsVersion.objects.filter(office=world.office).count() == 3


def test_staff_terms_withdraw_an_upcoming_version_and_audits(world, versions):
    client = signed_in_client(world.manager)

    response = client.post("/staff/terms/3/withdraw/")

    v3 = TermsVersion.objects.get(office=world.office, number=3)
    assert response["Location"] == "/staff/terms/3/"
    assert v3.withdrawn_at == local(2026, 12, 1, 10, 0)
    entry = AuditEntry.objects.get(action="terms.withdrawn")
    assert (entry.actor, entry.object_id, entry.details["number"]) == (
        world.manager.user,
        str(v3.pk),
        3,
    )
    assert TermsVersion.objects.in_force_at(world.office, V3_FROM) == versions[1]


def test_staff_terms_withdraw_refuses_a_version_in_force(world, versions):
    client = signed_in_client(world.manager)

    response = client.post("/staff/terms/2/withdraw/", follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert "Only a version that has not taken effect can be withdrawn." in (
        response.content.decode()
    )
    assert TermsVersion.objects.get(office=world.office, number=2).withdrawn_at is None
    assert not AuditEntry.objects.filter(action="terms.withdrawn").exists()


def test_staff_terms_detail_shows_withdraw_for_upcoming_only(world, versions):
    client = signed_in_client(world.manager)

    upcoming = client.get("/staff/terms/3/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    current = client.get("/staff/terms/2/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Withdraw this version" in upcoming
    assert "Withdraw this version" not in current
    assert "Changes to the text since version 1" in current


def test_staff_terms_of_another_office_are_not_found(world, versions):
    other_v2 = terms_publish(
        office=world.other_office,
        title="x",
        body_ja="本文",
        body_en="text",
        changes_ja="",
        changes_en="",
        effective_from=local(2026, 12, 20, 0, 0),
        actor=None,
    )
    client = signed_in_client(world.manager)

    detail = client.get("/staff/terms/4/")
    withdraw = client.post("/staff/terms/4/withdraw/")

    assert (detail.status_code, withdraw.status_code) == (404, 404)
    other_v2.refresh_from_db()
    assert other_v2.withdrawn_at is None


def test_staff_terms_withdraw_does_not_reach_another_offices_number(world, versions):
    other = terms_publish(
        office=world.other_office,
        title="x",
        body_ja="本文",
        body_en="text",
        changes_ja="",
        changes_en="",
        effective_from=local(2026, 12, 20, 0, 0),
        actor=None,
    )
    client = signed_in_client(world.manager)

    client.post(f"/staff/terms/{other.number}/withdraw/")

    other.refresh_from_db()
    assert other.withdrawn_at is None
    assert TermsVersion.objects.get(office=world.office, number=other.number).withdrawn_at is None


def test_terms_pages_of_an_office_without_its_own_terms_show_the_deployments(world):
    Office.objects.create(code="01999", name="ハローワーク試験")
    shipped = TermsVersion.objects.get(office=None, number=1)

    page = get("/offices/01999/terms/")
    history = get("/offices/01999/terms/history/")

    assert "<dt>Version</dt><dd>1</dd>" in page.content.decode()
    assert shipped.body_en.splitlines()[0] in page.content.decode()
    assert history.content.decode().count("Version 1") == 1
