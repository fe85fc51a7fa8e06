"""The embedded scheduler (no Redis): same job, in-process locks, retries, the tick."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from preuve.connectors import registry
from preuve.store import RunStatus, Store
from preuve.sync.dispatch import TriggerStatus
from preuve.sync.embedded import EmbeddedScheduler
from preuve.sync.jobs import UnknownSourceError
from preuve.sync.progress import active_runs
from tests.sync.helpers import make_settings, tenant_dicts
from tests.sync.standin import TARGET
from tests.sync.workers import wait_until


@pytest.fixture(autouse=True)
def _standin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.CONNECTORS, "jsonl", TARGET)


@pytest.fixture
async def scheduler_factory(store: Store) -> AsyncIterator[list[EmbeddedScheduler]]:
    made: list[EmbeddedScheduler] = []
    yield made
    for scheduler in made:
        await scheduler.close()


async def test_second_request_while_queued_or_running_is_refused(
    store: Store, store_url: str, tmp_path: Path, scheduler_factory: list[EmbeddedScheduler]
) -> None:
    settings = make_settings(
        store_url,
        tenant_dicts(tmp_path, 2, 40, options={"batch_size": 5, "batch_delay": 0.05}),
        sync={"embedded_concurrency": 1},
    )
    scheduler = EmbeddedScheduler(settings, store)
    scheduler_factory.append(scheduler)

    first = await scheduler.trigger("of-000", "lms")
    other = await scheduler.trigger("of-001", "lms")
    assert first.status == other.status == TriggerStatus.QUEUED
    await wait_until(lambda: active_runs(store, tenant="of-000"), within=10, what="a run")
    again = await scheduler.trigger("of-000", "lms")
    assert again.status == TriggerStatus.ALREADY_RUNNING
    assert "déjà en cours" in again.message()
    # One slot: of-001 waits its turn, and is not queued twice either.
    waiting = await scheduler.trigger("of-001", "lms")
    assert waiting.status == TriggerStatus.ALREADY_QUEUED
    assert await scheduler.queue_depth() == {"ready": 0, "deferred": 1, "running": 1}

    await scheduler.wait_idle()
    runs = await store.runs.recent(limit=10)
    assert sorted((r.tenant, r.status) for r in runs) == [
        ("of-000", RunStatus.SUCCEEDED),
        ("of-001", RunStatus.SUCCEEDED),
    ]
    assert (await scheduler.trigger("of-000", "lms")).status == TriggerStatus.QUEUED
    await scheduler.wait_idle()


async def test_a_run_of_another_process_refuses_a_new_one(
    store: Store, store_url: str, tmp_path: Path, scheduler_factory: list[EmbeddedScheduler]
) -> None:
    settings = make_settings(store_url, tenant_dicts(tmp_path, 1, 5))
    scheduler = EmbeddedScheduler(settings, store)
    scheduler_factory.append(scheduler)
    # An inline `preuve sync` elsewhere has this source running.
    other = await store.runs.start("of-000", "lms", trigger="cli", worker="cli")

    answer = await scheduler.trigger("of-000", "lms")

    assert answer.status == TriggerStatus.ALREADY_RUNNING
    assert scheduler.pending() == []
    stored = await store.runs.get(other)
    assert stored is not None
    assert stored.status == RunStatus.RUNNING


async def test_an_abandoned_run_is_closed_and_does_not_block(
    store: Store, store_url: str, tmp_path: Path, scheduler_factory: list[EmbeddedScheduler]
) -> None:
    settings = make_settings(
        store_url, tenant_dicts(tmp_path, 1, 5), sync={"job_timeout_seconds": 0.5}
    )
    scheduler = EmbeddedScheduler(settings, store)
    scheduler_factory.append(scheduler)
    stale = await store.runs.start("of-000", "lms", trigger="cli", worker="cli")
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from preuve.store.schema import sync_run

    async with store.engine.begin() as conn:  # a process killed two hours ago
        await conn.execute(
            update(sync_run)
            .where(sync_run.c.id == stale)
            .values(started_at=datetime.now(UTC) - timedelta(hours=2))
        )

    assert (await scheduler.trigger("of-000", "lms")).status == TriggerStatus.QUEUED
    await scheduler.wait_idle()
    closed = await store.runs.get(stale)
    assert closed is not None
    assert closed.status == RunStatus.FAILED
    assert closed.errors[-1]["code"] == "interrupted"
    assert await store.evidence.count_by_kind("of-000") == {"enrolment": 5}


async def test_transient_failures_are_retried_in_process(
    store: Store, store_url: str, tmp_path: Path, scheduler_factory: list[EmbeddedScheduler]
) -> None:
    counter = tmp_path / "failures"
    counter.write_text("2")
    settings = make_settings(
        store_url,
        tenant_dicts(tmp_path, 1, 7, options={"transient_failures_file": str(counter)}),
        sync={"retry_base_seconds": 0.01, "max_tries": 3},
    )
    scheduler = EmbeddedScheduler(settings, store)
    scheduler_factory.append(scheduler)
    await scheduler.trigger("of-000", "lms")
    await scheduler.wait_idle()
    runs = await store.runs.recent(tenant="of-000")
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.FAILED]
    assert await store.evidence.count_by_kind("of-000") == {"enrolment": 7}


async def test_tick_queues_every_enabled_source_once(
    store: Store, store_url: str, tmp_path: Path, scheduler_factory: list[EmbeddedScheduler]
) -> None:
    tenants = tenant_dicts(tmp_path, 6, 4)
    tenants[5]["sources"][0]["enabled"] = False
    settings = make_settings(store_url, tenants, sync={"embedded_concurrency": 3})
    scheduler = EmbeddedScheduler(settings, store, nightly=True)
    scheduler_factory.append(scheduler)

    assert await scheduler.tick() == 5
    assert await scheduler.tick() == 0  # all five already on their way
    await scheduler.wait_idle()

    runs = await store.runs.recent(limit=50)
    assert sorted(r.tenant for r in runs) == [f"of-00{n}" for n in range(5)]
    assert {r.trigger for r in runs} == {"nightly"}


async def test_unknown_source_is_an_error(
    store: Store, store_url: str, tmp_path: Path, scheduler_factory: list[EmbeddedScheduler]
) -> None:
    scheduler = EmbeddedScheduler(make_settings(store_url, tenant_dicts(tmp_path, 1, 1)), store)
    scheduler_factory.append(scheduler)
    with pytest.raises(UnknownSourceError):
        await scheduler.trigger("of-000", "nope")


async def test_close_interrupts_a_running_sync(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        store_url,
        tenant_dicts(tmp_path, 1, 100, options={"batch_size": 5, "batch_delay": 0.05}),
        sync={"shutdown_grace_seconds": 0},
    )
    scheduler = EmbeddedScheduler(settings, store)
    await scheduler.trigger("of-000", "lms")
    await wait_until(
        lambda: store.evidence.count_by_kind("of-000"), within=10, what="a committed batch"
    )
    await scheduler.close()
    runs = await store.runs.recent(tenant="of-000")
    assert runs[0].status == RunStatus.FAILED
    assert runs[0].errors[-1]["code"] == "interrupted"
    committed = (await store.evidence.count_by_kind("of-000"))["enrolment"]
    assert await store.evidence.get_cursor("of-000", "lms", "records") == str(committed)


async def test_close_lets_running_syncs_finish_within_the_grace(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        store_url,
        tenant_dicts(tmp_path, 2, 20, options={"batch_size": 5, "batch_delay": 0.05}),
        sync={"shutdown_grace_seconds": 10, "embedded_concurrency": 1},
    )
    scheduler = EmbeddedScheduler(settings, store)
    await scheduler.trigger("of-000", "lms")
    await scheduler.trigger("of-001", "lms", delay=60)  # deferred: dropped on close
    await wait_until(lambda: active_runs(store, tenant="of-000"), within=10, what="a run")
    await scheduler.close()
    runs = await store.runs.recent()
    assert [(r.tenant, r.status) for r in runs] == [("of-000", RunStatus.SUCCEEDED)]
