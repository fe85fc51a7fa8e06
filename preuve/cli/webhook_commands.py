"""Commands: ``preuve webhooks`` endpoints, secret rotation, replay, delivery log, dispatcher."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import click
from rich.table import Table

from preuve.cli.common import CliState, pass_state
from preuve.constants import EXIT_FAILURE, EXIT_USAGE
from preuve.events import EVENT_TYPES
from preuve.i18n import Text
from preuve.store import Store
from preuve.webhooks import (
    AllowList,
    DeliveryPolicy,
    deliver_due,
    open_session,
    purge,
    replay,
    run_dispatcher,
)
from preuve.webhooks.delivery import DeliveryReport
from preuve.webhooks.endpoints import (
    MSG_DISABLED_BY_ADMIN,
    EndpointError,
    EndpointNotFoundError,
    add_endpoint,
    disable_endpoint,
    enable_endpoint,
    get_endpoint,
    list_endpoints,
    remove_endpoint,
    rotate_secret,
)
from preuve.webhooks.history import delivery_log, message_counts
from preuve.webhooks.inbound import purge_inbound
from preuve.webhooks.ssrf import UnsafeUrlError

T = TypeVar("T")

MSG_ADDED = Text(
    fr="Point d'accès {id} créé. Secret de signature (affiché une seule fois) :",
    en="Endpoint {id} created. Signing secret (shown this once):",
)
MSG_ROTATED = Text(
    fr="Nouveau secret pour {id} (l'ancien reste valable {hours} h) :",
    en="New secret for {id} (the previous one stays valid {hours} h):",
)
MSG_ENABLED = Text(fr="Point d'accès {id} activé.", en="Endpoint {id} enabled.")
MSG_DISABLED = Text(fr="Point d'accès {id} désactivé.", en="Endpoint {id} disabled.")
MSG_REMOVED = Text(fr="Point d'accès {id} supprimé.", en="Endpoint {id} removed.")
MSG_REPLAYED = Text(
    fr="{count} {count:message|messages} à renvoyer.",
    en="{count} {count:message|messages} to send again.",
)
MSG_PURGED = Text(
    fr="{count} {count:message livré ou en échec supprimé|messages livrés ou en échec supprimés}, "
    "{inbound} {inbound:événement entrant traité|événements entrants traités}.",
    en="{count} delivered or failed {count:message|messages} deleted, {inbound} handled inbound "
    "{inbound:event|events}.",
)
MSG_BAD_WHEN = Text(
    fr="date invalide : {value} (ISO 8601, ou durée comme 30m, 12h, 7d)",
    en="invalid date: {value} (ISO 8601, or a duration such as 30m, 12h, 7d)",
)
MSG_DISPATCHED = Text(
    fr="{delivered} {delivered:livré|livrés}, {retrying} à réessayer, {failed} en échec définitif",
    en="{delivered} delivered, {retrying} to retry, {failed} failed for good",
)

_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_when(value: str | None, state: CliState) -> datetime | None:
    """ISO 8601 (naive means UTC) or a duration back from now (``12h``)."""
    if not value:
        return None
    match = _DURATION.match(value.strip())
    if match:
        return datetime.now(UTC) - timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        state.fail(MSG_BAD_WHEN(value=value), EXIT_USAGE)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _with_store(state: CliState, work: Callable[[Store], Awaitable[T]]) -> T:
    return state.with_store(
        work,
        {
            EndpointNotFoundError: EXIT_USAGE,
            EndpointError: EXIT_FAILURE,
            UnsafeUrlError: EXIT_FAILURE,
        },
    )


@click.group("webhooks")
def webhooks_group() -> None:
    """Signed webhooks: endpoints, secrets, replay, delivery log."""


@webhooks_group.group("endpoints")
def endpoints_group() -> None:
    """Subscriptions of a tenant (URL, event types, secrets)."""


@endpoints_group.command("add")
@click.argument("url")
@click.option("--tenant", "tenant_id")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(EVENT_TYPES),
    help="Event type to send (repeat; default: all).",
)
@click.option("--description", default="")
@pass_state
def endpoint_add(
    state: CliState, url: str, tenant_id: str | None, events: tuple[str, ...], description: str
) -> None:
    """Add an endpoint; prints its signing secret once."""
    tenant = state.tenant(tenant_id)
    allow = AllowList.parse(state.settings.webhooks.allow_networks)
    endpoint, secret = _with_store(
        state,
        lambda store: add_endpoint(
            store, tenant.id, url, allow=allow, event_types=events, description=description
        ),
    )
    if state.json_output:
        state.emit_json({**endpoint.as_json(), "secret": secret})
        return
    state.console.print(MSG_ADDED(id=endpoint.id))
    state.console.print(secret, soft_wrap=True)


@endpoints_group.command("list")
@click.option("--tenant", "tenant_id")
@pass_state
def endpoint_list(state: CliState, tenant_id: str | None) -> None:
    """List the endpoints with their state and message counts."""
    tenant = state.tenant(tenant_id)

    async def _work(store: Store) -> list[dict[str, Any]]:
        counts = await message_counts(store, tenant.id)
        return [
            {**e.as_json(), "messages": counts.get(e.id, {})}
            for e in await list_endpoints(store, tenant.id)
        ]

    rows = _with_store(state, _work)
    if state.json_output:
        state.emit_json(rows)
        return
    table = Table()
    table.add_column("id", overflow="fold")
    table.add_column("url", overflow="fold")
    for header in ("événements / events", "état / state", "messages"):
        table.add_column(header)
    for row in rows:
        events = ", ".join(row["event_types"]) or "*"
        status = "actif" if row["enabled"] else f"désactivé: {row['disabled_reason']}"
        messages = " ".join(f"{k}={v}" for k, v in sorted(row["messages"].items()))
        table.add_row(row["id"], row["url"], events, status, messages)
    state.console.print(table)


@endpoints_group.command("enable")
@click.argument("endpoint_id")
@click.option("--tenant", "tenant_id")
@pass_state
def endpoint_enable(state: CliState, endpoint_id: str, tenant_id: str | None) -> None:
    """Enable an endpoint; messages held meanwhile are sent at once."""
    tenant = state.tenant(tenant_id)
    endpoint = _with_store(state, lambda s: enable_endpoint(s, endpoint_id, tenant=tenant.id))
    if state.json_output:
        state.emit_json(endpoint.as_json())
    else:
        state.console.print(MSG_ENABLED(id=endpoint_id))


@endpoints_group.command("disable")
@click.argument("endpoint_id")
@click.option("--tenant", "tenant_id")
@click.option("--reason", default=None, help="Shown in the endpoint list.")
@pass_state
def endpoint_disable(
    state: CliState, endpoint_id: str, tenant_id: str | None, reason: str | None
) -> None:
    """Disable an endpoint; its messages wait until it is enabled again."""
    tenant = state.tenant(tenant_id)
    why = reason or MSG_DISABLED_BY_ADMIN()
    endpoint = _with_store(state, lambda s: disable_endpoint(s, endpoint_id, why, tenant=tenant.id))
    if state.json_output:
        state.emit_json(endpoint.as_json())
    else:
        state.console.print(MSG_DISABLED(id=endpoint_id))


@endpoints_group.command("rotate-secret")
@click.argument("endpoint_id")
@click.option("--tenant", "tenant_id")
@click.option("--grace-hours", default=24.0, show_default=True, type=click.FloatRange(min=0))
@pass_state
def endpoint_rotate(
    state: CliState, endpoint_id: str, tenant_id: str | None, grace_hours: float
) -> None:
    """New signing secret; messages are signed with both during the grace period."""
    tenant = state.tenant(tenant_id)
    secret = _with_store(
        state,
        lambda s: rotate_secret(
            s, endpoint_id, tenant=tenant.id, grace=timedelta(hours=grace_hours)
        ),
    )
    if state.json_output:
        state.emit_json({"id": endpoint_id, "secret": secret})
        return
    state.console.print(MSG_ROTATED(id=endpoint_id, hours=f"{grace_hours:g}"))
    state.console.print(secret, soft_wrap=True)


@endpoints_group.command("remove")
@click.argument("endpoint_id")
@click.option("--tenant", "tenant_id")
@pass_state
def endpoint_remove(state: CliState, endpoint_id: str, tenant_id: str | None) -> None:
    """Remove an endpoint and its messages."""
    tenant = state.tenant(tenant_id)
    _with_store(state, lambda s: remove_endpoint(s, endpoint_id, tenant=tenant.id))
    if state.json_output:
        state.emit_json({"id": endpoint_id, "removed": True})
    else:
        state.console.print(MSG_REMOVED(id=endpoint_id))


@webhooks_group.command("replay")
@click.option("--tenant", "tenant_id")
@click.option("--since", required=True, help="ISO 8601 date-time, or a duration (12h, 7d).")
@click.option("--until", default=None, help="ISO 8601 date-time, or a duration (12h, 7d).")
@click.option("--endpoint", "endpoint_id", default=None)
@click.option("--all", "include_delivered", is_flag=True, help="Also messages already delivered.")
@pass_state
def replay_command(
    state: CliState,
    tenant_id: str | None,
    since: str,
    until: str | None,
    endpoint_id: str | None,
    include_delivered: bool,
) -> None:
    """Send again the failed (or, with --all, every) message of a time range."""
    tenant = state.tenant(tenant_id)
    start = parse_when(since, state)
    assert start is not None
    end = parse_when(until, state)
    count = _with_store(
        state,
        lambda s: replay(
            s,
            tenant.id,
            since=start,
            until=end,
            endpoint_id=endpoint_id,
            include_delivered=include_delivered,
        ),
    )
    if state.json_output:
        state.emit_json({"replayed": count})
    else:
        state.console.print(MSG_REPLAYED(count=count))


@webhooks_group.command("purge")
@click.option("--tenant", "tenant_id", help="Only this tenant (default: all).")
@click.option("--older-than", required=True, help="A duration (30d) or an ISO 8601 date-time.")
@pass_state
def purge_command(state: CliState, tenant_id: str | None, older_than: str) -> None:
    """Delete delivered and failed messages (with their log) and handled inbound events."""
    tenant = state.tenant(tenant_id).id if tenant_id else None
    before = parse_when(older_than, state)
    assert before is not None

    async def _work(store: Store) -> tuple[int, int]:
        messages = await purge(store, before=before, tenant=tenant)
        return messages, await purge_inbound(store, before=before, tenant=tenant)

    count, inbound = _with_store(state, _work)
    if state.json_output:
        state.emit_json({"purged": count, "purged_inbound": inbound})
    else:
        state.console.print(MSG_PURGED(count=count, inbound=inbound))


@webhooks_group.command("log")
@click.argument("endpoint_id")
@click.option("--tenant", "tenant_id")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--since", default=None, help="ISO 8601 date-time, or a duration (12h, 7d).")
@pass_state
def log_command(
    state: CliState, endpoint_id: str, tenant_id: str | None, limit: int, since: str | None
) -> None:
    """The delivery log of an endpoint: attempts, status, duration, error."""
    tenant = state.tenant(tenant_id)
    start = parse_when(since, state)

    async def _work(store: Store) -> list[dict[str, Any]]:
        await get_endpoint(store, endpoint_id, tenant.id)
        return await delivery_log(store, endpoint_id, limit=limit, since=start)

    rows = _with_store(state, _work)
    if state.json_output:
        state.emit_json(rows)
        return
    table = Table("date")
    table.add_column("message", overflow="fold")
    for header in ("type", "essai / try", "HTTP", "ms", "résultat", "erreur"):
        table.add_column(header)
    for row in rows:
        table.add_row(
            row["started_at"][:19],
            row["msg_id"],
            row["event_type"],
            str(row["attempt"]),
            str(row["status_code"] or "-"),
            str(row["duration_ms"]),
            row["outcome"],
            row["error"] or "",
        )
    state.console.print(table)


@webhooks_group.command("dispatch")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32))
@pass_state
def dispatch_command(state: CliState, once: bool, workers: int) -> None:
    """Deliver webhook messages (in the foreground; the worker does it too)."""
    settings = state.settings

    async def _work(store: Store) -> DeliveryReport:
        stop = asyncio.Event()
        if once:
            policy = DeliveryPolicy.from_config(settings.webhooks)
            allow = AllowList.parse(settings.webhooks.allow_networks)
            total = DeliveryReport()
            async with open_session(allow, policy) as session:
                while True:
                    report = await deliver_due(
                        store, session, policy=policy, public_url=settings.web.public_url
                    )
                    total += report
                    if not report.claimed:
                        return total
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await run_dispatcher(
            store,
            config=settings.webhooks,
            public_url=settings.web.public_url,
            stop=stop,
            workers=workers,
        )

    report = _with_store(state, _work)
    if state.json_output:
        state.emit_json(
            {
                "delivered": report.delivered,
                "retrying": report.retrying,
                "failed": report.failed,
                "disabled_endpoints": report.disabled_endpoints,
            }
        )
    else:
        state.console.print(
            MSG_DISPATCHED(
                delivered=report.delivered, retrying=report.retrying, failed=report.failed
            )
        )
    if report.failed:
        sys.exit(EXIT_FAILURE)


def register(group: click.Group) -> None:
    group.add_command(webhooks_group)
