"""An inbound LMS event, signed like an LMS signs it, queues a sync of its source."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from preuve.config.settings import Settings
from preuve.store import Store
from preuve.web.app import create_app
from preuve.webhooks.signing import generate_secret
from tests.webhooks.test_inbound import signed

SECRET_ENV = "PREUVE_TEST_WIRING_SECRET"


async def test_inbound_event_triggers_a_sync_of_the_named_source(
    store: Store,
    store_url: str,
    tmp_path: Path,
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "lms.jsonl"
    data.write_bytes(
        orjson.dumps(
            {
                "source_id": "enr-1",
                "data": {"kind": "enrolment", "action_ref": "A", "person_ref": "p_1"},
            }
        )
        + b"\n"
    )
    secret = generate_secret()
    monkeypatch.setenv(SECRET_ENV, secret)
    settings = Settings.model_validate(
        {
            "store": {"url": store_url},
            "tenants": [
                {
                    "id": "of-test",
                    "name": "OF test",
                    "sources": [{"id": "lms", "kind": "jsonl", "path": str(data)}],
                }
            ],
            "webhooks": {"inbound_secret_env": {"of-test": SECRET_ENV}},
        }
    )
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, store=store))
    body, headers = signed(
        secret,
        "lms_evt_1",
        {
            "type": "course.updated",
            "timestamp": "2026-11-29T10:00:00Z",
            "data": {"source": "lms", "course_id": 42},
        },
    )
    response = await client.post(
        "/api/tenants/of-test/webhooks/inbound", data=body, headers=headers
    )
    assert response.status == 202, await response.text()

    for _ in range(100):
        runs = await store.runs.recent(tenant="of-test", source="lms")
        if runs and runs[0].finished_at is not None:
            break
        await asyncio.sleep(0.05)
    assert [(r.trigger, r.status.value) for r in runs] == [("inbound", "succeeded")]
    assert await store.evidence.count_by_kind("of-test") == {"enrolment": 1}
