"""Moodle connector benchmark: full sync of a generated site, re-sync, sequential baseline.

    .venv/bin/python -m bench.moodle            # 200 courses, 10k enrolments, 20 ms latency
    .venv/bin/python -m bench.moodle --quick    # 20 courses

The Moodle stand-in runs in its own process (like a real Moodle on another
machine), with the latency added to every request. Phases:
1. full sync into a SQLite store: wall time, requests, records/s;
2. re-sync of the unchanged site: requests as a share of the full sync's;
3. the connector's streams alone (fetch, decode, normalise, build records; no store);
4. a plain sequential client replaying the very same requests (same bodies, one at a
   time, JSON decoded, nothing else): the speed-up ratios;
5. peak memory of a full sync at three site sizes, each in a fresh process with
   latency off: peak Python heap (tracemalloc, which slows it down) and max RSS.
   It should stay flat as the site grows.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.common import measure, print_table
from preuve.config.settings import SourceConfig, TenantConfig
from preuve.connectors.registry import build_connector
from preuve.store import open_store
from preuve.sync.runner import SyncOutcome, sync_connector

TOKEN_ENV = "PREUVE_BENCH_MOODLE_TOKEN"
TENANT = TenantConfig(id="of-bench", name="Bench")
REST = "/webservice/rest/server.php"
STATS = "/_stand_in/requests"
LATENCY = "/_stand_in/latency"
PORT = 8791


def stand_in_args(courses: int) -> list[str]:
    # 50 learners per course, 5 half-day sessions, 11 graded activities: at 200 courses,
    # 10,000 enrolments, 50,000 attendance statuses, ~100,000 grades.
    return [
        f"--courses={courses}",
        "--learners=50",
        "--sessions=5",
        "--graded=11",
        f"--spread-days={courses * 365 // 100}",
    ]


@asynccontextmanager
async def stand_in(courses: int, latency: float, log: Path) -> AsyncIterator[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "preuve.testing.moodle",
        f"--port={PORT}",
        f"--latency={latency}",
        f"--log={log}",
        *stand_in_args(courses),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        url, token = (await process.stdout.readline()).decode().split()
        os.environ[TOKEN_ENV] = token
        yield url
    finally:
        process.terminate()
        await process.wait()


async def control(url: str, path: str, method: str = "POST") -> Any:
    async with aiohttp.ClientSession() as session, session.request(method, url + path) as r:
        return orjson.loads(await r.read())


async def requests_made(url: str) -> int:
    return sum((await control(url, STATS)).values())


def connector_for(url: str) -> Any:
    source = SourceConfig(id="moodle", kind="moodle", url=url, credentials={"token": TOKEN_ENV})
    return build_connector(TENANT, source)


async def sync_once(url: str, database: Path) -> SyncOutcome:
    store = await open_store(f"sqlite+aiosqlite:///{database}")
    try:
        async with connector_for(url) as connector:
            outcome = await sync_connector(store, connector)
    finally:
        await store.close()
    assert outcome.status.value == "succeeded", outcome.errors
    return outcome


async def streams_only(url: str) -> int:
    records = 0
    async with connector_for(url) as connector:
        for stream in connector.streams():
            async for batch in stream.read(None):
                records += len(batch.records)
    return records


async def sequential(url: str, log: Path, count: int) -> float:
    """Replay the first ``count`` logged requests one after the other."""
    start = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        with log.open("rb") as handle:
            for _, line in zip(range(count), handle, strict=False):
                pairs = [tuple(p) for p in orjson.loads(line)]
                async with session.post(url + REST, data=pairs) as response:
                    orjson.loads(await response.read())
    return time.perf_counter() - start


async def timing(courses: int, latency: float, tmp: Path) -> dict[str, Any]:
    log = tmp / f"requests-{courses}.jsonl"
    async with stand_in(courses, latency, log) as url:
        await control(url, STATS)  # reset
        with measure(trace_memory=False) as full:
            outcome = await sync_once(url, tmp / f"timing-{courses}.db")
        first = await requests_made(url)
        await control(url, STATS)
        with measure(trace_memory=False) as again:
            await sync_once(url, tmp / f"timing-{courses}.db")
        resync = await requests_made(url)
        with measure(trace_memory=False) as fetch:
            await streams_only(url)
        replay = await sequential(url, log, first)
    totals = outcome.totals
    return {
        "courses": courses,
        "seconds": full.seconds,
        "requests": first,
        "records": totals.inserted + totals.updated + totals.unchanged,
        "resync_seconds": again.seconds,
        "resync_requests": resync,
        "streams_seconds": fetch.seconds,
        "sequential_seconds": replay,
        "counts": outcome.counts(),
    }


async def memory_child(courses: int) -> None:
    """In a fresh process: one full sync (no latency), then print the peak RSS."""
    with tempfile.TemporaryDirectory(prefix="preuve-bench-moodle-") as name:
        tmp = Path(name)
        async with stand_in(courses, 0.0, tmp / "requests.jsonl") as url:
            with measure() as measured:
                outcome = await sync_once(url, tmp / "memory.db")
    totals = outcome.totals
    print(
        orjson.dumps(
            [
                courses,
                measured.peak_heap_mb,
                measured.max_rss_mb,
                totals.inserted + totals.unchanged,
            ]
        ).decode()
    )


async def memory(courses: int) -> tuple[int, float, float, int]:
    """Peak RSS of a full sync, each size in its own process (RSS only grows)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.moodle", f"--memory={courses}", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    size, heap, rss, records = orjson.loads(out.splitlines()[-1])
    return int(size), float(heap), float(rss), int(records)


