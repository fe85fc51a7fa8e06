"""``preuve token`` create/list/revoke and the ``serve`` start check, run for real
(click's runner, a real SQLite file; the web app on a real local server)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from preuve.cli.main import cli
from preuve.config.settings import load_settings
from preuve.constants import EXIT_CONFIG, EXIT_USAGE
from preuve.store import open_store
from preuve.web.app import create_app
from preuve.web.tables import api_token

CONFIG = """
[store]
url = "sqlite+aiosqlite:///{db}"

[web]
host = "127.0.0.1"

[[tenants]]
id = "of-a"
name = "OF A"

[[tenants]]
id = "of-b"
name = "OF B"
"""

TOKEN = re.compile(r"pvt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "preuve.toml"
    path.write_text(CONFIG.format(db=tmp_path / "p.db"), encoding="utf-8")
    return path


def _run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _json(config: Path, *args: str) -> Any:
    code, out, err = _run(config, "--json", *args)
    assert code == 0, err
    return orjson.loads(out)


def test_create_list_revoke_round_trip(config: Path) -> None:
    code, out, err = _run(
        config, "token", "create", "--tenant", "of-a", "--scope", "read", "--name", "tableau"
    )
    assert code == 0, err
    secrets = TOKEN.findall(out)
    assert len(secrets) == 1  # printed once
    secret = secrets[0]
    assert out.count(secret) == 1
    assert "Authorization: Bearer" in err

    created = _json(
        config,
        "token",
        "create",
        "--operator",
        "--scope",
        "admin",
        "--name",
        "exploitation",
        "--expires-in-days",
        "30",
    )
    assert TOKEN.fullmatch(created["token"])
    assert created["tenant"] is None
    assert created["scope"] == "admin"
    assert created["expires_at"] is not None

    listed = _json(config, "token", "list")
    assert [(t["tenant"], t["scope"], t["name"], t["status"]) for t in listed] == [
        ("of-a", "read", "tableau", "active"),
        (None, "admin", "exploitation", "active"),
    ]
    text = orjson.dumps(listed).decode()
    for value in (secret, created["token"], "secret_hash", 'token"'):
        assert value not in text
    code, table, _ = _run(config, "token", "list")
    assert code == 0
    assert "tableau" in table
    assert "exploitation" in table
    assert "pvt_" not in table
    assert _json(config, "token", "list", "--tenant", "of-b") == []
    assert [t["name"] for t in _json(config, "token", "list", "--tenant", "of-a")] == ["tableau"]

    token_id = listed[0]["id"]
    code, out, _ = _run(config, "token", "revoke", token_id)
    assert code == 0
    assert token_id in out
    revoked = _json(config, "token", "revoke", token_id)  # idempotent
    assert revoked["status"] == "revoked"
    assert revoked["revoked_at"] is not None
    assert _json(config, "token", "list")[0]["status"] == "revoked"

    code, out, _ = _run(config, "--json", "token", "revoke", "tok_000000000000")
    assert code == EXIT_USAGE
    assert "tok_000000000000" in orjson.loads(out)["error"]


def test_the_database_holds_the_hash_only(config: Path) -> None:
    created = _json(
        config, "token", "create", "--tenant", "of-b", "--scope", "write", "--name", "x"
    )

    async def rows() -> list[Any]:
        store = await open_store(load_settings(config).store.url)
        try:
            async with store.engine.connect() as conn:
                return list((await conn.execute(api_token.select())).all())
        finally:
            await store.close()

    (row,) = asyncio.run(rows())
    assert created["token"] not in " ".join(str(v) for v in row)
    assert len(row.secret_hash) == 64


@pytest.mark.parametrize(
    "args",
    [
        ("--scope", "read", "--name", "x"),  # neither --tenant nor --operator
        ("--operator", "--tenant", "of-a", "--scope", "read", "--name", "x"),  # both
        ("--tenant", "nope", "--scope", "read", "--name", "x"),  # unknown tenant
        ("--tenant", "of-a", "--scope", "everything", "--name", "x"),  # unknown scope
        ("--tenant", "of-a", "--scope", "read", "--name", "x", "--expires-in-days", "0"),
        ("--tenant", "of-a", "--scope", "read", "--name", "   "),  # empty name
    ],
)
def test_create_refuses_bad_options(config: Path, args: tuple[str, ...]) -> None:
    code, out, _ = _run(config, "token", "create", *args)
    assert code == EXIT_USAGE
    assert "pvt_" not in out
    assert _json(config, "token", "list") == []


def test_serve_refuses_a_public_address_without_a_token(config: Path) -> None:
    code, _, err = _run(config, "serve", "--host", "0.0.0.0")
    assert code == EXIT_CONFIG
    assert "preuve token create" in err
    code, out, _ = _run(config, "--json", "serve", "--host", "0.0.0.0")
    assert code == EXIT_CONFIG
    assert "0.0.0.0" in orjson.loads(out)["error"]


async def test_a_token_from_the_cli_opens_the_api(config: Path, aiohttp_client: Any) -> None:
    # The CLI runs its own event loop: run it in a thread.
    created = await asyncio.to_thread(
        _json, config, "token", "create", "--tenant", "of-a", "--scope", "read", "--name", "ci"
    )
    settings = load_settings(config)
    store = await open_store(settings.store.url)
    try:
        client = await aiohttp_client(create_app(settings, store=store))
        assert (await client.get("/api/tenants/of-a/runs")).status == 401
        headers = {"Authorization": f"Bearer {created['token']}"}
        assert (await client.get("/api/tenants/of-a/runs", headers=headers)).status == 200
        assert (await client.get("/api/tenants/of-b/runs", headers=headers)).status == 403
        await asyncio.to_thread(_run, config, "token", "revoke", created["id"])
        assert (await client.get("/api/tenants/of-a/runs", headers=headers)).status == 401
        listed = await asyncio.to_thread(_json, config, "token", "list")
        assert listed[0]["last_used_at"] is not None
    finally:
        await store.close()
