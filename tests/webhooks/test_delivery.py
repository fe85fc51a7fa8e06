"""Outbound delivery against a receiver stand-in that fails, times out, redirects, goes away."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from preuve.events import DUE_SOON, ENDPOINT_DISABLED, PROOF_MISSING, SYNC_FAILED, Event
from preuve.store import Store
from preuve.sync.metrics import REGISTRY
from preuve.testing.webhook_receiver import WebhookReceiver
from preuve.webhooks import deliver_due, enqueue, open_session, purge, replay
from preuve.webhooks.delivery import GONE, SUCCESS, Attempt, claim, record
from preuve.webhooks.endpoints import (
    add_endpoint,
    disable_endpoint,
    enable_endpoint,
    get_endpoint,
    remove_endpoint,
    rotate_secret,
)
from preuve.webhooks.history import delivery_log
from preuve.webhooks.tables import webhook_message
from tests.webhooks.conftest import (
    LOOPBACK,
    TENANT,
    deliver_until,
    events,
    fast_policy,
    message_rows,
    sqlite_only,
)


def _delivered_metric() -> float:
    value = REGISTRY.get_sample_value("preuve_webhook_deliveries_total", {"outcome": "delivered"})
    return value or 0.0


async def test_a_message_is_signed_thin_and_stored_before_sending(
    store: Store, receiver: WebhookReceiver
) -> None:
    endpoint, secret = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    event = Event(
        PROOF_MISSING,
        TENANT,
        {
            "indicator": "11",
            "action_ref": "moodle:42",
            "status": "missing",
            "reason": "no attendance sheet",
            # Personal data a producer should never have put there: not sent.
            "learner_email": "jeanne@example.org",
            "person": {"name": "Jeanne Martin"},
        },
    )
    assert await enqueue(store, [event], public_url="https://preuve.example.org/") == 1
    [row] = await message_rows(store)
    assert (row.status, row.attempts, row.msg_id) == ("pending", 0, event.id)
    assert receiver.received == []

    before = _delivered_metric()
    await deliver_until(store, fast_policy(), lambda r: r.delivered == 1)
    assert _delivered_metric() == before + 1
    [got] = receiver.received
    payload = Webhook(secret).verify(got.body, got.headers)
    assert got.msg_id == event.id
    assert got.headers["Content-Type"] == "application/json"
    assert payload == {
        "type": PROOF_MISSING,
        "timestamp": event.occurred_at.isoformat(),
        "data": {
            "tenant": TENANT,
            "indicator": "11",
            "action_ref": "moodle:42",
            "status": "missing",
            "reason": "no attendance sheet",
            "links": {
                "dashboard": "https://preuve.example.org/tenants/of-test",
                "indicator": "https://preuve.example.org/tenants/of-test/indicators/11",
                "training_action": "https://preuve.example.org/tenants/of-test/actions/moodle%3A42",
            },
        },
    }
    assert b"jeanne" not in got.body.lower()
    [row] = await message_rows(store)
    assert row.status == "delivered"
    [attempt] = await delivery_log(store, endpoint.id)
    assert (attempt["outcome"], attempt["status_code"], attempt["attempt"]) == ("success", 204, 1)


async def test_retries_keep_the_id_and_body_until_the_receiver_recovers(
    store: Store, receiver: WebhookReceiver
) -> None:
    endpoint, secret = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    receiver.set_mode("fail")
    [event] = events(1)
    await enqueue(store, [event])
    policy = fast_policy()
    await deliver_until(store, policy, lambda r: r.retrying >= 3)
    receiver.set_mode("ok")
    await deliver_until(store, policy, lambda r: r.delivered == 1)
    assert [r.status for r in receiver.received] == [500, 500, 500, 204]
    assert {r.msg_id for r in receiver.received} == {event.id}
    assert len({r.body for r in receiver.received}) == 1
    for request in receiver.received:
        Webhook(secret).verify(request.body, request.headers)
    log = await delivery_log(store, endpoint.id)
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in reversed(log)] == [
        (1, "failure", 500),
        (2, "failure", 500),
        (3, "failure", 500),
        (4, "success", 204),
    ]
    # Back to health: the failing streak is over.
    assert (await get_endpoint(store, endpoint.id)).failing_since is None


async def test_exhausted_retries_fail_then_replay_delivers_with_the_same_id(
    store: Store, receiver: WebhookReceiver
) -> None:
    endpoint, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    receiver.set_mode("fail")
    batch = events(5)
    start = datetime.now(UTC) - timedelta(seconds=1)
    await enqueue(store, batch)
    policy = fast_policy(schedule=(0, 0.02, 0.02))
    await deliver_until(store, policy, lambda r: r.failed == 5)
    assert {r.status for r in await message_rows(store)} == {"failed"}
    assert len(receiver.received) == 15  # 3 attempts each, then it stops

    receiver.set_mode("ok")
    assert await replay(store, TENANT, since=start) == 5
    assert await replay(store, TENANT, since=start) == 0  # already pending again
    await deliver_until(store, policy, lambda r: r.delivered == 5)
    assert sorted(receiver.delivered_ids()) == sorted(e.id for e in batch)
    # Replaying everything sends the delivered messages again, same ids.
    assert await replay(store, TENANT, since=start, include_delivered=True) == 5
    await deliver_until(store, policy, lambda r: r.delivered == 5)
    assert Counter(receiver.delivered_ids()) == {e.id: 2 for e in batch}
    # A time range that ends before the messages were created replays nothing.
    assert await replay(store, TENANT, since=start - timedelta(hours=1), until=start) == 0
    assert await replay(store, TENANT, since=start, endpoint_id="ep_other") == 0
    assert len(await delivery_log(store, endpoint.id, limit=100)) == 25


@sqlite_only
async def test_timeout_is_a_failure(store: Store, receiver: WebhookReceiver) -> None:
    endpoint, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    receiver.set_mode("timeout", delay=1.0)
    await enqueue(store, events(1))
    policy = fast_policy(timeout_seconds=0.2)
    report = await deliver_until(store, policy, lambda r: r.retrying == 1)
    assert report.delivered == 0
    [attempt] = await delivery_log(store, endpoint.id)
    assert attempt["error"] == "timeout after 0.2 s"
    assert attempt["status_code"] is None
    assert 150 <= attempt["duration_ms"] < 900


@sqlite_only
async def test_a_slow_receiver_within_the_timeout_gets_its_message(
    store: Store, receiver: WebhookReceiver
) -> None:
    endpoint, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    receiver.set_mode("slow", delay=0.3)
    await enqueue(store, events(3))
    await deliver_until(store, fast_policy(), lambda r: r.delivered == 3)
    log = await delivery_log(store, endpoint.id)
    assert all(a["duration_ms"] >= 280 for a in log)
    assert all(a["outcome"] == "success" for a in log)


@sqlite_only
async def test_redirects_are_not_followed(store: Store, receiver: WebhookReceiver) -> None:
    endpoint, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    receiver.set_mode("redirect")
    await enqueue(store, events(1))
    await deliver_until(store, fast_policy(), lambda r: r.retrying == 2)
    assert receiver.followed_redirects == 0
    log = await delivery_log(store, endpoint.id)
    assert [a["status_code"] for a in log] == [302, 302]
    assert log[0]["error"] == "HTTP 302 (redirect not followed)"
    [row] = await message_rows(store)
    assert row.status == "pending"


async def test_retry_after_is_honoured(store: Store, receiver: WebhookReceiver) -> None:
    await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    receiver.set_mode("retry_after")
    receiver.retry_after = "2"
    await enqueue(store, events(1))
    await deliver_until(store, fast_policy(), lambda r: r.retrying == 1)
    [row] = await message_rows(store)
    attempted = datetime.fromtimestamp(receiver.received[0].at, UTC)
    # The schedule says 0.05 s; the receiver asked for 2 s.
    assert (row.next_attempt_at - attempted).total_seconds() > 1.8
    assert row.last_status_code == 503


async def test_410_disables_the_endpoint_and_tells_the_others(
    store: Store, receiver: WebhookReceiver, other_receiver: WebhookReceiver
) -> None:
    gone, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    other, other_secret = await add_endpoint(store, TENANT, other_receiver.url, allow=LOOPBACK)
    receiver.set_mode("gone")
    batch = events(20, SYNC_FAILED)
    await enqueue(store, batch)
    policy = fast_policy(concurrency=1)
    report = await deliver_until(store, policy, lambda r: len(other_receiver.delivered()) == 21)
    assert report.disabled_endpoints == [gone.id]
    # Once 410 is seen, the rest of the batch is not sent to that endpoint.
    assert len(receiver.received) == 1
    endpoint = await get_endpoint(store, gone.id)
    assert not endpoint.enabled
    assert "410" in (endpoint.disabled_reason or "")
    notices = [
        Webhook(other_secret).verify(r.body, r.headers)
        for r in other_receiver.delivered()
        if r.body.startswith(b'{"type":"endpoint.disabled"')
    ]
    assert len(notices) == 1
    assert notices[0]["data"]["endpoint_id"] == gone.id
    assert notices[0]["data"]["reason"] == "gone"
    assert other.id not in report.disabled_endpoints

    # Held, not sent, until enabled again; then everything goes.
    await deliver_until(store, policy, lambda r: True)
    assert len(receiver.received) == 1
    receiver.set_mode("ok")
    await enable_endpoint(store, gone.id)
    await deliver_until(store, policy, lambda r: r.delivered == 20)
    assert sorted(receiver.delivered_ids()) == sorted(e.id for e in batch)


async def test_an_endpoint_failing_for_too_long_is_disabled(
    store: Store,
    receiver: WebhookReceiver,
    other_receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    await add_endpoint(
        store, TENANT, other_receiver.url, allow=LOOPBACK, event_types=[ENDPOINT_DISABLED]
    )
    receiver.set_mode("fail", delay=0)
    await enqueue(store, events(3))
    policy = fast_policy(
        schedule=(0, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05),
        disable_after=timedelta(seconds=0.3),
    )
    with caplog.at_level(logging.WARNING, logger="preuve.webhooks.delivery"):
        report = await deliver_until(store, policy, lambda r: bool(r.disabled_endpoints))
    assert report.disabled_endpoints == [failing.id]
    endpoint = await get_endpoint(store, failing.id)
    assert not endpoint.enabled
    assert endpoint.failing_since is not None
    assert any(failing.id in r.getMessage() for r in caplog.records)
    await deliver_until(store, policy, lambda r: len(other_receiver.delivered()) == 1)
    [notice] = other_receiver.delivered()
    assert orjson.loads(notice.body)["data"]["reason"] == "failing"
    # Nothing more reaches the disabled endpoint.
    seen = len(receiver.received)
    await deliver_until(store, policy, lambda r: True)
    assert len(receiver.received) == seen
    assert {r.status for r in await message_rows(store) if r.endpoint_id == failing.id} == {
        "pending"
    }


async def test_rotation_signs_with_old_and_new_secrets(
    store: Store, receiver: WebhookReceiver
) -> None:
    endpoint, old = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    new = await rotate_secret(store, endpoint.id, grace=timedelta(hours=1))
    await enqueue(store, events(1))
    await deliver_until(store, fast_policy(), lambda r: r.delivered == 1)
    [got] = receiver.received
    assert len(got.signature.split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)
    # After the grace period only the new secret signs.
    current = await get_endpoint(store, endpoint.id)
    assert current.active_secrets(datetime.now(UTC) + timedelta(minutes=59)) == [old, new]
    assert current.active_secrets(datetime.now(UTC) + timedelta(minutes=61)) == [new]
    # A second rotation drops what has expired and shortens nothing still valid.
    newest = await rotate_secret(
        store, endpoint.id, grace=timedelta(hours=2), now=datetime.now(UTC) + timedelta(hours=1.5)
    )
    current = await get_endpoint(store, endpoint.id)
    assert [s["secret"] for s in current.secrets] == [new, newest]


async def test_event_filter_and_idempotent_enqueue(
    store: Store, receiver: WebhookReceiver, other_receiver: WebhookReceiver
) -> None:
    await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK, event_types=[SYNC_FAILED])
    await add_endpoint(store, TENANT, other_receiver.url, allow=LOOPBACK)
    await add_endpoint(store, "other-tenant", other_receiver.url, allow=LOOPBACK)
    batch = [
        Event(SYNC_FAILED, TENANT, {"source": "moodle", "error_code": "auth"}),
        Event(DUE_SOON, TENANT, {"indicator": "4", "days_left": 7}),
    ]
    assert await enqueue(store, batch) == 3
    assert await enqueue(store, batch) == 0  # same events again: stored once
    await deliver_until(store, fast_policy(), lambda r: r.delivered == 3)
    assert receiver.delivered_ids() == [batch[0].id]
    assert sorted(other_receiver.delivered_ids()) == sorted(e.id for e in batch)


@sqlite_only
async def test_deliveries_need_the_guarded_session(store: Store) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        with pytest.raises(TypeError, match="open_session"):
            await deliver_due(store, session)
    # Rounds sharing a session each get their own connections.
    async with open_session(LOOPBACK, fast_policy(concurrency=8), rounds=3) as session:
        assert isinstance(session.connector, aiohttp.TCPConnector)
        assert session.connector.limit == 24


async def test_lease_keeps_a_claimed_message_from_a_second_dispatcher(
    store: Store, receiver: WebhookReceiver
) -> None:
    await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    await enqueue(store, events(1))
    async with store.engine.begin() as conn:
        # A dispatcher elsewhere holds it for a while.
        await conn.execute(
            webhook_message.update().values(
                lease_owner="elsewhere", lease_until=datetime.now(UTC) + timedelta(seconds=0.5)
            )
        )
    policy = fast_policy()
    async with open_session(LOOPBACK, policy) as session:
        assert (await deliver_due(store, session, policy=policy)).claimed == 0
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert (await deliver_due(store, session, policy=policy, now=later)).delivered == 1
    async with store.engine.connect() as conn:
        owner = (await conn.execute(select(webhook_message.c.lease_owner))).scalar_one()
    assert owner is None


async def test_purge_keeps_what_is_still_owed(store: Store, receiver: WebhookReceiver) -> None:
    endpoint, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    delivered = events(3)
    await enqueue(store, delivered)
    await deliver_until(store, fast_policy(), lambda r: r.delivered == 3)
    waiting = events(2)
    await disable_endpoint(store, endpoint.id, "pause")
    await enqueue(store, waiting)
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert await purge(store, before=later, tenant="someone-else") == 0
    assert await purge(store, before=datetime.now(UTC) - timedelta(hours=1)) == 0
    assert await purge(store, before=later) == 3
    assert sorted(r.msg_id for r in await message_rows(store)) == sorted(e.id for e in waiting)
    assert await delivery_log(store, endpoint.id) == []  # the attempts went with them


async def test_an_endpoint_removed_during_a_round_does_not_break_it(
    store: Store, receiver: WebhookReceiver, other_receiver: WebhookReceiver
) -> None:
    doomed, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    kept, _ = await add_endpoint(store, TENANT, other_receiver.url, allow=LOOPBACK)
    receiver.set_mode("slow", delay=0.3)
    await enqueue(store, events(2))
    policy = fast_policy()
    async with open_session(LOOPBACK, policy) as session:
        round_ = asyncio.create_task(deliver_due(store, session, policy=policy))
        await receiver.wait_requests(1)
        await remove_endpoint(store, doomed.id)
        report = await round_
    assert report.claimed == 4
    assert len(other_receiver.delivered()) == 2
    assert {r.endpoint_id for r in await message_rows(store)} == {kept.id}
    assert len(await delivery_log(store, kept.id)) == 2


async def test_a_410_wins_over_a_success_in_the_same_round(
    store: Store, receiver: WebhookReceiver
) -> None:
    """Requests of one round run side by side: one may succeed before another gets 410."""
    endpoint, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    await enqueue(store, events(2))
    policy = fast_policy()
    now = datetime.now(UTC)
    first, second = await claim(store, "me", now, policy)
    outcomes = [
        Attempt(first, now, 5, 204, SUCCESS, None),
        Attempt(second, now, 5, 410, GONE, "410 Gone"),
    ]
    report = await record(store, "me", outcomes, policy, now)
    assert report.disabled_endpoints == [endpoint.id]
    assert not (await get_endpoint(store, endpoint.id)).enabled
    rows = {r.msg_id: r for r in await message_rows(store)}
    assert (rows[first.msg_id].status, rows[second.msg_id].status) == ("delivered", "pending")
    assert rows[second.msg_id].lease_owner is None
