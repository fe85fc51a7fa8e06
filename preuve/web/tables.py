"""Web app tables: the API tokens (only their SHA-256 hash, never the secret)."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table

from preuve.store.schema import UtcDateTime, metadata

# One API token. ``tenant`` NULL: an operator token, valid for every tenant and for
# the routes that span tenants. ``scope``: read, write or admin (each includes the
# ones before it). ``secret_hash``: hex SHA-256 of the whole token string, compared
# in constant time; the token itself is shown once, at creation.
api_token = Table(
    "api_token",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(64)),
    Column("scope", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # Written at most once a minute per token, not on every request.
    Column("last_used_at", UtcDateTime()),
    Column("expires_at", UtcDateTime()),
    Column("revoked_at", UtcDateTime()),
    Index("ix_api_token_tenant", "tenant"),
)
