"""The embedded scheduler: the nightly sync and manual triggers, in the web process.

Used when no Redis is configured (``preuve serve`` on one small server). It calls
the same job function as the arq worker, keyed the same way: one task per
(tenant, source) at most, queued or running; a second request is refused. At
most ``[sync] embedded_concurrency`` syncs run at once. Transient failures are
retried with the same backoff as in the worker. A run still marked running in
the store (an inline ``preuve sync`` in another process) also refuses a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from preuve.config.settings import Settings
from preuve.store import Store
from preuve.sync import metrics
from preuve.sync.dispatch import TriggerResult, TriggerStatus
from preuve.sync.jobs import UnknownSourceError, resolve, run_sync_job
from preuve.sync.locks import LocalLocks, close_abandoned_runs, job_key, running_runs
from preuve.sync.schedule import next_tick, nightly_plan
from preuve.sync.worker import worker_name

log = logging.getLogger(__name__)


def abandoned_after(settings: Settings) -> timedelta:
    """A run marked running for longer than this cannot be alive (the runner stops it)."""
    return timedelta(seconds=settings.sync.job_timeout_seconds + 60)


class EmbeddedScheduler:
    def __init__(self, settings: Settings, store: Store, *, nightly: bool = False) -> None:
        self.settings = settings
        self.store = store
        self.nightly = nightly and settings.schedule.enabled
        self._locks = LocalLocks()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._waiting: set[str] = set()  # deferred or waiting for a free slot
        self._slots = asyncio.Semaphore(settings.sync.embedded_concurrency)
        self._nightly_task: asyncio.Task[None] | None = None
        self._name = f"embedded:{worker_name()}"

    async def start(self) -> None:
        if self.nightly and self._nightly_task is None:
            self._nightly_task = asyncio.create_task(self._nightly_loop())

    async def close(self) -> None:
        """Stop: waiting syncs are dropped, running ones get ``shutdown_grace_seconds``
        to end, then are cancelled (their run is marked interrupted)."""
        if self._nightly_task is not None:
            self._nightly_task.cancel()
        for key in list(self._waiting):
            task = self._tasks.get(key)
            if task is not None:
                task.cancel()
        running = [t for t in self._tasks.values() if not t.done()]
        grace = self.settings.sync.shutdown_grace_seconds
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        tasks = [t for t in (self._nightly_task, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def trigger(
        self, tenant: str, source: str, *, trigger: str = "manual", delay: float = 0.0
    ) -> TriggerResult:
        resolve(self.settings, tenant, source)  # UnknownSourceError for the caller
        key = job_key(tenant, source)
        if not self._locks.acquire(key):
            metrics.SYNC_REFUSED.inc()
            status = (
                TriggerStatus.ALREADY_QUEUED
                if key in self._waiting
                else TriggerStatus.ALREADY_RUNNING
            )
            return TriggerResult(status, tenant, source)
        try:
            await close_abandoned_runs(
                self.store, tenant, source, older_than=abandoned_after(self.settings)
            )
            busy = bool(await running_runs(self.store, tenant, source))
        except BaseException:
            self._locks.release(key)
            raise
        if busy:
            # Another process (an inline `preuve sync`) is on it.
            self._locks.release(key)
            metrics.SYNC_REFUSED.inc()
            return TriggerResult(TriggerStatus.ALREADY_RUNNING, tenant, source)
        self._waiting.add(key)
        self._tasks[key] = asyncio.create_task(self._run(key, tenant, source, trigger, delay))
        return TriggerResult(TriggerStatus.QUEUED, tenant, source)

    async def _run(self, key: str, tenant: str, source: str, trigger: str, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            async with self._slots:
                self._waiting.discard(key)
                attempt = 1
                while True:
                    result = await run_sync_job(
                        self.store,
                        self.settings,
                        tenant,
                        source,
                        trigger=trigger,
                        worker=self._name,
                        attempt=attempt,
                    )
                    if result.retry_in is None:
                        break
                    await asyncio.sleep(result.retry_in)
                    attempt += 1
        except UnknownSourceError as exc:
            log.error("%s", exc)
        except Exception:
            log.exception("sync %s crashed", key)
        finally:
            self._waiting.discard(key)
            self._tasks.pop(key, None)
            self._locks.release(key)

    async def queue_depth(self) -> dict[str, int]:
        waiting = len(self._waiting)
        return {"ready": 0, "deferred": waiting, "running": len(self._tasks) - waiting}

    def pending(self) -> list[str]:
        return sorted(self._tasks)

    async def wait_idle(self) -> None:
        """Wait until every queued or running sync has ended (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def tick(self) -> int:
        """Queue every (tenant, source) with its spread offset; returns how many were queued."""
        queued = 0
        for planned in nightly_plan(self.settings):
            answer = await self.trigger(
                planned.tenant, planned.source, trigger="nightly", delay=planned.offset_seconds
            )
            queued += answer.accepted
        log.info("nightly tick: %d sync(s) queued", queued)
        return queued

    async def _nightly_loop(self) -> None:
        while True:
            now = datetime.now(UTC)
            at = next_tick(now, self.settings.schedule)
            await asyncio.sleep(max((at - now).total_seconds(), 0))
            try:
                await self.tick()
            except Exception:
                log.exception("nightly tick failed")
