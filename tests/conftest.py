"""Shared fixtures: real SQLite files, a real PostgreSQL and a real Redis.

PostgreSQL: ``PREUVE_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
names a server with rights to create databases; each test run creates a template
database with the schema, and each test gets a fresh copy of it.
Redis: ``PREUVE_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379``); tests use
database 15, flushed before each test.

Without ``CI=true`` a missing server skips the tests that need it; under CI it
fails them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from preuve import i18n
from preuve.store import Store, open_store
from preuve.store.engine import create_engine
from preuve.store.migrate import upgrade

PG_ADMIN_URL = os.environ.get("PREUVE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PREUVE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_TEST_DB = 15
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(what: str, why: object) -> None:
    message = f"{what} is not available: {why}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlalchemy_pg(url: str, database: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql+asyncpg", database=database)
        .render_as_string(hide_password=False)
    )


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """Name of a template database holding the current schema."""
    name = f"preuve_tpl_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable("PostgreSQL", exc)

    async def _migrate() -> None:
        engine = create_engine(_sqlalchemy_pg(PG_ADMIN_URL, name))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(_migrate())
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database with the schema, for one test."""
    name = f"preuve_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield _sqlalchemy_pg(PG_ADMIN_URL, name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"

    async def _migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(_migrate())
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite file with the schema, for one test."""
    path = tmp_path / "preuve.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """The same test on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(autouse=True)
def _ui_language_reset() -> Iterator[None]:
    """The CLI sets the process-wide UI language; no test inherits another's."""
    yield
    i18n._language = None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (for migration tests), on both backends."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"preuve_e_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        _unavailable("PostgreSQL", exc)
    yield _sqlalchemy_pg(PG_ADMIN_URL, name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await open_store(store_url)
    yield opened
    await opened.close()


@pytest.fixture
async def redis_url() -> str:
    """A real Redis, database 15, flushed before the test."""
    from redis.asyncio import Redis

    url = f"{REDIS_URL}/{REDIS_TEST_DB}"
    client = Redis.from_url(url)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no usable server
        await client.aclose()
        _unavailable("Redis", exc)
    await client.flushdb()
    await client.aclose()
    return url
