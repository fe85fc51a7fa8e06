"""API authentication: bearer tokens, scopes, tenants, and when they are enforced.

Every request goes through :func:`auth_middleware`. The route's access rule comes
from :data:`ACCESS_RULES`, the one table that says which routes are open (they
authenticate on their own or must stay open), and which scope the others need:

- ``read``: GET, HEAD and OPTIONS;
- ``write``: POST, PUT, PATCH, DELETE;
- ``admin``: everything under ``/api/tenants/{tenant}/webhooks/`` (endpoints,
  secrets, delivery log, replay), except the signed inbound endpoint.

Scopes nest (admin ⊇ write ⊇ read). A tenant token reaches only the routes of its
tenant (``{tenant}`` in the path). Routes that span tenants (``/api/tenants``,
``/api/sync/status``, ``/api/sync/runs/{run_id}``) need an operator token (one
without a tenant); ``GET /api/sync/runs`` also takes a tenant token when
``?tenant=`` names its tenant, the route then lists that tenant's runs only.

When (``[web] auth``): ``required`` always; ``off`` never (warned at start);
``auto`` (default) once a token exists (even revoked or expired: revoking every
token does not reopen the API), when the app listens beyond the loopback, or for
a request that came through a reverse proxy (``Forwarded``, ``X-Forwarded-For``,
``X-Real-IP``), so the single-machine default needs no setup and nothing else is
left open.

401 (with ``WWW-Authenticate: Bearer``): no token, unknown, expired or revoked.
403: a valid token without the scope or for another tenant. Bodies are JSON,
``{"error": <message, French first>, "code": <stable code>}``. Tokens are never
logged (only their public id).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from aiohttp import web

from preuve.config.settings import WebConfig
from preuve.i18n import Text
from preuve.store import Store
from preuve.web.keys import SETTINGS_KEY, STORE_KEY, TOKEN_KEY
from preuve.web.tokens import (
    ApiToken,
    Scope,
    TokenStatus,
    active_tokens,
    any_token,
    token_id_of,
    verify_token,
)

logger = logging.getLogger(__name__)

REALM: Final = "Preuve"
READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
PROXY_HEADERS: Final = ("Forwarded", "X-Forwarded-For", "X-Real-IP")

MSG_MISSING = Text(
    fr="authentification requise : en-tête « Authorization: Bearer <jeton> » attendu "
    "(un administrateur crée les jetons avec « preuve token create »)",
    en="authentication required: expected an 'Authorization: Bearer <token>' header "
    "(an administrator creates tokens with 'preuve token create')",
)
MSG_INVALID = Text(fr="jeton d'API invalide", en="invalid API token")
MSG_EXPIRED = Text(fr="jeton d'API expiré", en="expired API token")
MSG_REVOKED = Text(fr="jeton d'API révoqué", en="revoked API token")
MSG_SCOPE = Text(
    fr="ce jeton (portée « {scope} ») ne permet pas cette requête : portée « {needed} » requise",
    en="this token (scope '{scope}') does not allow this request: scope '{needed}' required",
)
MSG_TENANT = Text(
    fr="ce jeton est réservé à l'organisme « {tenant} »",
    en="this token is restricted to tenant '{tenant}'",
)
MSG_OPERATOR = Text(
    fr="cette route concerne tous les organismes : un jeton d'opérateur est requis",
    en="this route spans every tenant: an operator token is required",
)
MSG_OPERATOR_OR_QUERY = Text(
    fr="cette route concerne tous les organismes : un jeton d'opérateur est requis, "
    "ou ?tenant={tenant} pour les seules données de votre organisme",
    en="this route spans every tenant: an operator token is required, "
    "or ?tenant={tenant} for your tenant's data only",
)
MSG_AUTH_OFF = Text(
    fr="[web] auth = \"off\" : l'API n'exige aucun jeton, toute personne qui atteint le port "
    "lit et modifie les données de tous les organismes",
    en='[web] auth = "off": the API requires no token, anyone who reaches the port reads '
    "and changes every tenant's data",
)
MSG_AUTH_OPEN_LOCAL = Text(
    fr="API sans jeton sur la boucle locale ({host}) tant qu'aucun jeton n'existe "
    "(« preuve token create » pour l'exiger)",
    en="API without tokens on the loopback ({host}) while no token exists "
    "('preuve token create' to require them)",
)
MSG_NO_ACTIVE_TOKEN = Text(
    fr="authentification exigée mais aucun jeton actif : l'API refusera toute requête "
    "(« preuve token create »)",
    en="authentication is required but no token is active: the API will refuse every "
    "request ('preuve token create')",
)
MSG_NEEDS_TOKEN = Text(
    fr="refus de démarrer : le serveur écouterait sur {host}, au-delà de la boucle locale, "
    "et aucun jeton d'API n'existe. Créez-en un d'abord, par exemple : "
    "preuve token create --operator --scope admin --name exploitation "
    '(ou écoutez sur 127.0.0.1, ou, en connaissance de cause, [web] auth = "off")',
    en="refusing to start: the server would listen on {host}, beyond the loopback, and no "
    "API token exists. Create one first, e.g.: "
    "preuve token create --operator --scope admin --name operations "
    '(or listen on 127.0.0.1, or, knowingly, [web] auth = "off")',
)


class Tenancy(Enum):
    """How a tenant token is matched to a route (an operator token passes them all)."""

    PATH = "path"  # the {tenant} path segment
    QUERY = "query"  # the ?tenant= parameter, which the route filters by
    OPERATOR = "operator"  # spans tenants: operator tokens only


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Who may call a route: ``scope`` None means open (the route authenticates itself).

    ``methods``: "*" or a space-separated list (GET also covers HEAD and OPTIONS).
    ``path``: the route's canonical path, exact, or a prefix ending in ``/*``, or ``*``.
    ``open_unless``: the route is open unless this ``[web]`` boolean setting is true.
    ``tenancy``: None means PATH when the path has ``{tenant}``, OPERATOR otherwise.
    """

    methods: str
    path: str
    scope: Scope | None
    open_unless: str | None = None
    tenancy: Tenancy | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.methods != "*":
            allowed = set(self.methods.split())
            if "GET" in allowed:
                allowed |= READ_METHODS
            if method not in allowed:
                return False
        if self.path == "*":
            return True
        if self.path.endswith("/*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def is_open(self, config: WebConfig) -> bool:
        if self.scope is None:
            return True
        return self.open_unless is not None and not getattr(config, self.open_unless)

    def tenancy_for(self, path: str) -> Tenancy:
        if self.tenancy is not None:
            return self.tenancy
        return Tenancy.PATH if "{tenant}" in path else Tenancy.OPERATOR


# First match wins. Keep the open routes first and the catch-alls last.
ACCESS_RULES: Final[tuple[AccessRule, ...]] = (
    # Open: liveness (no data); xAPI intake (Basic credentials per source);
    # inbound LMS events (Standard Webhooks signature per tenant).
    AccessRule("*", "/healthz", None),
    AccessRule("GET", "/metrics", Scope.READ, open_unless="metrics_auth"),
    AccessRule("*", "/xapi/*", None),
    AccessRule("POST", "/api/tenants/{tenant}/webhooks/inbound", None),
    # Webhook management: endpoints, secrets, delivery log, replay.
    AccessRule("*", "/api/tenants/{tenant}/webhooks/*", Scope.ADMIN),
    # Spans tenants but filters by ?tenant=: a tenant token may ask for its own.
    AccessRule("GET", "/api/sync/runs", Scope.READ, tenancy=Tenancy.QUERY),
    # Everything else, including routes added later: read to look, write to act.
    AccessRule("GET", "*", Scope.READ),
    AccessRule("*", "*", Scope.WRITE),
)


def access_rule(method: str, path: str) -> AccessRule:
    for rule in ACCESS_RULES:
        if rule.matches(method, path):
            return rule
    raise AssertionError("the last rule matches everything")  # pragma: no cover


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a listen address) only accepts connections from this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name or a wildcard ("", "0.0.0.0" is an address): not local


