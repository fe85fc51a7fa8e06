"""coverage snapshots

Revision ID: mapping_0001
Revises:
Create Date: 2026-11-29 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "mapping_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("mapping",)
depends_on: str | Sequence[str] | None = "core_0001"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_index(
        "ix_evidence_coverage",
        "evidence",
        ["tenant", "kind", "action_ref", "person_ref", "withdrawn", "effective_at"],
        unique=False,
    )
    op.create_table(
        "coverage_snapshot",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("referential_version", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("audit_date", sa.Date(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(), nullable=False),
        sa.Column("summary", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_snapshot")),
    )
    with op.batch_alter_table("coverage_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_coverage_snapshot_tenant_id", ["tenant", "id"], unique=False)
    op.create_table(
        "coverage_status",
        sa.Column("snapshot_id", _ID, nullable=False),
        sa.Column("action_ref", sa.String(length=255), nullable=False),
        sa.Column("indicator", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_en", sa.Text(), nullable=False),
        sa.Column("nonconformity", sa.String(length=8), nullable=True),
        sa.Column("due_by", sa.Date(), nullable=True),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("at_fault", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["coverage_snapshot.id"],
            name=op.f("fk_coverage_status_snapshot_id_coverage_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "action_ref", "indicator", name=op.f("pk_coverage_status")
        ),
    )


def downgrade() -> None:
    op.drop_table("coverage_status")
    with op.batch_alter_table("coverage_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_coverage_snapshot_tenant_id")
    op.drop_table("coverage_snapshot")
    op.drop_index("ix_evidence_coverage", table_name="evidence")
