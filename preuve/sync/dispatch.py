"""Asking for a sync: the answer (queued, or refused because one is on its way) and
the Redis side of it (arq queue, job ids, queue depth).

The embedded scheduler (``preuve.sync.embedded``) answers the same questions in
process; both satisfy :class:`Dispatcher`, which the web API and the CLI use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final, Protocol

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from arq.jobs import Job, JobStatus
from arq.utils import timestamp_ms

from preuve.i18n import Text
from preuve.sync import metrics
from preuve.sync.locks import JOB_PREFIX, job_key

QUEUE_NAME: Final = "preuve:sync"
SYNC_FUNCTION: Final = "sync"
TICK_FUNCTION: Final = "nightly_tick"
HEALTH_CHECK_KEY: Final = QUEUE_NAME + ":health-check"


class TriggerStatus(StrEnum):
    QUEUED = "queued"
    ALREADY_QUEUED = "already_queued"
    ALREADY_RUNNING = "already_running"


_MESSAGES: Final = {
    TriggerStatus.QUEUED: Text(
        fr="synchronisation de {tenant}/{source} demandée",
        en="sync of {tenant}/{source} requested",
    ),
    TriggerStatus.ALREADY_QUEUED: Text(
        fr="synchronisation de {tenant}/{source} déjà planifiée : demande ignorée",
        en="sync of {tenant}/{source} already scheduled: request ignored",
    ),
    TriggerStatus.ALREADY_RUNNING: Text(
        fr="synchronisation de {tenant}/{source} déjà en cours : demande ignorée",
        en="sync of {tenant}/{source} already running: request ignored",
    ),
}


@dataclass(frozen=True, slots=True)
class TriggerResult:
    status: TriggerStatus
    tenant: str
    source: str

    @property
    def accepted(self) -> bool:
        return self.status == TriggerStatus.QUEUED

    @property
    def job_id(self) -> str:
        return job_key(self.tenant, self.source)

    def message(self) -> str:
        return _MESSAGES[self.status](tenant=self.tenant, source=self.source)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "tenant": self.tenant,
            "source": self.source,
            "job_id": self.job_id,
            "message": self.message(),
        }


class Dispatcher(Protocol):
    async def trigger(
        self, tenant: str, source: str, *, trigger: str = "manual", delay: float = 0.0
    ) -> TriggerResult: ...

    async def queue_depth(self) -> dict[str, int]: ...

    async def close(self) -> None: ...


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


class ArqDispatcher:
    """Enqueue sync jobs on Redis; arq refuses a job id that is queued or running."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    @classmethod
    async def connect(cls, url: str) -> ArqDispatcher:
        return cls(await create_pool(redis_settings(url), default_queue_name=QUEUE_NAME))

    async def trigger(
        self, tenant: str, source: str, *, trigger: str = "manual", delay: float = 0.0
    ) -> TriggerResult:
        job = await self.redis.enqueue_job(
            SYNC_FUNCTION,
            tenant,
            source,
            trigger,
            _job_id=job_key(tenant, source),
            _queue_name=QUEUE_NAME,
            _defer_by=timedelta(seconds=delay) if delay > 0 else None,
        )
        if job is not None:
            return TriggerResult(TriggerStatus.QUEUED, tenant, source)
        metrics.SYNC_REFUSED.inc()
        running = await self.redis.exists(in_progress_key_prefix + job_key(tenant, source))
        status = TriggerStatus.ALREADY_RUNNING if running else TriggerStatus.ALREADY_QUEUED
        return TriggerResult(status, tenant, source)

    async def job_status(self, tenant: str, source: str) -> JobStatus:
        job = Job(job_key(tenant, source), self.redis, _queue_name=QUEUE_NAME)
        status: JobStatus = await job.status()
        return status

    async def queue_depth(self) -> dict[str, int]:
        """Jobs waiting to start now, deferred ones (spread, backoff), and running ones."""
        now = timestamp_ms()
        due = int(await self.redis.zcount(QUEUE_NAME, 0, now))
        deferred = int(await self.redis.zcount(QUEUE_NAME, now + 1, "+inf"))
        # A running job stays in the queue until it ends: count those apart.
        running = 0
        async for _ in self.redis.scan_iter(match=f"{in_progress_key_prefix}{JOB_PREFIX}:*"):
            running += 1
        return {"ready": max(due - running, 0), "deferred": deferred, "running": running}

    async def close(self) -> None:
        await self.redis.aclose()
