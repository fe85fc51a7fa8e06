"""The evidence store: SQLite by default, PostgreSQL by URL, schema by Alembic."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from preuve.store import migrate
from preuve.store.engine import create_engine, redact_url
from preuve.store.evidence_store import (
    EvidenceStore,
    Revision,
    StoredEvidence,
    StoreError,
    WriteResult,
)
from preuve.store.runs import RunLog, RunStatus, SyncRun


@dataclass(slots=True)
class Store:
    """The store's parts over one engine."""

    engine: AsyncEngine
    evidence: EvidenceStore
    runs: RunLog

    @classmethod
    def from_engine(cls, engine: AsyncEngine) -> Store:
        return cls(engine=engine, evidence=EvidenceStore(engine), runs=RunLog(engine))

    async def close(self) -> None:
        await self.engine.dispose()


async def _is_empty(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names())
    return not names


async def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Open the store; an empty database gets the schema on start.

    A database with an older schema is upgraded when ``upgrade`` is true
    (``preuve db upgrade`` does it explicitly).
    """
    engine = create_engine(url)
    try:
        if await _is_empty(engine) or (upgrade and await migrate.needs_upgrade(engine)):
            await migrate.upgrade(engine)
    except Exception:
        await engine.dispose()
        raise
    return Store.from_engine(engine)


__all__ = [
    "EvidenceStore",
    "Revision",
    "RunLog",
    "RunStatus",
    "Store",
    "StoreError",
    "StoredEvidence",
    "SyncRun",
    "WriteResult",
    "open_store",
    "redact_url",
]
