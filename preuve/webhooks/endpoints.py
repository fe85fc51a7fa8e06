"""Endpoints (subscriptions): add, list, enable, disable, rotate secrets, remove."""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from preuve.events import EVENT_TYPES
from preuve.i18n import Text
from preuve.store import Store
from preuve.webhooks.signing import generate_secret, secret_key
from preuve.webhooks.ssrf import AllowList, validate_url
from preuve.webhooks.tables import PENDING, webhook_attempt, webhook_endpoint, webhook_message

# How long the previous secret stays valid after a rotation, so receivers can
# switch to the new one without losing messages.
DEFAULT_ROTATION_GRACE: Final = timedelta(hours=24)
MAX_EVENT_TYPES: Final = len(EVENT_TYPES)

MSG_UNKNOWN_EVENT = Text(
    fr="type d'événement inconnu : {type} (types : {known})",
    en="unknown event type: {type} (types: {known})",
)
MSG_DISABLED_BY_ADMIN = Text(
    fr="désactivé par un administrateur", en="disabled by an administrator"
)
MSG_NOT_FOUND = Text(fr="point d'accès inconnu : {id}", en="unknown endpoint: {id}")


class EndpointNotFoundError(LookupError):
    pass


class EndpointError(ValueError):
    """An endpoint definition that cannot be saved."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    tenant: str
    url: str
    description: str
    event_types: tuple[str, ...]
    secrets: tuple[dict[str, Any], ...]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    created_at: datetime

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def active_secrets(self, now: datetime | None = None) -> list[str]:
        return active_secrets(self.secrets, now)

    def as_json(self) -> dict[str, Any]:
        """Public view: no secret values (they are shown once, when created)."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "url": self.url,
            "description": self.description,
            "event_types": list(self.event_types),
            "active_secrets": len(self.active_secrets()),
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "disabled_at": self.disabled_at.isoformat() if self.disabled_at else None,
            "failing_since": self.failing_since.isoformat() if self.failing_since else None,
            "created_at": self.created_at.isoformat(),
        }


def active_secrets(entries: Sequence[dict[str, Any]], now: datetime | None = None) -> list[str]:
    moment = now or datetime.now(UTC)
    return [
        str(e["secret"])
        for e in entries
        if e.get("expires_at") is None or datetime.fromisoformat(e["expires_at"]) > moment
    ]


def endpoint_from_row(row: Any) -> Endpoint:
    return Endpoint(
        id=row.id,
        tenant=row.tenant,
        url=row.url,
        description=row.description,
        event_types=tuple(row.event_types),
        secrets=tuple(row.secrets),
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        disabled_at=row.disabled_at,
        failing_since=row.failing_since,
        created_at=row.created_at,
    )


def _check_event_types(event_types: Sequence[str]) -> tuple[str, ...]:
    for event_type in event_types:
        if event_type not in EVENT_TYPES:
            raise EndpointError(MSG_UNKNOWN_EVENT(type=event_type, known=", ".join(EVENT_TYPES)))
    return tuple(dict.fromkeys(event_types))


def _new_id() -> str:
    return "ep_" + random_secrets.token_hex(12)


async def add_endpoint(
    store: Store,
    tenant: str,
    url: str,
    *,
    allow: AllowList,
    event_types: Sequence[str] = (),
    description: str = "",
    secret: str | None = None,
    now: datetime | None = None,
) -> tuple[Endpoint, str]:
    """Save a subscription; returns it with its secret (the only time it is shown)."""
    types = _check_event_types(event_types)
    checked_url = await validate_url(url, allow)
    secret = secret or generate_secret()
    try:
        secret_key(secret)
    except ValueError as exc:
        raise EndpointError(str(exc)) from exc
    moment = now or datetime.now(UTC)
    endpoint_id = _new_id()
    async with store.engine.begin() as conn:
        await conn.execute(
            webhook_endpoint.insert().values(
                id=endpoint_id,
                tenant=tenant,
                url=checked_url,
                description=description,
                event_types=list(types),
                secrets=[{"secret": secret, "expires_at": None}],
                enabled=True,
                created_at=moment,
                updated_at=moment,
            )
        )
    return await get_endpoint(store, endpoint_id), secret


