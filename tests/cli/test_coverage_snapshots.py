"""`preuve coverage` stores a snapshot as of today and queues its events for the
webhooks; run for real (click's runner) on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from preuve import i18n
from preuve.cli.main import cli
from preuve.config.settings import load_settings
from preuve.constants import EXIT_USAGE
from preuve.mapping.tables import coverage_snapshot
from preuve.store import open_store
from preuve.sync.hooks import coverage_day
from preuve.webhooks.configured import configured_endpoint_id
from preuve.webhooks.signing import generate_secret
from preuve.webhooks.tables import webhook_message
from tests.mapping.scenario import TENANT, load_scenario

SECRET_ENV = "PREUVE_TEST_COVERAGE_HOOK_SECRET"

CONFIG = """
language = "fr"

[store]
url = "{url}"

[webhooks]
allow_networks = ["127.0.0.0/8"]

[[tenants]]
id = "{tenant}"
name = "Atelier Test"

  [[tenants.webhooks]]
  id = "qualite"
  url = "http://127.0.0.1:9/hook"
  events = []
  secret_env = "{secret_env}"
"""


@pytest.fixture(autouse=True)
def _language(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI sets the process-wide language: put it back for the tests that follow.
    monkeypatch.setattr(i18n, "_language", None)


@pytest.fixture
def config(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SECRET_ENV, generate_secret())
    path = tmp_path / "preuve.toml"
    path.write_text(
        CONFIG.format(url=store_url, tenant=TENANT, secret_env=SECRET_ENV), encoding="utf-8"
    )

    async def _load() -> None:
        store = await open_store(store_url)
        try:
            await load_scenario(store)
        finally:
            await store.close()

    asyncio.run(_load())
    return path


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _stored(store_url: str) -> tuple[int, list[Any]]:
    """Snapshots stored, and the webhook messages queued (event type, endpoint, body)."""

    async def _read() -> tuple[int, list[Any]]:
        store = await open_store(store_url)
        try:
            async with store.engine.connect() as conn:
                snapshots = await conn.scalar(select(func.count()).select_from(coverage_snapshot))
                messages = (
                    await conn.execute(
                        select(
                            webhook_message.c.event_type,
                            webhook_message.c.endpoint_id,
                            webhook_message.c.body,
                        ).order_by(webhook_message.c.id)
                    )
                ).all()
            return int(snapshots or 0), list(messages)
        finally:
            await store.close()

    return asyncio.run(_read())


def _today(config: Path) -> str:
    return coverage_day(load_settings(config)).isoformat()


def test_coverage_stores_a_snapshot_and_queues_its_events(config: Path, store_url: str) -> None:
    code, out, _ = _run(config, "--json", "coverage")
    assert code == 0
    data = orjson.loads(out)
    assert data["snapshot_id"] is not None
    assert data["as_of"] == _today(config)
    snapshots, messages = _stored(store_url)
    assert snapshots == 1
    # The first snapshot reports every gap; the configured endpoint takes them all.
    assert messages
    assert {m.endpoint_id for m in messages} == {configured_endpoint_id(TENANT, "qualite")}
    assert {m.event_type for m in messages} <= {
        "indicator.proof_missing",
        "indicator.due_soon",
    }
    first = orjson.loads(messages[0].body)
    assert first["data"]["snapshot_id"] == data["snapshot_id"]
    assert first["data"]["tenant"] == TENANT

    # Unchanged evidence: a new snapshot, no new event.
    code, out, _ = _run(config, "coverage")
    assert code == 0
    assert "Instantané n° " in out
    assert "webhooks : 0 événement depuis le précédent" in out
    snapshots, again = _stored(store_url)
    assert snapshots == 2
    assert len(again) == len(messages)


def test_as_of_today_snapshots_too(config: Path, store_url: str) -> None:
    code, out, _ = _run(config, "--json", "coverage", "--as-of", _today(config))
    assert code == 0
    assert orjson.loads(out)["snapshot_id"] is not None
    assert _stored(store_url)[0] == 1


def test_no_snapshot_is_a_dry_run(config: Path, store_url: str) -> None:
    code, out, _ = _run(config, "--json", "coverage", "--no-snapshot")
    assert code == 0
    assert orjson.loads(out)["snapshot_id"] is None
    code, out, _ = _run(config, "coverage", "--no-snapshot")
    assert code == 0
    assert "Instantané" not in out
    assert _stored(store_url) == (0, [])


def test_another_day_is_evaluated_without_a_snapshot(config: Path, store_url: str) -> None:
    code, out, _ = _run(config, "--json", "coverage", "--as-of", "2026-11-10")
    assert code == 0
    data = orjson.loads(out)
    assert data["as_of"] == "2026-11-10"
    assert data["snapshot_id"] is None
    assert _stored(store_url) == (0, [])


@pytest.mark.parametrize("option", ["--as-of", "--audit-date"])
def test_a_snapshot_of_another_day_is_refused(config: Path, store_url: str, option: str) -> None:
    other = (coverage_day(load_settings(config)) - timedelta(days=20)).isoformat()
    code, out, _ = _run(config, "--json", "coverage", "--snapshot", option, other)
    assert code == EXIT_USAGE
    error = orjson.loads(out)["error"]
    assert error.startswith("un instantané se prend ")
    assert "sans --snapshot" in error
    code, _, err = _run(config, "--lang", "en", "coverage", "--snapshot", option, other)
    assert code == EXIT_USAGE
    assert "a snapshot is taken " in " ".join(err.split())
    assert _stored(store_url) == (0, [])


def test_the_first_snapshot_says_there_is_no_previous_one(config: Path) -> None:
    code, out, _ = _run(config, "coverage")
    assert code == 0
    out = " ".join(out.split())  # the console wraps long lines
    assert "Premier instantané (n° " in out
    assert (
        "(aucun instantané précédent : tous les écarts et échéances proches sont signalés)" in out
    )
    assert "depuis le précédent" not in out
    code, out, _ = _run(config, "--lang", "en", "coverage")
    assert code == 0
    assert "webhooks: 0 events since the previous one" in " ".join(out.split())
