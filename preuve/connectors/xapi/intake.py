"""Receiving statements: validate, assign, de-duplicate, store, turn into evidence.

One request is one transaction: the statements (``xapi_statement``) and the
evidence they become (``evidence``) are written together or not at all.

Idempotency: a statement already stored with the same content is accepted
again without writing anything; the same id with other content is a conflict.
A statement without an id gets a UUID derived from its content hash (UUIDv5),
so a batch resent by Moodle's logstore_xapi after a timeout maps to the same
ids and creates no duplicates.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from preuve.config.settings import SecretMissingError, Settings, SourceConfig, TenantConfig
from preuve.connectors.registry import build_connector
from preuve.connectors.xapi.connector import XapiConnector
from preuve.connectors.xapi.constants import INTAKE_VERSION, VOIDED
from preuve.connectors.xapi.mapping import Mapped, StatementMapper
from preuve.connectors.xapi.options import parse_options
from preuve.connectors.xapi.tables import xapi_statement
from preuve.connectors.xapi.validation import StatementError, parse_timestamp, validate_statement
from preuve.evidence.model import EvidenceRecord, Withdrawal
from preuve.i18n import Text
from preuve.store import Store, WriteResult
from preuve.store.evidence_store import write_batch_on

log = logging.getLogger(__name__)

# Namespace of the ids given to statements sent without one (content-derived).
CONTENT_ID_NAMESPACE = uuid.UUID("6f1d4c8e-2b7a-5e39-9c0d-7a4b1e2f3c5d")
_LOOKUP_CHUNK = 500
_SQLITE_LOCKS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()

MSG_DUPLICATE_IN_BATCH = Text(
    fr="l'id {id} figure deux fois dans le lot", en="id {id} appears twice in the batch"
)
MSG_CONFLICT = Text(
    fr="une déclaration d'id {id} existe déjà avec un autre contenu",
    en="a statement with id {id} already exists with other content",
)


@dataclass(frozen=True, slots=True)
class IntakeSource:
    """An xAPI source with ``options.intake = true``: who may send, and the mapping."""

    tenant: str
    source: str
    username: str
    password_digest: bytes
    connector: XapiConnector
    mapper: StatementMapper


@dataclass(slots=True)
class Prepared:
    """A valid statement, completed as the LRS completes it."""

    statement: dict[str, Any]
    statement_id: str
    content_hash: str
    voids: str | None


class ConflictError(Exception):
    def __init__(self, statement_id: str) -> None:
        super().__init__(MSG_CONFLICT(id=statement_id))
        self.statement_id = statement_id


@dataclass(slots=True)
class Received:
    ids: list[str]
    new: int
    resent: int
    written: WriteResult


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


class IntakeDirectory:
    """The intake sources of every tenant, found by their Basic credentials."""

    def __init__(self, sources: Sequence[IntakeSource]) -> None:
        self._by_user: dict[str, list[IntakeSource]] = {}
        for item in sources:
            self._by_user.setdefault(item.username, []).append(item)

    @classmethod
    def from_settings(cls, settings: Settings) -> IntakeDirectory:
        found: list[IntakeSource] = []
        for tenant in settings.tenants:
            for source in tenant.sources:
                if source.kind == "xapi" and source.enabled and source.options.get("intake"):
                    item = _intake_source(tenant, source, settings.web.public_url)
                    if item is not None:
                        found.append(item)
        return cls(found)

    def __len__(self) -> int:
        return sum(len(items) for items in self._by_user.values())

    def authenticate(self, header: str | None) -> IntakeSource | None:
        """The source whose credentials the ``Authorization: Basic`` header carries."""
        if not header or not header.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        if not sep:
            return None
        digest = _digest(password)
        for item in self._by_user.get(username, []):
            if hmac.compare_digest(digest, item.password_digest):
                return item
        return None


def _intake_source(
    tenant: TenantConfig, source: SourceConfig, public_url: str | None
) -> IntakeSource | None:
    try:
        parse_options(source)
        username = source.credential("username") or ""
        password = source.credential("password") or ""
    except SecretMissingError as exc:
        # The web app still starts; this source's senders get 401 until it is fixed.
        log.warning("xAPI intake %s/%s disabled: %s", tenant.id, source.id, exc)
        return None
    connector = build_connector(tenant, source)
    if not isinstance(connector, XapiConnector):  # pragma: no cover - registry guarantees it
        return None
    return IntakeSource(
        tenant=tenant.id,
        source=source.id,
        username=username,
        password_digest=_digest(password),
        connector=connector,
        mapper=connector.mapper(url_for=_link(public_url)),
    )


def _link(public_url: str | None) -> Callable[[str], str | None] | None:
    """Provenance link of a received statement: Preuve's own ``GET ?statementId=``."""
    if not public_url:
        return None
    base = public_url.rstrip("/") + "/xapi/statements?statementId="
    return lambda statement_id: base + statement_id


