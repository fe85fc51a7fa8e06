"""The hand-written xapi_0001 migration matches the table and goes both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from preuve.store import Store
from preuve.store.migrate import alembic_config
from preuve.store.tables import all_metadata


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [d for d in compare_metadata(context, all_metadata()) if "xapi" in str(d)]


def _migrate(connection: Connection, direction: str, target: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, target)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_xapi_branch_matches_and_downgrades(store: Store) -> None:
    async with store.engine.begin() as conn:
        assert await conn.run_sync(_diff) == []
        await conn.run_sync(_migrate, "downgrade", "xapi@base")
        assert "xapi_statement" not in await conn.run_sync(_tables)
        assert "evidence" in await conn.run_sync(_tables)
        await conn.run_sync(_migrate, "upgrade", "heads")
        assert "xapi_statement" in await conn.run_sync(_tables)
