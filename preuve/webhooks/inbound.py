"""Inbound LMS events: verified, de-duplicated, turned into a targeted sync.

An LMS (the Moodle plugin, or any system) posts a Standard Webhooks request signed
with the tenant's inbound secret. The event is checked (signature, timestamp
within the tolerance), recorded once per event id, and handed to the sync
trigger, a function the sync subsystem provides; until one is set, events are
recorded with status ``recorded`` for the sync to pick up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from preuve.config.settings import KEY_PATTERN, Settings
from preuve.i18n import Text
from preuve.store import Store
from preuve.webhooks.signing import SignatureError, verify
from preuve.webhooks.tables import webhook_inbound

log = logging.getLogger(__name__)

MAX_INBOUND_BYTES: Final = 64 * 1024
RECEIVED: Final = "received"
QUEUED: Final = "queued"
RECORDED: Final = "recorded"

# (tenant, source or None, scope such as {"course_id": "42"}) -> queue the sync.
TriggerSync = Callable[[str, str | None, dict[str, Any]], Awaitable[None]]

MSG_NOT_CONFIGURED = Text(
    fr="aucun secret d'événements entrants pour l'organisme {tenant} (webhooks.inbound_secret_env)",
    en="no inbound event secret for tenant {tenant} (webhooks.inbound_secret_env)",
)
MSG_BAD_SECRET = Text(
    fr="le secret d'événements entrants de l'organisme {tenant} est invalide (whsec_...)",
    en="the inbound event secret of tenant {tenant} is invalid (whsec_...)",
)
MSG_BAD_SIGNATURE = Text(fr="signature refusée : {reason}", en="signature refused: {reason}")
MSG_BAD_BODY = Text(fr="événement invalide : {problems}", en="invalid event: {problems}")
MSG_UNKNOWN_SOURCE = Text(
    fr="source inconnue pour l'organisme {tenant} : {source}",
    en="unknown source for tenant {tenant}: {source}",
)
MSG_TOO_LARGE = Text(fr="événement trop volumineux", en="event too large")
MSG_TRIGGER_FAILED = Text(
    fr="la synchronisation n'a pas pu être planifiée, réessayez",
    en="the sync could not be queued, try again",
)

ScopeValue = str | int


class InboundData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: str | None = Field(default=None, pattern=KEY_PATTERN)
    scope: dict[str, ScopeValue] = Field(default_factory=dict, max_length=16)
    course_id: ScopeValue | None = None


class InboundEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(pattern=r"^[a-z0-9_.]{1,64}$")
    data: InboundData = Field(default_factory=InboundData)

    def scope(self) -> dict[str, Any]:
        scope: dict[str, Any] = {k: str(v) for k, v in self.data.scope.items()}
        if self.data.course_id is not None:
            scope.setdefault("course_id", str(self.data.course_id))
        return scope


class InboundError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class InboundResult:
    event_id: str
    status: str  # queued, recorded or duplicate
    source: str | None
    scope: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "status": self.status,
            "source": self.source,
            "scope": self.scope,
        }


@dataclass
class SyncTriggerHolder:
    """Where the sync subsystem puts its trigger (settable after the app started)."""

    trigger: TriggerSync | None = None


def inbound_secrets(settings: Settings, tenant: str) -> list[str]:
    """The tenant's inbound secrets (space separated in the variable, for rotation)."""
    env = settings.webhooks.inbound_secret_env.get(tenant)
    value = os.environ.get(env, "") if env else ""
    return value.split()


def _insert(store: Store) -> Any:
    insert = pg_insert if store.engine.dialect.name == "postgresql" else sqlite_insert
    return insert(webhook_inbound).on_conflict_do_nothing(index_elements=["tenant", "event_id"])


