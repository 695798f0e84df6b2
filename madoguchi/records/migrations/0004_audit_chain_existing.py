"""Seal the audit entries written before the chain existed, oldest first, per office."""

from django.db import migrations

from madoguchi.records.chain import chain_key, entry_digest


def seal_existing(apps, schema_editor):
    AuditEntry = apps.get_model("records", "AuditEntry")
    AuditChainHead = apps.get_model("records", "AuditChainHead")
    heads: dict[str, tuple[str, int]] = {}
    for entry in AuditEntry.objects.filter(hash="").order_by("id").iterator(chunk_size=2000):
        key = chain_key(entry.office_id)
        prev, length = heads.get(key, ("", 0))
        entry.seq, entry.prev_hash = length + 1, prev
        entry.hash = entry_digest(entry, prev)
        AuditEntry.objects.filter(pk=entry.pk).update(
            seq=entry.seq, prev_hash=prev, hash=entry.hash
        )
        heads[key] = (entry.hash, entry.seq)
    for key, (last_hash, length) in heads.items():
        AuditChainHead.objects.update_or_create(
            key=key, defaults={"last_hash": last_hash, "length": length}
        )


class Migration(migrations.Migration):
    dependencies = [("records", "0003_audit_chain_and_usage")]

    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
