"""Distributed sync benchmark: 50 tenants against LMS stand-ins with latency, 1/2/4 workers.

    .venv/bin/python -m bench.sync               # 50 tenants, Moodle stand-in, 100 ms latency
    .venv/bin/python -m bench.sync --quick       # 20 tenants, smaller sites, 50 ms latency
    .venv/bin/python -m bench.sync --lms jsonl   # file source with per-batch latency instead

Each round: a fresh PostgreSQL database and Redis database, N real ``preuve
worker`` processes (``[sync] worker_concurrency`` jobs each), every (tenant,
source) queued at once as the nightly tick does (spread 0), wall time until
the last run is finished. Worker start-up is not counted. The LMS is the Moodle
stand-in (``preuve.testing.moodle``, real Moodle REST protocol, one site shared
by every tenant) served from this process, or a JSON Lines file per tenant read
with a delay per batch.

Needs PostgreSQL (``PREUVE_TEST_PG_URL``, a server where databases can be
created) and Redis (``PREUVE_TEST_REDIS_URL``; database 14 is flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.common import print_table
from preuve.store import RunStatus, Store, open_store
from preuve.store.schema import evidence, sync_run
from preuve.sync.dispatch import ArqDispatcher

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("PREUVE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("PREUVE_TEST_REDIS_URL", "redis://127.0.0.1:6379") + "/14"
TOKEN_ENV = "PREUVE_BENCH_MOODLE_TOKEN"
JSONL_STANDIN = "tests.sync.standin:SlowJsonlConnector"
WORKER_COUNTS = (1, 2, 4)
CONCURRENCY = 2  # jobs at once per worker


@dataclass(frozen=True)
class Plan:
    tenants: int
    lms: str
    latency: float
    courses: int
    learners: int
    records: int  # jsonl: records per tenant
    batch: int  # jsonl: records per batch (one "request")


def _admin_dsn() -> str:
    return make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg(sql: str) -> None:
    conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _store_url(database: str) -> str:
    return (
        make_url(PG_ADMIN)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def write_config(path: Path, plan: Plan, data: Path, lms_url: str) -> None:
    lines = ["[sync]", f"worker_concurrency = {CONCURRENCY}", "job_timeout_seconds = 600"]
    for n in range(plan.tenants):
        tenant = f"of-{n:03d}"
        lines += ["", "[[tenants]]", f'id = "{tenant}"', f'name = "Organisme {n}"']
        lines += ["[[tenants.sources]]", 'id = "lms"']
        if plan.lms == "moodle":
            source = {
                "kind": "moodle",
                "url": lms_url,
                "credentials": {"token": TOKEN_ENV},
                "options": {"concurrency": 4},
            }
        else:
            file = data / f"{tenant}.jsonl"
            with file.open("w", encoding="utf-8") as handle:
                for i in range(plan.records):
                    line = {
                        "source_id": f"enr-{i}",
                        "data": {"kind": "enrolment", "action_ref": "A1", "person_ref": f"p_{i}"},
                    }
                    handle.write(json.dumps(line) + "\n")
            source = {
                "kind": "jsonl",
                "path": str(file),
                "options": {"batch_size": plan.batch, "batch_delay": plan.latency},
            }
        lines += [f"{key} = {_toml_value(value)}" for key, value in source.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _env(config: Path, store_url: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREUVE_")}
    env.update(
        {
            "PREUVE_CONFIG": str(config),
            "PREUVE_STORE__URL": store_url,
            "PREUVE_REDIS__URL": REDIS,
            "PREUVE_SCHEDULE__ENABLED": "false",
            "PREUVE_SYNC__CONNECTOR_CLASSES": json.dumps({"jsonl": JSONL_STANDIN}),
            "PREUVE_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(REPO),
            TOKEN_ENV: token,
        }
    )
    return env


def _ready(logs: list[Path]) -> int:
    return sum("ready on queue" in log.read_text(errors="replace") for log in logs)


async def _wait_workers(logs: list[Path], deadline: float) -> None:
    while await asyncio.to_thread(_ready, logs) < len(logs):
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start: see " + ", ".join(map(str, logs)))
        await asyncio.sleep(0.1)


async def _finished(store: Store) -> int:
    async with store.engine.connect() as conn:
        done = await conn.scalar(
            select(func.count()).select_from(sync_run).where(sync_run.c.finished_at.is_not(None))
        )
    return int(done or 0)


async def one_round(
    plan: Plan, workers: int, lms_url: str, token: str, tmp: Path
) -> dict[str, Any]:
    database = f"preuve_bench_{uuid.uuid4().hex[:10]}"
    await _pg(f'CREATE DATABASE "{database}"')
    store = await open_store(_store_url(database))
    dispatcher = await ArqDispatcher.connect(REDIS)
    await dispatcher.redis.flushdb()
    config = tmp / f"preuve-{workers}.toml"
    await asyncio.to_thread(write_config, config, plan, tmp, lms_url)
    env = _env(config, _store_url(database), token)
    logs = [tmp / f"worker-{workers}-{n}.log" for n in range(workers)]
    procs = []
    for log in logs:
        with log.open("wb") as handle:
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "preuve",
                    "worker",
                    cwd=REPO,
                    env=env,
                    stdout=handle,
                    stderr=handle,
                )
            )
    try:
        await _wait_workers(logs, time.monotonic() + 30)
        start = time.perf_counter()
        for n in range(plan.tenants):
            await dispatcher.trigger(f"of-{n:03d}", "lms", trigger="nightly")
        while True:
            if await _finished(store) >= plan.tenants:
                break
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - start
        runs = await store.runs.recent(limit=plan.tenants * 2)
        async with store.engine.connect() as conn:
            records = await conn.scalar(select(func.count()).select_from(evidence))
        failed = [r for r in runs if r.status == RunStatus.FAILED]
        if failed:
            raise RuntimeError(f"{len(failed)} run(s) failed: {failed[0].errors}")
        return {
            "workers": workers,
            "seconds": seconds,
            "runs": len(runs),
            "records": int(records or 0),
        }
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await dispatcher.redis.flushdb()
        await dispatcher.close()
        await store.close()
        await _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def main(plan: Plan) -> None:
    lms_url, token, stand_in = "", "", None
    if plan.lms == "moodle":
        from preuve.testing.moodle import Faults, SiteSpec, start_stand_in

        spec = SiteSpec(courses=plan.courses, learners_per_course=plan.learners)
        stand_in = await start_stand_in(spec, Faults(latency=plan.latency))
        lms_url, token = stand_in.url, stand_in.token
    try:
        with tempfile.TemporaryDirectory(prefix="preuve-bench-sync-") as tmp:
            results = [await one_round(plan, n, lms_url, token, Path(tmp)) for n in WORKER_COUNTS]
    finally:
        if stand_in is not None:
            await stand_in.close()
    if plan.lms == "moodle":
        what = (
            f"Moodle stand-in, {plan.courses} courses x {plan.learners} learners per tenant, "
            f"{plan.latency * 1000:.0f} ms per request"
        )
    else:
        what = (
            f"JSON Lines, {plan.records} records per tenant in batches of {plan.batch}, "
            f"{plan.latency * 1000:.0f} ms per batch"
        )
    print(f"{plan.tenants} tenants; {what}; {CONCURRENCY} jobs per worker; {os.cpu_count()} CPU(s)")
    base = results[0]["seconds"]
    print_table(
        "Nightly sync of every tenant (queue -> workers -> PostgreSQL)",
        ["workers", "wall s", "syncs/s", "records", "records/s", "speed-up", "efficiency"],
        [
            [
                r["workers"],
                r["seconds"],
                r["runs"] / r["seconds"],
                r["records"],
                r["records"] / r["seconds"],
                base / r["seconds"],
                base / r["seconds"] / r["workers"],
            ]
            for r in results
        ],
    )
    print(
        f"\nscaling ratio 1 -> 2 workers: {base / results[1]['seconds']:.2f}x, "
        f"1 -> 4 workers: {base / results[2]['seconds']:.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sites, less latency")
    parser.add_argument("--lms", choices=["moodle", "jsonl"], default="moodle")
    parser.add_argument("--latency", type=float, default=None, help="seconds per request")
    args = parser.parse_args()
    latency = args.latency if args.latency is not None else (0.05 if args.quick else 0.1)
    asyncio.run(
        main(
            Plan(
                tenants=20 if args.quick else 50,
                lms=args.lms,
                latency=latency,
                courses=1 if args.quick else 2,
                learners=5 if args.quick else 10,
                records=40 if args.quick else 200,
                batch=20,
            )
        )
    )
