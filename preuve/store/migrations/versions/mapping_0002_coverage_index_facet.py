"""coverage index with the evidence facet

The covering index of the coverage counts gains ``facet`` right after the
learner, so attendance, assessments and completions are grouped from the index
alone, in index order, like activity traces already were.

Revision ID: mapping_0002
Revises: mapping_0001
Create Date: 2026-11-30 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "mapping_0002"
down_revision: str | Sequence[str] | None = "mapping_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "core_0002"

_BEFORE = ["tenant", "kind", "action_ref", "person_ref", "withdrawn", "effective_at"]
_AFTER = ["tenant", "kind", "action_ref", "person_ref", "facet", "withdrawn", "effective_at"]


def upgrade() -> None:
    op.drop_index("ix_evidence_coverage", table_name="evidence")
    op.create_index("ix_evidence_coverage", "evidence", _AFTER, unique=False)


def downgrade() -> None:
    op.drop_index("ix_evidence_coverage", table_name="evidence")
    op.create_index("ix_evidence_coverage", "evidence", _BEFORE, unique=False)
