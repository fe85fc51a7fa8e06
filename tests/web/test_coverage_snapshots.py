"""Coverage snapshots over HTTP: POST stores one and queues its events, GET stores nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from preuve.config.settings import Settings
from preuve.mapping.tables import coverage_snapshot, coverage_status
from preuve.store import Store
from preuve.sync.hooks import coverage_day
from preuve.web.app import create_app
from preuve.webhooks.configured import configured_endpoint_id
from preuve.webhooks.signing import generate_secret
from preuve.webhooks.tables import webhook_message
from tests.mapping.scenario import TENANT, load_scenario, settings_with_endpoint

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]
SECRET_ENV = "PREUVE_TEST_WEB_COVERAGE_SECRET"
BASE = f"/api/tenants/{TENANT}/coverage"


def _settings(store_url: str) -> Settings:
    return settings_with_endpoint(store_url, SECRET_ENV)


@pytest.fixture
async def client(
    store: Store,
    store_url: str,
    aiohttp_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> TestClient[Any, Any]:
    monkeypatch.setenv(SECRET_ENV, generate_secret())
    await load_scenario(store)
    return await aiohttp_client(create_app(_settings(store_url), store=store))


async def _counts(store: Store) -> tuple[int, int, list[Any]]:
    async with store.engine.connect() as conn:
        snapshots = await conn.scalar(select(func.count()).select_from(coverage_snapshot))
        statuses = await conn.scalar(select(func.count()).select_from(coverage_status))
        messages = (
            await conn.execute(
                select(
                    webhook_message.c.msg_id,
                    webhook_message.c.endpoint_id,
                    webhook_message.c.event_type,
                    webhook_message.c.body,
                ).order_by(webhook_message.c.id)
            )
        ).all()
    return int(snapshots or 0), int(statuses or 0), list(messages)


async def test_post_stores_a_snapshot_and_queues_its_events(
    client: TestClient[Any, Any], store: Store
) -> None:
    assert (await client.get(f"{BASE}/snapshots/latest")).status == 404

    response = await client.post(f"{BASE}/snapshots")
    assert response.status == 201
    body = await response.json()
    assert body["snapshot_id"] is not None
    assert body["as_of"] == coverage_day(_settings("sqlite://")).isoformat()
    assert body["events"]
    snapshots, statuses, messages = await _counts(store)
    assert snapshots == 1
    assert statuses > 0
    # One message per event for the configured endpoint, which takes every type.
    assert [m.msg_id for m in messages] == [e["id"] for e in body["events"]]
    assert {m.endpoint_id for m in messages} == {configured_endpoint_id(TENANT, "qualite")}
    assert [m.event_type for m in messages] == [e["type"] for e in body["events"]]
    first = body["events"][0]
    assert first["tenant"] == TENANT
    assert first["data"]["snapshot_id"] == body["snapshot_id"]
    assert orjson.loads(messages[0].body)["data"]["snapshot_id"] == body["snapshot_id"]

    latest = await client.get(f"{BASE}/snapshots/latest")
    assert latest.status == 200
    found = await latest.json()
    assert found["snapshot_id"] == body["snapshot_id"]
    assert found["summary"] == body["summary"]
    assert len(found["organisation"]) == len(body["organisation"])

    # Nothing changed: a second snapshot, no event, no message.
    again = await client.post(f"{BASE}/snapshots")
    assert again.status == 201
    second = await again.json()
    assert second["events"] == []
    assert second["snapshot_id"] > body["snapshot_id"]
    snapshots, _, messages_after = await _counts(store)
    assert snapshots == 2
    assert len(messages_after) == len(messages)


async def test_get_coverage_is_a_preview(client: TestClient[Any, Any], store: Store) -> None:
    response = await client.get(BASE)
    assert response.status == 200
    body = await response.json()
    assert body["snapshot_id"] is None
    assert body["as_of"] == coverage_day(_settings("sqlite://")).isoformat()
    assert (await client.get(BASE, params={"as_of": "2026-11-10"})).status == 200
    assert await _counts(store) == (0, 0, [])


async def test_a_snapshot_of_another_day_is_refused(
    client: TestClient[Any, Any], store: Store
) -> None:
    other = (coverage_day(_settings("sqlite://")) - timedelta(days=20)).isoformat()
    for name in ("as_of", "audit_date"):
        response = await client.post(f"{BASE}/snapshots", params={name: other})
        assert response.status == 400
        assert other in await response.text()  # the day refused is named
    assert (await client.post(f"{BASE}/snapshots", params={"as_of": "hier"})).status == 400
    assert (await client.post("/api/tenants/nope/coverage/snapshots")).status == 404
    assert (await client.get("/api/tenants/nope/coverage/snapshots/latest")).status == 404
    assert await _counts(store) == (0, 0, [])
