"""Sync routes and /metrics on the real app, store, scheduler and Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from preuve.connectors import registry
from preuve.store import Store
from preuve.web.app import create_app
from tests.sync.helpers import make_settings, tenant_dicts
from tests.sync.standin import TARGET
from tests.sync.workers import wait_until

Client = Any  # the pytest-aiohttp client factory


@pytest.fixture(autouse=True)
def _standin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.CONNECTORS, "jsonl", TARGET)


async def test_trigger_progress_history_and_metrics_embedded(
    store: Store, store_url: str, tmp_path: Path, aiohttp_client: Client
) -> None:
    settings = make_settings(
        store_url, tenant_dicts(tmp_path, 1, 60, options={"batch_size": 5, "batch_delay": 0.05})
    )
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, store=store))

    response = await client.post("/api/tenants/of-000/sources/lms/sync")
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "queued"
    assert body["job_id"] == "sync:of-000:lms"

    async def running() -> list[dict[str, Any]]:
        status = await (await client.get("/api/sync/status")).json()
        return [r for r in status["running"] if r["records_so_far"] > 0]

    live = (await wait_until(running, within=10, what="progress"))[0]
    assert live["tenant"] == "of-000"
    assert live["counts"]["records"]["inserted"] == live["records_so_far"]

    refused = await client.post("/api/tenants/of-000/sources/lms/sync")
    assert refused.status == 409
    assert (await refused.json())["status"] == "already_running"

    async def finished() -> dict[str, Any] | None:
        run = await (await client.get(f"/api/sync/runs/{live['id']}")).json()
        return run if run["status"] != "running" else None

    done = await wait_until(finished, within=20, what="the run to end")
    assert done["status"] == "succeeded"
    assert done["records_so_far"] == 60

    history = await (await client.get("/api/sync/runs?tenant=of-000&source=lms")).json()
    assert [r["id"] for r in history] == [live["id"]]
    assert (await client.get("/api/sync/runs?limit=x")).status == 400
    assert (await client.get("/api/sync/runs/nope")).status == 404
    assert (await client.post("/api/tenants/of-000/sources/nope/sync")).status == 404

    metrics = await client.get("/metrics")
    assert metrics.status == 200
    text = await metrics.text()
    for name in (
        "preuve_sync_duration_seconds_bucket",
        "preuve_sync_records_total",
        "preuve_sync_runs_total",
        "preuve_sync_queue_depth",
        "preuve_webhook_deliveries",
    ):
        assert name in text
    assert 'preuve_sync_last_success_timestamp_seconds{source="lms",tenant="of-000"}' in text


@pytest.mark.redis
async def test_trigger_is_queued_once_on_redis(
    aiohttp_client: Client, sqlite_url: str, redis_url: str, tmp_path: Path
) -> None:
    from preuve.store import open_store

    store = await open_store(sqlite_url)
    try:
        settings = make_settings(sqlite_url, tenant_dicts(tmp_path, 1, 1), redis_url=redis_url)
        client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, store=store))
        first = await client.post("/api/tenants/of-000/sources/lms/sync")
        second = await client.post("/api/tenants/of-000/sources/lms/sync")
        assert first.status == 202
        assert second.status == 409
        assert (await second.json())["status"] == "already_queued"
        whole = await client.post("/api/tenants/of-000/sync")
        assert whole.status == 409
        assert [a["status"] for a in await whole.json()] == ["already_queued"]
        assert (await client.post("/api/tenants/nope/sync")).status == 404
        status = await (await client.get("/api/sync/status")).json()
        assert status["mode"] == "distributed"
        assert status["queue"] == {"ready": 1, "deferred": 0, "running": 0}
        text = await (await client.get("/metrics")).text()
        assert 'preuve_sync_queue_depth{state="ready"} 1.0' in text
    finally:
        await store.close()


async def test_serve_runs_the_nightly_sync_and_webhooks_in_process_without_redis(
    # The store first: set up before the app, so it is closed after the app's
    # background work has stopped.
    store: Store,
    store_url: str,
    tmp_path: Path,
    aiohttp_client: Client,
    aiohttp_server: Any,
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from aiohttp import web

    from preuve import events as ev
    from preuve.web.routes_sync import BACKGROUND_KEY
    from preuve.webhooks.endpoints import add_endpoint
    from preuve.webhooks.ssrf import AllowList

    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append({"id": request.headers.get("webhook-id"), **(await request.json())})
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    server = await aiohttp_server(receiver)
    await add_endpoint(
        store,
        "of-001",
        f"http://127.0.0.1:{server.port}/hook",
        allow=AllowList.parse(["127.0.0.0/8"]),
        event_types=[ev.SYNC_COMPLETED],
    )

    soon = datetime.now(ZoneInfo("Europe/Paris")) + timedelta(seconds=1.5)
    settings = make_settings(
        store_url,
        tenant_dicts(tmp_path, 3, 4),
        schedule={"nightly_at": soon.time().replace(microsecond=0).isoformat()},
        webhooks={"allow_networks": ["127.0.0.0/8"]},
    )
    app = create_app(settings, store=store)
    app[BACKGROUND_KEY] = True  # what `preuve serve` does when no Redis is configured
    client: TestClient[Any, Any] = await aiohttp_client(app)

    async def three_done() -> list[dict[str, Any]]:
        runs = await (await client.get("/api/sync/runs")).json()
        done = [r for r in runs if r["status"] == "succeeded"]
        return done if len(done) == 3 else []

    runs = await wait_until(three_done, within=15, what="the nightly syncs")
    assert {r["trigger"] for r in runs} == {"nightly"}
    assert sorted(r["tenant"] for r in runs) == ["of-000", "of-001", "of-002"]
    status = await (await client.get("/api/sync/status")).json()
    assert status["mode"] == "embedded"

    async def delivered() -> list[dict[str, Any]]:
        return received

    await wait_until(delivered, within=10, what="the webhook")
    [message] = received
    assert message["type"] == ev.SYNC_COMPLETED
    assert message["id"]
    run_of_001 = next(r for r in runs if r["tenant"] == "of-001")
    assert message["data"]["tenant"] == "of-001"
    assert message["data"]["source"] == "lms"
    assert message["data"]["run_id"] == run_of_001["id"]
    assert message["data"]["totals"]["inserted"] == 4


async def test_a_tenant_without_enabled_source_cannot_be_synced(
    store: Store, store_url: str, tmp_path: Path, aiohttp_client: Client
) -> None:
    tenants = tenant_dicts(tmp_path, 1, 1)
    for source in tenants[0]["sources"]:
        source["enabled"] = False
    settings = make_settings(store_url, tenants)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, store=store))
    refused = await client.post("/api/tenants/of-000/sync")
    assert refused.status == 422
    assert "of-000 n'a aucune source active" in await refused.text()
    assert await store.runs.recent(tenant="of-000", limit=5) == []
