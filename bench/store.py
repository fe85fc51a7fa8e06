"""Store upsert throughput: Preuve's upsert against a plain executemany.

For each backend (SQLite file, PostgreSQL) and size (100k, 1M records), three
runs, each in its own process so that peak memory (max RSS) is that run's own:

- ``plain``: the same rows inserted with a plain SQLAlchemy executemany, in
  batches of 1000, into an empty table (no lookup, no history);
- ``upsert``: ``EvidenceStore.write_batch`` into an empty table (first sync);
- ``resync``: ``write_batch`` of the same records again (nothing changes).

All three build the same EvidenceRecord objects from the same generator, so the
ratio measures the store's own work. Usage::

    python -m bench.store [--quick] [--sizes 100000,1000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bench.common import print_table
from preuve.evidence.model import Attendance, EvidenceRecord, Provenance
from preuve.store import open_store
from preuve.store.evidence_store import _row
from preuve.store.schema import evidence

BATCH = 1000
TENANT = "bench"
SOURCE = "lms"
FETCHED = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def records(count: int) -> Iterator[EvidenceRecord]:
    start = date(2026, 1, 5)
    for n in range(count):
        day = start + timedelta(days=(n // 40) % 300)
        data = Attendance(
            action_ref=f"action-{n % 500}",
            person_ref=f"p_{n % 20000:08x}",
            day=day,
            half="am" if n % 2 else "pm",
            status="present" if n % 17 else "absent",
        )
        yield EvidenceRecord(
            provenance=Provenance(
                tenant=TENANT,
                source=SOURCE,
                source_id=f"att-{n}",
                effective_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC),
                fetched_at=FETCHED,
                connector="bench",
                connector_version="1",
            ),
            data=data,
        )


def batches(count: int) -> Iterator[list[EvidenceRecord]]:
    batch: list[EvidenceRecord] = []
    for record in records(count):
        batch.append(record)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def child(url: str, mode: str, count: int) -> dict[str, float]:
    store = await open_store(url)
    try:
        if mode == "resync":  # load once, untimed, then time the unchanged pass
            for batch in batches(count):
                await store.evidence.write_batch(TENANT, SOURCE, batch)
        started = time.perf_counter()
        if mode == "plain":
            now = datetime.now(UTC)
            for batch in batches(count):
                async with store.engine.begin() as conn:
                    await conn.execute(insert(evidence), [_row(r, now) for r in batch])
        else:
            for batch in batches(count):
                await store.evidence.write_batch(TENANT, SOURCE, batch)
        seconds = time.perf_counter() - started
    finally:
        await store.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "rss_mb": rss_mb}


async def _pg_admin(admin_url: str, sql: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def run_child(url: str, mode: str, count: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.store", "--child", mode, str(count), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def fresh_database(backend: str, workdir: Path, admin_url: str) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / uuid.uuid4().hex}.db", None
    name = f"preuve_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    url = (
        make_url(admin_url)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    return url, name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k and 100k records")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--postgres", default=DEFAULT_PG, help="admin URL ('' to skip)")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "COUNT", "URL"))
    args = parser.parse_args()
    if args.child:
        mode, count, url = args.child
        print(json.dumps(asyncio.run(child(url, mode, int(count)))))
        return

    sizes = [10_000, 100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    rows = []
    with TemporaryDirectory(prefix="preuve-bench-") as tmp:
        for backend in backends:
            for size in sizes:
                figures = {}
                for mode in ("plain", "upsert", "resync"):
                    url, pg_name = fresh_database(backend, Path(tmp), args.postgres)
                    try:
                        figures[mode] = run_child(url, mode, size)
                    finally:
                        if pg_name:
                            asyncio.run(
                                _pg_admin(
                                    args.postgres,
                                    f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)',
                                )
                            )
                plain_rate = size / figures["plain"]["seconds"]
                upsert_rate = size / figures["upsert"]["seconds"]
                resync_rate = size / figures["resync"]["seconds"]
                rows.append(
                    [
                        backend,
                        size,
                        plain_rate,
                        upsert_rate,
                        upsert_rate / plain_rate,
                        resync_rate,
                        figures["plain"]["rss_mb"],
                        figures["upsert"]["rss_mb"],
                        figures["resync"]["rss_mb"],
                    ]
                )
                print(f"  done: {backend} {size:,}", file=sys.stderr)
    print_table(
        "Store upsert vs plain executemany (records/s; max RSS in MB per run)",
        [
            "backend",
            "records",
            "plain/s",
            "upsert/s",
            "upsert÷plain",
            "resync/s",
            "plain MB",
            "upsert MB",
            "resync MB",
        ],
        rows,
    )
    print("\nTarget: upsert ÷ plain ≥ 0.5; memory flat as the record count grows.")


if __name__ == "__main__":
    main()
