"""The audit log's hash chain (R21): each entry's hash covers its recorded fields and
the hash of the entry before it in the same chain (one chain per office, and `system`
for entries without one), so an edited, inserted or deleted entry breaks the chain.

Entries are written in the caller's transaction, atomically with the change, and
sealed (given `seq`, `prev_hash` and `hash`) right after that transaction commits, in
a short transaction of their own that locks only the chain's head row. The head is
then never held together with a booking lock, so it cannot take part in a deadlock;
and sealing in commit order means a transaction that took an id early but committed
late is chained after the ones that committed before it. Should a process die between
commit and seal, the worker's clock seals what is left on its next round.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

SYSTEM_CHAIN = "system"
SEAL_BATCH = 1000


def chain_key(office_id: int | None) -> str:
    return str(office_id) if office_id is not None else SYSTEM_CHAIN


def entry_digest(entry: Any, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of the entry's recorded fields and `prev_hash`.

    The actor is hashed by its label (the username), not by the user row, so that
    deleting a user account (which empties `actor`) does not break the chain.
    """
    canonical = json.dumps(
        {
            "seq": entry.seq,
            "at": entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "actor": entry.actor_label,
            "office": entry.office_id,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "details": entry.details,
            "ip": entry.ip or "",
            "reason": entry.reason,
            "prev": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_seal_later() -> None:
    """Seal once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(chain_seal_pending, robust=True)


def chain_seal_pending() -> int:
    """Seal every committed, unsealed entry, oldest id first; returns how many.
    Idempotent, and safe to run from several processes at once: each chain's head row
    is locked while its entries are sealed."""
    from madoguchi.records.models import AuditEntry

    sealed = 0
    pending = AuditEntry.objects.filter(hash="")
    for office_id in sorted(
        set(pending.order_by().values_list("office_id", flat=True).distinct()),
        key=lambda o: (o is None, o or 0),
    ):
        sealed += _seal_chain(office_id)
    return sealed


def _seal_chain(office_id: int | None) -> int:
    from madoguchi.records.models import AuditChainHead, AuditEntry

    sealed = 0
    while True:
        with transaction.atomic():
            head, _created = AuditChainHead.objects.select_for_update().get_or_create(
                key=chain_key(office_id)
            )
            unsealed = AuditEntry.objects.filter(hash="")
            unsealed = (
                unsealed.filter(office__isnull=True)
                if office_id is None
                else unsealed.filter(office_id=office_id)
            )
            batch = list(unsealed.order_by("id")[:SEAL_BATCH])
            if not batch:
                return sealed
            for entry in batch:
                entry.seq = head.length + 1
                entry.prev_hash = head.last_hash
                entry.hash = entry_digest(entry, entry.prev_hash)
                AuditEntry._base_manager.filter(pk=entry.pk, hash="").update(
                    seq=entry.seq, prev_hash=entry.prev_hash, hash=entry.hash
                )
                head.last_hash, head.length = entry.hash, entry.seq
            head.save(update_fields=["last_hash", "length"])
        sealed += len(batch)


@dataclass
class ChainReport:
    verified: int
    broken: Any = None  # the first entry whose link is broken, or None
    problem: str = ""
    chain: str = ""  # the chain's key (an office's id, or SYSTEM_CHAIN); set by the caller


def chain_verify(entries: Iterator[Any], *, head: Any) -> ChainReport:
    """Walk one chain's sealed entries in `seq` order: each must follow the one before
    and hash to its stored hash; the last must be the head (else entries were cut off
    the end)."""
    prev, count, last = "", 0, None
    for entry in entries:
        if entry.seq != count + 1 or entry.prev_hash != prev:
            return ChainReport(count, entry, "link")
        if entry_digest(entry, entry.prev_hash) != entry.hash:
            return ChainReport(count, entry, "hash")
        prev, count, last = entry.hash, count + 1, entry
    head_hash = head.last_hash if head is not None else ""
    head_length = head.length if head is not None else 0
    if prev != head_hash or count != head_length:
        return ChainReport(count, last, "tail")
    return ChainReport(count)
