"""coverage status: the day a deadline enters its warning window

``coverage_status.warn_from`` is ``due_by`` minus the warning window of the rule
the deadline comes from (its ``due_soon_days``, else 14 days). The next snapshot
compares it with this snapshot's ``as_of`` to tell whether ``indicator.due_soon``
was already raised for that deadline. Rows written before have none: a deadline
they carry is treated as not yet warned (at most one extra warning).

Revision ID: mapping_0003
Revises: mapping_0002
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mapping_0003"
down_revision: str | Sequence[str] | None = "mapping_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("coverage_status", sa.Column("warn_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coverage_status") as batch:
        batch.drop_column("warn_from")