# -- preparing ----------------------------------------------------------------------


def _strip_definitions(activity: Any) -> Any:
    if isinstance(activity, dict) and "definition" in activity:
        return {k: v for k, v in activity.items() if k != "definition"}
    return activity


def content_hash(statement: dict[str, Any]) -> str:
    """Hash of what a resend must repeat: not what the LRS assigns (id, stored,
    authority, version), nor what may change without changing the statement
    (verb display, activity definitions, the time zone of the timestamp)."""
    body = {k: v for k, v in statement.items() if k not in ("id", "stored", "authority", "version")}
    verb = body.get("verb")
    if isinstance(verb, dict):
        body["verb"] = {"id": verb.get("id")}
    body["object"] = _strip_definitions(body.get("object"))
    context = body.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        activities = {
            key: [_strip_definitions(a) for a in (value if isinstance(value, list) else [value])]
            for key, value in context["contextActivities"].items()
        }
        body["context"] = {**context, "contextActivities": activities}
    timestamp = body.get("timestamp")
    if isinstance(timestamp, str):
        parsed = parse_timestamp(timestamp)
        if parsed is not None:
            body["timestamp"] = parsed.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def prepare(
    statements: Sequence[Any],
    *,
    version_2: bool,
    authority: dict[str, Any],
    now: datetime,
) -> list[Prepared]:
    """Validate every statement (the first fault refuses the batch) and complete it.

    Raises :class:`StatementError` whose path starts with the statement's index.
    """
    prepared: list[Prepared] = []
    seen: set[str] = set()
    stored = _iso(now)
    for index, item in enumerate(statements):
        try:
            validate_statement(item, version_2=version_2)
        except StatementError as exc:
            raise StatementError(f"[{index}].{exc.path}".rstrip("."), exc.reason) from exc
        digest = content_hash(item)
        statement_id = str(item.get("id") or uuid.uuid5(CONTENT_ID_NAMESPACE, digest)).lower()
        if statement_id in seen:
            raise StatementError(f"[{index}].id", MSG_DUPLICATE_IN_BATCH(id=statement_id))
        seen.add(statement_id)
        completed = dict(item)
        completed["id"] = statement_id
        completed["stored"] = stored
        completed.setdefault("timestamp", stored)
        completed["authority"] = authority
        completed.setdefault("version", "1.0.0" if not version_2 else "2.0.0")
        target = item.get("object") or {}
        voids = target.get("id") if item["verb"]["id"] == VOIDED else None
        prepared.append(Prepared(completed, statement_id, digest, voids))
    return prepared


# -- storing ---------------------------------------------------------------------


def _lookup_statement() -> Any:
    """(what, key, value) rows: stored ids with their hash, and tombstones.

    Built once with expanding parameters: the statement's compiled form is
    cached, so a batch does not pay for building and keying it again.
    """
    table = xapi_statement.c
    scope = (table.tenant == bindparam("tenant"), table.source == bindparam("source"))
    stored = select(
        literal("id").label("what"), table.statement_id.label("key"), table.content_hash
    ).where(*scope, table.statement_id.in_(bindparam("ids", expanding=True)))
    voiding = select(
        literal("void").label("what"), table.voids.label("key"), table.statement_id
    ).where(*scope, table.voids.is_not(None), table.voids.in_(bindparam("ids", expanding=True)))
    return union_all(stored, voiding)


