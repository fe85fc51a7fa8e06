"""After a sync: the sync's events, then the coverage snapshot's, reach the webhook outbox
(real store on SQLite and PostgreSQL, endpoints declared in the configuration)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from preuve import events as ev
from preuve.config.settings import Settings
from preuve.events import Event
from preuve.mapping.tables import coverage_snapshot
from preuve.store import Store
from preuve.sync import metrics
from preuve.sync.hooks import SnapshotRefused, after_sync, coverage_day, snapshot_coverage
from preuve.webhooks.configured import configured_endpoint_id
from preuve.webhooks.signing import generate_secret
from preuve.webhooks.tables import webhook_message
from tests.mapping.scenario import TENANT, load_scenario, settings_with_endpoint

SECRET_ENV = "PREUVE_TEST_HOOKS_SECRET"


def _settings(store_url: str, **tenant: Any) -> Settings:
    return settings_with_endpoint(store_url, SECRET_ENV, **tenant)


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, generate_secret())


def _completed() -> Event:
    return Event(ev.SYNC_COMPLETED, TENANT, {"source": "lms", "run_id": 1})


async def _stored(store: Store) -> tuple[int, list[Any]]:
    async with store.engine.connect() as conn:
        snapshots = await conn.scalar(select(func.count()).select_from(coverage_snapshot))
        messages = (
            await conn.execute(
                select(webhook_message.c.msg_id, webhook_message.c.endpoint_id).order_by(
                    webhook_message.c.id
                )
            )
        ).all()
    return int(snapshots or 0), list(messages)


async def test_sync_events_then_snapshot_events_reach_the_outbox(
    store: Store, store_url: str
) -> None:
    await load_scenario(store)
    settings = _settings(store_url)
    completed = _completed()
    returned = await after_sync(
        store, settings, settings.tenants[0], [completed], evaluate_coverage=True
    )
    assert returned[0] is completed
    coverage = returned[1:]
    assert coverage
    assert {e.type for e in coverage} <= {ev.PROOF_MISSING, ev.DUE_SOON}
    snapshots, messages = await _stored(store)
    assert snapshots == 1
    assert [m.msg_id for m in messages] == [e.id for e in returned]
    assert {m.endpoint_id for m in messages} == {configured_endpoint_id(TENANT, "qualite")}
    [snapshot_id] = {e.data["snapshot_id"] for e in coverage}
    assert snapshot_id is not None

    # The next sync changes nothing: its own event only.
    again = _completed()
    returned = await after_sync(
        store, settings, settings.tenants[0], [again], evaluate_coverage=True
    )
    assert returned == [again]
    snapshots, after = await _stored(store)
    assert snapshots == 2
    assert [m.msg_id for m in after] == [m.msg_id for m in messages] + [again.id]


async def test_a_failed_sync_takes_no_snapshot(store: Store, store_url: str) -> None:
    await load_scenario(store)
    settings = _settings(store_url)
    failed = Event(ev.SYNC_FAILED, TENANT, {"source": "lms", "code": "http_503"})
    returned = await after_sync(
        store, settings, settings.tenants[0], [failed], evaluate_coverage=False
    )
    assert returned == [failed]
    snapshots, messages = await _stored(store)
    assert snapshots == 0
    assert [m.msg_id for m in messages] == [failed.id]


async def test_a_coverage_failure_still_sends_the_sync_events(store: Store, store_url: str) -> None:
    await load_scenario(store)
    settings = _settings(store_url, referential_version="rnq-1999")  # no such version
    before = metrics.REGISTRY.get_sample_value(
        "preuve_post_sync_errors_total", {"step": "coverage"}
    )
    completed = _completed()
    returned = await after_sync(
        store, settings, settings.tenants[0], [completed], evaluate_coverage=True
    )
    assert returned == [completed]
    snapshots, messages = await _stored(store)
    assert snapshots == 0
    assert [m.msg_id for m in messages] == [completed.id]
    after = metrics.REGISTRY.get_sample_value("preuve_post_sync_errors_total", {"step": "coverage"})
    assert (after or 0) - (before or 0) == 1


async def test_a_snapshot_of_another_day_is_refused(store: Store, store_url: str) -> None:
    await load_scenario(store)
    settings = _settings(store_url)
    tenant = settings.tenants[0]
    today = coverage_day(settings)
    with pytest.raises(SnapshotRefused, match="pas au"):
        await snapshot_coverage(store, settings, tenant, as_of=today - timedelta(days=1))
    with pytest.raises(SnapshotRefused, match="date d'audit"):
        await snapshot_coverage(store, settings, tenant, audit_date=today + timedelta(days=90))
    assert await _stored(store) == (0, [])
    # The tenant's own audit date is what the sync uses: accepted.
    audited = _settings(store_url, audit_date=(today + timedelta(days=90)).isoformat())
    result, events = await snapshot_coverage(
        store, audited, audited.tenants[0], as_of=today, audit_date=today + timedelta(days=90)
    )
    assert result.snapshot_id is not None
    assert result.as_of == today
    snapshots, messages = await _stored(store)
    assert snapshots == 1
    assert [m.msg_id for m in messages] == [e.id for e in events]
