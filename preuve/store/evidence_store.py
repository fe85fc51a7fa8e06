"""Writing and reading evidence.

Upsert on (tenant, source, kind, source_id): an unchanged record writes nothing;
a changed or withdrawn one moves its previous state to ``evidence_revision``.
A batch and the stream cursor it covers are committed in one transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from preuve.evidence.model import EvidenceRecord, Withdrawal
from preuve.store.schema import evidence, evidence_revision, sync_cursor

# Keys looked up per SELECT: keeps the bound-parameter count well under SQLite's limit.
_LOOKUP_CHUNK = 1000


class StoreError(Exception):
    """A batch that cannot be written (nothing of it was written)."""


@dataclass(slots=True)
class WriteResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0

    def __iadd__(self, other: WriteResult) -> WriteResult:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.withdrawn += other.withdrawn
        return self

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.withdrawn

    def as_dict(self) -> dict[str, int]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
        }


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    """One current evidence row, as read back from the store."""

    id: int
    tenant: str
    source: str
    kind: str
    source_id: str
    action_ref: str | None
    person_ref: str | None
    effective_at: datetime | None
    fetched_at: datetime
    content_hash: str
    connector: str
    connector_version: str
    source_url: str | None
    payload: dict[str, Any]
    revision: int
    withdrawn: bool
    updated_at: datetime = field(compare=False)


@dataclass(frozen=True, slots=True)
class Revision:
    revision: int
    content_hash: str
    effective_at: datetime | None
    fetched_at: datetime
    payload: dict[str, Any]
    withdrawn: bool
    superseded_at: datetime | None


def _row(record: EvidenceRecord, now: datetime) -> dict[str, Any]:
    prov = record.provenance
    return {
        "tenant": prov.tenant,
        "source": prov.source,
        "kind": record.kind,
        "source_id": prov.source_id,
        "action_ref": record.action_ref,
        "person_ref": record.person_ref,
        "facet": record.facet,
        "effective_at": prov.effective_at,
        "fetched_at": prov.fetched_at,
        "content_hash": record.content_hash,
        "connector": prov.connector,
        "connector_version": prov.connector_version,
        "source_url": prov.source_url,
        "payload": record.payload,
        "revision": 1,
        "withdrawn": False,
        "withdrawn_reason": None,
        "updated_at": now,
    }


def _archive_statement(ids: Sequence[int], now: datetime) -> Any:
    """INSERT INTO evidence_revision SELECT <current state> FROM evidence WHERE id IN ids."""
    source = select(
        evidence.c.id,
        evidence.c.revision,
        evidence.c.content_hash,
        evidence.c.effective_at,
        evidence.c.fetched_at,
        evidence.c.connector_version,
        evidence.c.payload,
        evidence.c.withdrawn,
        literal(now, evidence_revision.c.superseded_at.type),
    ).where(evidence.c.id.in_(ids))
    return insert(evidence_revision).from_select(
        [
            "evidence_id",
            "revision",
            "content_hash",
            "effective_at",
            "fetched_at",
            "connector_version",
            "payload",
            "withdrawn",
            "superseded_at",
        ],
        source,
    )


_UPDATE_CHANGED = (
    update(evidence)
    .where(evidence.c.id == bindparam("_id"))
    .values(
        action_ref=bindparam("action_ref"),
        person_ref=bindparam("person_ref"),
        facet=bindparam("facet"),
        effective_at=bindparam("effective_at"),
        fetched_at=bindparam("fetched_at"),
        content_hash=bindparam("content_hash"),
        connector=bindparam("connector"),
        connector_version=bindparam("connector_version"),
        source_url=bindparam("source_url"),
        payload=bindparam("payload"),
        revision=bindparam("_revision"),
        withdrawn=False,
        withdrawn_reason=None,
        updated_at=bindparam("updated_at"),
    )
)


async def _existing(
    conn: AsyncConnection, tenant: str, source: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, str, int, bool]]:
    """Id, hash, revision and withdrawn flag of the keys already stored.

    One query per chunk of source ids, whatever the number of kinds, with
    ``kind IN (...) AND source_id IN (...)``: both SQLite and PostgreSQL answer
    it from the unique index (a row-value IN list is not always). The cross
    product may return keys not asked for; they are filtered out here. Fewer
    statements per batch matter: each one is a round trip (on SQLite, several
    hops to the driver's thread).
    """
    wanted = set(keys)
    kinds = sorted({kind for kind, _ in wanted})
    ids = sorted({source_id for _, source_id in wanted})
    found: dict[tuple[str, str], tuple[int, str, int, bool]] = {}
    postgres = conn.dialect.name == "postgresql"
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start : start + _LOOKUP_CHUNK]
        # PostgreSQL: array parameters, so one plan whatever the chunk size.
        if postgres:
            kind_match = evidence.c.kind == any_(cast(kinds, ARRAY(String)))
            id_match = evidence.c.source_id == any_(cast(chunk, ARRAY(String)))
        else:
            kind_match = evidence.c.kind.in_(kinds)
            id_match = evidence.c.source_id.in_(chunk)
        result = await conn.execute(
            select(
                evidence.c.kind,
                evidence.c.source_id,
                evidence.c.id,
                evidence.c.content_hash,
                evidence.c.revision,
                evidence.c.withdrawn,
            ).where(evidence.c.tenant == tenant, evidence.c.source == source, kind_match, id_match)
        )
        for kind, source_id, row_id, content_hash, revision, withdrawn in result:
            if (kind, source_id) in wanted:
                found[(kind, source_id)] = (row_id, content_hash, revision, withdrawn)
    return found


def _cursor_upsert(conn: AsyncConnection, values: dict[str, Any]) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        pg_stmt = pg_insert(sync_cursor).values(**values)
        return pg_stmt.on_conflict_do_update(
            index_elements=["tenant", "source", "stream"],
            set_={"value": pg_stmt.excluded.value, "updated_at": pg_stmt.excluded.updated_at},
        )
    lite_stmt = sqlite_insert(sync_cursor).values(**values)
    return lite_stmt.on_conflict_do_update(
        index_elements=["tenant", "source", "stream"],
        set_={"value": lite_stmt.excluded.value, "updated_at": lite_stmt.excluded.updated_at},
    )


async def write_batch_on(
    conn: AsyncConnection,
    tenant: str,
    source: str,
    records: Iterable[EvidenceRecord],
    withdrawals: Iterable[Withdrawal] = (),
    cursor: tuple[str, str] | None = None,
) -> WriteResult:
    """Write one batch on an open transaction (the caller commits or rolls back)."""
    now = datetime.now(UTC)
    latest: dict[tuple[str, str], EvidenceRecord] = {}
    for record in records:
        prov = record.provenance
        if prov.tenant != tenant or prov.source != source:
            raise StoreError(
                f"record {record.kind}/{prov.source_id} belongs to "
                f"{prov.tenant}/{prov.source}, not {tenant}/{source}"
            )
        latest[(record.kind, prov.source_id)] = record  # last one of a batch wins

    result = WriteResult()
    keys = list(latest)
    existing = await _existing(conn, tenant, source, keys) if keys else {}
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    for key, record in latest.items():
        found = existing.get(key)
        if found is None:
            new_rows.append(_row(record, now))
            continue
        row_id, content_hash, revision, withdrawn = found
        if content_hash == record.content_hash and not withdrawn:
            result.unchanged += 1
            continue
        row = _row(record, now)
        row["_id"] = row_id
        row["_revision"] = revision + 1
        changed_rows.append(row)

    if new_rows:
        await conn.execute(insert(evidence), new_rows)
        result.inserted = len(new_rows)
    if changed_rows:
        await conn.execute(_archive_statement([r["_id"] for r in changed_rows], now))
        await conn.execute(_UPDATE_CHANGED, changed_rows)
        result.updated = len(changed_rows)

    withdrawal_list = list(withdrawals)
    if withdrawal_list:
        result.withdrawn = await _withdraw(conn, tenant, source, withdrawal_list, now)

    if cursor is not None:
        stream, value = cursor
        await conn.execute(
            _cursor_upsert(
                conn,
                {
                    "tenant": tenant,
                    "source": source,
                    "stream": stream,
                    "value": value,
                    "updated_at": now,
                },
            )
        )
    return result


async def _withdraw(
    conn: AsyncConnection,
    tenant: str,
    source: str,
    withdrawals: Sequence[Withdrawal],
    now: datetime,
) -> int:
    keys = [(w.kind, w.source_id) for w in withdrawals]
    existing = await _existing(conn, tenant, source, keys)
    targets: list[dict[str, Any]] = []
    for item in withdrawals:
        found = existing.get((item.kind, item.source_id))
        if found is None or found[3]:
            continue  # unknown (not synced yet) or already withdrawn
        targets.append({"_id": found[0], "_revision": found[2] + 1, "reason": item.reason})
    if not targets:
        return 0
    await conn.execute(_archive_statement([t["_id"] for t in targets], now))
    await conn.execute(
        update(evidence)
        .where(evidence.c.id == bindparam("_id"))
        .values(
            withdrawn=True,
            withdrawn_reason=bindparam("reason"),
            revision=bindparam("_revision"),
            updated_at=now,
        ),
        targets,
    )
    return len(targets)


def _stored(row: Any) -> StoredEvidence:
    return StoredEvidence(
        id=row.id,
        tenant=row.tenant,
        source=row.source,
        kind=row.kind,
        source_id=row.source_id,
        action_ref=row.action_ref,
        person_ref=row.person_ref,
        effective_at=row.effective_at,
        fetched_at=row.fetched_at,
        content_hash=row.content_hash,
        connector=row.connector,
        connector_version=row.connector_version,
        source_url=row.source_url,
        payload=row.payload,
        revision=row.revision,
        withdrawn=row.withdrawn,
        updated_at=row.updated_at,
    )


# PostgreSQL plans the key lookup from table statistics; during a first big sync
# they say "empty table" and the planner may pick a non-unique index and filter
# thousands of rows per lookup. Re-analysing as the table doubles keeps plans right
# at a cost of a few ANALYZE runs (each samples a bounded number of rows).
_ANALYZE_FIRST_AFTER = 5_000


class EvidenceStore:
    """Evidence reads and writes over one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._inserted_since_analyze = 0
        self._analyze_after = _ANALYZE_FIRST_AFTER

    async def write_batch(
        self,
        tenant: str,
        source: str,
        records: Iterable[EvidenceRecord],
        withdrawals: Iterable[Withdrawal] = (),
        cursor: tuple[str, str] | None = None,
    ) -> WriteResult:
        """Write records (and the cursor they cover) atomically."""
        async with self.engine.begin() as conn:
            result = await write_batch_on(conn, tenant, source, records, withdrawals, cursor)
        if self.engine.dialect.name == "postgresql":
            await self._analyze_when_grown(result.inserted)
        return result

    async def _analyze_when_grown(self, inserted: int) -> None:
        self._inserted_since_analyze += inserted
        if self._inserted_since_analyze < self._analyze_after:
            return
        async with self.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE evidence")
        self._analyze_after = max(self._analyze_after, self._inserted_since_analyze) * 2
        self._inserted_since_analyze = 0

    async def get_cursor(self, tenant: str, source: str, stream: str) -> str | None:
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                select(sync_cursor.c.value).where(
                    sync_cursor.c.tenant == tenant,
                    sync_cursor.c.source == source,
                    sync_cursor.c.stream == stream,
                )
            )
        return value if isinstance(value, str) else None

    async def cursors(self, tenant: str, source: str) -> dict[str, str]:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(sync_cursor.c.stream, sync_cursor.c.value).where(
                    sync_cursor.c.tenant == tenant, sync_cursor.c.source == source
                )
            )
            return {row[0]: row[1] for row in result.all()}

    async def reset_cursors(self, tenant: str, source: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                sync_cursor.delete().where(
                    sync_cursor.c.tenant == tenant, sync_cursor.c.source == source
                )
            )

    def _select(
        self,
        tenant: str,
        *,
        kind: str | None = None,
        source: str | None = None,
        action_ref: str | None = None,
        include_withdrawn: bool = False,
    ) -> Select[Any]:
        conditions = [evidence.c.tenant == tenant]
        if kind is not None:
            conditions.append(evidence.c.kind == kind)
        if source is not None:
            conditions.append(evidence.c.source == source)
        if action_ref is not None:
            conditions.append(evidence.c.action_ref == action_ref)
        if not include_withdrawn:
            conditions.append(evidence.c.withdrawn.is_(False))
        return select(evidence).where(and_(*conditions)).order_by(evidence.c.id)

    async def iter_evidence(
        self,
        tenant: str,
        *,
        kind: str | None = None,
        source: str | None = None,
        action_ref: str | None = None,
        include_withdrawn: bool = False,
        chunk_size: int = 1000,
    ) -> AsyncIterator[StoredEvidence]:
        """Stream current evidence rows in id order (memory stays flat)."""
        query = self._select(
            tenant,
            kind=kind,
            source=source,
            action_ref=action_ref,
            include_withdrawn=include_withdrawn,
        )
        last_id = 0
        while True:
            async with self.engine.connect() as conn:
                rows = (
                    await conn.execute(query.where(evidence.c.id > last_id).limit(chunk_size))
                ).all()
            if not rows:
                return
            for row in rows:
                yield _stored(row)
            last_id = rows[-1].id

    async def get(
        self, tenant: str, source: str, kind: str, source_id: str
    ) -> StoredEvidence | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(evidence).where(
                        evidence.c.tenant == tenant,
                        evidence.c.source == source,
                        evidence.c.kind == kind,
                        evidence.c.source_id == source_id,
                    )
                )
            ).first()
        return _stored(row) if row is not None else None

    async def history(self, tenant: str, source: str, kind: str, source_id: str) -> list[Revision]:
        """Every revision of a record, oldest first, the current one last."""
        current = await self.get(tenant, source, kind, source_id)
        if current is None:
            return []
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(evidence_revision)
                    .where(evidence_revision.c.evidence_id == current.id)
                    .order_by(evidence_revision.c.revision)
                )
            ).all()
        revisions = [
            Revision(
                revision=r.revision,
                content_hash=r.content_hash,
                effective_at=r.effective_at,
                fetched_at=r.fetched_at,
                payload=r.payload,
                withdrawn=r.withdrawn,
                superseded_at=r.superseded_at,
            )
            for r in rows
        ]
        revisions.append(
            Revision(
                revision=current.revision,
                content_hash=current.content_hash,
                effective_at=current.effective_at,
                fetched_at=current.fetched_at,
                payload=current.payload,
                withdrawn=current.withdrawn,
                superseded_at=None,
            )
        )
        return revisions

    async def count_by_kind(
        self, tenant: str, *, source: str | None = None, include_withdrawn: bool = False
    ) -> dict[str, int]:
        conditions = [evidence.c.tenant == tenant]
        if source is not None:
            conditions.append(evidence.c.source == source)
        if not include_withdrawn:
            conditions.append(evidence.c.withdrawn.is_(False))
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(evidence.c.kind, func.count())
                .where(and_(*conditions))
                .group_by(evidence.c.kind)
                .order_by(evidence.c.kind)
            )
            return {row[0]: row[1] for row in result.all()}

    async def delete_person(self, tenant: str, person_ref: str) -> int:
        """Erase every record about one person, with its history (right to erasure)."""
        async with self.engine.begin() as conn:
            ids = (
                (
                    await conn.execute(
                        select(evidence.c.id).where(
                            evidence.c.tenant == tenant, evidence.c.person_ref == person_ref
                        )
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                return 0
            await conn.execute(
                evidence_revision.delete().where(evidence_revision.c.evidence_id.in_(ids))
            )
            await conn.execute(evidence.delete().where(evidence.c.id.in_(ids)))
            return len(ids)
