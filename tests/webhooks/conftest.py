"""Fixtures for webhook tests: a receiver stand-in on 127.0.0.1 and a fast schedule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from preuve.events import PROOF_MISSING, Event
from preuve.store import Store
from preuve.testing.webhook_receiver import WebhookReceiver
from preuve.webhooks import AllowList, DeliveryPolicy, DeliveryReport, deliver_due, open_session
from preuve.webhooks.tables import webhook_message

TENANT = "of-test"

# Receivers listen on 127.0.0.1, which the SSRF guard refuses by default: the
# tests allow it explicitly (and one test proves it is refused without this).
LOOPBACK = AllowList.parse(["127.0.0.0/8"])

# For tests whose subject does not depend on the database (HTTP behaviour, checks
# made before anything is written): SQLite only. Whatever the store decides
# (claims, leases, conflicts, time columns) still runs on both databases.
sqlite_only = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def fast_policy(**overrides: object) -> DeliveryPolicy:
    """The real schedule's shape, in tenths of a second."""
    values: dict[str, object] = {
        "schedule": (0, 0.05, 0.1, 0.15, 0.2),
        "timeout_seconds": 1.0,
        "lease_seconds": 3.0,
        "jitter": 0.2,
        "disable_after": timedelta(hours=1),
    }
    values.update(overrides)
    return DeliveryPolicy(**values)  # type: ignore[arg-type]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as started:
        yield started


@pytest.fixture
async def other_receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as started:
        yield started


async def deliver_until(
    store: Store,
    policy: DeliveryPolicy,
    done: Callable[[DeliveryReport], bool],
    *,
    within: float = 10.0,
    allow: AllowList = LOOPBACK,
    public_url: str | None = None,
) -> DeliveryReport:
    """Delivery rounds until ``done(total so far)``; fails the test after ``within`` s."""
    total = DeliveryReport()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with open_session(allow, policy) as session:
        while not done(total):
            if loop.time() > deadline:
                raise AssertionError(f"not done after {within} s: {total}")
            total += await deliver_due(store, session, policy=policy, public_url=public_url)
            await asyncio.sleep(0.01)
    return total


async def message_rows(store: Store) -> list[Any]:
    async with store.engine.connect() as conn:
        query = select(webhook_message).order_by(webhook_message.c.id)
        return list((await conn.execute(query)).all())


def events(count: int, event_type: str = PROOF_MISSING, tenant: str = TENANT) -> list[Event]:
    return [
        Event(event_type, tenant, {"indicator": str(i % 32 + 1), "status": "missing"})
        for i in range(count)
    ]
