"""The webhooks Alembic branch goes down and up again on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, inspect

from preuve.store.engine import create_engine
from preuve.store.migrate import alembic_config, upgrade

TABLES = {"webhook_endpoint", "webhook_message", "webhook_attempt", "webhook_inbound"}


def _downgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "webhooks@base")


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_branch_round_trip(store_url: str) -> None:
    engine = create_engine(store_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) >= TABLES | {"evidence"}
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade)
        async with engine.connect() as conn:
            remaining = await conn.run_sync(_tables)
        assert not remaining & TABLES
        assert "evidence" in remaining  # the core branch is untouched
        await upgrade(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) >= TABLES
    finally:
        await engine.dispose()