@dataclass(slots=True)
class AuthPolicy:
    """When tokens are enforced, for one app."""

    mode: str
    loopback: bool
    host: str
    _tokens_seen: bool = field(default=False, repr=False)

    async def enforced(self, store: Store, request: web.Request) -> bool:
        if self.mode == "off":
            return False
        if self.mode == "required" or not self.loopback:
            return True
        if any(name in request.headers for name in PROXY_HEADERS):
            return True  # a request relayed from elsewhere is not a local one
        if not self._tokens_seen:
            # Once a token exists, auth stays on: tokens are revoked, never deleted.
            self._tokens_seen = await any_token(store)
        return self._tokens_seen


AUTH_POLICY_KEY = web.AppKey("auth_policy", AuthPolicy)


def _refuse(status: int, code: str, message: str, challenge: str | None = None) -> web.Response:
    headers = {"WWW-Authenticate": challenge} if challenge else None
    return web.json_response({"error": message, "code": code}, status=status, headers=headers)


def _unauthorised(code: str, message: str, *, invalid: bool) -> web.Response:
    challenge = f'Bearer realm="{REALM}"'
    if invalid:
        challenge += ', error="invalid_token"'
    return _refuse(401, code, message, challenge)


def _bearer(request: web.Request) -> str:
    """The presented bearer token ("" when there is none)."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _tenant_refusal(token: ApiToken, rule: AccessRule, path: str, request: web.Request) -> str:
    """Why this token may not reach this route's tenant ("" when it may)."""
    if token.tenant is None:
        return ""
    tenancy = rule.tenancy_for(path)
    if tenancy is Tenancy.PATH:
        wanted = request.match_info.get("tenant")
        return "" if wanted == token.tenant else MSG_TENANT(tenant=token.tenant)
    if tenancy is Tenancy.QUERY:
        wanted = request.query.get("tenant")
        return "" if wanted == token.tenant else MSG_OPERATOR_OR_QUERY(tenant=token.tenant)
    return MSG_OPERATOR()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    # Unmatched requests (404, 405) need a valid token too, then get their answer.
    path = resource.canonical if resource is not None else None
    rule = access_rule(request.method, path) if path is not None else None
    config = request.app[SETTINGS_KEY].web
    if rule is not None and rule.is_open(config):
        return await handler(request)
    store = request.app[STORE_KEY]
    if not await request.app[AUTH_POLICY_KEY].enforced(store, request):
        return await handler(request)

    presented = _bearer(request)
    if not presented:  # no Authorization header, another scheme, or an empty one
        return _unauthorised("token_missing", MSG_MISSING(), invalid=False)
    checked = await verify_token(store, presented)
    token = checked.token
    token_id = token.id if token else token_id_of(presented)
    if token is None or checked.refusal is not None:
        reason = checked.refusal.value if checked.refusal else "invalid"
        logger.info(
            "API token refused (%s): %s %s, token id %s",
            reason,
            request.method,
            request.path,
            token_id or "-",
        )
        if checked.refusal is TokenStatus.EXPIRED:
            return _unauthorised("token_expired", MSG_EXPIRED(), invalid=True)
        if checked.refusal is TokenStatus.REVOKED:
            return _unauthorised("token_revoked", MSG_REVOKED(), invalid=True)
        return _unauthorised("token_invalid", MSG_INVALID(), invalid=True)

    if rule is not None and path is not None:
        assert rule.scope is not None  # open rules returned above
        if not token.scope.covers(rule.scope):
            challenge = (
                f'Bearer realm="{REALM}", error="insufficient_scope", scope="{rule.scope.value}"'
            )
            message = MSG_SCOPE(scope=token.scope.value, needed=rule.scope.value)
            return _refuse(403, "insufficient_scope", message, challenge)
        refusal = _tenant_refusal(token, rule, path, request)
        if refusal:
            code = "wrong_tenant" if rule.tenancy_for(path) is Tenancy.PATH else "operator_only"
            return _refuse(403, code, refusal)
    request[TOKEN_KEY] = token
    return await handler(request)


