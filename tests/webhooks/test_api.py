"""The webhooks API: endpoints, secrets, replay and the delivery log, through the app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from standardwebhooks.webhooks import Webhook

from preuve.config.settings import Settings
from preuve.store import Store
from preuve.testing.webhook_receiver import WebhookReceiver
from preuve.web.app import create_app
from preuve.webhooks import enqueue
from tests.webhooks.conftest import TENANT, deliver_until, events, fast_policy, sqlite_only

BASE = f"/api/tenants/{TENANT}/webhooks"


def _settings(allow: list[str]) -> Settings:
    return Settings.model_validate(
        {
            "tenants": [{"id": TENANT, "name": "OF Test"}],
            "webhooks": {"allow_networks": allow},
            "web": {"public_url": "https://preuve.example.org"},
        }
    )


@pytest.fixture
async def client(store: Store, aiohttp_client: Any) -> TestClient[Any, Any]:
    app = create_app(_settings(["127.0.0.0/8"]), store=store)
    return await aiohttp_client(app)  # type: ignore[no-any-return]


async def test_endpoint_lifecycle_and_delivery_log(
    client: TestClient[Any, Any], store: Store, receiver: WebhookReceiver
) -> None:
    created = await client.post(
        f"{BASE}/endpoints",
        json={"url": receiver.url, "event_types": ["sync.failed"], "description": "tickets"},
    )
    assert created.status == 201
    endpoint = await created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["event_types"] == ["sync.failed"]
    endpoint_id = endpoint["id"]

    listed = await (await client.get(f"{BASE}/endpoints")).json()
    assert [e["id"] for e in listed] == [endpoint_id]
    assert "secret" not in listed[0]
    assert "secrets" not in listed[0]

    disabled = await client.post(f"{BASE}/endpoints/{endpoint_id}/disable", json={"reason": "x"})
    assert (await disabled.json())["enabled"] is False
    enabled = await client.post(f"{BASE}/endpoints/{endpoint_id}/enable")
    assert (await enabled.json())["enabled"] is True

    rotated = await (await client.post(f"{BASE}/endpoints/{endpoint_id}/rotate-secret")).json()
    assert rotated["secret"] != endpoint["secret"]

    await enqueue(store, events(2, "sync.failed"))
    await deliver_until(store, fast_policy(), lambda r: r.delivered == 2)
    for request in receiver.received:
        Webhook(endpoint["secret"]).verify(request.body, request.headers)
        Webhook(rotated["secret"]).verify(request.body, request.headers)
    log = await (await client.get(f"{BASE}/endpoints/{endpoint_id}/deliveries")).json()
    assert len(log) == 2
    assert {a["outcome"] for a in log} == {"success"}
    assert {a["msg_id"] for a in log} == set(receiver.delivered_ids())
    listed = await (await client.get(f"{BASE}/endpoints")).json()
    assert listed[0]["messages"] == {"delivered": 2}

    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    replayed = await client.post(f"{BASE}/replay", json={"since": since})
    assert await replayed.json() == {"replayed": 0}  # nothing failed
    replayed = await client.post(f"{BASE}/replay", json={"since": since, "all": True})
    assert await replayed.json() == {"replayed": 2}

    removed = await client.delete(f"{BASE}/endpoints/{endpoint_id}")
    assert removed.status == 200
    assert (await client.get(f"{BASE}/endpoints/{endpoint_id}")).status == 404


@sqlite_only
async def test_api_refuses_what_it_must(client: TestClient[Any, Any]) -> None:
    metadata = await client.post(
        f"{BASE}/endpoints", json={"url": "http://169.254.169.254/latest/meta-data/"}
    )
    assert metadata.status == 422
    assert "169.254.169.254" in (await metadata.json())["error"]
    unknown_type = await client.post(
        f"{BASE}/endpoints", json={"url": "http://127.0.0.1:9/x", "event_types": ["nope"]}
    )
    assert unknown_type.status == 422
    assert (await client.post(f"{BASE}/endpoints", json={})).status == 400
    assert (await client.post(f"{BASE}/replay", json={})).status == 400
    assert (await client.post(f"{BASE}/replay", json={"since": "last week"})).status == 400
    assert (await client.post(f"{BASE}/endpoints/ep_none/enable")).status == 404
    created = await client.post(f"{BASE}/endpoints", json={"url": "http://127.0.0.1:9/x"})
    endpoint_id = (await created.json())["id"]
    for limit in ("0", "-1", "1001", "many"):
        log = await client.get(f"{BASE}/endpoints/{endpoint_id}/deliveries?limit={limit}")
        assert log.status == 400, limit
    rotate = f"{BASE}/endpoints/{endpoint_id}/rotate-secret"
    assert (await client.post(rotate, json={"grace_hours": -1})).status == 400
    assert (await client.post(rotate, json={"grace_hours": "soon"})).status == 400
    assert (await client.get("/api/tenants/nobody/webhooks/endpoints")).status == 404


@sqlite_only
async def test_loopback_needs_the_allow_list(store: Store, aiohttp_client: Any) -> None:
    client = await aiohttp_client(create_app(_settings([]), store=store))
    refused = await client.post(f"{BASE}/endpoints", json={"url": "http://127.0.0.1:9/hook"})
    assert refused.status == 422
    assert "127.0.0.1" in (await refused.json())["error"]
