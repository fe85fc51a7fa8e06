"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from preuve.store import Store, open_store
from preuve.store.migrate import needs_upgrade
from preuve.store.tables import all_metadata


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, all_metadata()))


async def test_migrated_schema_matches_the_declared_tables(store: Store) -> None:
    async with store.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []
    assert not await needs_upgrade(store.engine)


async def test_an_empty_database_gets_the_schema_on_open(tmp_path: object) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    try:
        assert not await needs_upgrade(store.engine)
        assert await store.evidence.count_by_kind("x") == {}
    finally:
        await store.close()
