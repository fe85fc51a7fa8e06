"""Run the real pipeline on the demo organisation into a SQLite file."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from preuve.config.settings import Settings, SourceConfig, StoreConfig, TenantConfig
from preuve.demo.dataset import TENANT_ID, TENANT_NAME, TENANT_NDA, TENANT_SIRET, demo_lines
from preuve.store import open_store
from preuve.sync.runner import SyncOutcome, sync_source


@dataclass(slots=True)
class DemoResult:
    settings: Settings
    outcomes: list[SyncOutcome]
    evidence_counts: dict[str, int]


def demo_settings(database: Path, data_dir: Path) -> Settings:
    return Settings(
        store=StoreConfig(url=f"sqlite+aiosqlite:///{database}"),
        tenants=[
            TenantConfig(
                id=TENANT_ID,
                name=TENANT_NAME,
                siret=TENANT_SIRET,
                activity_declaration_number=TENANT_NDA,
                sources=[SourceConfig(id="fichiers", kind="jsonl", path=str(data_dir))],
            )
        ],
    )


async def run_demo(database: Path) -> DemoResult:
    with tempfile.TemporaryDirectory(prefix="preuve-demo-") as tmp:
        data_dir = Path(tmp)
        with (data_dir / "atelier-horizon.jsonl").open("wb") as handle:
            for line in demo_lines():
                handle.write(orjson.dumps(line) + b"\n")
        settings = demo_settings(database, data_dir)
        store = await open_store(settings.store.url)
        try:
            tenant = settings.tenants[0]
            outcomes = [
                await sync_source(store, tenant, source, trigger="demo")
                for source in tenant.sources
            ]
            counts = await store.evidence.count_by_kind(tenant.id)
        finally:
            await store.close()
    return DemoResult(settings=settings, outcomes=outcomes, evidence_counts=counts)
