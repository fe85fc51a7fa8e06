"""The web app's core routes, served for real on a local port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from preuve.config.settings import Settings, StoreConfig, TenantConfig
from preuve.store import Store
from preuve.web.app import create_app
from tests.factories import enrolment

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


async def test_health_tenants_counts_and_runs(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    settings = Settings(
        store=StoreConfig(url=store_url),
        tenants=[TenantConfig(id="of-test", name="OF test")],
    )
    await store.evidence.write_batch("of-test", "src", [enrolment(n) for n in range(3)])
    run_id = await store.runs.start("of-test", "src")
    client = await aiohttp_client(create_app(settings, store=store))

    health = await client.get("/healthz")
    assert health.status == 200
    assert (await health.json())["status"] == "ok"

    tenants = await (await client.get("/api/tenants")).json()
    assert tenants == [{"id": "of-test", "name": "OF test", "sources": []}]

    counts = await (await client.get("/api/tenants/of-test/evidence/counts")).json()
    assert counts["evidence_counts"] == {"enrolment": 3}

    runs = await (await client.get("/api/tenants/of-test/runs")).json()
    assert [r["id"] for r in runs] == [run_id]

    missing = await client.get("/api/tenants/nope/evidence/counts")
    assert missing.status == 404