async def receive(
    store: Store,
    settings: Settings,
    tenant: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    trigger: TriggerSync | None,
    now: datetime | None = None,
) -> InboundResult:
    """Verify, de-duplicate, record and trigger; InboundError says what to answer."""
    secrets = inbound_secrets(settings, tenant)
    if not secrets:
        raise InboundError(403, MSG_NOT_CONFIGURED(tenant=tenant))
    if len(body) > MAX_INBOUND_BYTES:
        raise InboundError(413, MSG_TOO_LARGE())
    moment = now or datetime.now(UTC)
    try:
        event_id, _ = verify(
            headers,
            body,
            secrets,
            tolerance_seconds=settings.webhooks.inbound_tolerance_seconds,
            now=moment,
        )
    except SignatureError as exc:
        raise InboundError(401, MSG_BAD_SIGNATURE(reason=exc)) from exc
    except ValueError as exc:
        # The configured secret is not a whsec_ secret: the admin's to fix.
        env = settings.webhooks.inbound_secret_env.get(tenant)
        log.error("inbound secret of tenant %s (variable %s) is invalid: %s", tenant, env, exc)
        raise InboundError(500, MSG_BAD_SECRET(tenant=tenant)) from exc
    try:
        event = InboundEvent.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        problems = (
            "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
            )
            if isinstance(exc, ValidationError)
            else "not JSON"
        )
        raise InboundError(400, MSG_BAD_BODY(problems=problems)) from exc
    source = event.data.source
    if source is not None:
        known = {s.id for s in settings.tenant(tenant).sources}
        if source not in known:
            raise InboundError(422, MSG_UNKNOWN_SOURCE(tenant=tenant, source=source))
    scope = event.scope()
    async with store.engine.begin() as conn:
        inserted = (
            await conn.execute(
                _insert(store)
                .values(
                    tenant=tenant,
                    event_id=event_id,
                    event_type=event.type,
                    source=source,
                    scope=scope,
                    status=RECEIVED,
                    received_at=moment,
                )
                .returning(webhook_inbound.c.id)
            )
        ).first()
    if inserted is None:
        return InboundResult(event_id, "duplicate", source, scope)
    status = RECORDED
    if trigger is not None:
        try:
            await trigger(tenant, source, scope)
        except Exception as exc:
            # Forget the event so the sender's retry (same id) can trigger it again.
            async with store.engine.begin() as conn:
                await conn.execute(
                    delete(webhook_inbound).where(webhook_inbound.c.id == inserted.id)
                )
            log.exception("inbound event %s of tenant %s: sync trigger failed", event_id, tenant)
            raise InboundError(503, MSG_TRIGGER_FAILED()) from exc
        status = QUEUED
    async with store.engine.begin() as conn:
        await conn.execute(
            update(webhook_inbound).where(webhook_inbound.c.id == inserted.id).values(status=status)
        )
    log.info("inbound event %s (%s) of tenant %s: %s", event_id, event.type, tenant, status)
    return InboundResult(event_id, status, source, scope)


async def recorded_inbound(store: Store, *, limit: int = 100) -> list[dict[str, Any]]:
    """Events recorded while no trigger was set, oldest first (for the sync to drain)."""
    query = (
        select(webhook_inbound)
        .where(webhook_inbound.c.status == RECORDED)
        .order_by(webhook_inbound.c.id)
        .limit(limit)
    )
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "id": r.id,
            "tenant": r.tenant,
            "event_id": r.event_id,
            "event_type": r.event_type,
            "source": r.source,
            "scope": r.scope,
            "received_at": r.received_at.isoformat(),
        }
        for r in rows
    ]


async def mark_inbound_queued(store: Store, ids: list[int]) -> int:
    """Mark recorded events as queued once their sync is queued; returns how many."""
    if not ids:
        return 0
    async with store.engine.begin() as conn:
        result = await conn.execute(
            update(webhook_inbound)
            .where(webhook_inbound.c.id.in_(ids), webhook_inbound.c.status == RECORDED)
            .values(status=QUEUED)
        )
    return int(result.rowcount or 0)
