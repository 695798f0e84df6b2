"""The audit log's hash chain (R21): each entry's hash covers its fields and the hash of
the entry before it in the same office's chain, so an edited, inserted or deleted entry
breaks every link after it.

Appending takes the chain head (one row per office, and one for entries without an
office) with SELECT ... FOR UPDATE inside the caller's transaction: concurrent writers
queue there, so each entry's `prev_hash` is the hash that was last when it was written.
On SQLite transactions are IMMEDIATE (settings), so writers are serialised at BEGIN.
Callers should audit after taking their other locks, as the services do, so that the
head is the last lock a transaction takes.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

SYSTEM_CHAIN = "system"


def chain_key(office_id: int | None) -> str:
    return str(office_id) if office_id is not None else SYSTEM_CHAIN


def entry_digest(entry: Any, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON of the entry's recorded fields and `prev_hash`.

    The actor is hashed by its label (the username), not by the user row, so that
    deleting a user account (which empties `actor`) does not break the chain.
    """
    canonical = json.dumps(
        {
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


def chain_seal(entries: Iterable[Any]) -> None:
    """Give unsaved `entries` their `prev_hash` and `hash`, in order, under the heads'
    locks. Must run inside the transaction that saves them (AuditEntry.save and
    AuditEntry.objects.bulk_create open one if the caller has none)."""
    from madoguchi.records.models import AuditChainHead

    entries = list(entries)
    keys = sorted({chain_key(entry.office_id) for entry in entries})
    heads = {key: _head_locked(AuditChainHead, key) for key in keys}  # in a fixed order
    for entry in entries:
        head = heads[chain_key(entry.office_id)]
        entry.prev_hash = head.last_hash
        entry.hash = entry_digest(entry, entry.prev_hash)
        head.last_hash = entry.hash
        head.length += 1
    for head in heads.values():
        head.save(update_fields=["last_hash", "length"])


def _head_locked(model: Any, key: str) -> Any:
    head, _created = model.objects.select_for_update().get_or_create(key=key)
    return head


@dataclass
class ChainReport:
    verified: int
    broken: Any = None  # the first entry whose link is broken, or None
    problem: str = ""


def chain_verify(entries: Iterator[Any], *, head: Any) -> ChainReport:
    """Walk one chain's entries in id order: each must link to the one before and hash
    to its stored hash; the last must be the head (else entries were cut off the end)."""
    prev = ""
    count = 0
    last = None
    for entry in entries:
        if entry.prev_hash != prev:
            return ChainReport(count, entry, "link")
        if entry_digest(entry, entry.prev_hash) != entry.hash:
            return ChainReport(count, entry, "hash")
        prev = entry.hash
        count += 1
        last = entry
    head_hash = head.last_hash if head is not None else ""
    head_length = head.length if head is not None else 0
    if prev != head_hash or count != head_length:
        return ChainReport(count, last, "tail")
    return ChainReport(count)