def setup_auth(app: web.Application, host: str) -> None:
    """Install the policy for an app that listens on ``host`` (the middleware is in app.py)."""
    mode = app[SETTINGS_KEY].web.auth
    app[AUTH_POLICY_KEY] = AuthPolicy(mode=mode, loopback=is_loopback(host), host=host)

    async def _announce(app: web.Application) -> None:
        policy = app[AUTH_POLICY_KEY]
        if policy.mode == "off":
            logger.warning(MSG_AUTH_OFF())
            return
        store = app[STORE_KEY]
        if policy.mode == "auto" and policy.loopback and not await any_token(store):
            logger.info(MSG_AUTH_OPEN_LOCAL(host=host))
        elif not await active_tokens(store):
            logger.warning(MSG_NO_ACTIVE_TOKEN())

    app.on_startup.append(_announce)


def start_refusal(mode: str, host: str, *, has_tokens: bool) -> str | None:
    """Why ``preuve serve`` must not start (None: it may): beyond the loopback, with
    auth not explicitly off, at least one token must exist."""
    if mode == "off" or is_loopback(host) or has_tokens:
        return None
    return MSG_NEEDS_TOKEN(host=host or "*")


async def check_start(store: Store, config: WebConfig, host: str) -> str | None:
    """:func:`start_refusal` with the store asked whether a token exists."""
    if config.auth == "off" or is_loopback(host):
        return None
    return start_refusal(config.auth, host, has_tokens=await any_token(store))
