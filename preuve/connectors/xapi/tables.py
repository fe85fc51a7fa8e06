"""Tables of the xAPI intake: the statements received, as received.

The statement itself is kept (the intake answers ``GET ?statementId=``, compares
resends, and can map statements again); the evidence it became lives in the core
``evidence`` table, written in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, UniqueConstraint, text

from preuve.store.schema import UtcDateTime, json_column, metadata

xapi_statement = Table(
    "xapi_statement",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tenant", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("statement_id", String(36), nullable=False),
    # SHA-256 of the statement without what the LRS assigns (id, stored,
    # authority, version) nor what may differ on a resend (displays, definitions).
    Column("content_hash", String(64), nullable=False),
    Column("stored", UtcDateTime(), nullable=False),
    # A voiding statement: the id it voids (a tombstone, whatever the arrival order).
    Column("voids", String(36)),
    # A voided statement: the id of the voiding statement.
    Column("voided_by", String(36)),
    json_column("statement"),
    UniqueConstraint("tenant", "source", "statement_id", name="uq_xapi_statement_key"),
    # Partial: voiding statements are few, so the tombstone lookup stays an
    # index search even where statistics say the column is mostly empty.
    Index(
        "ix_xapi_statement_voids",
        "tenant",
        "source",
        "voids",
        sqlite_where=text("voids IS NOT NULL"),
        postgresql_where=text("voids IS NOT NULL"),
    ),
)
