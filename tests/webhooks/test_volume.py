"""Must show: many events to receivers that fail for a while; disabled endpoints; replay."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from preuve.events import SYNC_FAILED
from preuve.store import Store, open_store
from preuve.testing.webhook_receiver import WebhookReceiver
from preuve.webhooks import enqueue, replay, run_dispatcher
from preuve.webhooks.endpoints import add_endpoint, disable_endpoint, enable_endpoint
from preuve.webhooks.tables import DELIVERED, FAILED, webhook_message
from tests.webhooks.conftest import LOOPBACK, TENANT, events, fast_policy, message_rows

CHUNK = 500


async def _untried(store: Store, endpoint_id: str) -> int:
    m = webhook_message
    query = select(func.count()).where(m.c.endpoint_id == endpoint_id, m.c.attempts == 0)
    async with store.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def _settle(store: Store, endpoint_id: str, within: float = 30.0) -> None:
    """Wait until the dispatcher has recorded every outcome the receiver saw.

    A receiver counts a message when it answers; the dispatcher marks it delivered
    just after. Replay picks delivered and failed messages only, so it waits.
    """
    m = webhook_message
    query = select(func.count()).where(
        m.c.endpoint_id == endpoint_id, m.c.status.not_in([DELIVERED, FAILED])
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with store.engine.connect() as conn:
            if int((await conn.execute(query)).scalar_one()) == 0:
                return
        assert loop.time() < deadline, "messages still in flight"
        await asyncio.sleep(0.05)


async def test_events_survive_an_outage_a_disabled_endpoint_and_a_replay(
    store: Store, receiver: WebhookReceiver, other_receiver: WebhookReceiver
) -> None:
    count = 1000
    up, secret = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    held, _ = await add_endpoint(store, TENANT, other_receiver.url, allow=LOOPBACK)
    await disable_endpoint(store, held.id, "maintenance")
    receiver.set_mode("fail")
    start = datetime.now(UTC) - timedelta(seconds=1)
    batch = events(count)
    expected = {e.id: 1 for e in batch}
    stop = asyncio.Event()
    policy = fast_policy(schedule=(0, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3), batch_size=250)
    dispatcher = asyncio.create_task(
        run_dispatcher(store, policy=policy, allow=LOOPBACK, stop=stop, poll_seconds=0.05)
    )
    try:
        for chunk in range(0, count, CHUNK):
            await enqueue(store, batch[chunk : chunk + CHUNK])
        # The receiver answers 500 until every message failed, most of them twice.
        await receiver.wait_requests(int(count * 1.5), within=60)
        assert {r.status for r in receiver.received} == {500}
        assert {r.msg_id for r in receiver.received} == set(expected)
        receiver.set_mode("ok")
        await receiver.wait_for(count, within=60)
        assert Counter(receiver.delivered_ids()) == expected
        # Stable ids and bodies: every attempt of a message carried the same ones.
        bodies: dict[str, set[bytes]] = {}
        for request in receiver.received:
            bodies.setdefault(request.msg_id, set()).add(request.body)
        assert set(bodies) == set(expected)
        assert all(len(b) == 1 for b in bodies.values())
        assert other_receiver.received == []  # disabled: nothing sent

        await enable_endpoint(store, held.id)
        await other_receiver.wait_for(count, within=60)
        assert Counter(other_receiver.delivered_ids()) == expected

        receiver.reset()
        await _settle(store, up.id)
        assert await replay(store, TENANT, since=start, endpoint_id=up.id) == 0  # none failed
        replayed = await replay(
            store, TENANT, since=start, endpoint_id=up.id, include_delivered=True
        )
        assert replayed == count
        await receiver.wait_for(count, within=60)
        assert Counter(receiver.delivered_ids()) == expected
        sample = receiver.received[0]
        Webhook(secret).verify(sample.body, sample.headers)
    finally:
        stop.set()
        await dispatcher
    assert {r.status for r in await message_rows(store)} == {"delivered"}


@pytest.mark.slow
async def test_ten_thousand_events_through_a_receiver_outage(
    sqlite_url: str, receiver: WebhookReceiver, other_receiver: WebhookReceiver
) -> None:
    """10k events while the receiver is down (connection refused), then back up."""
    count = 10_000
    store = await open_store(sqlite_url)
    stop = asyncio.Event()
    dispatcher: asyncio.Task[object] | None = None
    try:
        up, _ = await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
        # A disabled endpoint wanting the sync failures only: held until enabled.
        held, _ = await add_endpoint(
            store, TENANT, other_receiver.url, allow=LOOPBACK, event_types=[SYNC_FAILED]
        )
        await disable_endpoint(store, held.id, "maintenance")
        receiver.keep_bodies = other_receiver.keep_bodies = False
        port = receiver.port
        await receiver.close()  # down
        batch = events(count)
        failures = events(CHUNK, SYNC_FAILED)
        expected = {e.id: 1 for e in batch + failures}
        enqueued_at = []
        for chunk in range(0, count, CHUNK):
            enqueued_at.append(datetime.now(UTC))
            await enqueue(store, batch[chunk : chunk + CHUNK])
        await enqueue(store, failures)
        policy = fast_policy(schedule=(0, 0.5, 1, 1, 1, 1, 1, 1), batch_size=500)
        dispatcher = asyncio.create_task(
            run_dispatcher(
                store, policy=policy, allow=LOOPBACK, stop=stop, poll_seconds=0.05, workers=4
            )
        )
        # Until every message failed at least once (the database is what to watch).
        while await _untried(store, up.id):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        errors = {r.last_error.split(":")[0] for r in await message_rows(store) if r.attempts}
        assert errors == {"connection"}

        await receiver.start(port=port)  # back up
        await receiver.wait_for(len(expected), within=60)
        assert Counter(receiver.delivered_ids()) == expected
        assert {r.msg_id for r in receiver.received} == set(expected)
        assert other_receiver.received == []

        await enable_endpoint(store, held.id)
        await other_receiver.wait_for(len(failures), within=60)
        assert Counter(other_receiver.delivered_ids()) == {e.id: 1 for e in failures}

        # Replay a time range: the first two chunks only.
        receiver.reset()
        await _settle(store, up.id)
        first_two = {e.id for e in batch[: 2 * CHUNK]}
        replayed = await replay(
            store,
            TENANT,
            since=enqueued_at[0],
            until=enqueued_at[2],
            endpoint_id=up.id,
            include_delivered=True,
        )
        assert replayed == len(first_two)
        await receiver.wait_for(len(first_two), within=60)
        assert set(receiver.delivered_ids()) == first_two
    finally:
        stop.set()
        if dispatcher is not None:
            await dispatcher
        await store.close()
