"""R21: no model of ours has a field for a sensitive category of personal information
(employment security law, 職業安定法第5条の5 and its guidelines: race, creed, family
origin, domicile of origin, union membership and the like)."""

import re

import pytest
from django.apps import apps
from django.db import models
from django.test.utils import isolate_apps
from django.utils import translation

SENSITIVE_WORDS = (
    r"race|racial|ethnic\w*|nationality|creed|religio\w*|belief\w*|faith"
    r"|famil\w* origin|social status|birthplace|place of birth|domicile|honseki|koseki"
    r"|union|political|politics|ideolog\w*|criminal|convictions?|arrest\w*"
    r"|medical|health|illness\w*|diagnos\w*|disabilit\w*|handicap\w*"
    r"|sexual\w*|orientation|gender identity"
)
SENSITIVE_EN = re.compile(rf"\b({SENSITIVE_WORDS})\b", re.IGNORECASE)
SENSITIVE_JA = re.compile(
    "人種|民族|国籍|信条|信教|宗教|思想|社会的身分|門地|出身地|出生地|本籍|戸籍|労働組合|組合員"
    "|政治|支持政党|犯罪|前科|逮捕|病歴|病名|健康|医療|診断|障害|障がい|性的指向|性自認"
)


def _texts(model: type[models.Model], field: models.Field) -> list[str]:
    texts = [field.name.replace("_", " "), model.__name__]
    for language in ("en", "ja"):
        with translation.override(language):
            texts += [str(field.verbose_name), str(model._meta.verbose_name)]
    return texts


def sensitive_fields(candidates) -> list[str]:
    """`app.Model.field: text` for every field whose name or verbose name (English or
    Japanese) names a sensitive category."""
    found = []
    for model in candidates:
        for field in model._meta.get_fields(include_hidden=False):
            if not isinstance(field, models.Field):
                continue  # reverse relations: checked on the model that holds them
            for text in _texts(model, field):
                if SENSITIVE_EN.search(text) or SENSITIVE_JA.search(text):
                    found.append(f"{model._meta.label}.{field.name}: {text}")
    return found


def our_models() -> list[type[models.Model]]:
    return [
        model
        for config in apps.get_app_configs()
        if config.name.startswith("madoguchi.")
        for model in config.get_models()
    ]


def test_data_minimisation_reads_every_model_of_ours():
    labels = {model._meta.label for model in our_models()}

    assert {
        "seekers.Seeker",
        "bookings.Consultation",
        "records.AuditEntry",
        "records.DisclosureRequest",
        "notifications.OutboxMail",
    } <= labels


def test_data_minimisation_no_field_names_a_sensitive_category():
    assert sensitive_fields(our_models()) == []


@pytest.mark.parametrize(
    "field",
    [
        models.CharField("本籍", max_length=50),
        models.CharField("religion", max_length=50),
        models.BooleanField("labour union member", default=False),
        models.TextField("medical history"),
        models.CharField("障害の有無", max_length=10),
    ],
    ids=["honseki", "religion", "union", "medical", "disability"],
)
def test_data_minimisation_catches_a_sensitive_verbose_name(field):
    with isolate_apps("madoguchi.seekers"):

        class Throwaway(models.Model):
            harmless = models.CharField(max_length=10)
            info = field

            class Meta:
                app_label = "seekers"

            def __str__(self) -> str:
                return "throwaway"

        found = sensitive_fields([Throwaway])

    assert found == [f"seekers.Throwaway.info: {field.verbose_name}"] * 2


def test_data_minimisation_catches_a_sensitive_field_name():
    with isolate_apps("madoguchi.seekers"):

        class Throwaway(models.Model):
            family_origin = models.CharField(max_length=50)

            class Meta:
                app_label = "seekers"

            def __str__(self) -> str:
                return "throwaway"

        found = sensitive_fields([Throwaway])

    assert found == ["seekers.Throwaway.family_origin: family origin"] * 3


def test_consultation_page_warns_next_to_every_free_text_note(world, frozen_now):
    from madoguchi.bookings.services import consultation_start
    from tests.factories import local, make_consultation
    from tests.signin import signed_in_client

    consultation = make_consultation(world.seeker, local(2026, 12, 2, 10), actor=world.coordinator)
    frozen_now.move_to(local(2026, 12, 2, 10, 1))
    consultation_start(consultation_id=consultation.pk, actor=world.counselor)

    html = signed_in_client(world.counselor).get(
        f"/staff/consultations/{consultation.pk}/", headers={"Accept-Language": "en"}
    )
    page = html.content.decode()

    stop_note = page.index('<textarea id="note"')
    notes = page.index('<textarea id="notes"')
    warning = "Do not record sensitive information ("
    assert page.rindex(warning, 0, stop_note) > page.rindex("<form", 0, stop_note)
    assert page.rindex("Never record race, creed", 0, notes) > page.rindex("</form>", 0, notes)
