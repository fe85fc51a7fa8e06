"""xAPI: pull from the LRS stand-in, compared with TinCanPython; intake throughput.

Pull (the LRS stand-in runs in its own process with ``count`` statements):

- ``preuve fetch+map``: the connector's ``statements`` stream (aiohttp, orjson,
  statement -> EvidenceRecord), every page followed through ``more`` links;
- ``tincan fetch``: TinCanPython's ``RemoteLRS.query_statements`` +
  ``more_statements`` over the same statements (it only fetches and parses);
- ``preuve sync #1..#3`` into a SQLite store: first pull, then a few statements
  are voided on the LRS and the source is pulled again (withdrawals), then the
  cursor is reset and everything is pulled a third time (nothing may change).

Intake: batches of 100 statements without ids (like Moodle's logstore_xapi)
POSTed to ``/xapi/statements`` on an in-process web app over a SQLite store;
statements/s, and the traced heap after each quarter of the run (flat = the
intake keeps nothing per statement in memory).

Usage::

    python -m bench.xapi [--quick] [--count 200000] [--intake 50000] [--senders 4]
                         [--postgres postgresql://postgres@127.0.0.1:5432/test] [--skip-pull]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import aiohttp
import asyncpg
import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from bench.common import measure, print_table
from preuve.config.settings import Settings, SourceConfig, TenantConfig
from preuve.connectors.registry import build_connector
from preuve.connectors.xapi import XapiConnector
from preuve.connectors.xapi.constants import STATEMENT_KINDS
from preuve.store import Store, open_store
from preuve.sync.runner import sync_connector
from preuve.testing.lrs import generate_statements
from preuve.web import routes_xapi
from preuve.web.keys import SETTINGS_KEY, STORE_KEY

TENANT = TenantConfig(id="bench", name="Bench")
USER, PASSWORD = "lrs-key", "lrs-secret"
PAGE = 1000
VOIDED = 20
ROUNDS = 2


@asynccontextmanager
async def stand_in(count: int) -> AsyncIterator[str]:
    """The LRS stand-in in its own process; yields its endpoint."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "preuve.testing.lrs",
        "--count",
        str(count),
        "--voided",
        "0",
        "--page-limit",
        str(PAGE),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        if not line.startswith("LISTENING"):
            raise RuntimeError(f"stand-in did not start: {line!r}")
        yield f"http://127.0.0.1:{line.split()[1]}/xapi/"
    finally:
        process.terminate()
        await process.wait()


def _source(url: str) -> SourceConfig:
    os.environ["BENCH_LRS_USER"] = USER
    os.environ["BENCH_LRS_PASSWORD"] = PASSWORD
    return SourceConfig(
        id="lrs",
        kind="xapi",
        url=url,
        credentials={"username": "BENCH_LRS_USER", "password": "BENCH_LRS_PASSWORD"},
        options={"page_size": PAGE},
    )


def _connector(url: str) -> XapiConnector:
    connector = build_connector(TENANT, _source(url))
    assert isinstance(connector, XapiConnector)
    return connector


async def pull_only(url: str) -> int:
    """Statements fetched and mapped by the connector's stream (no store)."""
    seen = 0
    async with _connector(url) as connector:
        for stream in connector.streams():
            async for batch in stream.read(None):
                seen += len(batch.records) + len(batch.skipped)
                seen += len(batch.withdrawals) // len(STATEMENT_KINDS)
    return seen


def tincan_fetch(url: str) -> int:
    from tincan import RemoteLRS

    lrs = RemoteLRS(endpoint=url, username=USER, password=PASSWORD, version="1.0.3")
    response = lrs.query_statements({"ascending": "true", "limit": PAGE})
    if not response.success:
        raise RuntimeError(f"tincan query failed: {response.response.status}")
    seen = len(response.content.statements)
    more = response.content.more
    while more:
        response = lrs.more_statements(more)
        if not response.success:
            raise RuntimeError(f"tincan more failed: {response.response.status}")
        seen += len(response.content.statements)
        more = response.content.more
    return seen


async def void_some(url: str, store: Store, how_many: int) -> list[str]:
    """Void ``how_many`` statements already pulled, through the LRS's own POST."""
    targets: list[str] = []
    async for row in store.evidence.iter_evidence(TENANT.id, source="lrs"):
        if row.id % 997 == 0:
            targets.append(row.source_id)
            if len(targets) == how_many:
                break
    body = [
        {
            "actor": {"mbox": "mailto:formatrice@of-demo.example"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target},
        }
        for target in targets
    ]
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "statements", json=body, headers=headers) as response,
    ):
        response.raise_for_status()
    return targets


