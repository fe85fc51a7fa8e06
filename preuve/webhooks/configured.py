"""Webhook endpoints declared in the configuration (``[[tenants.webhooks]]``).

They are applied to the store so that the outbox and the dispatcher treat them
like endpoints added with the CLI or the API. The configuration is authoritative
for their URL, event filter and secrets (read from the named environment
variable, several space-separated secrets during a rotation); their enabled state
and failure history stay in the store, so an endpoint disabled after failing stays
disabled until someone re-enables it. An endpoint removed from the configuration
is disabled, not deleted, so its delivery log stays readable.
"""

from __future__ import annotations

import hashlib
import logging
import os
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select, true, update

from preuve.config.settings import Settings, TenantConfig, WebhookEndpointConfig
from preuve.i18n import Text
from preuve.store import Store
from preuve.webhooks.endpoints import EndpointError, _check_event_types
from preuve.webhooks.signing import secret_key
from preuve.webhooks.ssrf import AllowList, validate_url
from preuve.webhooks.tables import webhook_endpoint

log = logging.getLogger(__name__)

CONFIGURED_PREFIX: Final = "cfg_"

MSG_NO_SECRET = Text(
    fr="webhook {hook} de l'organisme {tenant} : la variable d'environnement {env} "
    "(secret whsec_...) n'est pas définie",
    en="webhook {hook} of tenant {tenant}: environment variable {env} "
    "(whsec_... secret) is not set",
)
MSG_REMOVED = Text(fr="retiré de la configuration", en="removed from the configuration")


def configured_endpoint_id(tenant: str, hook: str) -> str:
    """Stable id of a configured endpoint (fits the 40-character id column)."""
    digest = hashlib.sha256(f"{tenant}\0{hook}".encode()).hexdigest()[:32]
    return CONFIGURED_PREFIX + digest


def _secrets(tenant: TenantConfig, hook: WebhookEndpointConfig) -> list[dict[str, str | None]]:
    value = os.environ.get(hook.secret_env, "").split()
    if not value:
        raise EndpointError(MSG_NO_SECRET(hook=hook.id, tenant=tenant.id, env=hook.secret_env))
    for secret in value:
        try:
            secret_key(secret)
        except ValueError as exc:
            raise EndpointError(f"{hook.secret_env}: {exc}") from exc
    return [{"secret": secret, "expires_at": None} for secret in value]


async def apply_configured_endpoints(
    store: Store, settings: Settings, tenant_id: str | None = None
) -> list[str]:
    """Create, update or disable configured endpoints; returns the problems met.

    ``tenant_id``: only that tenant's endpoints (a snapshot of one tenant touches
    no other tenant's rows). A problem with one endpoint (a missing secret, a URL
    the SSRF guard refuses) is reported and leaves the others applied.
    """
    allow = AllowList.parse(settings.webhooks.allow_networks)
    now = datetime.now(UTC)
    problems: list[str] = []
    wanted: set[str] = set()
    tenants = [t for t in settings.tenants if tenant_id is None or t.id == tenant_id]
    for tenant in tenants:
        for hook in tenant.webhooks:
            endpoint_id = configured_endpoint_id(tenant.id, hook.id)
            wanted.add(endpoint_id)
            try:
                values = {
                    "url": await validate_url(hook.url, allow),
                    "event_types": list(_check_event_types(hook.events)),
                    "secrets": _secrets(tenant, hook),
                    "description": hook.description or hook.id,
                    "updated_at": now,
                }
            except (EndpointError, ValueError) as exc:
                problems.append(f"{tenant.id}/{hook.id}: {exc}")
                continue
            async with store.engine.begin() as conn:
                exists = await conn.scalar(
                    select(webhook_endpoint.c.id).where(webhook_endpoint.c.id == endpoint_id)
                )
                if exists is None:
                    await conn.execute(
                        webhook_endpoint.insert().values(
                            id=endpoint_id,
                            tenant=tenant.id,
                            enabled=True,
                            created_at=now,
                            **values,
                        )
                    )
                else:
                    await conn.execute(
                        update(webhook_endpoint)
                        .where(webhook_endpoint.c.id == endpoint_id)
                        .values(**values)
                    )
    async with store.engine.begin() as conn:
        await conn.execute(
            update(webhook_endpoint)
            .where(
                webhook_endpoint.c.id.startswith(CONFIGURED_PREFIX),
                webhook_endpoint.c.id.not_in(wanted)
                if wanted
                else webhook_endpoint.c.id.is_not(None),
                webhook_endpoint.c.enabled.is_(True),
                webhook_endpoint.c.tenant == tenant_id if tenant_id is not None else true(),
            )
            .values(enabled=False, disabled_reason=MSG_REMOVED(), disabled_at=now, updated_at=now)
        )
    for problem in problems:
        log.warning("configured webhook not applied: %s", problem)
    return problems
