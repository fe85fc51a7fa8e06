"""Core tables: evidence, its revisions, sync cursors and the sync-run log.

Other subsystems (mapping, webhooks, xAPI intake...) declare their tables on the
same ``metadata`` in their own modules and add their own Alembic branch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# Integer on SQLite so the primary key is the rowid alias (autoincrement works).
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


def json_column(name: str, nullable: bool = False) -> Column[Any]:
    return Column(name, JsonDoc, nullable=nullable)


evidence = Table(
    "evidence",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("action_ref", String(255)),
    Column("person_ref", String(64)),
    # Derived from the payload by the model (EvidenceRecord.facet), rewritten with it:
    # the category the coverage counts group by, readable from an index.
    Column("facet", String(64)),
    Column("effective_at", UtcDateTime()),
    Column("fetched_at", UtcDateTime(), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("connector", String(32), nullable=False),
    Column("connector_version", String(32), nullable=False),
    Column("source_url", Text),
    json_column("payload"),
    Column("revision", Integer, nullable=False, default=1),
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("withdrawn_reason", Text),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant", "source", "kind", "source_id", name="uq_evidence_key"),
    Index("ix_evidence_tenant_kind_action", "tenant", "kind", "action_ref"),
    Index("ix_evidence_tenant_person", "tenant", "person_ref"),
)

# Earlier revisions of a record: written when a record changes or is withdrawn,
# so the audit trail shows what changed and when.
evidence_revision = Table(
    "evidence_revision",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "evidence_id",
        BigId,
        ForeignKey("evidence.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("revision", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("effective_at", UtcDateTime()),
    Column("fetched_at", UtcDateTime(), nullable=False),
    Column("connector_version", String(32), nullable=False),
    json_column("payload"),
    Column("withdrawn", Boolean, nullable=False),
    Column("superseded_at", UtcDateTime(), nullable=False),
)

sync_cursor = Table(
    "sync_cursor",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("stream", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

sync_run = Table(
    "sync_run",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime()),
    json_column("counts"),
    json_column("errors"),
    Column("worker", String(128)),
    Index("ix_sync_run_tenant_source_started", "tenant", "source", "started_at"),
)