async def list_endpoints(store: Store, tenant: str | None = None) -> list[Endpoint]:
    query = select(webhook_endpoint).order_by(webhook_endpoint.c.created_at, webhook_endpoint.c.id)
    if tenant is not None:
        query = query.where(webhook_endpoint.c.tenant == tenant)
    async with store.engine.connect() as conn:
        return [endpoint_from_row(r) for r in (await conn.execute(query)).all()]


async def _get(conn: AsyncConnection, endpoint_id: str, tenant: str | None) -> Endpoint:
    query = select(webhook_endpoint).where(webhook_endpoint.c.id == endpoint_id)
    if tenant is not None:
        query = query.where(webhook_endpoint.c.tenant == tenant)
    row = (await conn.execute(query)).first()
    if row is None:
        raise EndpointNotFoundError(MSG_NOT_FOUND(id=endpoint_id))
    return endpoint_from_row(row)


async def get_endpoint(store: Store, endpoint_id: str, tenant: str | None = None) -> Endpoint:
    async with store.engine.connect() as conn:
        return await _get(conn, endpoint_id, tenant)


async def _set_enabled(
    store: Store,
    endpoint_id: str,
    tenant: str | None,
    moment: datetime,
    values: dict[str, Any],
) -> Endpoint:
    async with store.engine.begin() as conn:
        await _get(conn, endpoint_id, tenant)
        await conn.execute(
            update(webhook_endpoint)
            .where(webhook_endpoint.c.id == endpoint_id)
            .values(**values, updated_at=moment)
        )
        if values["enabled"]:
            # Held messages whose next attempt was pushed far out go now.
            await conn.execute(
                update(webhook_message)
                .where(
                    webhook_message.c.endpoint_id == endpoint_id,
                    webhook_message.c.status == PENDING,
                    webhook_message.c.next_attempt_at > moment,
                )
                .values(next_attempt_at=moment)
            )
    return await get_endpoint(store, endpoint_id)


async def enable_endpoint(
    store: Store, endpoint_id: str, *, tenant: str | None = None, now: datetime | None = None
) -> Endpoint:
    """Enable again: the messages held meanwhile become due at once."""
    values = {"enabled": True, "disabled_reason": None, "disabled_at": None, "failing_since": None}
    return await _set_enabled(store, endpoint_id, tenant, now or datetime.now(UTC), values)


async def disable_endpoint(
    store: Store,
    endpoint_id: str,
    reason: str,
    *,
    tenant: str | None = None,
    now: datetime | None = None,
) -> Endpoint:
    """Disable by hand: messages are kept (pending) and sent once enabled again."""
    moment = now or datetime.now(UTC)
    values = {"enabled": False, "disabled_reason": reason, "disabled_at": moment}
    return await _set_enabled(store, endpoint_id, tenant, moment, values)


async def rotate_secret(
    store: Store,
    endpoint_id: str,
    *,
    tenant: str | None = None,
    grace: timedelta = DEFAULT_ROTATION_GRACE,
    new_secret: str | None = None,
    now: datetime | None = None,
) -> str:
    """Add a new secret; the current ones stay valid for ``grace`` (signed with both)."""
    moment = now or datetime.now(UTC)
    secret = new_secret or generate_secret()
    try:
        secret_key(secret)
    except ValueError as exc:
        raise EndpointError(str(exc)) from exc
    expiry = moment + grace
    async with store.engine.begin() as conn:
        endpoint = await _get(conn, endpoint_id, tenant)
        kept = []
        for entry in endpoint.secrets:
            current = entry.get("expires_at")
            if current is not None and datetime.fromisoformat(current) <= moment:
                continue  # expired: dropped for good
            ends = expiry if current is None else min(expiry, datetime.fromisoformat(current))
            kept.append({"secret": entry["secret"], "expires_at": ends.isoformat()})
        kept.append({"secret": secret, "expires_at": None})
        await conn.execute(
            update(webhook_endpoint)
            .where(webhook_endpoint.c.id == endpoint_id)
            .values(secrets=kept, updated_at=moment)
        )
    return secret


async def remove_endpoint(store: Store, endpoint_id: str, *, tenant: str | None = None) -> None:
    async with store.engine.begin() as conn:
        await _get(conn, endpoint_id, tenant)
        await conn.execute(
            delete(webhook_attempt).where(webhook_attempt.c.endpoint_id == endpoint_id)
        )
        await conn.execute(
            delete(webhook_message).where(webhook_message.c.endpoint_id == endpoint_id)
        )
        await conn.execute(delete(webhook_endpoint).where(webhook_endpoint.c.id == endpoint_id))
