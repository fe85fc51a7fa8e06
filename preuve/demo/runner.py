"""Run the real pipeline on the demo organisation into a SQLite file."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson

from preuve.config.settings import Settings, SourceConfig, StoreConfig, TenantConfig
from preuve.demo.dataset import TENANT_ID, TENANT_NAME, TENANT_NDA, TENANT_SIRET, demo_lines
from preuve.mapping.evaluate import evaluate
from preuve.mapping.result import CoverageResult
from preuve.store import open_store
from preuve.sync.runner import SyncOutcome, sync_source
from preuve.testing.moodle.demo import demo_moodle


@dataclass(slots=True)
class DemoResult:
    settings: Settings
    outcomes: list[SyncOutcome]
    evidence_counts: dict[str, int]
    coverage: CoverageResult | None = None


def demo_settings(database: Path, data_dir: Path, moodle: SourceConfig | None = None) -> Settings:
    sources = [SourceConfig(id="fichiers", kind="jsonl", path=str(data_dir))]
    if moodle is not None:
        sources.append(moodle)  # the Moodle stand-in (preuve.testing.moodle.demo)
    return Settings(
        store=StoreConfig(url=f"sqlite+aiosqlite:///{database}"),
        tenants=[
            TenantConfig(
                id=TENANT_ID,
                name=TENANT_NAME,
                siret=TENANT_SIRET,
                activity_declaration_number=TENANT_NDA,
                sources=sources,
            )
        ],
    )


async def run_demo(
    database: Path, *, with_moodle: bool = True, today: date | None = None
) -> DemoResult:
    """``with_moodle``: also pull from a Moodle stand-in (a generated fictitious site).

    ``today``: the day the demo stands on (default: today); the files' dates follow
    it, and coverage is evaluated as of it. The Moodle stand-in follows the clock.
    """
    with tempfile.TemporaryDirectory(prefix="preuve-demo-") as tmp:
        if not with_moodle:
            return await _run_demo(database, Path(tmp), None, today)
        async with demo_moodle() as moodle:
            return await _run_demo(database, Path(tmp), moodle, today)


async def _run_demo(
    database: Path, data_dir: Path, moodle: SourceConfig | None, today: date | None
) -> DemoResult:
    with (data_dir / "atelier-horizon.jsonl").open("wb") as handle:
        for line in demo_lines(today):
            handle.write(orjson.dumps(line) + b"\n")
    settings = demo_settings(database, data_dir, moodle)
    store = await open_store(settings.store.url)
    try:
        tenant = settings.tenants[0]
        outcomes = [
            await sync_source(store, tenant, source, trigger="demo") for source in tenant.sources
        ]
        counts = await store.evidence.count_by_kind(tenant.id)
        coverage = await evaluate(store, tenant, as_of=today, audit_date=today)
    finally:
        await store.close()
    return DemoResult(
        settings=settings, outcomes=outcomes, evidence_counts=counts, coverage=coverage
    )
