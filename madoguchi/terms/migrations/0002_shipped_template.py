from django.db import migrations
from django.utils import timezone


def create_shipped_version(apps, schema_editor):
    from madoguchi.terms.services import TEMPLATE_TITLE, terms_template_render

    TermsVersion = apps.get_model("terms", "TermsVersion")
    if TermsVersion.objects.filter(office=None).exists():
        return
    body_ja, body_en = terms_template_render(None)
    TermsVersion.objects.create(
        office=None,
        number=1,
        title=TEMPLATE_TITLE,
        body_ja=body_ja,
        body_en=body_en,
        changes_ja="初版",
        changes_en="First version",
        effective_from=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("terms", "0001_initial")]
    operations = [migrations.RunPython(create_shipped_version, migrations.RunPython.noop)]
