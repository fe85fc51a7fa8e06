"""Webhook tables: endpoints, the outbox of messages, the delivery log, inbound events."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from preuve.store.schema import BigId, UtcDateTime, json_column, metadata

# Message statuses: pending (owed, retried or held while its endpoint is
# disabled), delivered (a 2xx answer), failed (the schedule ran out; replayable).
PENDING: Final = "pending"
DELIVERED: Final = "delivered"
FAILED: Final = "failed"

# One subscription of a tenant: a URL, the event types it wants (empty: all), its
# signing secrets (several during a rotation) and whether it is enabled.
webhook_endpoint = Table(
    "webhook_endpoint",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    json_column("event_types"),
    json_column("secrets"),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("disabled_reason", Text),
    Column("disabled_at", UtcDateTime()),
    # First failure of the current unbroken run of failures; None after a success.
    Column("failing_since", UtcDateTime()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# The outbox: one row per (event, endpoint), written before any attempt.
# ``msg_id`` is the event id, sent as ``webhook-id`` on every attempt and replay.
webhook_message = Table(
    "webhook_message",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("msg_id", String(64), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column(
        "endpoint_id",
        String(40),
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime()),
    Column("lease_owner", String(64)),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime()),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    UniqueConstraint("endpoint_id", "msg_id", name="uq_webhook_message_endpoint_msg"),
    Index("ix_webhook_message_due", "status", "next_attempt_at"),
    Index("ix_webhook_message_tenant_created", "tenant", "created_at"),
)

# The delivery log: one row per attempt. No foreign key to the message on purpose:
# an endpoint removed while a round is in flight must not make the round's
# writes fail; removal and purge delete the attempts themselves.
webhook_attempt = Table(
    "webhook_attempt",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", BigId, nullable=False, index=True),
    Column("endpoint_id", String(40), nullable=False),
    Column("msg_id", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer),
    Column("outcome", String(16), nullable=False),
    Column("error", Text),
    Index("ix_webhook_attempt_endpoint_started", "endpoint_id", "started_at"),
)

# Inbound LMS events, unique per (tenant, event id) so a redelivery is recognised.
webhook_inbound = Table(
    "webhook_inbound",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("tenant", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("source", String(64)),
    json_column("scope"),
    Column("status", String(16), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant", "event_id", name="uq_webhook_inbound_tenant_event"),
)


def insert_once(dialect: str, table: Table, unique: list[str]) -> Any:
    """INSERT that skips rows already there (same ``unique`` columns): safe to repeat."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=unique)
