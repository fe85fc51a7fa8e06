"""The outbox: every message is stored before any attempt to send it.

``enqueue`` writes one message per (event, subscribed endpoint) in the caller's
process; dispatchers (one or many, anywhere) send them. The webhook id is the
event id, so every attempt and every replay of a message carries the same id.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from preuve.events import ENDPOINT_DISABLED, Event
from preuve.store import Store
from preuve.webhooks.endpoints import Endpoint, endpoint_from_row
from preuve.webhooks.payload import build_body
from preuve.webhooks.tables import (
    DELIVERED,
    FAILED,
    PENDING,
    insert_once,
    webhook_attempt,
    webhook_endpoint,
    webhook_message,
)

INSERT_CHUNK: Final = 500

# Dispatchers in this process wait on these to start at once when something is
# enqueued; dispatchers elsewhere find the messages on their next poll.
_wakeups: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Event] = weakref.WeakKeyDictionary()


def wakeup_event(engine: AsyncEngine) -> asyncio.Event:
    event = _wakeups.get(engine)
    if event is None:
        event = _wakeups[engine] = asyncio.Event()
    return event


def _wake(engine: AsyncEngine) -> None:
    event = _wakeups.get(engine)
    if event is not None:
        event.set()


async def _endpoints(conn: AsyncConnection, tenants: set[str]) -> dict[str, list[Endpoint]]:
    rows = (
        await conn.execute(select(webhook_endpoint).where(webhook_endpoint.c.tenant.in_(tenants)))
    ).all()
    found: dict[str, list[Endpoint]] = {}
    for row in rows:
        found.setdefault(row.tenant, []).append(endpoint_from_row(row))
    return found


def _recipients(event: Event, endpoints: list[Endpoint]) -> list[Endpoint]:
    chosen = [e for e in endpoints if e.wants(event.type)]
    if event.type == ENDPOINT_DISABLED:
        # The notice goes to the tenant's *other* endpoints.
        chosen = [e for e in chosen if e.id != event.data.get("endpoint_id")]
    return chosen


async def enqueue_in(
    conn: AsyncConnection,
    events: Sequence[Event],
    *,
    public_url: str | None = None,
    now: datetime | None = None,
) -> int:
    """``enqueue`` inside the caller's transaction (e.g. with the coverage snapshot)."""
    if not events:
        return 0
    moment = now or datetime.now(UTC)
    by_tenant = await _endpoints(conn, {e.tenant for e in events})
    rows: list[dict[str, Any]] = []
    for event in events:
        recipients = _recipients(event, by_tenant.get(event.tenant, []))
        if not recipients:
            continue
        body = build_body(event, public_url).decode()
        rows.extend(
            {
                "msg_id": event.id,
                "tenant": event.tenant,
                "endpoint_id": endpoint.id,
                "event_type": event.type,
                "body": body,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": moment,
                "occurred_at": event.occurred_at,
                "created_at": moment,
            }
            for endpoint in recipients
        )
    stored = 0
    statement = insert_once(
        conn.dialect.name, webhook_message, ["endpoint_id", "msg_id"]
    ).returning(webhook_message.c.id)
    for start in range(0, len(rows), INSERT_CHUNK):
        # ON CONFLICT DO NOTHING: enqueuing the same event twice stores it once.
        result = await conn.execute(statement, rows[start : start + INSERT_CHUNK])
        stored += len(result.all())
    return stored


async def enqueue(
    store: Store,
    events: Sequence[Event],
    *,
    public_url: str | None = None,
    now: datetime | None = None,
) -> int:
    """Store one message per subscription matching each event; returns how many.

    Durable before anything is sent: the messages are committed when this returns.
    Messages for a disabled endpoint are kept and sent once it is enabled again.
    ``public_url`` (``settings.web.public_url``) makes the dashboard links.
    """
    async with store.engine.begin() as conn:
        stored = await enqueue_in(conn, events, public_url=public_url, now=now)
    if stored:
        _wake(store.engine)
    return stored


async def replay(
    store: Store,
    tenant: str,
    *,
    since: datetime,
    until: datetime | None = None,
    endpoint_id: str | None = None,
    include_delivered: bool = False,
    now: datetime | None = None,
) -> int:
    """Send again the failed (or all) messages created in [since, until); same ids.

    A replayed message starts the retry schedule afresh. Pending messages are
    already on their way and are left alone.
    """
    moment = now or datetime.now(UTC)
    statuses = [FAILED, DELIVERED] if include_delivered else [FAILED]
    conditions = [
        webhook_message.c.tenant == tenant,
        webhook_message.c.status.in_(statuses),
        webhook_message.c.created_at >= since,
    ]
    if until is not None:
        conditions.append(webhook_message.c.created_at < until)
    if endpoint_id is not None:
        conditions.append(webhook_message.c.endpoint_id == endpoint_id)
    async with store.engine.begin() as conn:
        result = await conn.execute(
            update(webhook_message)
            .where(and_(*conditions))
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=moment,
                lease_until=None,
                lease_owner=None,
            )
        )
    count = int(result.rowcount or 0)
    if count:
        _wake(store.engine)
    return count


async def purge(store: Store, *, before: datetime, tenant: str | None = None) -> int:
    """Delete delivered and failed messages (and their attempts) created before ``before``.

    Pending messages are never purged: they are still owed to someone.
    """
    conditions = [
        webhook_message.c.status.in_([DELIVERED, FAILED]),
        webhook_message.c.created_at < before,
    ]
    if tenant is not None:
        conditions.append(webhook_message.c.tenant == tenant)
    purged = select(webhook_message.c.id).where(and_(*conditions))
    async with store.engine.begin() as conn:
        await conn.execute(
            delete(webhook_attempt).where(
                webhook_attempt.c.message_id.in_(purged.scalar_subquery())
            )
        )
        result = await conn.execute(delete(webhook_message).where(and_(*conditions)))
    return int(result.rowcount or 0)
