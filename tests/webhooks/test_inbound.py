"""Inbound LMS events: signed with the official library, verified, de-duplicated, queued."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from preuve.config.settings import Settings
from preuve.store import Store
from preuve.web.keys import SETTINGS_KEY, STORE_KEY
from preuve.web.routes_webhooks import set_sync_trigger, setup
from preuve.webhooks.inbound import (
    MAX_EVENT_ID_CHARS,
    MAX_INBOUND_BYTES,
    STALE_RECEIVED,
    mark_inbound_queued,
    purge_inbound,
    recorded_inbound,
)
from preuve.webhooks.signing import generate_secret
from preuve.webhooks.tables import webhook_inbound
from tests.webhooks.conftest import TENANT, sqlite_only

SECRET_ENV = "PREUVE_TEST_INBOUND_SECRET"
INBOUND = f"/api/tenants/{TENANT}/webhooks/inbound"


def _settings() -> Settings:
    return Settings.model_validate(
        {
            "tenants": [
                {
                    "id": TENANT,
                    "name": "OF Test",
                    "sources": [{"id": "moodle", "kind": "moodle", "url": "https://lms.example"}],
                },
                {"id": "no-secret", "name": "Sans secret"},
            ],
            "webhooks": {"inbound_secret_env": {TENANT: SECRET_ENV}},
        }
    )


class Calls:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, dict[str, Any]]] = []
        self.fail = False

    async def __call__(self, tenant: str, source: str | None, scope: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("queue unavailable")
        self.calls.append((tenant, source, scope))


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    value = generate_secret()
    # Two secrets in the variable: the LMS may sign with either during a rotation.
    monkeypatch.setenv(SECRET_ENV, f"{generate_secret()} {value}")
    return value


@pytest.fixture
async def client(store: Store, aiohttp_client: Any) -> TestClient[Any, Any]:
    app = web.Application()
    app[SETTINGS_KEY] = _settings()
    app[STORE_KEY] = store
    setup(app)
    return await aiohttp_client(app)  # type: ignore[no-any-return]


def signed(
    secret: str, event_id: str, payload: dict[str, Any], *, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(payload)
    moment = at or datetime.now(UTC)
    signature = Webhook(secret).sign(event_id, moment, body.decode())
    headers = {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return body, headers


COURSE_UPDATED = {
    "type": "course.updated",
    "timestamp": "2026-11-29T10:00:00Z",
    "data": {"source": "moodle", "course_id": 42},
}


async def _rows(store: Store) -> list[Any]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(select(webhook_inbound))).all())


async def test_a_signed_event_is_recorded_until_a_trigger_is_set(
    client: TestClient[Any, Any], store: Store, secret: str
) -> None:
    body, headers = signed(secret, "lms_evt_1", COURSE_UPDATED)
    response = await client.post(INBOUND, data=body, headers=headers)
    assert response.status == 202
    assert await response.json() == {
        "id": "lms_evt_1",
        "status": "recorded",
        "source": "moodle",
        "scope": {"course_id": "42"},
    }
    [row] = await _rows(store)
    assert (row.tenant, row.event_id, row.event_type, row.status) == (
        TENANT,
        "lms_evt_1",
        "course.updated",
        "recorded",
    )


async def test_the_trigger_queues_a_targeted_sync_once_per_event(
    client: TestClient[Any, Any], store: Store, secret: str
) -> None:
    calls = Calls()
    set_sync_trigger(client.app, calls)
    body, headers = signed(secret, "lms_evt_2", COURSE_UPDATED)
    first = await client.post(INBOUND, data=body, headers=headers)
    assert first.status == 202
    assert (await first.json())["status"] == "queued"
    assert calls.calls == [(TENANT, "moodle", {"course_id": "42"})]
    # The LMS retries the same event: acknowledged, not acted on twice.
    again = await client.post(INBOUND, data=body, headers=headers)
    assert again.status == 200
    assert (await again.json())["status"] == "duplicate"
    assert len(calls.calls) == 1
    # A scope given explicitly, no source: the sync decides (e.g. the only source).
    body, headers = signed(
        secret, "lms_evt_3", {"type": "enrolment.created", "data": {"scope": {"user": 7}}}
    )
    assert (await client.post(INBOUND, data=body, headers=headers)).status == 202
    assert calls.calls[-1] == (TENANT, None, {"user": "7"})
    assert sorted(r.status for r in await _rows(store)) == ["queued", "queued"]


async def test_a_failing_trigger_lets_the_sender_retry(
    client: TestClient[Any, Any], store: Store, secret: str
) -> None:
    calls = Calls()
    calls.fail = True
    set_sync_trigger(client.app, calls)
    body, headers = signed(secret, "lms_evt_4", COURSE_UPDATED)
    assert (await client.post(INBOUND, data=body, headers=headers)).status == 503
    assert await _rows(store) == []
    calls.fail = False
    retry = await client.post(INBOUND, data=body, headers=headers)
    assert retry.status == 202
    assert len(calls.calls) == 1


@sqlite_only
async def test_bad_requests_are_refused(
    client: TestClient[Any, Any], store: Store, secret: str
) -> None:
    body, headers = signed(secret, "lms_evt_5", COURSE_UPDATED)
    forged = {
        **headers,
        "webhook-signature": Webhook(generate_secret()).sign(
            "lms_evt_5", datetime.now(UTC), body.decode()
        ),
    }
    assert (await client.post(INBOUND, data=body, headers=forged)).status == 401
    tampered = body.replace(b"42", b"43")
    assert (await client.post(INBOUND, data=tampered, headers=headers)).status == 401
    old_body, old = signed(
        secret, "lms_evt_6", COURSE_UPDATED, at=datetime.now(UTC) - timedelta(minutes=6)
    )
    response = await client.post(INBOUND, data=old_body, headers=old)
    assert response.status == 401
    assert "tolerance" in (await response.json())["error"]
    unsigned = await client.post(INBOUND, data=body)
    assert unsigned.status == 401

    wrong_source = {**COURSE_UPDATED, "data": {"source": "elsewhere", "course_id": 1}}
    body, headers = signed(secret, "lms_evt_7", wrong_source)
    assert (await client.post(INBOUND, data=body, headers=headers)).status == 422
    body, headers = signed(secret, "lms_evt_8", {"type": "Bad Type!"})
    response = await client.post(INBOUND, data=body, headers=headers)
    assert response.status == 400
    assert "type" in (await response.json())["error"]

    assert await _rows(store) == []


async def test_an_event_id_longer_than_the_column_is_refused_cleanly(
    client: TestClient[Any, Any], store: Store, secret: str
) -> None:
    body, headers = signed(secret, "e" * (MAX_EVENT_ID_CHARS + 1), COURSE_UPDATED)
    response = await client.post(INBOUND, data=body, headers=headers)
    assert response.status == 400
    assert "webhook-id" in (await response.json())["error"]
    body, headers = signed(secret, "e" * MAX_EVENT_ID_CHARS, COURSE_UPDATED)
    assert (await client.post(INBOUND, data=body, headers=headers)).status == 202
    assert [len(r.event_id) for r in await _rows(store)] == [MAX_EVENT_ID_CHARS]


@sqlite_only
async def test_unknown_and_unconfigured_tenants_look_like_a_bad_signature(
    client: TestClient[Any, Any], store: Store, secret: str
) -> None:
    """The answer does not tell whether a tenant exists or has an inbound secret."""
    body, headers = signed(secret, "lms_evt_9", COURSE_UPDATED)
    forged = {**headers, "webhook-signature": headers["webhook-signature"][:-4] + "AAA="}
    wrong = await client.post(INBOUND, data=body, headers=forged)
    unknown = await client.post("/api/tenants/nobody/webhooks/inbound", data=body, headers=headers)
    no_secret = await client.post(
        "/api/tenants/no-secret/webhooks/inbound", data=body, headers=headers
    )
    answers = [(r.status, await r.json()) for r in (wrong, unknown, no_secret)]
    assert answers[0][0] == 401
    assert answers[1] == answers[0]
    assert answers[2] == answers[0]
    assert await _rows(store) == []


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    """The body in pieces that arrive one after the other, as over a slow network."""
    for start in range(0, len(body), size):
        yield body[start : start + size]
        await asyncio.sleep(0.002)


@sqlite_only
async def test_a_body_sent_in_chunks_is_read_whole_and_bounded(
    client: TestClient[Any, Any], store: Store, secret: str
) -> None:
    # Close to the limit, sent chunked (no Content-Length): read to the end.
    padded = {**COURSE_UPDATED, "padding": "x" * (MAX_INBOUND_BYTES - 1000)}
    body, headers = signed(secret, "lms_big", padded)
    response = await client.post(INBOUND, data=_chunks(body, 8192), headers=headers)
    assert response.status == 202, await response.text()
    assert [r.event_id for r in await _rows(store)] == ["lms_big"]
    # Over the limit: refused whether the size is announced or not.
    huge = {**COURSE_UPDATED, "padding": "x" * MAX_INBOUND_BYTES}
    body, headers = signed(secret, "lms_huge", huge)
    assert (await client.post(INBOUND, data=body, headers=headers)).status == 413
    chunked = await client.post(INBOUND, data=_chunks(body, 8192), headers=headers)
    assert chunked.status == 413
    assert len(await _rows(store)) == 1


async def test_recorded_events_can_be_drained_later(
    client: TestClient[Any, Any], store: Store, secret: str
) -> None:
    for number in (1, 2):
        body, headers = signed(secret, f"lms_late_{number}", COURSE_UPDATED)
        assert (await client.post(INBOUND, data=body, headers=headers)).status == 202
    waiting = await recorded_inbound(store)
    assert [e["event_id"] for e in waiting] == ["lms_late_1", "lms_late_2"]
    assert waiting[0]["scope"] == {"course_id": "42"}
    assert await mark_inbound_queued(store, [e["id"] for e in waiting]) == 2
    assert await mark_inbound_queued(store, [e["id"] for e in waiting]) == 0
    assert await recorded_inbound(store) == []


@sqlite_only
async def test_a_misconfigured_secret_is_logged_not_crashed(
    client: TestClient[Any, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = generate_secret()
    monkeypatch.setenv(SECRET_ENV, f"not-base64-at-all! {good}")
    body, headers = signed(good, "lms_evt_x", COURSE_UPDATED)
    with caplog.at_level(logging.ERROR, logger="preuve.webhooks.inbound"):
        # The valid secret of the two still works.
        assert (await client.post(INBOUND, data=body, headers=headers)).status == 202
    [record] = caplog.records
    assert TENANT in record.getMessage()
    assert "not-base64" not in record.getMessage()  # the value itself is never logged
    monkeypatch.setenv(SECRET_ENV, "not-base64-at-all!")
    body, headers = signed(generate_secret(), "lms_evt_y", COURSE_UPDATED)
    assert (await client.post(INBOUND, data=body, headers=headers)).status == 401


async def test_an_event_left_received_by_a_crash_is_drained(store: Store) -> None:
    """A process that died between recording and queueing must not lose the event."""
    now = datetime.now(UTC)
    async with store.engine.begin() as conn:
        await conn.execute(
            webhook_inbound.insert(),
            [
                {
                    "tenant": TENANT,
                    "event_id": event_id,
                    "event_type": "course.updated",
                    "scope": {"course_id": "42"},
                    "status": "received",
                    "received_at": at,
                }
                for event_id, at in (
                    ("crashed", now - STALE_RECEIVED - timedelta(seconds=1)),
                    ("in_flight", now),
                )
            ],
        )
    waiting = await recorded_inbound(store, now=now)
    assert [e["event_id"] for e in waiting] == ["crashed"]
    assert await mark_inbound_queued(store, [e["id"] for e in waiting]) == 1
    assert await recorded_inbound(store, now=now) == []
    # Purging forgets handled events only; the one still in flight is kept.
    assert await purge_inbound(store, before=now + timedelta(seconds=1), tenant="other") == 0
    assert await purge_inbound(store, before=now + timedelta(seconds=1)) == 1
    assert [r.event_id for r in await _rows(store)] == ["in_flight"]
