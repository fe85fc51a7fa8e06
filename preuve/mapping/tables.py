"""Coverage snapshots: every evaluation, and one row per (action, indicator) status."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text

from preuve.store.schema import BigId, UtcDateTime, evidence, json_column, metadata

# Organisation-level rows use this action_ref (a real ref is never empty).
ORGANISATION_REF = ""

# Covering index for the per-(action, learner[, facet]) counts of the evaluation:
# SQLite (and PostgreSQL index-only scans) group attendance, activity, assessment
# and completion rows without a sort and without reading the table or parsing a
# payload. Owned by the mapping branch.
ix_evidence_coverage = Index(
    "ix_evidence_coverage",
    evidence.c.tenant,
    evidence.c.kind,
    evidence.c.action_ref,
    evidence.c.person_ref,
    evidence.c.facet,
    evidence.c.withdrawn,
    evidence.c.effective_at,
)

coverage_snapshot = Table(
    "coverage_snapshot",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("referential_version", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("audit_date", Date, nullable=False),
    Column("evaluated_at", UtcDateTime(), nullable=False),
    json_column("summary"),
    Index("ix_coverage_snapshot_tenant_id", "tenant", "id"),
)

coverage_status = Table(
    "coverage_status",
    metadata,
    Column(
        "snapshot_id",
        BigId,
        ForeignKey("coverage_snapshot.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("action_ref", String(255), primary_key=True),
    Column("indicator", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("reason_en", Text, nullable=False),
    Column("nonconformity", String(8)),
    Column("due_by", Date),
    # The day ``due_by`` entered its warning window (``indicator.due_soon``).
    Column("warn_from", Date),
    Column("evidence_count", Integer, nullable=False),
    json_column("at_fault"),
)
