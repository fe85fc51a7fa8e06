"""Builders of evidence records for tests (real models, no mocks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from preuve.evidence.model import EvidenceRecord, Provenance

FETCHED = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def record(
    data: dict[str, Any],
    *,
    source_id: str,
    tenant: str = "of-test",
    source: str = "src",
    effective_at: datetime | None = None,
    fetched_at: datetime = FETCHED,
    connector: str = "test",
    version: str = "1",
) -> EvidenceRecord:
    return EvidenceRecord.model_validate(
        {
            "provenance": Provenance(
                tenant=tenant,
                source=source,
                source_id=source_id,
                effective_at=effective_at,
                fetched_at=fetched_at,
                connector=connector,
                connector_version=version,
            ),
            "data": data,
        }
    )


def enrolment(n: int, *, action: str = "A1", status: str = "active", **kw: Any) -> EvidenceRecord:
    return record(
        {
            "kind": "enrolment",
            "action_ref": action,
            "person_ref": f"p_{n}",
            "status": status,
        },
        source_id=f"enr-{n}",
        **kw,
    )
