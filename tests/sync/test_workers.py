"""Distributed mode end to end: real ``preuve worker`` processes, real Redis, real PostgreSQL.

- 3 workers, 50 tenants: the nightly tick (the arq cron, fired by the clock)
  syncs each (tenant, source) exactly once; a second request while one is
  queued or running is refused.
- A worker killed with SIGKILL mid-sync: another worker takes the job over and
  finishes it from the last committed batch; nothing lost, nothing doubled.
- A worker stopped with SIGTERM mid-sync: the run is marked interrupted and the
  job is re-queued at once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from preuve.store import RunStatus, Store, SyncRun, open_store
from preuve.sync.dispatch import ArqDispatcher, TriggerStatus
from preuve.sync.progress import active_runs
from tests.sync.helpers import tenant_dicts
from tests.sync.workers import (
    evidence_keys,
    finished_runs,
    revision_count,
    running_workers,
    wait_until,
    worker_env,
    worker_logs,
    write_config,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    store = await open_store(pg_url)
    yield store
    await store.close()


@pytest.fixture
async def dispatcher(redis_url: str) -> AsyncIterator[ArqDispatcher]:
    opened = await ArqDispatcher.connect(redis_url)
    yield opened
    await opened.close()


def _ready(logs: Path) -> int:
    return worker_logs(logs).count("ready on queue")


async def _all_ready(logs: Path, count: int) -> None:
    async def check() -> bool:
        return await asyncio.to_thread(_ready, logs) >= count

    await wait_until(check, within=20, what=f"{count} workers to start", logs=logs)


async def _runs_of(store: Store, tenant: str) -> list[SyncRun]:
    return await store.runs.recent(tenant=tenant, limit=10)


async def test_nightly_tick_on_three_workers_syncs_each_source_exactly_once(
    pg_url: str, redis_url: str, pg_store: Store, dispatcher: ArqDispatcher, tmp_path: Path
) -> None:
    tenants = tenant_dicts(tmp_path, 50, 20, options={"batch_size": 5, "batch_delay": 0.1})
    config = write_config(
        tmp_path / "preuve.toml",
        tenants,
        {"job_timeout_seconds": 30, "lock_ttl_seconds": 5, "worker_concurrency": 4},
    )
    paris = ZoneInfo("Europe/Paris")
    tick = (datetime.now(paris) + timedelta(seconds=9)).replace(microsecond=0)
    env = worker_env(
        config,
        pg_url,
        redis_url,
        PREUVE_SCHEDULE__NIGHTLY_AT=tick.time().isoformat(),
        PREUVE_SCHEDULE__SPREAD_MINUTES="0",
    )
    with running_workers(3, env, tmp_path):
        await _all_ready(tmp_path, 3)
        if datetime.now(paris) >= tick:
            pytest.fail("the workers started after the tick time: machine too slow for this test")

        # The tick fires by itself; catch a sync while it runs and ask for it again.
        running = await wait_until(
            lambda: active_runs(pg_store), within=30, what="a running sync", logs=tmp_path
        )
        busy = running[0]
        again = await dispatcher.trigger(busy.tenant, busy.source, trigger="test")
        assert again.status == TriggerStatus.ALREADY_RUNNING
        assert "déjà en cours" in again.message()
        depth = await dispatcher.queue_depth()
        assert depth["running"] >= 1

        async def all_done() -> bool:
            return await finished_runs(pg_store) >= 50

        await wait_until(all_done, within=60, what="50 finished runs", logs=tmp_path)
        await asyncio.sleep(1.5)  # anything doubled would show up now

    runs = await pg_store.runs.recent(limit=500)
    assert len(runs) == 50
    assert sorted((r.tenant, r.source) for r in runs) == [(t["id"], "lms") for t in tenants]
    assert {r.status for r in runs} == {RunStatus.SUCCEEDED}
    assert {r.trigger for r in runs} == {"nightly"}
    assert len({r.worker for r in runs}) >= 2  # the work was shared
    for tenant in tenants:
        assert await pg_store.evidence.count_by_kind(tenant["id"]) == {"enrolment": 20}
    assert await revision_count(pg_store) == 0
    # Finished jobs leave nothing behind: the same syncs can be asked for again.
    answer = await dispatcher.trigger(busy.tenant, busy.source)
    assert answer.status == TriggerStatus.QUEUED


async def _sync_and_wait(
    dispatcher: ArqDispatcher, store: Store, tenant: str, logs: Path
) -> SyncRun:
    answer = await dispatcher.trigger(tenant, "lms")
    assert answer.accepted

    async def done() -> SyncRun | None:
        runs = await _runs_of(store, tenant)
        return next((r for r in runs if r.status == RunStatus.SUCCEEDED), None)

    found: SyncRun = await wait_until(done, within=40, what=f"{tenant} to finish", logs=logs)
    return found


def _normalised(keys: list[tuple[str, str, str]], tenant: str) -> list[tuple[str, str, str]]:
    return [(k, sid.removeprefix(f"{tenant}-"), h) for k, sid, h in keys]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_worker_stopped_mid_sync_job_finishes_elsewhere_exactly_once(
    sig: signal.Signals,
    pg_url: str,
    redis_url: str,
    pg_store: Store,
    dispatcher: ArqDispatcher,
    tmp_path: Path,
) -> None:
    records = 80
    tenants = tenant_dicts(tmp_path, 2, records, options={"batch_size": 10, "batch_delay": 0.15})
    config = write_config(
        tmp_path / "preuve.toml",
        tenants,
        {
            "job_timeout_seconds": 5,
            "lock_ttl_seconds": 2,
            "worker_concurrency": 1,
            "shutdown_grace_seconds": 0,
        },
    )
    env = worker_env(config, pg_url, redis_url, PREUVE_SCHEDULE__ENABLED="false")
    with running_workers(2, env, tmp_path) as procs:
        await _all_ready(tmp_path, 2)
        # An uninterrupted sync of the same data, for comparison.
        baseline = await _sync_and_wait(dispatcher, pg_store, "of-000", tmp_path)
        assert baseline.counts["records"]["inserted"] == records

        assert (await dispatcher.trigger("of-001", "lms")).accepted

        async def some_committed() -> list[SyncRun]:
            runs = await active_runs(pg_store, tenant="of-001")
            counts = await pg_store.evidence.count_by_kind("of-001")
            return runs if counts.get("enrolment", 0) >= 20 else []

        victim_run = (
            await wait_until(some_committed, within=20, what="a sync under way", logs=tmp_path)
        )[0]
        victim = next(
            p for p in procs if victim_run.worker and victim_run.worker.endswith(f":{p.pid}")
        )
        victim.send_signal(sig)
        await asyncio.to_thread(victim.wait, 10)
        # SIGKILL: the job is taken over only once its in-progress mark expires, so
        # the store now holds exactly what the victim committed.
        after_kill = (await pg_store.evidence.count_by_kind("of-001")).get("enrolment", 0)

        async def resumed() -> SyncRun | None:
            runs = await _runs_of(pg_store, "of-001")
            return next((r for r in runs if r.status == RunStatus.SUCCEEDED), None)

        final = await wait_until(resumed, within=40, what="the job to resume", logs=tmp_path)

    assert final.worker != victim_run.worker
    interrupted = await pg_store.runs.get(victim_run.id)
    assert interrupted is not None
    assert interrupted.status == RunStatus.FAILED
    assert interrupted.errors[-1]["code"] == "interrupted"
    if sig == signal.SIGTERM:
        # SIGTERM: the victim recorded its exact counts before letting go of the job.
        committed = interrupted.counts["records"]["inserted"]
        assert interrupted.finished_at is not None
    else:
        committed = after_kill
    assert 0 < committed < records
    # It went on from the last committed batch: nothing read twice, nothing skipped.
    assert final.counts["records"]["inserted"] == records - committed
    assert final.counts["records"]["unchanged"] == 0
    assert _normalised(await evidence_keys(pg_store, "of-001"), "of-001") == _normalised(
        await evidence_keys(pg_store, "of-000"), "of-000"
    )
    assert len(await evidence_keys(pg_store, "of-001")) == records
    assert await revision_count(pg_store) == 0
