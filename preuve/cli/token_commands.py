"""Commands: ``preuve token`` create, list, revoke (API tokens of the web app).

The token string is printed once, by ``create``; the store keeps only its hash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import click
from rich import box
from rich.markup import escape
from rich.table import Table

from preuve.cli.common import CliState, pass_state
from preuve.constants import EXIT_USAGE
from preuve.i18n import Text
from preuve.store import Store
from preuve.web.tokens import (
    ApiToken,
    Scope,
    TokenError,
    TokenNotFoundError,
    TokenStatus,
    create_token,
    list_tokens,
    revoke_token,
)

T = TypeVar("T")

MSG_CREATED = Text(
    fr="Jeton {id} créé ({who}, portée {scope}). Le voici, affiché une seule fois : "
    "conservez-le dans un coffre de secrets, il ne pourra pas être retrouvé.",
    en="Token {id} created ({who}, scope {scope}). Here it is, shown this once: keep it in "
    "a secret store, it cannot be recovered.",
)
MSG_USE = Text(
    fr="En-tête à envoyer : Authorization: Bearer <jeton>",
    en="Header to send: Authorization: Bearer <token>",
)
MSG_FOR_TENANT = Text(fr="organisme {tenant}", en="tenant {tenant}")
MSG_OPERATOR = Text(fr="opérateur, tous les organismes", en="operator, every tenant")
MSG_REVOKED = Text(fr="Jeton {id} révoqué.", en="Token {id} revoked.")
MSG_ALREADY_REVOKED = Text(
    fr="Jeton {id} déjà révoqué le {when}.", en="Token {id} was already revoked on {when}."
)
MSG_WHO = Text(
    fr="précisez --tenant ORGANISME (jeton d'un organisme) ou --operator (jeton valable pour "
    "tous les organismes), l'un ou l'autre",
    en="give either --tenant TENANT (a tenant's token) or --operator (a token valid for "
    "every tenant), one of the two",
)
MSG_NONE = Text(fr="Aucun jeton.", en="No token.")
MSG_EVERY_TENANT = Text(fr="* (opérateur)", en="* (operator)")
HEADERS = (
    Text(fr="organisme", en="tenant"),
    Text(fr="portée", en="scope"),
    Text(fr="nom", en="name"),
    Text(fr="utilisé", en="last used"),
    Text(fr="expire", en="expires"),
    Text(fr="état", en="state"),
)
STATUS_LABELS = {
    TokenStatus.ACTIVE: Text(fr="actif", en="active"),
    TokenStatus.EXPIRED: Text(fr="expiré", en="expired"),
    TokenStatus.REVOKED: Text(fr="révoqué", en="revoked"),
}


def _with_store(state: CliState, work: Callable[[Store], Awaitable[T]]) -> T:
    return state.with_store(work, {TokenNotFoundError: EXIT_USAGE, TokenError: EXIT_USAGE})


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def _day(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d") if value else "-"


@click.group("token")
def token_group() -> None:
    """API tokens of the web app: create, list, revoke."""


@token_group.command("create")
@click.option("--tenant", "tenant_id", help="The tenant the token is restricted to.")
@click.option("--operator", is_flag=True, help="A token valid for every tenant (no --tenant).")
@click.option(
    "--scope",
    required=True,
    type=click.Choice([s.value for s in Scope]),
    help="read: GET; write: also POST/DELETE; admin: also webhook management.",
)
@click.option("--name", required=True, help="A label: who or what uses the token.")
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Expiry, in days from now (default: never).",
)
@pass_state
def token_create(
    state: CliState,
    tenant_id: str | None,
    operator: bool,
    scope: str,
    name: str,
    expires_in_days: int | None,
) -> None:
    """Create a token; prints it once (only its hash is stored)."""
    if operator == (tenant_id is not None):
        state.fail(MSG_WHO(), EXIT_USAGE)
    tenant = None if operator else state.tenant(tenant_id).id
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    token, secret = _with_store(
        state,
        lambda store: create_token(
            store, tenant=tenant, scope=Scope(scope), name=name, expires_at=expires_at
        ),
    )
    if state.json_output:
        state.emit_json({**token.as_json(), "token": secret})
        return
    who = MSG_FOR_TENANT(tenant=tenant) if tenant else MSG_OPERATOR()
    state.console.print(MSG_CREATED(id=token.id, who=who, scope=token.scope.value))
    state.console.print(secret, soft_wrap=True, markup=False)
    state.err_console.print(MSG_USE(), markup=False)


@token_group.command("list")
@click.option("--tenant", "tenant_id", help="Only this tenant's tokens (default: every token).")
@pass_state
def token_list(state: CliState, tenant_id: str | None) -> None:
    """List tokens: id, tenant, scope, name, last use, expiry, state (never the token).

    --json adds the creation and revocation dates."""
    # A tenant removed from the configuration may still have tokens to list and revoke.
    tenant = tenant_id
    tokens: list[ApiToken] = _with_store(state, lambda store: list_tokens(store, tenant))
    if state.json_output:
        state.emit_json([t.as_json() for t in tokens])
        return
    if not tokens:
        state.console.print(MSG_NONE())
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("id", no_wrap=True)
    for header, wraps in zip(HEADERS, (True, False, True, False, False, False), strict=True):
        table.add_column(header(), overflow="fold", no_wrap=not wraps)
    for token in tokens:
        table.add_row(
            token.id,
            token.tenant or MSG_EVERY_TENANT(),
            token.scope.value,
            escape(token.name),
            _day(token.last_used_at),
            _day(token.expires_at),
            STATUS_LABELS[token.status()](),
        )
    state.console.print(table)


@token_group.command("revoke")
@click.argument("token_id")
@pass_state
def token_revoke(state: CliState, token_id: str) -> None:
    """Revoke a token at once (the next request with it gets 401)."""
    before = datetime.now(UTC)
    token = _with_store(state, lambda store: revoke_token(store, token_id, now=before))
    if state.json_output:
        state.emit_json(token.as_json())
        return
    assert token.revoked_at is not None
    if token.revoked_at < before:
        state.console.print(MSG_ALREADY_REVOKED(id=token.id, when=_when(token.revoked_at)))
    else:
        state.console.print(MSG_REVOKED(id=token.id))


def register(group: click.Group) -> None:
    group.add_command(token_group)
