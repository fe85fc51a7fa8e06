"""The delivery log (one row per attempt) and message counts, for the CLI and the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from preuve.store import Store
from preuve.webhooks.tables import webhook_attempt, webhook_message


async def delivery_log(
    store: Store,
    endpoint_id: str,
    *,
    limit: int = 50,
    since: datetime | None = None,
    msg_id: str | None = None,
) -> list[dict[str, Any]]:
    """The endpoint's attempts, newest first: when, which message, status, duration, error."""
    a = webhook_attempt
    query = (
        select(
            a.c.msg_id,
            a.c.attempt,
            a.c.started_at,
            a.c.duration_ms,
            a.c.status_code,
            a.c.outcome,
            a.c.error,
            webhook_message.c.event_type,
        )
        .join(webhook_message, webhook_message.c.id == a.c.message_id)
        .where(a.c.endpoint_id == endpoint_id)
        .order_by(a.c.started_at.desc(), a.c.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(a.c.started_at >= since)
    if msg_id is not None:
        query = query.where(a.c.msg_id == msg_id)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "msg_id": r.msg_id,
            "event_type": r.event_type,
            "attempt": r.attempt,
            "started_at": r.started_at.isoformat(),
            "duration_ms": r.duration_ms,
            "status_code": r.status_code,
            "outcome": r.outcome,
            "error": r.error,
        }
        for r in rows
    ]


async def message_counts(store: Store, tenant: str) -> dict[str, dict[str, int]]:
    """endpoint id -> {status: count}."""
    m = webhook_message
    query = (
        select(m.c.endpoint_id, m.c.status, func.count())
        .where(m.c.tenant == tenant)
        .group_by(m.c.endpoint_id, m.c.status)
    )
    counts: dict[str, dict[str, int]] = {}
    async with store.engine.connect() as conn:
        for endpoint_id, status, count in (await conn.execute(query)).all():
            counts.setdefault(endpoint_id, {})[status] = int(count)
    return counts
