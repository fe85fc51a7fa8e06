"""Coverage evaluation over a large store, against one plain SQL scan of the evidence table.

Loads N evidence records (default 1M) across 500 training actions (25 learners
each: enrolment, entry positioning, final assessment, half-day attendance,
completion, activity traces; surveys and responses; 50 trainers with CVs,
qualifications and CPD), with a few gaps planted. Then, in the same process:

- ``scan``: one plain SQL full scan of the evidence table in the database,
  reading every row's payload (``SELECT count(*), sum(length(CAST(payload AS TEXT)))
  FROM evidence``);
- ``evaluate``: ``preuve.mapping.evaluate`` (every indicator, every action);
- ``evaluate + snapshot``: the same plus the snapshot rows and the event diff.

Each phase runs ``--repeat`` times (default 5), interleaved so that every
evaluation is paired with a scan taken just before it under the same machine
load; the table shows medians and the line above it the spread of the paired
ratios. Times are measured without tracemalloc; the peak heap of each phase
comes from a separate traced run.

Rows are bulk-inserted straight into the ``evidence`` table for speed (the
upsert path has its own benchmark, ``bench.store``). Usage::

    python -m bench.coverage [--quick] [--records N] [--actions N] [--postgres ADMIN_URL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import asyncpg
from pydantic import TypeAdapter
from sqlalchemy import Text, cast, func, insert, select
from sqlalchemy.engine import make_url

from bench.common import measure, print_table
from preuve.config.settings import TenantConfig
from preuve.evidence.model import FACETED_KINDS, EvidenceData
from preuve.mapping import evaluate, evaluate_and_snapshot
from preuve.store import Store, open_store
from preuve.store.schema import evidence

TENANT = "of-bench"
AS_OF = date(2026, 11, 30)
LEARNERS = 25
SLOT_DAYS = 5
TRAINERS = 50
CHUNK = 5000
FETCHED = datetime(2026, 11, 30, 3, tzinfo=UTC)


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


_DATA = TypeAdapter(EvidenceData)


def _row(
    kind: str, source_id: str, payload: dict[str, Any], when: datetime | None
) -> dict[str, Any]:
    # The store derives the facet from the validated model; so does this bulk load.
    facet = _DATA.validate_python(payload).facet if kind in FACETED_KINDS else None
    return {
        "tenant": TENANT,
        "source": "bench",
        "kind": kind,
        "source_id": source_id,
        "action_ref": payload.get("action_ref"),
        "person_ref": payload.get("person_ref"),
        "facet": facet,
        "effective_at": when,
        "fetched_at": FETCHED,
        "content_hash": hashlib.sha256(source_id.encode()).hexdigest(),
        "connector": "bench",
        "connector_version": "1",
        "source_url": None,
        "payload": payload,
        "revision": 1,
        "withdrawn": False,
        "withdrawn_reason": None,
        "updated_at": FETCHED,
    }


def _action_rows(index: int, per_action: int) -> Iterator[dict[str, Any]]:
    ref = f"act-{index:04d}"
    start = date(2026, 1, 5) + timedelta(days=(index * 5) % 300)
    end = start + timedelta(days=SLOT_DAYS - 1)
    trainer = f"p_trainer{index % TRAINERS:03d}"
    budget = per_action - 7
    # enrolment, positioning, final, completion, response, then one attendance per slot
    fixed = 5 + 2 * SLOT_DAYS
    learners = max(2, min(LEARNERS, budget // (fixed * 5)))
    traces = max(0, budget - learners * fixed)
    yield _row(
        "training_action",
        f"action/{ref}",
        {
            "kind": "training_action",
            "action_ref": ref,
            "title": f"Action {index}",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "modality": "blended",
            "domains": [f"domaine{index % TRAINERS}"],
        },
        _at(start),
    )
    description: dict[str, Any] = {
        "kind": "course_description",
        "action_ref": ref,
        "objectives": ["o1", "o2"],
        "prerequisites": "aucun",
        "duration_hours": 35,
        "modalities": "mixte",
        "price": "1000",
        "access_lead_time": "15 jours",
        "assessment_methods": "QCM",
    }
    if index % 10:
        description["accessibility"] = "oui"
    yield _row("course_description", f"description/{ref}", description, _at(start))
    yield _row(
        "learning_resource",
        f"resource/{ref}",
        {
            "kind": "learning_resource",
            "action_ref": ref,
            "resource_ref": "r",
            "title": "r",
            "distance": True,
        },
        _at(start),
    )
    yield _row(
        "enrolment",
        f"enrolment/{ref}/{trainer}",
        {"kind": "enrolment", "action_ref": ref, "person_ref": trainer, "role": "trainer"},
        _at(start),
    )
    for timing in ("hot", "cold"):
        yield _row(
            "satisfaction_survey",
            f"survey/{ref}/{timing}",
            {
                "kind": "satisfaction_survey",
                "action_ref": ref,
                "survey_ref": f"{ref}-{timing}",
                "timing": timing,
                "invited_count": learners,
                "response_count": learners - 1 if index % 7 else 1,
            },
            _at(end),
        )
    # The teaching team's hot survey (indicator 30 asks every stakeholder concerned).
    yield _row(
        "satisfaction_survey",
        f"survey/{ref}/team",
        {
            "kind": "satisfaction_survey",
            "action_ref": ref,
            "survey_ref": f"{ref}-team",
            "timing": "hot",
            "stakeholder": "trainer",
            "invited_count": 1,
            "response_count": 1,
        },
        _at(end),
    )
    for number in range(learners):
        key = f"p_{index:04d}_{number:02d}"
        yield _row(
            "enrolment",
            f"enrolment/{ref}/{key}",
            {"kind": "enrolment", "action_ref": ref, "person_ref": key, "status": "completed"},
            _at(start - timedelta(days=10)),
        )
        if number or index % 3:
            yield _row(
                "assessment",
                f"positioning/{ref}/{key}",
                {
                    "kind": "assessment",
                    "action_ref": ref,
                    "person_ref": key,
                    "assessment_kind": "entry_positioning",
                },
                _at(start - timedelta(days=3)),
            )
        yield _row(
            "assessment",
            f"final/{ref}/{key}",
            {
                "kind": "assessment",
                "action_ref": ref,
                "person_ref": key,
                "assessment_kind": "final",
                "passed": True,
            },
            _at(end),
        )
        yield _row(
            "completion",
            f"completion/{ref}/{key}",
            {"kind": "completion", "action_ref": ref, "person_ref": key, "state": "completed"},
            _at(end),
        )
        yield _row(
            "satisfaction_response",
            f"response/{ref}/{key}",
            {
                "kind": "satisfaction_response",
                "action_ref": ref,
                "survey_ref": f"{ref}-hot",
                "timing": "hot",
                "rating": 0.8,
            },
            _at(end),
        )
        for offset in range(SLOT_DAYS):
            day = start + timedelta(days=offset)
            for half in ("am", "pm"):
                yield _row(
                    "attendance",
                    f"attendance/{ref}/{key}/{day}/{half}",
                    {
                        "kind": "attendance",
                        "action_ref": ref,
                        "person_ref": key,
                        "day": day.isoformat(),
                        "half": half,
                        "status": "present",
                    },
                    _at(day),
                )
        for trace in range(traces // learners + (1 if number < traces % learners else 0)):
            when = _at(start + timedelta(days=trace % SLOT_DAYS), 10 + trace % 8)
            yield _row(
                "activity",
                f"activity/{ref}/{key}/{trace}",
                {
                    "kind": "activity",
                    "action_ref": ref,
                    "person_ref": key,
                    "activity_ref": f"m{trace % 12}",
                    "verb": "viewed",
                    "at": when.isoformat(),
                },
                when,
            )


def _trainer_rows() -> Iterator[dict[str, Any]]:
    for number in range(TRAINERS):
        key = f"p_trainer{number:03d}"
        yield _row(
            "trainer_cv",
            f"cv/{key}",
            {
                "kind": "trainer_cv",
                "person_ref": key,
                "document": {"uri": "cv.pdf"},
                "updated": "2025-06",
            },
            None,
        )
        yield _row(
            "trainer_qualification",
            f"qual/{key}",
            {
                "kind": "trainer_qualification",
                "person_ref": key,
                "title": "Titre",
                "domains": [f"domaine{number}"],
            },
            None,
        )
        if number % 9:
            yield _row(
                "trainer_cpd",
                f"cpd/{key}",
                {"kind": "trainer_cpd", "person_ref": key, "title": "CPD", "completed": "2026-02"},
                None,
            )


async def load(store: Store, records: int, actions: int) -> int:
    per_action = records // actions
    count = 0
    chunk: list[dict[str, Any]] = []

    async def flush() -> None:
        async with store.engine.begin() as conn:
            await conn.execute(insert(evidence), chunk)
        chunk.clear()

    for row in _trainer_rows():
        chunk.append(row)
    for index in range(actions):
        for row in _action_rows(index, per_action):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                count += len(chunk)
                await flush()
    count += len(chunk)
    await flush()
    if store.engine.dialect.name == "postgresql":
        # What autovacuum does on a live server: statistics and the visibility map.
        async with store.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE evidence")
    return count


async def scan(store: Store) -> int:
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                # No WHERE clause: a sequential read of the whole table (one tenant here).
                select(func.count(), func.sum(func.length(cast(evidence.c.payload, Text))))
            )
        ).one()
    return int(row[0])


async def run(url: str, records: int, actions: int, repeat: int) -> list[list[Any]]:
    store = await open_store(url)
    tenant = TenantConfig(id=TENANT, name="Bench")
    try:
        started = time.perf_counter()
        loaded = await load(store, records, actions)
        load_seconds = time.perf_counter() - started
        # Warm-up: the cache is filled the same way for both, and the first
        # snapshot (every status new) is taken before the timed ones.
        await scan(store)
        await evaluate(store, tenant, as_of=AS_OF)
        await evaluate_and_snapshot(store, tenant, as_of=AS_OF)
        # Paired, interleaved runs without tracemalloc (it slows Python down): each
        # evaluation is compared with the scan just before it, under the same load.
        scans: list[float] = []
        evaluations: list[float] = []
        snapshots: list[float] = []
        for _ in range(repeat):
            with measure(trace_memory=False) as scan_m:
                scanned = await scan(store)
            with measure(trace_memory=False) as eval_m:
                result = await evaluate(store, tenant, as_of=AS_OF)
            with measure(trace_memory=False) as snap_m:
                _, events = await evaluate_and_snapshot(store, tenant, as_of=AS_OF)
            scans.append(scan_m.seconds)
            evaluations.append(eval_m.seconds)
            snapshots.append(snap_m.seconds)
        # Peak heaps from separate traced runs, one per phase.
        with measure() as eval_mem:
            await evaluate(store, tenant, as_of=AS_OF)
        with measure() as snap_mem:
            await evaluate_and_snapshot(store, tenant, as_of=AS_OF)
        max_rss = snap_mem.max_rss_mb
    finally:
        await store.close()
    gaps = sum(
        1 for a in result.actions for i in a.indicators if i.status.value in ("missing", "partial")
    )
    backend = store.engine.dialect.name
    ratios = sorted(e / s for e, s in zip(evaluations, scans, strict=True))
    print(
        f"{backend}: loaded {loaded:,} rows in {load_seconds:.1f} s; scan saw {scanned:,}; "
        f"{len(result.actions)} actions, {gaps} action-level gaps, {len(events)} events "
        f"on an unchanged re-evaluation; evaluate / scan over {repeat} paired runs: "
        f"min {ratios[0]:.2f}, median {statistics.median(ratios):.2f}, max {ratios[-1]:.2f}; "
        f"max RSS of the process (load included) {max_rss:.0f} MB"
    )
    scan_s = statistics.median(scans)
    rows = []
    for name, seconds, heap in (
        ("scan", scan_s, 0.0),
        ("evaluate", statistics.median(evaluations), eval_mem.peak_heap_mb),
        ("evaluate + snapshot", statistics.median(snapshots), snap_mem.peak_heap_mb),
    ):
        rows.append([backend, name, loaded, seconds, loaded / seconds, heap, seconds / scan_s])
    return rows


async def _pg_admin(admin_url: str, sql: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="100k records instead of 1M")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--actions", type=int, default=500)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="also run on PostgreSQL")
    parser.add_argument(
        "--repeat", type=int, default=5, help="paired scan/evaluate runs (medians are shown)"
    )
    args = parser.parse_args()
    records = args.records or (100_000 if args.quick else 1_000_000)
    rows: list[list[Any]] = []
    with TemporaryDirectory(prefix="preuve-bench-") as tmp:
        rows += asyncio.run(
            run(
                f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
                records,
                args.actions,
                args.repeat,
            )
        )
    if args.postgres:
        name = f"preuve_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        try:
            url = (
                make_url(args.postgres)
                .set(drivername="postgresql+asyncpg", database=name)
                .render_as_string(hide_password=False)
            )
            rows += asyncio.run(run(url, records, args.actions, args.repeat))
        finally:
            asyncio.run(_pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print_table(
        f"Coverage evaluation, {records:,} records across {args.actions} actions",
        [
            "backend",
            "phase",
            "records",
            "seconds",
            "records/s",
            "peak heap MB",
            "x scan (medians)",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
