"""Schema migrations with Alembic.

Each subsystem owns an Alembic branch (``core``, ``mapping``, ``webhooks``...), all
in ``migrations/versions``; ``upgrade`` goes to every head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, target: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


def _pending(connection: Connection) -> bool:
    """True when some revision of some branch is not applied yet.

    Compared by revision sets, not heads: a branch that ``depends_on`` another
    consumes that one's head in the version table.
    """
    script = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(connection).get_current_heads()
    applied: set[str] = set()
    if current:
        applied = {
            rev.revision
            for rev in script.revision_map.iterate_revisions(current, "base")
            if rev is not None
        }
    every = {rev.revision for rev in script.walk_revisions()}
    return bool(every - applied)


async def upgrade(engine: AsyncEngine, target: str = "heads") -> None:
    """Apply every migration not applied yet."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, target)


async def needs_upgrade(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return await conn.run_sync(_pending)
