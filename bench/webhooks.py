"""Webhook delivery benchmark: deliveries/s to a local receiver, latency event -> delivery.

The receiver (preuve.testing.webhook_receiver) runs in its own process, so the
figures are the dispatcher's, not a shared event loop's.

    .venv/bin/python -m bench.webhooks [--quick] [--store-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import print_table
from preuve.events import PROOF_MISSING, Event
from preuve.store import Store, open_store
from preuve.testing.webhook_receiver import SUMMARY_PATH, WebhookReceiver
from preuve.webhooks import AllowList, DeliveryPolicy, enqueue, run_dispatcher
from preuve.webhooks.endpoints import add_endpoint

TENANT = "bench"
LOOPBACK = AllowList.parse(["127.0.0.0/8"])


def _serve(pipe: Connection) -> None:
    async def _main() -> None:
        async with WebhookReceiver(keep_bodies=False) as receiver:
            pipe.send(receiver.url)
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)

    asyncio.run(_main())


def _events(count: int) -> list[Event]:
    return [
        Event(PROOF_MISSING, TENANT, {"indicator": str(i % 32 + 1), "status": "missing"})
        for i in range(count)
    ]


async def _summary(session: aiohttp.ClientSession, base: str, full: bool = False) -> Any:
    async with session.get(base + SUMMARY_PATH, params={"full": "1" if full else "0"}) as resp:
        return await resp.json()


async def _wait_delivered(session: aiohttp.ClientSession, base: str, count: int) -> None:
    # The receiver is another process: polling its summary is the way to know.
    while (await _summary(session, base))["delivered"] < count:  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def _throughput(store: Store, base: str, count: int, workers: int) -> dict[str, float]:
    batch = _events(count)
    start = time.perf_counter()
    for chunk in range(0, count, 1000):
        await enqueue(store, batch[chunk : chunk + 1000])
    enqueued = time.perf_counter() - start
    stop = asyncio.Event()
    policy = DeliveryPolicy(batch_size=200, concurrency=64)
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        task = asyncio.create_task(
            run_dispatcher(store, policy=policy, allow=LOOPBACK, stop=stop, workers=workers)
        )
        await _wait_delivered(session, base, count)
        elapsed = time.perf_counter() - start
    stop.set()
    await task
    return {"enqueue_per_s": count / enqueued, "deliver_per_s": count / elapsed, "s": elapsed}


async def _latency(
    store: Store, base: str, count: int, rate: int, already: int, workers: int
) -> list[float]:
    """Events arrive at ``rate``/s in small groups; latency = arrival - occurred_at."""
    stop = asyncio.Event()
    policy = DeliveryPolicy(batch_size=200, concurrency=64)
    task = asyncio.create_task(
        run_dispatcher(store, policy=policy, allow=LOOPBACK, stop=stop, workers=workers)
    )
    group = max(1, rate // 50)  # 50 groups a second
    occurred: dict[str, float] = {}
    for _ in range(0, count, group):
        batch = _events(group)
        for event in batch:
            occurred[event.id] = event.occurred_at.timestamp()
        await enqueue(store, batch)
        await asyncio.sleep(group / rate)
    async with aiohttp.ClientSession() as session:
        await _wait_delivered(session, base, already + len(occurred))
        summary = await _summary(session, base, full=True)
    stop.set()
    await task
    return [at - occurred[msg_id] for msg_id, at, _ in summary["received"] if msg_id in occurred]


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else values[0]


async def _run(store_url: str | None, quick: bool, workers: int) -> None:
    count = 2_000 if quick else 10_000
    stream = 500 if quick else 3_000
    rate = 500
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,))
    process.start()
    url = parent.recv()
    base = url.rsplit("/", 1)[0]
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(store_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        try:
            await add_endpoint(store, TENANT, url, allow=LOOPBACK)
            figures = await _throughput(store, base, count, workers)
            latencies = await _latency(store, base, stream, rate, count, workers)
        finally:
            await store.close()
            parent.send("stop")
            process.join(10)
    backend = "postgresql" if store_url and "postgres" in store_url else "sqlite"
    print_table(
        f"Webhook delivery ({backend}, receiver in another process, {workers} workers)",
        ["measure", "value"],
        [
            ["events enqueued", count],
            ["enqueue (messages/s)", figures["enqueue_per_s"]],
            ["deliveries/s (backlog)", figures["deliver_per_s"]],
            ["backlog drained in (s)", figures["s"]],
            ["stream: events at /s", rate],
            ["stream: events", len(latencies)],
            ["latency p50 (ms)", _percentile(latencies, 50) * 1000],
            ["latency p99 (ms)", _percentile(latencies, 99) * 1000],
            ["latency max (ms)", max(latencies) * 1000],
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run")
    parser.add_argument("--store-url", help="store URL (default: a temporary SQLite file)")
    parser.add_argument("--workers", type=int, default=4, help="dispatcher rounds side by side")
    args = parser.parse_args()
    asyncio.run(_run(args.store_url, args.quick, args.workers))


if __name__ == "__main__":
    main()
