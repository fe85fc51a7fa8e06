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
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import and_, delete, or_, select, update

from preuve.config.settings import KEY_PATTERN, Settings
from preuve.i18n import Text
from preuve.store import Store
from preuve.webhooks.signing import SignatureError, secret_key, verify
from preuve.webhooks.tables import insert_once, webhook_inbound

log = logging.getLogger(__name__)

MAX_INBOUND_BYTES: Final = 64 * 1024
MAX_EVENT_ID_CHARS: Final = 128  # the webhook_inbound.event_id column
RECEIVED: Final = "received"
QUEUED: Final = "queued"
RECORDED: Final = "recorded"
# A row still ``received`` this long after arrival belongs to a process that died
# between recording the event and queueing its sync: it is drained like a
# ``recorded`` one, so the event is not lost (its redelivery is a duplicate).
STALE_RECEIVED: Final = timedelta(minutes=5)

# (tenant, source or None, scope such as {"course_id": "42"}) -> queue the sync.
TriggerSync = Callable[[str, str | None, dict[str, Any]], Awaitable[None]]

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
    """The tenant's valid inbound secrets (space separated in the variable, for rotation).

    Invalid ones are logged (by position, never by value) and left out.
    """
    if tenant not in {t.id for t in settings.tenants}:
        return []
    env = settings.webhooks.inbound_secret_env.get(tenant)
    valid = []
    for position, secret in enumerate((os.environ.get(env, "") if env else "").split(), 1):
        try:
            secret_key(secret)
        except ValueError as exc:
            log.error(
                "inbound secret %d of tenant %s (%s) is invalid: %s", position, tenant, env, exc
            )
            continue
        valid.append(secret)
    return valid


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
    """Verify, de-duplicate, record and trigger; InboundError says what to answer.

    An unknown tenant, or one without a valid inbound secret, is answered exactly
    like a wrong signature: the endpoint does not tell who exists or is set up.
    """
    if len(body) > MAX_INBOUND_BYTES:
        raise InboundError(413, MSG_TOO_LARGE())
    secrets = inbound_secrets(settings, tenant)
    if not secrets:
        log.warning("inbound event for %r refused: unknown tenant or no secret", tenant[:64])
    moment = now or datetime.now(UTC)
    try:
        # With no secret this still checks the headers and the timestamp first,
        # then fails as "no matching signature", like a wrong secret would.
        event_id, _ = verify(
            headers,
            body,
            secrets,
            tolerance_seconds=settings.webhooks.inbound_tolerance_seconds,
            now=moment,
        )
    except SignatureError as exc:
        raise InboundError(401, MSG_BAD_SIGNATURE(reason=exc)) from exc
    if len(event_id) > MAX_EVENT_ID_CHARS:
        problem = f"webhook-id: {MAX_EVENT_ID_CHARS} characters at most"
        raise InboundError(400, MSG_BAD_BODY(problems=problem))
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
                insert_once(store.engine.dialect.name, webhook_inbound, ["tenant", "event_id"])
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


def _waiting(now: datetime) -> Any:
    return or_(
        webhook_inbound.c.status == RECORDED,
        and_(
            webhook_inbound.c.status == RECEIVED,
            webhook_inbound.c.received_at < now - STALE_RECEIVED,
        ),
    )


async def recorded_inbound(
    store: Store, *, limit: int = 100, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Events recorded while no trigger was set, oldest first (for the sync to drain).

    Also those a crash left ``received`` for longer than ``STALE_RECEIVED``.
    """
    query = (
        select(webhook_inbound)
        .where(_waiting(now or datetime.now(UTC)))
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
    """Mark drained events (see ``recorded_inbound``) as queued; returns how many."""
    if not ids:
        return 0
    async with store.engine.begin() as conn:
        result = await conn.execute(
            update(webhook_inbound)
            .where(
                webhook_inbound.c.id.in_(ids),
                webhook_inbound.c.status.in_([RECORDED, RECEIVED]),
            )
            .values(status=QUEUED)
        )
    return int(result.rowcount or 0)


async def purge_inbound(store: Store, *, before: datetime, tenant: str | None = None) -> int:
    """Forget queued inbound events received before ``before``; returns how many.

    The ids are kept to recognise redeliveries, which the timestamp tolerance
    refuses anyway once they are older than a few minutes. Events not queued yet
    are kept: the sync still owes them.
    """
    conditions = [webhook_inbound.c.status == QUEUED, webhook_inbound.c.received_at < before]
    if tenant is not None:
        conditions.append(webhook_inbound.c.tenant == tenant)
    async with store.engine.begin() as conn:
        result = await conn.execute(delete(webhook_inbound).where(and_(*conditions)))
    return int(result.rowcount or 0)
