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
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from madoguchi.joined import JoinedSelect, Table

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


class _SealAfterCommit:
    """The after-commit hook: seals the chains that the transaction wrote to (entries
    left in other chains by a process that died are the worker clock's)."""

    def __init__(self) -> None:
        self.office_ids: set[int | None] = set()

    def __call__(self) -> None:
        for office_id in sorted(self.office_ids, key=lambda o: (o is None, o or 0)):
            _seal_chain(office_id)


def chain_seal_later(office_ids: Iterable[int | None]) -> None:
    """Seal these offices' chains once the current transaction commits (at once
    outside a transaction). One hook per transaction (and savepoint), however many
    entries it writes, so a commit is followed by one short sealing transaction."""
    if connection.in_atomic_block and connection.run_on_commit:
        last = connection.run_on_commit[-1]  # (savepoint ids, hook, robust)
        savepoints, hook = last[0], last[1]
        if isinstance(hook, _SealAfterCommit) and savepoints == set(connection.savepoint_ids):
            hook.office_ids.update(office_ids)
            return
    hook = _SealAfterCommit()
    hook.office_ids.update(office_ids)
    transaction.on_commit(hook, robust=True)


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


@functools.cache
def _statements() -> tuple[JoinedSelect, JoinedSelect, JoinedSelect]:
    """The chain head locked by key; an office's and the system's unsealed entries,
    oldest first (composed once per process: sealing follows every commit)."""
    from madoguchi.records.models import AuditChainHead, AuditEntry

    unsealed = f'e."hash" = %s AND {{}} ORDER BY e."id" LIMIT {SEAL_BATCH}'
    return (
        JoinedSelect((Table("h", AuditChainHead),), 'h."key" = %s', lock_first=True),
        JoinedSelect((Table("e", AuditEntry),), unsealed.format('e."office_id" = %s')),
        JoinedSelect((Table("e", AuditEntry),), unsealed.format('e."office_id" IS NULL')),
    )


def _seal_chain(office_id: int | None) -> int:
    from madoguchi.records.models import AuditChainHead

    head_locked, of_office, of_system = _statements()
    key = chain_key(office_id)
    sealed = 0
    while True:
        with transaction.atomic():
            found = head_locked.first([key])
            if found is None:  # the chain's first entry
                AuditChainHead.objects.get_or_create(key=key)
                found = head_locked.first([key])
            assert found is not None
            head = found[0]
            if office_id is None:
                batch = [row[0] for row in of_system.all([""])]
            else:
                batch = [row[0] for row in of_office.all(["", office_id])]
            if not batch:
                return sealed
            for entry in batch:
                entry.seq = head.length + 1
                entry.prev_hash = head.last_hash
                entry.hash = entry_digest(entry, entry.prev_hash)
                head.last_hash, head.length = entry.hash, entry.seq
            _seal_store(batch, head)
        sealed += len(batch)
        if len(batch) < SEAL_BATCH:
            return sealed


def _seal_store(batch: list[Any], head: Any) -> None:
    """Write the batch's links in one UPDATE, and the head (plain SQL: composing it
    through the ORM's `Case` cost more than running it); every entry must still be
    unsealed (the head lock makes that so), else the transaction is rolled back."""
    from madoguchi.records.models import AuditChainHead, AuditEntry

    qn = connection.ops.quote_name
    cases, params = [], []
    for column in ("seq", "prev_hash", "hash"):
        cases.append(
            f"{qn(column)} = CASE {qn('id')}"
            + " WHEN %s THEN %s" * len(batch)
            + f" ELSE {qn(column)} END"
        )
        for entry in batch:
            params += [entry.pk, getattr(entry, column)]
    params += [entry.pk for entry in batch]
    sql = (
        f"UPDATE {qn(AuditEntry._meta.db_table)} SET {', '.join(cases)}"  # noqa: S608 - no input
        f" WHERE {qn('id')} IN ({', '.join(['%s'] * len(batch))}) AND {qn('hash')} = ''"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        updated = cursor.rowcount
        if updated != len(batch):
            raise RuntimeError(f"audit chain: {len(batch) - updated} entries were sealed meanwhile")
        cursor.execute(
            f"UPDATE {qn(AuditChainHead._meta.db_table)} SET {qn('last_hash')} = %s,"  # noqa: S608 - no input
            f" {qn('length')} = %s WHERE {qn('id')} = %s",
            [head.last_hash, head.length, head.pk],
        )


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