_LOOKUP = _lookup_statement()
_INSERT = xapi_statement.insert()


async def _lookup(
    conn: AsyncConnection, tenant: str, source: str, ids: Sequence[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(stored id -> content hash, voided id -> voiding id) for these ids.

    The second map holds the tombstones: voiding statements stored before the
    statement they void. One round trip, two index searches (a UNION ALL: an
    OR of the two conditions would scan every statement of the source).
    """
    hashes: dict[str, str] = {}
    tombstones: dict[str, str] = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = list(ids[start : start + _LOOKUP_CHUNK])
        params = {"tenant": tenant, "source": source, "ids": chunk}
        for what, key, value in await conn.execute(_LOOKUP, params):
            (hashes if what == "id" else tombstones)[str(key)] = str(value)
    return hashes, tombstones


async def _store_once(
    store: Store, intake: IntakeSource, batch: list[Prepared], mapped: list[Mapped]
) -> Received:
    tenant, source = intake.tenant, intake.source
    ids = [item.statement_id for item in batch]
    async with store.engine.begin() as conn:
        existing, tombstones = await _lookup(conn, tenant, source, ids)
        fresh: list[Prepared] = []
        fresh_mapped: list[Mapped] = []
        for item, result in zip(batch, mapped, strict=True):
            found = existing.get(item.statement_id)
            if found is None:
                fresh.append(item)
                fresh_mapped.append(result)
            elif found != item.content_hash:
                raise ConflictError(item.statement_id)
        if not fresh:
            return Received(ids, 0, len(batch), WriteResult())

        in_batch_voids = {i.voids: i.statement_id for i in fresh if i.voids is not None}
        rows = []
        records: list[EvidenceRecord] = []
        withdrawals: list[Withdrawal] = []
        mapper = intake.mapper
        # Every statement of a request has the same stored time: parse it once.
        stored_times: dict[str, datetime | None] = {}
        for item, result in zip(fresh, fresh_mapped, strict=True):
            tombstone = tombstones.get(item.statement_id)
            voided_by = tombstone or in_batch_voids.get(item.statement_id)
            stored_text = item.statement["stored"]
            if stored_text not in stored_times:
                stored_times[stored_text] = parse_timestamp(stored_text)
            stored_at = stored_times[stored_text]
            rows.append(
                {
                    "tenant": tenant,
                    "source": source,
                    "statement_id": item.statement_id,
                    "content_hash": item.content_hash,
                    "stored": stored_at,
                    "voids": item.voids,
                    "voided_by": voided_by,
                    "statement": pseudonymised(item.statement, mapper.actors.person_ref),
                }
            )
            if result.record is not None:
                records.append(result.record)
            withdrawals.extend(result.withdrawals)
            # Voided by an earlier request: withdraw now. (A voiding statement of
            # this batch brings its own withdrawals.)
            if tombstone is not None and stored_at is not None:
                withdrawals.extend(mapper.withdrawals_for(item.statement_id, tombstone, stored_at))
        await conn.execute(_INSERT, rows)
        for item in fresh:
            if item.voids is not None:
                await conn.execute(
                    update(xapi_statement)
                    .where(
                        xapi_statement.c.tenant == tenant,
                        xapi_statement.c.source == source,
                        xapi_statement.c.statement_id == item.voids,
                    )
                    .values(voided_by=item.statement_id)
                )
        written = await write_batch_on(conn, tenant, source, records, withdrawals)
        return Received(ids, len(fresh), len(batch) - len(fresh), written)


# The homePage of the accounts that stand for people in kept statements.
PSEUDONYM_HOMEPAGE = "urn:preuve:person"
# Context and result parts that can name people or carry their free text.
_PERSONAL_CONTEXT = ("instructor", "team")


def _pseudonymous_agent(agent: Any, person_ref: Callable[[Any], str | None]) -> Any:
    if not isinstance(agent, dict):
        return agent
    if agent.get("objectType") == "Group":
        members = agent.get("member")
        return {
            "objectType": "Group",
            "member": [_pseudonymous_agent(m, person_ref) for m in members or []],
        }
    key = person_ref(agent)
    return {
        "objectType": "Agent",
        "account": {"homePage": PSEUDONYM_HOMEPAGE, "name": key or "unknown"},
    }


def pseudonymised(
    statement: dict[str, Any], person_ref: Callable[[Any], str | None]
) -> dict[str, Any]:
    """The statement as kept: people replaced by their pseudonymous keys.

    The intake keeps statements to answer ``GET ?statementId=`` and to compare
    resends (by the hash of the statement as received), not to hold learners'
    e-mail addresses and names: the actor, an Agent object, the instructor and
    team become accounts named by the person key, and free-text responses go.
    """
    kept = dict(statement)
    kept["actor"] = _pseudonymous_agent(statement.get("actor"), person_ref)
    target = statement.get("object")
    if isinstance(target, dict) and target.get("objectType") in ("Agent", "Group"):
        kept["object"] = _pseudonymous_agent(target, person_ref)
    context = statement.get("context")
    if isinstance(context, dict) and any(k in context for k in _PERSONAL_CONTEXT):
        kept["context"] = {k: v for k, v in context.items() if k not in _PERSONAL_CONTEXT}
    result = statement.get("result")
    if isinstance(result, dict) and "response" in result:
        kept["result"] = {k: v for k, v in result.items() if k != "response"}
    return kept


def _write_lock(store: Store) -> asyncio.Lock | None:
    """SQLite has one writer, and a deferred transaction whose snapshot went stale
    while it waited cannot upgrade to write ("database is locked"): intake
    requests on SQLite take turns. PostgreSQL runs them concurrently."""
    if store.engine.dialect.name != "sqlite":
        return None
    lock = _SQLITE_LOCKS.get(store.engine)
    if lock is None:
        lock = _SQLITE_LOCKS[store.engine] = asyncio.Lock()
    return lock


async def receive(store: Store, intake: IntakeSource, batch: list[Prepared]) -> Received:
    """Store a prepared batch atomically; raises :class:`ConflictError`."""
    # Mapped before taking the lock: another request's SQL runs meanwhile.
    mapped = [intake.mapper.map(item.statement) for item in batch]
    lock = _write_lock(store)
    if lock is not None:
        async with lock:
            return await _receive(store, intake, batch, mapped)
    return await _receive(store, intake, batch, mapped)


async def _receive(
    store: Store, intake: IntakeSource, batch: list[Prepared], mapped: list[Mapped]
) -> Received:
    try:
        return await _store_once(store, intake, batch, mapped)
    except IntegrityError:
        # A concurrent request stored one of these ids first: once more, now it
        # is either an identical resend or a conflict.
        return await _store_once(store, intake, batch, mapped)


async def get_statement(
    store: Store, intake: IntakeSource, statement_id: str, *, voided: bool
) -> dict[str, Any] | None:
    """A stored statement; a voided one only when ``voided`` (and vice versa)."""
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(xapi_statement.c.statement, xapi_statement.c.voided_by).where(
                    xapi_statement.c.tenant == intake.tenant,
                    xapi_statement.c.source == intake.source,
                    xapi_statement.c.statement_id == statement_id.lower(),
                )
            )
        ).first()
    if row is None or (row.voided_by is not None) != voided:
        return None
    statement = row.statement
    return statement if isinstance(statement, dict) else None


def authority_for(intake: IntakeSource, public_url: str | None) -> dict[str, Any]:
    """The authority the intake vouches with: the configured source itself."""
    return {
        "objectType": "Agent",
        "name": f"preuve:{intake.tenant}/{intake.source}",
        "account": {"homePage": public_url or "urn:preuve", "name": intake.source},
    }


__all__ = [
    "INTAKE_VERSION",
    "ConflictError",
    "IntakeDirectory",
    "IntakeSource",
    "Prepared",
    "Received",
    "authority_for",
    "content_hash",
    "get_statement",
    "prepare",
    "receive",
]
