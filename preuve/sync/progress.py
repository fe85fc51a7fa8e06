"""What is running now, with its counts so far (the runner writes them during a run)."""

from __future__ import annotations

from sqlalchemy import select

from preuve.store import RunStatus, Store, SyncRun
from preuve.store.runs import run_from_row
from preuve.store.schema import sync_run


async def active_runs(
    store: Store, *, tenant: str | None = None, source: str | None = None
) -> list[SyncRun]:
    query = (
        select(sync_run)
        .where(sync_run.c.status == RunStatus.RUNNING.value)
        .order_by(sync_run.c.started_at)
    )
    if tenant is not None:
        query = query.where(sync_run.c.tenant == tenant)
    if source is not None:
        query = query.where(sync_run.c.source == source)
    async with store.engine.connect() as conn:
        return [run_from_row(row) for row in (await conn.execute(query)).all()]


def records_so_far(run: SyncRun) -> int:
    """Records read so far (written or unchanged) over every stream of a run."""
    return sum(
        int(s.get("inserted", 0)) + int(s.get("updated", 0)) + int(s.get("unchanged", 0))
        for s in run.counts.values()
        if isinstance(s, dict)
    )
