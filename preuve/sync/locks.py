"""Never two syncs of one (tenant, source) at once.

Three layers, each keyed by :func:`job_key`:

- the arq job id (distributed mode): a second enqueue of a queued or running
  job is refused by arq itself;
- a lock, held for the whole run: in Redis (``redis.asyncio.lock.Lock``, kept
  alive by a heartbeat, so it frees itself soon after a killed worker), or in
  the process (embedded mode);
- the run log: a run still marked running whose owner is gone is closed as
  interrupted, and in embedded mode (no shared lock between ``preuve serve`` and
  an inline ``preuve sync``) a recent running run refuses a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError
from sqlalchemy import select, update

from preuve.i18n import Text
from preuve.store import RunStatus, Store, SyncRun
from preuve.store.schema import sync_run

log = logging.getLogger(__name__)

JOB_PREFIX: Final = "sync"
LOCK_PREFIX: Final = "preuve:lock:"

MSG_ABANDONED = Text(
    fr="synchronisation interrompue (processus arrêté ou tué) ; reprise au dernier lot enregistré",
    en="sync interrupted (process stopped or killed); resumed from the last saved batch",
)


def job_key(tenant: str, source: str) -> str:
    """The one name of a (tenant, source) sync: arq job id and lock name."""
    return f"{JOB_PREFIX}:{tenant}:{source}"


@contextlib.asynccontextmanager
async def redis_lock(redis: Redis, key: str, ttl: float) -> AsyncIterator[bool]:
    """Hold ``key`` in Redis for the block; yields False when someone else holds it.

    The lock expires ``ttl`` seconds after its holder stops renewing it (a killed
    worker), so the job can be picked up again.
    """
    lock: Lock = redis.lock(LOCK_PREFIX + key, timeout=ttl, blocking=False)
    if not await lock.acquire():
        yield False
        return
    renew = asyncio.create_task(_keep_alive(lock, ttl))
    try:
        yield True
    finally:
        renew.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renew
        with contextlib.suppress(LockError):  # expired meanwhile: nothing to release
            await lock.release()


async def _keep_alive(lock: Lock, ttl: float) -> None:
    while True:
        await asyncio.sleep(ttl / 3)
        try:
            await lock.reacquire()
        except LockError:
            log.error("sync lock %s lost while running", lock.name)
            return


class LocalLocks:
    """In-process locks, keyed like the Redis ones (embedded mode)."""

    def __init__(self) -> None:
        self._held: set[str] = set()

    def acquire(self, key: str) -> bool:
        if key in self._held:
            return False
        self._held.add(key)
        return True

    def release(self, key: str) -> None:
        self._held.discard(key)

    def held(self) -> frozenset[str]:
        return frozenset(self._held)


async def running_runs(store: Store, tenant: str, source: str) -> list[SyncRun]:
    runs = await store.runs.recent(tenant=tenant, source=source, limit=20)
    return [run for run in runs if run.status == RunStatus.RUNNING]


async def close_abandoned_runs(
    store: Store, tenant: str, source: str, *, older_than: timedelta | None = None
) -> int:
    """Mark running runs whose owner is gone as failed (``interrupted``).

    ``older_than`` None: every running run (the caller holds the shared lock, so
    none of them can be alive).
    """
    conditions: list[Any] = [
        sync_run.c.tenant == tenant,
        sync_run.c.source == source,
        sync_run.c.status == RunStatus.RUNNING.value,
    ]
    if older_than is not None:
        conditions.append(sync_run.c.started_at < datetime.now(UTC) - older_than)
    async with store.engine.begin() as conn:
        rows = (
            await conn.execute(select(sync_run.c.id, sync_run.c.errors).where(*conditions))
        ).all()
        for run_id, errors in rows:
            await conn.execute(
                update(sync_run)
                .where(sync_run.c.id == run_id, sync_run.c.status == RunStatus.RUNNING.value)
                .values(
                    status=RunStatus.FAILED.value,
                    finished_at=datetime.now(UTC),
                    errors=[
                        *(errors or []),
                        {"code": "interrupted", "message": MSG_ABANDONED(), "action": "retry"},
                    ],
                )
            )
    if rows:
        log.warning("closed %d abandoned run(s) of %s/%s", len(rows), tenant, source)
    return len(rows)
