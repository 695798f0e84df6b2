"""The terms of use in the web (R4, R5): the seeker's pages (in force, history, one version
with what changed) and the managers' pages to publish and withdraw versions."""

import datetime as dt

import pytest
from django.test import Client

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

    with django_assert_num_queries(2):  # the office, its versions
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
