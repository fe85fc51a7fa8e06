"""The sync-run log: one row per (tenant, source) sync, with counts and errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from preuve.store.schema import sync_run


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some items were skipped and reported
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SyncRun:
    id: str
    tenant: str
    source: str
    trigger: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    errors: list[dict[str, Any]]
    worker: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "source": self.source,
            "trigger": self.trigger,
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "counts": self.counts,
            "errors": self.errors,
            "worker": self.worker,
        }


def run_from_row(row: Any) -> SyncRun:
    """A ``sync_run`` row as a :class:`SyncRun`."""
    return SyncRun(
        id=row.id,
        tenant=row.tenant,
        source=row.source,
        trigger=row.trigger,
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=row.counts or {},
        errors=row.errors or [],
        worker=row.worker,
    )


class RunLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def start(
        self, tenant: str, source: str, *, trigger: str = "manual", worker: str | None = None
    ) -> str:
        run_id = str(uuid.uuid4())
        async with self.engine.begin() as conn:
            await conn.execute(
                sync_run.insert().values(
                    id=run_id,
                    tenant=tenant,
                    source=source,
                    trigger=trigger,
                    status=RunStatus.RUNNING.value,
                    started_at=datetime.now(UTC),
                    counts={},
                    errors=[],
                    worker=worker,
                )
            )
        return run_id

    async def progress(self, run_id: str, counts: dict[str, Any]) -> None:
        """Record counts so far, visible while the run goes on."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(sync_run).where(sync_run.c.id == run_id).values(counts=counts)
            )

    async def finish(
        self,
        run_id: str,
        status: RunStatus,
        counts: dict[str, Any],
        errors: list[dict[str, Any]],
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(sync_run)
                .where(sync_run.c.id == run_id)
                .values(
                    status=status.value,
                    finished_at=datetime.now(UTC),
                    counts=counts,
                    errors=errors,
                )
            )

    async def get(self, run_id: str) -> SyncRun | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(sync_run).where(sync_run.c.id == run_id))).first()
        return run_from_row(row) if row is not None else None

    async def recent(
        self, *, tenant: str | None = None, source: str | None = None, limit: int = 20
    ) -> list[SyncRun]:
        query = select(sync_run).order_by(sync_run.c.started_at.desc()).limit(limit)
        if tenant is not None:
            query = query.where(sync_run.c.tenant == tenant)
        if source is not None:
            query = query.where(sync_run.c.source == source)
        async with self.engine.connect() as conn:
            return [run_from_row(row) for row in (await conn.execute(query)).all()]