async def main(quick: bool, latency: float) -> None:
    size = 20 if quick else 200
    with tempfile.TemporaryDirectory(prefix="preuve-bench-moodle-") as name:
        tmp = Path(name)
        result = await timing(size, latency, tmp)
        memories = [await memory(n) for n in (size // 4, size // 2, size)]
    seconds = float(result["seconds"])
    print(
        f"site: {size} courses, {size * 50:,} learner enrolments, "
        f"{latency * 1000:.0f} ms added per request, connector concurrency 4 (default)"
    )
    print_table(
        "Full sync (connector -> SQLite store), then re-sync of the unchanged site",
        ["phase", "wall s", "requests", "records", "records/s", "requests share"],
        [
            [
                "full sync",
                seconds,
                result["requests"],
                result["records"],
                result["records"] / seconds,
                "100%",
            ],
            [
                "re-sync",
                result["resync_seconds"],
                result["resync_requests"],
                0,
                0.0,
                f"{result['resync_requests'] / result['requests']:.1%}",
            ],
        ],
    )
    sequential_s = float(result["sequential_seconds"])
    print_table(
        "The same requests made by a plain sequential client",
        ["what", "wall s", "sequential client s", "speed-up"],
        [
            [
                "connector streams (no store)",
                result["streams_seconds"],
                sequential_s,
                f"{sequential_s / result['streams_seconds']:.2f}x",
            ],
            ["full sync into the store", seconds, sequential_s, f"{sequential_s / seconds:.2f}x"],
        ],
    )
    print_table(
        "Peak memory of a full sync as the site grows (fresh process each, no latency)",
        ["courses", "records", "peak Python heap MB", "max RSS MB"],
        [[courses, records, heap, rss] for courses, heap, rss, records in memories],
    )
    print_table(
        f"Per stream ({size} courses)",
        ["stream", "batches", "inserted", "unchanged", "skipped"],
        [
            [name, c["batches"], c["inserted"], c["unchanged"], c["skipped"]]
            for name, c in result["counts"].items()
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 20-course site")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds added per request")
    parser.add_argument("--memory", type=int, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.memory:
        asyncio.run(memory_child(args.memory))
    else:
        asyncio.run(main(args.quick, args.latency))