async def bench_pull(count: int, rows: list[list[Any]], checks: list[list[Any]]) -> None:
    async with stand_in(count) as url:
        # Alternate the two clients and keep each one's best run: the machine's
        # load changes during a long benchmark. CPU is this process's own (the
        # stand-in runs in its own process), so it does not depend on that load.
        wall: dict[str, list[float]] = {"ours": [], "tincan": []}
        cpu: dict[str, list[float]] = {"ours": [], "tincan": []}
        fetched = tincan_count = 0
        for _ in range(ROUNDS):
            cpu_start, start = time.process_time(), time.perf_counter()
            fetched = await pull_only(url)
            wall["ours"].append(time.perf_counter() - start)
            cpu["ours"].append(time.process_time() - cpu_start)
            cpu_start, start = time.process_time(), time.perf_counter()
            tincan_count = await asyncio.to_thread(tincan_fetch, url)
            wall["tincan"].append(time.perf_counter() - start)
            cpu["tincan"].append(time.process_time() - cpu_start)
        with measure(trace_memory=True) as traced:
            await pull_only(url)
        ours, theirs = min(wall["ours"]), min(wall["tincan"])
        ours_cpu, theirs_cpu = min(cpu["ours"]), min(cpu["tincan"])
        rows.append(
            [
                "preuve fetch+map",
                fetched,
                ours,
                fetched / ours,
                traced.peak_heap_mb,
                f"best of {ROUNDS}; {ours_cpu:.1f} CPU s",
            ]
        )
        rows.append(
            [
                "tincan fetch",
                tincan_count,
                theirs,
                tincan_count / theirs,
                "",
                f"best of {ROUNDS}; {theirs_cpu:.1f} CPU s; preuve {theirs / ours:.1f}x faster "
                f"(wall), {theirs_cpu / ours_cpu:.1f}x less CPU",
            ]
        )

        with TemporaryDirectory() as tmp:
            store = await open_store(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
            voided: list[str] = []
            try:
                for label in (
                    "sync #1 (first pull)",
                    "sync #2 (after voiding)",
                    "sync #3 (re-pull)",
                ):
                    if label.startswith("sync #2"):
                        voided = await void_some(url, store, VOIDED)
                    if label.startswith("sync #3"):
                        await store.evidence.reset_cursors(TENANT.id, "lrs")
                    connector = _connector(url)
                    with measure(trace_memory=False) as run:
                        async with connector:
                            outcome = await sync_connector(store, connector)
                    totals = outcome.totals
                    served = totals.inserted + totals.updated + totals.unchanged
                    rows.append(
                        [
                            f"preuve {label}",
                            served,
                            run.seconds,
                            served / run.seconds,
                            "",
                            f"{outcome.status.value} {totals.as_dict()}",
                        ]
                    )
                counts = await store.evidence.count_by_kind(TENANT.id, source="lrs")
                withdrawn = 0
                async for row in store.evidence.iter_evidence(
                    TENANT.id, source="lrs", include_withdrawn=True
                ):
                    withdrawn += row.withdrawn and row.source_id in voided
                checks.append(["statements on the LRS", count])
                checks.append(["evidence counted (not withdrawn)", sum(counts.values())])
                checks.append(
                    ["voided on the LRS / withdrawn in the store", f"{len(voided)} / {withdrawn}"]
                )
            finally:
                await store.close()


def _intake_settings() -> Settings:
    os.environ["BENCH_INTAKE_USER"] = "moodle"
    os.environ["BENCH_INTAKE_PASSWORD"] = "moodle-secret"
    source = SourceConfig(
        id="lms",
        kind="xapi",
        credentials={"username": "BENCH_INTAKE_USER", "password": "BENCH_INTAKE_PASSWORD"},
        options={"intake": True},
    )
    return Settings(tenants=[TenantConfig(id="bench", name="Bench", sources=[source])])


def _bodies(count: int, seed: int) -> list[bytes]:
    statements = []
    for statement in generate_statements(count, seed=seed):
        del statement["id"]  # like logstore_xapi: ids come from the content hash
        statements.append(statement)
    return [orjson.dumps(statements[i : i + 100]) for i in range(0, count, 100)]


async def _pg_admin(admin_url: str, sql: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _send(
    client: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    queue: Iterator[tuple[int, bytes]],
    quarter: int,
    marks: list[str],
) -> None:
    """One sender: POSTs bodies from the shared queue until it is empty."""
    for n, body in queue:
        async with client.post(url, data=body, headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(await response.text())
            await response.read()
        if quarter and n % quarter == 0:
            marks.append(f"{tracemalloc.get_traced_memory()[0] / 1e6:.1f}")


@asynccontextmanager
async def intake_store(postgres: str | None) -> AsyncIterator[Store]:
    """A fresh store: a SQLite file, or a new database on the PostgreSQL server."""
    if postgres is None:
        with TemporaryDirectory() as tmp:
            store = await open_store(f"sqlite+aiosqlite:///{Path(tmp) / 'intake.db'}")
            try:
                yield store
            finally:
                await store.close()
        return
    name = f"preuve_bench_xapi_{uuid.uuid4().hex[:10]}"
    await _pg_admin(postgres, f'CREATE DATABASE "{name}"')
    url = make_url(postgres).set(drivername="postgresql+asyncpg", database=name)
    store = await open_store(url.render_as_string(hide_password=False))
    try:
        yield store
    finally:
        await store.close()
        await _pg_admin(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _intake_headers() -> dict[str, str]:
    auth = base64.b64encode(b"moodle:moodle-secret").decode()
    return {
        "Authorization": f"Basic {auth}",
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }


async def remote_sender(url: str, count: int, seed: int, senders: int) -> float:
    """The LMS side, run in its own process: POST every batch, return the seconds taken."""
    bodies = _bodies(count, seed=seed)
    queue = iter(enumerate(bodies, start=1))
    async with aiohttp.ClientSession() as client:
        start = time.perf_counter()
        await asyncio.gather(
            *(_send(client, url, _intake_headers(), queue, 0, []) for _ in range(senders))
        )
        return time.perf_counter() - start


async def bench_intake_from_another_process(
    count: int, rows: list[list[Any]], *, postgres: str | None = None, senders: int = 1
) -> None:
    """The intake alone in this process; the sender (the LMS) in a child process."""
    backend = "postgresql" if postgres else "sqlite"
    async with intake_store(postgres) as store:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app[SETTINGS_KEY] = _intake_settings()
        app[STORE_KEY] = store
        routes_xapi.setup(app)
        server = TestServer(app)
        await server.start_server()
        try:
            cpu_start = time.process_time()
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.xapi",
                "--send",
                str(server.make_url("/xapi/statements")),
                str(count),
                "17",
                str(senders),
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await child.communicate()
            if child.returncode != 0:
                raise RuntimeError("the sender process failed")
            seconds = float(out.decode().strip().splitlines()[-1])
            cpu = time.process_time() - cpu_start
        finally:
            await server.close()
    note = f"{senders} sender(s) in another process, {count / cpu:,.0f} statements per CPU-second"
    rows.append(
        [f"intake {backend}, LMS in its own process", count, seconds, count / seconds, "", note]
    )


async def bench_intake(
    count: int,
    traced_count: int,
    rows: list[list[Any]],
    *,
    postgres: str | None = None,
    senders: int = 1,
) -> None:
    headers = _intake_headers()
    backend = "postgresql" if postgres else "sqlite"
    runs = ((f"intake {backend}", count, False), (f"intake {backend} (traced)", traced_count, True))
    for label, size, trace in runs:
        bodies = _bodies(size, seed=11 if trace else 13)
        marks: list[str] = []
        async with intake_store(postgres) as store:
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app[SETTINGS_KEY] = _intake_settings()
            app[STORE_KEY] = store
            routes_xapi.setup(app)
            server = TestServer(app)
            await server.start_server()
            url = str(server.make_url("/xapi/statements"))
            queue = iter(enumerate(bodies, start=1))
            quarter = max(len(bodies) // 4, 1) if trace else 0
            try:
                # A plain session: the test client keeps every response it made.
                async with aiohttp.ClientSession() as client:
                    if trace:
                        tracemalloc.start()
                    start = time.perf_counter()
                    cpu_start = time.process_time()
                    await asyncio.gather(
                        *(
                            _send(client, url, headers, queue, quarter, marks)
                            for _ in range(senders)
                        )
                    )
                    seconds = time.perf_counter() - start
                    cpu = time.process_time() - cpu_start
                    peak = ""
                    if trace:
                        peak = f"{tracemalloc.get_traced_memory()[1] / 1e6:.1f}"
                        tracemalloc.stop()
            finally:
                await server.close()
        # Process CPU (event loop + SQLite thread): what the intake costs per
        # statement whatever else the machine is doing.
        note = f"{senders} sender(s), {size / cpu:,.0f} statements per CPU-second"
        if trace:
            note += f"; heap MB after each quarter: {' / '.join(marks)}"
        rows.append([label, size, seconds, size / seconds, peak, note])


async def main(args: argparse.Namespace) -> None:
    rows: list[list[Any]] = []
    checks: list[list[Any]] = []
    if not args.skip_pull:
        await bench_pull(args.count, rows, checks)
    traced = max(args.intake // 5, 2000)
    await bench_intake(args.intake, traced, rows, senders=args.senders)
    await bench_intake_from_another_process(args.intake, rows, senders=args.senders)
    if args.postgres:
        await bench_intake(args.intake, traced, rows, postgres=args.postgres, senders=args.senders)
    headers = ["run", "statements", "seconds", "statements/s", "peak heap MB", "notes"]
    print_table(f"xAPI ({args.count:,} statements on the LRS stand-in)", headers, rows)
    if checks:
        print_table("pull twice with voided statements", ["check", "value"], checks)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20k pulled, 5k received")
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--intake", type=int, default=50_000)
    parser.add_argument("--senders", type=int, default=1, help="concurrent intake clients")
    parser.add_argument(
        "--postgres", default=None, help="also measure the intake on this server (admin URL)"
    )
    parser.add_argument("--skip-pull", action="store_true", help="intake only")
    parser.add_argument("--send", nargs=4, metavar=("URL", "COUNT", "SEED", "SENDERS"))
    args = parser.parse_args()
    if args.send:  # the child process of bench_intake_from_another_process
        url, count, seed, senders = args.send
        print(asyncio.run(remote_sender(url, int(count), int(seed), int(senders))))
        return
    if args.quick:
        args.count, args.intake = 20_000, 5_000
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
