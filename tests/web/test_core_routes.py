"""The web app's core routes, served for real on a local port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from preuve.config.settings import Settings, StoreConfig, TenantConfig
from preuve.store import Store
from preuve.web.app import create_app
from tests.factories import enrolment, record

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
    assert len(await (await client.get("/api/tenants/of-test/runs?limit=1")).json()) == 1
    for bad in ("x", "0", "-1", "501"):
        refused = await client.get(f"/api/tenants/of-test/runs?limit={bad}")
        assert refused.status == 400, bad
        assert "limit : un entier de 1 à 500" in await refused.text()
    history = await client.get("/api/sync/runs?limit=-5")
    assert history.status == 400

    missing = await client.get("/api/tenants/nope/evidence/counts")
    assert missing.status == 404


async def test_coverage_of_a_tenant(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    settings = Settings(
        store=StoreConfig(url=store_url),
        tenants=[TenantConfig(id="of-test", name="OF test")],
    )
    await store.evidence.write_batch(
        "of-test",
        "src",
        [
            record(
                {
                    "kind": "training_action",
                    "action_ref": "A1",
                    "title": "Excel",
                    "start_date": "2026-03-02",
                    "end_date": "2026-03-06",
                },
                source_id="a1",
            ),
            enrolment(1, action="A1"),
        ],
    )
    client = await aiohttp_client(create_app(settings, store=store))
    response = await client.get(
        "/api/tenants/of-test/coverage", params={"as_of": "2026-04-01", "audit_date": "2026-05-01"}
    )
    assert response.status == 200
    result = await response.json()
    assert [a["action_ref"] for a in result["actions"]] == ["A1"]
    by_number = {i["indicator"]: i for i in result["organisation"]}
    assert len(by_number) == 32  # the V9 referential applies to a May 2026 audit
    assert by_number[8]["status"] == "missing"  # no entry positioning for p_1
    assert (await client.get("/api/tenants/of-test/coverage?as_of=hier")).status == 400
    assert (await client.get("/api/tenants/nope/coverage")).status == 404
