"""Webhook endpoints declared in the configuration are applied to the store."""

from __future__ import annotations

from typing import Any

import pytest

from preuve.config.settings import Settings
from preuve.store import Store
from preuve.webhooks.configured import apply_configured_endpoints, configured_endpoint_id
from preuve.webhooks.endpoints import disable_endpoint, list_endpoints
from preuve.webhooks.signing import generate_secret

SECRET_ENV = "PREUVE_TEST_CONFIGURED_SECRET"


def _settings(*hooks: dict[str, Any], allow: list[str] | None = None) -> Settings:
    return Settings.model_validate(
        {
            "tenants": [{"id": "of-test", "name": "OF test", "webhooks": list(hooks)}],
            "webhooks": {"allow_networks": allow if allow is not None else ["127.0.0.0/8"]},
        }
    )


HOOK = {
    "id": "tickets",
    "url": "http://127.0.0.1:9/hook",
    "events": ["indicator.proof_missing", "sync.failed"],
    "secret_env": SECRET_ENV,
}


async def test_configured_endpoints_are_created_updated_and_retired(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = generate_secret(), generate_secret()
    monkeypatch.setenv(SECRET_ENV, first)
    assert await apply_configured_endpoints(store, _settings(HOOK)) == []
    assert await apply_configured_endpoints(store, _settings(HOOK)) == []  # idempotent
    [endpoint] = await list_endpoints(store, "of-test")
    assert endpoint.id == configured_endpoint_id("of-test", "tickets")
    assert endpoint.url == "http://127.0.0.1:9/hook"
    assert endpoint.event_types == ("indicator.proof_missing", "sync.failed")
    assert endpoint.active_secrets() == [first]

    # A rotation in the environment: both secrets sign until the old one is removed.
    monkeypatch.setenv(SECRET_ENV, f"{first} {second}")
    moved = {**HOOK, "url": "http://127.0.0.1:9/other", "events": []}
    await apply_configured_endpoints(store, _settings(moved))
    [endpoint] = await list_endpoints(store, "of-test")
    assert endpoint.url == "http://127.0.0.1:9/other"
    assert endpoint.event_types == ()
    assert endpoint.active_secrets() == [first, second]

    # Disabled after failures: the configuration does not silently re-enable it.
    await disable_endpoint(store, endpoint.id, "410 Gone")
    await apply_configured_endpoints(store, _settings(moved))
    assert not (await list_endpoints(store, "of-test"))[0].enabled

    # Removed from the configuration: disabled, its history kept.
    await apply_configured_endpoints(store, _settings())
    [endpoint] = await list_endpoints(store, "of-test")
    assert not endpoint.enabled


async def test_problems_are_reported_and_others_still_applied(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.setenv("PREUVE_TEST_OTHER_SECRET", generate_secret())
    other = {**HOOK, "id": "chat", "secret_env": "PREUVE_TEST_OTHER_SECRET"}
    problems = await apply_configured_endpoints(store, _settings(HOOK, other))
    assert len(problems) == 1
    assert "of-test/tickets" in problems[0]
    assert SECRET_ENV in problems[0]
    assert [e.id for e in await list_endpoints(store, "of-test")] == [
        configured_endpoint_id("of-test", "chat")
    ]


async def test_the_ssrf_guard_applies_to_configured_urls(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, generate_secret())
    problems = await apply_configured_endpoints(store, _settings(HOOK, allow=[]))
    assert len(problems) == 1
    assert await list_endpoints(store, "of-test") == []


async def test_one_tenant_is_applied_without_touching_the_others(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, generate_secret())
    both = Settings.model_validate(
        {
            "tenants": [
                {"id": "of-a", "name": "A", "webhooks": [HOOK]},
                {"id": "of-b", "name": "B", "webhooks": [HOOK]},
            ],
            "webhooks": {"allow_networks": ["127.0.0.0/8"]},
        }
    )
    assert await apply_configured_endpoints(store, both, "of-a") == []
    assert [e.id for e in await list_endpoints(store, "of-a")] == [
        configured_endpoint_id("of-a", "tickets")
    ]
    assert await list_endpoints(store, "of-b") == []  # not applied for of-b
    await apply_configured_endpoints(store, both)
    # of-b's hook leaves the configuration; applying of-a alone does not retire it
    only_a = Settings.model_validate(
        {
            "tenants": [
                {"id": "of-a", "name": "A", "webhooks": [HOOK]},
                {"id": "of-b", "name": "B"},
            ],
            "webhooks": {"allow_networks": ["127.0.0.0/8"]},
        }
    )
    await apply_configured_endpoints(store, only_a, "of-a")
    assert [e.enabled for e in await list_endpoints(store, "of-b")] == [True]
    await apply_configured_endpoints(store, only_a, "of-b")
    assert [e.enabled for e in await list_endpoints(store, "of-b")] == [False]
