"""The sync job on the real store (SQLite file and PostgreSQL): outcomes, retries,
timeouts, configuration failures, events, metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from preuve import events as ev
from preuve.connectors import registry
from preuve.store import RunStatus, Store
from preuve.sync import metrics
from preuve.sync.jobs import UnknownSourceError, backoff_seconds, run_sync_job
from preuve.sync.plugins import apply_connector_classes
from tests.sync.helpers import make_settings, tenant_dicts
from tests.sync.standin import TARGET


@pytest.fixture(autouse=True)
def _standin(monkeypatch: pytest.MonkeyPatch) -> None:
    # The stand-in replaces the jsonl kind for this test only.
    monkeypatch.setitem(registry.CONNECTORS, "jsonl", TARGET)


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    found = metrics.REGISTRY.get_sample_value(name, labels or {})
    return found or 0.0


async def test_success_writes_every_record_and_emits_completed(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    settings = make_settings(store_url, tenant_dicts(tmp_path, 1, 35))
    before = _value("preuve_sync_records_total", {"kind": "jsonl", "outcome": "inserted"})

    result = await run_sync_job(store, settings, "of-000", "lms", trigger="test")

    assert result.outcome.status == RunStatus.SUCCEEDED
    assert result.retry_in is None
    assert result.outcome.totals.inserted == 35
    assert await store.evidence.count_by_kind("of-000") == {"enrolment": 35}
    assert [e.type for e in result.events][:1] == [ev.SYNC_COMPLETED]
    completed = result.events[0]
    assert completed.tenant == "of-000"
    assert completed.data["run_id"] == result.outcome.run_id
    assert completed.data["totals"]["inserted"] == 35
    run = await store.runs.get(result.outcome.run_id)
    assert run is not None
    assert run.status == RunStatus.SUCCEEDED
    assert run.counts["records"]["inserted"] == 35
    assert run.counts["records"]["batches"] == 4
    after = _value("preuve_sync_records_total", {"kind": "jsonl", "outcome": "inserted"})
    assert after - before == 35
    assert (
        _value("preuve_sync_last_success_timestamp_seconds", {"tenant": "of-000", "source": "lms"})
        > 0
    )

    again = await run_sync_job(store, settings, "of-000", "lms")
    # The cursor is past the last line: the second run reads nothing new.
    assert again.outcome.totals.inserted == 0


async def test_transient_failure_is_retried_with_backoff_then_reported(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    counter = tmp_path / "failures"
    counter.write_text("5")
    settings = make_settings(
        store_url,
        tenant_dicts(tmp_path, 1, 5, options={"transient_failures_file": str(counter)}),
        sync={"max_tries": 3, "retry_base_seconds": 10, "retry_max_seconds": 25},
    )
    first = await run_sync_job(store, settings, "of-000", "lms", attempt=1)
    second = await run_sync_job(store, settings, "of-000", "lms", attempt=2)
    third = await run_sync_job(store, settings, "of-000", "lms", attempt=3)

    assert (first.retry_in, second.retry_in) == (10, 20)
    assert first.events == []
    assert second.events == []
    assert third.retry_in is None
    assert third.outcome.status == RunStatus.FAILED
    assert [e.type for e in third.events] == [ev.SYNC_FAILED]
    assert third.events[0].data["code"] == "http_503"
    assert third.events[0].data["attempts"] == 3
    runs = await store.runs.recent(tenant="of-000", source="lms")
    assert [r.status for r in runs] == [RunStatus.FAILED] * 3
    assert all(r.errors[-1]["action"] == "retry" for r in runs)


async def test_transient_then_success(store: Store, store_url: str, tmp_path: Path) -> None:
    counter = tmp_path / "failures"
    counter.write_text("1")
    settings = make_settings(
        store_url,
        tenant_dicts(tmp_path, 1, 5, options={"transient_failures_file": str(counter)}),
    )
    first = await run_sync_job(store, settings, "of-000", "lms", attempt=1)
    assert first.retry_in is not None
    second = await run_sync_job(store, settings, "of-000", "lms", attempt=2)
    assert second.outcome.status == RunStatus.SUCCEEDED
    assert second.outcome.totals.inserted == 5


async def test_permanent_failure_is_not_retried(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    tenants = tenant_dicts(tmp_path, 1, 5)
    tenants[0]["sources"][0]["path"] = str(tmp_path / "missing.jsonl")
    settings = make_settings(store_url, tenants)

    result = await run_sync_job(store, settings, "of-000", "lms", attempt=1)

    assert result.retry_in is None
    assert result.outcome.status == RunStatus.FAILED
    assert result.outcome.errors[-1]["code"] == "not_found"
    assert "missing.jsonl" in result.outcome.errors[-1]["message"]
    assert [e.type for e in result.events] == [ev.SYNC_FAILED]
    assert result.events[0].data["code"] == "not_found"


async def test_timeout_stops_cleanly_and_the_next_run_resumes(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        store_url,
        tenant_dicts(tmp_path, 1, 100, options={"batch_size": 10, "batch_delay": 0.05}),
        sync={"job_timeout_seconds": 0.22},
    )
    first = await run_sync_job(store, settings, "of-000", "lms")

    assert first.outcome.status == RunStatus.FAILED
    assert first.outcome.errors[-1]["code"] == "timeout"
    assert first.retry_in is None
    committed = (await store.evidence.count_by_kind("of-000"))["enrolment"]
    assert 0 < committed < 100
    # The cursor covers exactly the committed batches, and the run counted each of them
    # (a deadline striking during a commit lets that commit end first).
    assert await store.evidence.get_cursor("of-000", "lms", "records") == str(committed)
    assert first.outcome.totals.inserted == committed
    run = await store.runs.get(first.outcome.run_id)
    assert run is not None
    assert run.counts["records"]["inserted"] == committed

    relaxed = make_settings(store_url, tenant_dicts(tmp_path, 1, 100, options={"batch_size": 10}))
    second = await run_sync_job(store, relaxed, "of-000", "lms")
    assert second.outcome.status == RunStatus.SUCCEEDED
    assert second.outcome.totals.inserted == 100 - committed
    assert second.outcome.totals.updated == 0
    assert await store.evidence.count_by_kind("of-000") == {"enrolment": 100}


async def test_configuration_failure_is_recorded(
    store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREUVE_TEST_PSEUDO_SECRET", raising=False)
    tenants = tenant_dicts(tmp_path, 1, 5)
    tenants[0]["pseudonym_secret_env"] = "PREUVE_TEST_PSEUDO_SECRET"
    settings = make_settings(store_url, tenants)

    result = await run_sync_job(store, settings, "of-000", "lms")

    assert result.outcome.status == RunStatus.FAILED
    run = await store.runs.get(result.outcome.run_id)
    assert run is not None
    assert run.errors[0]["code"] == "configuration"
    assert "PREUVE_TEST_PSEUDO_SECRET" in run.errors[0]["message"]
    assert [e.type for e in result.events] == [ev.SYNC_FAILED]


async def test_unknown_source_raises(store: Store, store_url: str, tmp_path: Path) -> None:
    settings = make_settings(store_url, tenant_dicts(tmp_path, 1, 1))
    with pytest.raises(UnknownSourceError, match="nope"):
        await run_sync_job(store, settings, "of-000", "nope")


def test_backoff_grows_exponentially_is_capped_and_honours_retry_after(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///x.db",
        [],
        sync={"retry_base_seconds": 30, "retry_max_seconds": 200},
    )
    assert [backoff_seconds(n, settings) for n in (1, 2, 3, 4)] == [30, 60, 120, 200]
    assert backoff_seconds(1, settings, retry_after=90) == 90
    assert backoff_seconds(1, settings, retry_after=10_000) == 200


def test_connector_classes_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings("sqlite+aiosqlite:///x.db", [], sync={"connector_classes": {}})
    settings.sync.connector_classes["jsonl"] = "no-colon"
    with pytest.raises(ValueError, match="module:Class"):
        apply_connector_classes(settings)


async def test_events_reach_the_webhook_outbox(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from preuve.webhooks.endpoints import add_endpoint
    from preuve.webhooks.ssrf import AllowList
    from preuve.webhooks.tables import webhook_message

    settings = make_settings(store_url, tenant_dicts(tmp_path, 1, 3))
    await add_endpoint(
        store,
        "of-000",
        "http://127.0.0.1:9/hook",
        allow=AllowList.parse(["127.0.0.0/8"]),
        event_types=[ev.SYNC_COMPLETED, ev.SYNC_FAILED],
    )
    result = await run_sync_job(store, settings, "of-000", "lms")

    async with store.engine.connect() as conn:
        rows = (
            await conn.execute(select(webhook_message.c.msg_id, webhook_message.c.event_type))
        ).all()
    assert [(r.msg_id, r.event_type) for r in rows] == [(result.events[0].id, ev.SYNC_COMPLETED)]
