"""xAPI intake statements

Revision ID: xapi_0001
Revises:
Create Date: 2026-11-29 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "xapi_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("xapi",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "xapi_statement",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("stored", sa.DateTime(), nullable=False),
        sa.Column("voids", sa.String(length=36), nullable=True),
        sa.Column("voided_by", sa.String(length=36), nullable=True),
        sa.Column(
            "statement", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_statement")),
        sa.UniqueConstraint("tenant", "source", "statement_id", name="uq_xapi_statement_key"),
    )
    with op.batch_alter_table("xapi_statement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_xapi_statement_voids",
            ["tenant", "source", "voids"],
            unique=False,
            sqlite_where=sa.text("voids IS NOT NULL"),
            postgresql_where=sa.text("voids IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("xapi_statement", schema=None) as batch_op:
        batch_op.drop_index("ix_xapi_statement_voids")
    op.drop_table("xapi_statement")
