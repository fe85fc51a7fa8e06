"""API tokens on the real app, a real aiohttp server and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from alembic import command
from sqlalchemy import Connection, inspect, select, update

from preuve.config.settings import Settings, StoreConfig, TenantConfig, WebConfig
from preuve.logs import redact
from preuve.store import Store
from preuve.store.engine import create_engine
from preuve.store.migrate import alembic_config, upgrade
from preuve.web.app import create_app
from preuve.web.auth import (
    ACCESS_RULES,
    MSG_MISSING,
    MSG_NEEDS_TOKEN,
    Tenancy,
    access_rule,
    check_start,
    is_loopback,
    start_refusal,
)
from preuve.web.tables import api_token
from preuve.web.tokens import (
    Scope,
    TokenStatus,
    create_token,
    get_token,
    list_tokens,
    revoke_token,
    token_id_of,
)

ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]

A = "/api/tenants/of-a"
B = "/api/tenants/of-b"


def _settings(store_url: str, **web_options: Any) -> Settings:
    return Settings(
        store=StoreConfig(url=store_url),
        web=WebConfig(**web_options),
        tenants=[TenantConfig(id="of-a", name="OF A"), TenantConfig(id="of-b", name="OF B")],
    )


async def _client(
    aiohttp_client: ClientFactory,
    store: Store,
    store_url: str,
    *,
    host: str | None = None,
    **web_options: Any,
) -> TestClient[Any, Any]:
    return await aiohttp_client(
        create_app(_settings(store_url, **web_options), store=store, host=host)
    )


async def _token(store: Store, scope: str, tenant: str | None = "of-a", **extra: Any) -> str:
    _, secret = await create_token(store, tenant=tenant, scope=Scope(scope), name=scope, **extra)
    return secret


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _refusal(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    assert body["code"] == code
    assert body["error"]
    return body


async def test_a_loopback_app_is_open_until_a_token_exists(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    client = await _client(aiohttp_client, store, store_url)
    assert (await client.get(f"{A}/evidence/counts")).status == 200

    token = await _token(store, "read")
    missing = await client.get(f"{A}/evidence/counts")
    body = await _refusal(missing, 401, "token_missing")
    assert body["error"] == MSG_MISSING()
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="Preuve"'
    # Another scheme is no bearer token either.
    basic = await client.get(f"{A}/evidence/counts", headers={"Authorization": "Basic eDp5"})
    await _refusal(basic, 401, "token_missing")

    ok = await client.get(f"{A}/evidence/counts", headers=_bearer(token))
    assert ok.status == 200
    assert (await ok.json())["tenant"] == "of-a"
    # Unknown paths need a token too, then answer 404.
    await _refusal(await client.get("/api/nothing-here"), 401, "token_missing")
    assert (await client.get("/api/nothing-here", headers=_bearer(token))).status == 404


async def test_revoking_every_token_does_not_reopen_the_api(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    created, _ = await create_token(store, tenant="of-a", scope=Scope.READ, name="x")
    await revoke_token(store, created.id)
    client = await _client(aiohttp_client, store, store_url)
    await _refusal(await client.get(f"{A}/runs"), 401, "token_missing")


async def test_read_write_and_admin_scopes(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    read, write, admin = [await _token(store, scope) for scope in ("read", "write", "admin")]
    client = await _client(aiohttp_client, store, store_url)

    assert (await client.get(f"{A}/runs", headers=_bearer(read))).status == 200
    refused = await client.post(f"{A}/sync", headers=_bearer(read))
    await _refusal(refused, 403, "insufficient_scope")
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer realm="Preuve", error="insufficient_scope", scope="write"'
    )
    # A write token reaches the handler: a tenant without sources has nothing to sync.
    queued = await client.post(f"{A}/sync", headers=_bearer(write))
    assert queued.status == 422

    # Webhook management needs admin, reading included.
    for token in (read, write):
        listed = await client.get(f"{A}/webhooks/endpoints", headers=_bearer(token))
        await _refusal(listed, 403, "insufficient_scope")
    listed = await client.get(f"{A}/webhooks/endpoints", headers=_bearer(admin))
    assert listed.status == 200
    assert await listed.json() == []
    replay = await client.post(
        f"{A}/webhooks/replay", json={"since": "2026-01-01T00:00:00Z"}, headers=_bearer(admin)
    )
    assert replay.status == 200
    assert await replay.json() == {"replayed": 0}
    # admin includes write and read.
    assert (await client.post(f"{A}/sync", headers=_bearer(admin))).status == 422
    assert (await client.get(f"{A}/runs", headers=_bearer(admin))).status == 200


async def test_a_tenant_token_reaches_its_own_tenant_only(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    token = await _token(store, "admin", tenant="of-a")
    client = await _client(aiohttp_client, store, store_url)

    assert (await client.get(f"{A}/runs", headers=_bearer(token))).status == 200
    other = await client.get(f"{B}/runs", headers=_bearer(token))
    body = await _refusal(other, 403, "wrong_tenant")
    assert "of-a" in body["error"]
    await _refusal(await client.post(f"{B}/sync", headers=_bearer(token)), 403, "wrong_tenant")
    hooks = await client.get(f"{B}/webhooks/endpoints", headers=_bearer(token))
    await _refusal(hooks, 403, "wrong_tenant")
    # Whether a tenant exists is no business of another tenant's token.
    missing = await client.get("/api/tenants/nope/runs", headers=_bearer(token))
    await _refusal(missing, 403, "wrong_tenant")

    # Routes that span tenants: operator only, or filtered by ?tenant= where offered.
    await _refusal(await client.get("/api/tenants", headers=_bearer(token)), 403, "operator_only")
    status = await client.get("/api/sync/status", headers=_bearer(token))
    await _refusal(status, 403, "operator_only")
    run_id = await store.runs.start("of-b", "src")
    detail = await client.get(f"/api/sync/runs/{run_id}", headers=_bearer(token))
    await _refusal(detail, 403, "operator_only")
    await _refusal(await client.get("/api/sync/runs", headers=_bearer(token)), 403, "operator_only")
    own = await client.get("/api/sync/runs", params={"tenant": "of-a"}, headers=_bearer(token))
    assert own.status == 200
    assert await own.json() == []
    theirs = await client.get("/api/sync/runs", params={"tenant": "of-b"}, headers=_bearer(token))
    await _refusal(theirs, 403, "operator_only")


async def test_an_operator_token_reaches_every_tenant_and_the_shared_routes(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    read = await _token(store, "read", tenant=None)
    admin = await _token(store, "admin", tenant=None)
    run_id = await store.runs.start("of-b", "src")
    client = await _client(aiohttp_client, store, store_url)

    tenants = await client.get("/api/tenants", headers=_bearer(read))
    assert [t["id"] for t in await tenants.json()] == ["of-a", "of-b"]
    for path in (f"{A}/runs", f"{B}/runs", "/api/sync/status", "/api/sync/runs"):
        assert (await client.get(path, headers=_bearer(read))).status == 200, path
    detail = await client.get(f"/api/sync/runs/{run_id}", headers=_bearer(read))
    assert (await detail.json())["tenant"] == "of-b"
    # Scopes still apply to operator tokens.
    await _refusal(await client.post(f"{B}/sync", headers=_bearer(read)), 403, "insufficient_scope")
    assert (await client.get(f"{B}/webhooks/endpoints", headers=_bearer(admin))).status == 200
    # The real 404 of an unknown tenant, once authorised.
    assert (await client.get("/api/tenants/nope/runs", headers=_bearer(read))).status == 404


async def test_unknown_expired_and_revoked_tokens_are_refused(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    now = datetime.now(UTC)
    expired = await _token(store, "read", expires_at=now - timedelta(seconds=1))
    later = await _token(store, "read", expires_at=now + timedelta(days=1))
    revoked = await _token(store, "read")
    revoked_id = token_id_of(revoked)
    assert revoked_id is not None
    await revoke_token(store, revoked_id)
    client = await _client(aiohttp_client, store, store_url)

    invalid = 'Bearer realm="Preuve", error="invalid_token"'
    response = await client.get(f"{A}/runs", headers=_bearer(expired))
    await _refusal(response, 401, "token_expired")
    assert response.headers["WWW-Authenticate"] == invalid
    response = await client.get(f"{A}/runs", headers=_bearer(revoked))
    await _refusal(response, 401, "token_revoked")
    assert response.headers["WWW-Authenticate"] == invalid
    assert (await client.get(f"{A}/runs", headers=_bearer(later))).status == 200

    # Right id, wrong secret; a well-formed unknown token; garbage.
    forged = later[: -len("abc")] + ("abc" if not later.endswith("abc") else "xyz")
    unknown = "pvt_0123456789ab_" + "A" * 43
    for bad in (forged, unknown, "nonsense", "pvt_"):
        response = await client.get(f"{A}/runs", headers=_bearer(bad))
        await _refusal(response, 401, "token_invalid")
        assert response.headers["WWW-Authenticate"] == invalid


async def test_open_routes_need_no_token(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    await _token(store, "admin", tenant=None)
    client = await _client(aiohttp_client, store, store_url, host="0.0.0.0")

    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/metrics")).status == 200
    assert (await client.get("/xapi/about")).status == 200
    # The xAPI intake asks for its own Basic credentials, not for a bearer token.
    intake = await client.get(
        "/xapi/statements",
        params={"statementId": "00000000-0000-4000-8000-000000000000"},
        headers={"X-Experience-API-Version": "1.0.3"},
    )
    assert intake.status == 401
    assert intake.headers["WWW-Authenticate"].startswith("Basic")
    # The inbound LMS events answer on their signature.
    inbound = await client.post(f"{A}/webhooks/inbound", data=b"{}")
    assert "code" not in await inbound.json()  # the route's own refusal, not ours
    assert "Bearer" not in inbound.headers.get("WWW-Authenticate", "")
    # Only POST is open there: the other methods of the webhooks area are admin.
    await _refusal(await client.get(f"{A}/webhooks/endpoints"), 401, "token_missing")


async def test_metrics_can_require_an_operator_token(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    operator = await _token(store, "read", tenant=None)
    tenant = await _token(store, "admin", tenant="of-a")
    client = await _client(aiohttp_client, store, store_url, metrics_auth=True)

    await _refusal(await client.get("/metrics"), 401, "token_missing")
    await _refusal(await client.get("/metrics", headers=_bearer(tenant)), 403, "operator_only")
    assert (await client.get("/metrics", headers=_bearer(operator))).status == 200
    assert (await client.get("/healthz")).status == 200


async def test_last_used_at_is_written_at_most_once_a_minute(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    created, secret = await create_token(store, tenant="of-a", scope=Scope.READ, name="ci")
    assert created.last_used_at is None
    client = await _client(aiohttp_client, store, store_url)

    assert (await client.get(f"{A}/runs", headers=_bearer(secret))).status == 200
    first = (await get_token(store, created.id)).last_used_at
    assert first is not None
    assert datetime.now(UTC) - first < timedelta(minutes=1)
    assert (await client.get(f"{A}/runs", headers=_bearer(secret))).status == 200
    assert (await get_token(store, created.id)).last_used_at == first

    stale = datetime.now(UTC) - timedelta(minutes=2)
    async with store.engine.begin() as conn:
        await conn.execute(
            update(api_token).where(api_token.c.id == created.id).values(last_used_at=stale)
        )
    assert (await client.get(f"{A}/runs", headers=_bearer(secret))).status == 200
    again = (await get_token(store, created.id)).last_used_at
    assert again is not None
    assert again > stale + timedelta(minutes=1)


async def test_only_the_hash_of_a_token_is_stored(store: Store) -> None:
    created, secret = await create_token(store, tenant=None, scope=Scope.ADMIN, name="ops")
    assert secret.startswith("pvt_")
    assert len(secret) == len("pvt_") + 12 + 1 + 43
    assert token_id_of(secret) == created.id
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(api_token))).one()
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = " ".join(str(value) for value in row)
    assert secret not in stored
    assert secret.rsplit("_", 1)[-1] not in stored
    assert "secret" not in created.as_json()
    assert row.tenant is None
    assert created.status() is TokenStatus.ACTIVE


async def test_required_without_any_token_refuses_everything(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    client = await _client(aiohttp_client, store, store_url, auth="required")
    await _refusal(await client.get(f"{A}/runs"), 401, "token_missing")
    await _refusal(await client.get("/api/tenants"), 401, "token_missing")
    assert (await client.get("/healthz")).status == 200


async def test_off_leaves_the_api_open_and_warns_at_start(
    store: Store, store_url: str, aiohttp_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await _token(store, "read")
    with caplog.at_level(logging.WARNING, logger="preuve.web.auth"):
        client = await _client(aiohttp_client, store, store_url, auth="off", host="0.0.0.0")
    assert any('auth = "off"' in r.getMessage() for r in caplog.records)
    assert (await client.get(f"{A}/runs")).status == 200
    assert (await client.post(f"{B}/sync")).status == 422  # reached the handler


async def test_auto_beyond_the_loopback_or_behind_a_proxy_requires_a_token(
    store: Store, store_url: str, aiohttp_client: ClientFactory
) -> None:
    public = await _client(aiohttp_client, store, store_url, host="0.0.0.0")
    await _refusal(await public.get(f"{A}/runs"), 401, "token_missing")

    local = await _client(aiohttp_client, store, store_url)
    assert (await local.get(f"{A}/runs")).status == 200
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        relayed = await local.get(f"{A}/runs", headers={header: "203.0.113.9"})
        await _refusal(relayed, 401, "token_missing")


async def test_refused_tokens_are_not_logged(
    store: Store, store_url: str, aiohttp_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    secret = await _token(store, "read")
    forged = secret[:-4] + "AAAA" if not secret.endswith("AAAA") else secret[:-4] + "BBBB"
    client = await _client(aiohttp_client, store, store_url)
    with caplog.at_level(logging.DEBUG):
        await _refusal(await client.get(f"{A}/runs", headers=_bearer(forged)), 401, "token_invalid")
        assert (await client.get(f"{A}/runs", headers=_bearer(secret))).status == 200
    text = caplog.text
    assert token_id_of(secret) in text  # the public id helps the operator
    assert secret not in text
    assert forged not in text
    assert secret.split("_", 2)[2][:20] not in text  # the random part (it may hold "_")


async def test_serve_start_check(store: Store) -> None:
    assert start_refusal("auto", "127.0.0.1", has_tokens=False) is None
    assert start_refusal("required", "::1", has_tokens=False) is None
    assert start_refusal("off", "0.0.0.0", has_tokens=False) is None
    assert start_refusal("auto", "0.0.0.0", has_tokens=True) is None
    message = start_refusal("auto", "0.0.0.0", has_tokens=False)
    assert message == MSG_NEEDS_TOKEN(host="0.0.0.0")
    assert "preuve token create" in message
    assert start_refusal("required", "preuve.example.org", has_tokens=False) is not None

    assert await check_start(store, WebConfig(), "0.0.0.0") is not None
    assert await check_start(store, WebConfig(auth="off"), "0.0.0.0") is None
    assert await check_start(store, WebConfig(), "localhost") is None
    await _token(store, "read")
    assert await check_start(store, WebConfig(), "0.0.0.0") is None


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.8.9.10")
    assert is_loopback("::1")
    assert is_loopback("[::1]")
    assert is_loopback("localhost")
    for host in ("0.0.0.0", "::", "", "192.168.1.10", "preuve.example.org"):
        assert not is_loopback(host), host


def test_the_access_table_covers_every_route() -> None:
    """Every registered route resolves to a rule; the open ones are the expected few."""
    app = create_app(_settings("sqlite+aiosqlite:///unused.db"))
    open_routes = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        rule = access_rule(route.method, path)
        if rule.is_open(WebConfig()):
            open_routes.add((route.method, path))
        elif rule.tenancy_for(path) is Tenancy.PATH:
            assert "{tenant}" in path
    assert {path for _, path in open_routes} == {
        "/healthz",
        "/metrics",
        "/xapi/statements",
        "/xapi/about",
        "/api/tenants/{tenant}/webhooks/inbound",
    }
    assert ("GET", "/api/tenants/{tenant}/webhooks/inbound") not in open_routes
    assert ACCESS_RULES[-1].scope is Scope.WRITE
    assert access_rule("DELETE", "/api/tenants/{tenant}/webhooks/endpoints/{endpoint}").scope is (
        Scope.ADMIN
    )
    assert access_rule("PUT", "/api/tenants/{tenant}/anything").scope is Scope.WRITE
    assert access_rule("HEAD", "/api/tenants/{tenant}/runs").scope is Scope.READ


async def test_tokens_are_listed_by_tenant(store: Store) -> None:
    await create_token(store, tenant="of-a", scope=Scope.READ, name="a")
    await create_token(store, tenant="of-b", scope=Scope.READ, name="b")
    await create_token(store, tenant=None, scope=Scope.ADMIN, name="ops")
    assert [t.name for t in await list_tokens(store)] == ["a", "b", "ops"]
    assert [t.name for t in await list_tokens(store, "of-b")] == ["b"]


def _downgrade_web(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "web@base")


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_web_branch_round_trip(store_url: str) -> None:
    engine = create_engine(store_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade_web)
        async with engine.connect() as conn:
            remaining = await conn.run_sync(_tables)
        assert "api_token" not in remaining
        assert "evidence" in remaining
        await upgrade(engine)
        async with engine.connect() as conn:
            assert "api_token" in await conn.run_sync(_tables)
    finally:
        await engine.dispose()


def test_log_redaction_masks_bearer_and_api_tokens() -> None:
    token = "pvt_0123456789ab_" + "Zz-_" * 10 + "abc"
    for line in (
        f"Authorization: Bearer {token}",
        f"{{'Authorization': 'Bearer {token}'}}",
        f"headers={{'authorization': 'bearer {token}'}}",
        f"pasted {token} by mistake",
    ):
        masked = redact(line)
        assert token not in masked, masked
        assert token[17:] not in masked, masked
    assert redact("the bearer of bad news") == "the bearer of bad news"
