"""API tokens: create, list, revoke, verify. Only a SHA-256 hash is stored.

A token reads ``pvt_<12 hex>_<43 url-safe characters>``: the recognisable prefix
(secret scanners, logs), the public part of its id, then 32 random bytes. The id
(``tok_<12 hex>``) finds the row; the hash of the whole token is then compared in
constant time. The secret carries 256 random bits, so a plain SHA-256 is enough
(no salt or slow hash needed: nothing to guess).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import or_, select, update

from preuve.i18n import Text
from preuve.store import Store
from preuve.web.tables import api_token

TOKEN_PREFIX: Final = "pvt_"  # noqa: S105 - a prefix, not a secret
ID_PREFIX: Final = "tok_"
MAX_NAME_LENGTH: Final = 100
# last_used_at is written at most this often per token (not once per request).
TOUCH_INTERVAL: Final = timedelta(minutes=1)

_TOKEN_RE = re.compile(r"^pvt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
# Compared against when the id is unknown, so both paths hash and compare.
_DUMMY_HASH: Final = hashlib.sha256(b"preuve-no-such-token").hexdigest()

MSG_NOT_FOUND = Text(fr="jeton inconnu : {id}", en="unknown token: {id}")
MSG_BAD_NAME = Text(
    fr="nom du jeton : entre 1 et {limit} caractères",
    en="token name: between 1 and {limit} characters",
)


class Scope(StrEnum):
    """What a token may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    def covers(self, needed: Scope) -> bool:
        order = list(Scope)
        return order.index(self) >= order.index(needed)


class TokenStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class TokenNotFoundError(LookupError):
    pass


class TokenError(ValueError):
    """A token definition that cannot be saved."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: str
    tenant: str | None  # None: operator token, every tenant
    scope: Scope
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def operator(self) -> bool:
        return self.tenant is None

    def status(self, now: datetime | None = None) -> TokenStatus:
        if self.revoked_at is not None:
            return TokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC)):
            return TokenStatus.EXPIRED
        return TokenStatus.ACTIVE

    def as_json(self) -> dict[str, Any]:
        """Public view: never the secret nor its hash."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "tenant": self.tenant,
            "scope": self.scope.value,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "last_used_at": when(self.last_used_at),
            "expires_at": when(self.expires_at),
            "revoked_at": when(self.revoked_at),
            "status": self.status().value,
        }


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking a presented token: the token, or why it was refused."""

    token: ApiToken | None
    refusal: TokenStatus | None = None  # EXPIRED, REVOKED; None with no token: unknown

    @property
    def accepted(self) -> bool:
        return self.token is not None and self.refusal is None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id_of(presented: str) -> str | None:
    """The id a well-formed token names (not a proof of anything), else None."""
    match = _TOKEN_RE.match(presented)
    return ID_PREFIX + match[1] if match else None


def _from_row(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        tenant=row.tenant,
        scope=Scope(row.scope),
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


async def create_token(
    store: Store,
    *,
    tenant: str | None,
    scope: Scope,
    name: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Save a new token; returns it with the token string (the only time it exists)."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise TokenError(MSG_BAD_NAME(limit=MAX_NAME_LENGTH))
    public = secrets.token_hex(6)
    presented = f"{TOKEN_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        id=ID_PREFIX + public,
        tenant=tenant,
        scope=Scope(scope),
        name=name,
        created_at=now or datetime.now(UTC),
        last_used_at=None,
        expires_at=expires_at,
        revoked_at=None,
    )
    async with store.engine.begin() as conn:
        await conn.execute(
            api_token.insert().values(
                id=token.id,
                tenant=token.tenant,
                scope=token.scope.value,
                name=token.name,
                secret_hash=hash_token(presented),
                created_at=token.created_at,
                expires_at=token.expires_at,
            )
        )
    return token, presented


async def list_tokens(store: Store, tenant: str | None = None) -> list[ApiToken]:
    """Every token, or those of one tenant (operator tokens excluded then)."""
    query = select(api_token).order_by(api_token.c.created_at, api_token.c.id)
    if tenant is not None:
        query = query.where(api_token.c.tenant == tenant)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [_from_row(row) for row in rows]


async def get_token(store: Store, token_id: str) -> ApiToken:
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(api_token).where(api_token.c.id == token_id))).first()
    if row is None:
        raise TokenNotFoundError(MSG_NOT_FOUND(id=token_id))
    return _from_row(row)


async def revoke_token(store: Store, token_id: str, *, now: datetime | None = None) -> ApiToken:
    """Revoke a token at once (idempotent: a revoked token keeps its first date)."""
    async with store.engine.begin() as conn:
        await conn.execute(
            update(api_token)
            .where(api_token.c.id == token_id, api_token.c.revoked_at.is_(None))
            .values(revoked_at=now or datetime.now(UTC))
        )
    return await get_token(store, token_id)


async def any_token(store: Store) -> bool:
    """Whether a token was ever created (revoked and expired ones count)."""
    async with store.engine.connect() as conn:
        return (await conn.execute(select(api_token.c.id).limit(1))).first() is not None


async def active_tokens(store: Store, *, now: datetime | None = None) -> Sequence[ApiToken]:
    moment = now or datetime.now(UTC)
    return [t for t in await list_tokens(store) if t.status(moment) is TokenStatus.ACTIVE]


async def verify_token(
    store: Store, presented: str, *, now: datetime | None = None
) -> Verification:
    """Check a presented token; marks it used (at most once a minute) when accepted."""
    moment = now or datetime.now(UTC)
    token_id = token_id_of(presented)
    row = None
    if token_id is not None:
        async with store.engine.connect() as conn:
            query = select(api_token).where(api_token.c.id == token_id)
            row = (await conn.execute(query)).first()
    stored_hash = row.secret_hash if row is not None else _DUMMY_HASH
    if not hmac.compare_digest(stored_hash, hash_token(presented)) or row is None:
        return Verification(None)
    token = _from_row(row)
    status = token.status(moment)
    if status is not TokenStatus.ACTIVE:
        return Verification(token, status)
    if token.last_used_at is None or moment - token.last_used_at >= TOUCH_INTERVAL:
        await _touch(store, token.id, moment)
    return Verification(token)


async def _touch(store: Store, token_id: str, moment: datetime) -> None:
    # Conditional: concurrent requests of the same minute write once between them.
    async with store.engine.begin() as conn:
        await conn.execute(
            update(api_token)
            .where(
                api_token.c.id == token_id,
                or_(
                    api_token.c.last_used_at.is_(None),
                    api_token.c.last_used_at <= moment - TOUCH_INTERVAL,
                ),
            )
            .values(last_used_at=moment)
        )
