"""evidence facet column

Adds ``evidence.facet``, the category the coverage counts group by (attendance
status and slot, assessment kind and result, completion scope and state, support topic),
and fills it for the rows already stored. From here on the store writes it with
every record (``EvidenceRecord.facet``); this backfill repeats that derivation in
SQL once, frozen as it was when the column was added.

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-30 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "core_0002"
down_revision: str | Sequence[str] | None = "core_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_evidence = sa.table(
    "evidence",
    sa.column("kind", sa.String()),
    sa.column("payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("facet", sa.String()),
)


def _facets() -> dict[str, sa.ColumnElement[str]]:
    payload = _evidence.c.payload
    passed = payload["passed"].as_boolean()
    result = sa.case((passed.is_(True), "passed"), (passed.is_(False), "failed"), else_="unknown")
    scope = sa.case((payload["activity_ref"].as_string().is_(None), "action"), else_="activity")
    return {
        "attendance": payload["status"].as_string()
        + ":"
        + payload["day"].as_string()
        + payload["half"].as_string(),
        "assessment": payload["assessment_kind"].as_string() + ":" + result,
        "completion": scope + ":" + payload["state"].as_string(),
        "support_interaction": sa.func.coalesce(payload["topic"].as_string(), "pedagogical"),
    }


def upgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facet", sa.String(length=64), nullable=True))
    for kind, expression in _facets().items():
        op.execute(_evidence.update().where(_evidence.c.kind == kind).values(facet=expression))


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("facet")
