"""Several dispatchers never send the same message at once; a restart loses nothing."""

from __future__ import annotations

import asyncio
from collections import Counter

from preuve.store import Store, open_store
from preuve.testing.webhook_receiver import WebhookReceiver
from preuve.webhooks import enqueue, run_dispatcher
from preuve.webhooks.endpoints import add_endpoint
from tests.webhooks.conftest import LOOPBACK, TENANT, events, fast_policy, message_rows


async def test_two_dispatchers_share_the_work_without_duplicates(
    store: Store, store_url: str, receiver: WebhookReceiver
) -> None:
    await add_endpoint(store, TENANT, receiver.url, allow=LOOPBACK)
    batch = events(300)
    await enqueue(store, batch)
    receiver.set_mode("slow", delay=0.02)
    second = await open_store(store_url)  # another process's view of the same database
    stop = asyncio.Event()
    policy = fast_policy(batch_size=10)
    try:
        tasks = [
            asyncio.create_task(
                run_dispatcher(s, policy=policy, allow=LOOPBACK, stop=stop, poll_seconds=0.05)
            )
            for s in (store, second, store, second)
        ]
        await receiver.wait_for(300, within=30)
        stop.set()
        reports = await asyncio.gather(*tasks)
    finally:
        await second.close()
    assert Counter(receiver.delivered_ids()) == {e.id: 1 for e in batch}
    assert len(receiver.received) == 300
    # The work was shared, not done by one of them alone.
    assert sum(1 for r in reports if r.delivered) >= 2
    assert sum(r.delivered for r in reports) == 300


async def test_a_restart_mid_retry_loses_no_message(
    store_url: str, receiver: WebhookReceiver
) -> None:
    first = await open_store(store_url)
    await add_endpoint(first, TENANT, receiver.url, allow=LOOPBACK)
    batch = events(200)
    await enqueue(first, batch)
    receiver.set_mode("fail")
    policy = fast_policy(timeout_seconds=0.5, lease_seconds=1.0, batch_size=50)
    crashed = asyncio.create_task(
        run_dispatcher(first, policy=policy, allow=LOOPBACK, poll_seconds=0.05)
    )
    await receiver.wait_requests(250)  # every message tried, some twice
    # Requests now hang; the process dies with claimed messages in flight.
    receiver.set_mode("timeout", delay=5)
    await asyncio.sleep(0.1)
    crashed.cancel()
    await asyncio.gather(crashed, return_exceptions=True)
    await first.close()
    inspector = await open_store(store_url)
    try:
        leased = [r for r in await message_rows(inspector) if r.lease_owner]
    finally:
        await inspector.close()
    assert leased, "the crash should leave leased messages behind"

    receiver.set_mode("ok")
    restarted = await open_store(store_url)
    stop = asyncio.Event()
    try:
        task = asyncio.create_task(
            run_dispatcher(restarted, policy=policy, allow=LOOPBACK, stop=stop, poll_seconds=0.05)
        )
        await receiver.wait_for(200, within=20)
        stop.set()
        await task
        statuses = {r.status for r in await message_rows(restarted)}
    finally:
        await restarted.close()
    assert sorted(set(receiver.delivered_ids())) == sorted(e.id for e in batch)
    assert {r.msg_id for r in receiver.received} == {e.id for e in batch}
    assert statuses == {"delivered"}
