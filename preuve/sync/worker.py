"""The arq worker: sync jobs and the nightly tick, on Redis and a shared store.

- ``sync(tenant, source, trigger)``: job id ``sync:<tenant>:<source>`` (arq refuses
  a second one while it is queued or running), a Redis lock held for the run,
  a retry with exponential backoff for classified transient errors only.
- ``nightly_tick``: an arq cron at ``[schedule] nightly_at`` in the schedule's
  timezone (``unique``: one tick per night whatever the number of workers);
  it enqueues every (tenant, source), deferred by the tenant's spread offset.
- A killed worker: its job stays in the queue; when its in-progress mark expires
  (job timeout + 10 s) another worker runs it again, from the saved cursors.
  SIGTERM: running jobs get ``[sync] shutdown_grace_seconds`` to finish, are
  then cancelled (the run is marked interrupted) and re-queued at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any
from zoneinfo import ZoneInfo

from arq import Retry, create_pool, cron, func
from arq.connections import ArqRedis
from arq.worker import Worker
from sqlalchemy.exc import InterfaceError, OperationalError

from preuve.config.settings import Settings
from preuve.store import open_store
from preuve.sync import metrics
from preuve.sync.background import webhook_delivery
from preuve.sync.dispatch import (
    HEALTH_CHECK_KEY,
    QUEUE_NAME,
    SYNC_FUNCTION,
    TICK_FUNCTION,
    ArqDispatcher,
    redis_settings,
)
from preuve.sync.jobs import UnknownSourceError, backoff_seconds, run_sync_job
from preuve.sync.locks import close_abandoned_runs, job_key, redis_lock
from preuve.sync.plugins import apply_connector_classes
from preuve.sync.schedule import nightly_plan

log = logging.getLogger(__name__)

HEALTH_CHECK_INTERVAL_SECONDS = 60
# Errors that mean "the store is unreachable right now", not "this sync is wrong".
STORE_OUTAGES = (OSError, OperationalError, InterfaceError)
# The arq timeout leaves the runner's own time limit room to stop the run cleanly.
TIMEOUT_GRACE_SECONDS = 15.0


def arq_timeout(settings: Settings) -> float:
    """Job timeout given to arq: the run's own limit plus a grace (a quarter, <= 15 s).

    A killed worker's job is picked up again ``arq_timeout + 10`` seconds after it
    started (arq's in-progress mark expires then).
    """
    limit = settings.sync.job_timeout_seconds
    return limit + min(TIMEOUT_GRACE_SECONDS, max(limit / 4, 1.0))


def health_check_key(host: str | None = None) -> str:
    """Per host (a container): ``preuve worker --check`` probes the worker beside it."""
    return f"{HEALTH_CHECK_KEY}:{host or socket.gethostname()}"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def _startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    apply_connector_classes(settings)
    resources = contextlib.AsyncExitStack()
    store = await open_store(settings.store.url)
    resources.push_async_callback(store.close)
    await resources.enter_async_context(webhook_delivery(store, settings))
    ctx["resources"] = resources
    ctx["store"] = store
    ctx["worker_name"] = worker_name()
    log.info("worker %s ready on queue %s", ctx["worker_name"], QUEUE_NAME)


async def _shutdown(ctx: dict[str, Any]) -> None:
    resources = ctx.get("resources")
    if resources is not None:
        await resources.aclose()


async def sync_job(
    ctx: dict[str, Any], tenant_id: str, source_id: str, trigger: str = "manual"
) -> dict[str, Any]:
    settings: Settings = ctx["settings"]
    redis: ArqRedis = ctx["redis"]
    store = ctx["store"]
    attempt = int(ctx.get("job_try", 1))
    key = job_key(tenant_id, source_id)
    async with redis_lock(redis, key, settings.sync.lock_ttl_seconds) as held:
        if not held:
            # Another holder is alive (an inline `preuve sync`, a stuck worker):
            # try again once its lock is released or has expired.
            log.warning("sync %s is locked elsewhere, retrying later", key)
            raise Retry(defer=settings.sync.lock_ttl_seconds)
        try:
            # We hold the lock: a run still marked running was left by a dead worker.
            await close_abandoned_runs(store, tenant_id, source_id)
            result = await run_sync_job(
                store,
                settings,
                tenant_id,
                source_id,
                trigger=trigger,
                worker=ctx["worker_name"],
                attempt=attempt,
                max_tries=settings.sync.max_tries,
            )
        except UnknownSourceError as exc:
            log.error("%s", exc)
            return {"status": "unknown", "tenant": tenant_id, "source": source_id}
        except STORE_OUTAGES as exc:
            # The store is unreachable (restart, failover): worth another try later.
            if attempt >= settings.sync.max_tries:
                raise
            delay = backoff_seconds(attempt, settings)
            log.warning(
                "store unavailable (%s), retrying %s in %.0fs", type(exc).__name__, key, delay
            )
            raise Retry(defer=delay) from exc
    if result.retry_in is not None:
        raise Retry(defer=result.retry_in)
    return result.as_json()


async def nightly_tick(ctx: dict[str, Any]) -> dict[str, int]:
    """Enqueue every (tenant, source), each deferred by its tenant's spread offset."""
    settings: Settings = ctx["settings"]
    dispatcher = ArqDispatcher(ctx["redis"])
    queued = refused = 0
    for planned in nightly_plan(settings):
        answer = await dispatcher.trigger(
            planned.tenant, planned.source, trigger="nightly", delay=planned.offset_seconds
        )
        if answer.accepted:
            queued += 1
        else:
            refused += 1
    log.info("nightly tick: %d sync(s) queued, %d already on their way", queued, refused)
    return {"queued": queued, "refused": refused}


async def _record_queue_depth(ctx: dict[str, Any]) -> None:
    depth = await ArqDispatcher(ctx["redis"]).queue_depth()
    for state, value in depth.items():
        metrics.QUEUE_DEPTH.labels(state).set(value)


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``arq.Worker`` for these settings."""
    sync = settings.sync
    schedule = settings.schedule
    timeout = arq_timeout(settings)
    cron_jobs = []
    if schedule.enabled:
        at = schedule.nightly_at
        cron_jobs.append(
            cron(
                nightly_tick,
                name=TICK_FUNCTION,
                hour=at.hour,
                minute=at.minute,
                second=at.second,
                unique=True,
                run_at_startup=False,
                timeout=timeout,  # arq expires in-progress marks after the longest timeout
                keep_result=0,
            )
        )
    if not settings.redis.url:
        raise ValueError("[redis] url is not configured")
    return {
        "functions": [
            func(
                sync_job,
                name=SYNC_FUNCTION,
                keep_result=0,  # a finished job leaves nothing behind: its id is free again
                timeout=timeout,
                max_tries=sync.max_tries,
            )
        ],
        "cron_jobs": cron_jobs,
        "redis_settings": redis_settings(settings.redis.url),
        "queue_name": QUEUE_NAME,
        "health_check_key": health_check_key(),
        "health_check_interval": HEALTH_CHECK_INTERVAL_SECONDS,
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "after_job_end": _record_queue_depth,
        "ctx": {"settings": settings},
        "max_jobs": sync.worker_concurrency,
        "job_timeout": timeout,
        "keep_result": 0,
        "max_tries": sync.max_tries,
        "job_completion_wait": sync.shutdown_grace_seconds,
        "timezone": ZoneInfo(schedule.timezone),
        "poll_delay": 0.5,
    }


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Run an arq worker until SIGTERM/SIGINT (or until the queue is empty with ``burst``)."""
    if settings.sync.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.sync.metrics_port, registry=metrics.REGISTRY)
    # arq's Worker picks up the current event loop, or makes one.
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker = Worker(**worker_settings(settings), burst=burst)
    worker.run()


async def check_worker(settings: Settings) -> bool:
    """True when this host's worker recorded its health within the last interval.

    The worker refreshes the key every minute with a 61 s expiry: a worker that
    is stuck or gone lets it expire.
    """
    if not settings.redis.url:
        return False
    redis = await create_pool(redis_settings(settings.redis.url))
    try:
        return bool(await redis.get(health_check_key()))
    finally:
        await redis.aclose()
