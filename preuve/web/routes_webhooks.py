"""Webhook routes: endpoints, replay, delivery log, and the inbound LMS events endpoint.

The sync subsystem plugs its trigger in with :func:`set_sync_trigger`; until it
does, inbound events are recorded (status ``recorded``) and answered 202.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from preuve.web.keys import SETTINGS_KEY, STORE_KEY
from preuve.web.requests import request_tenant
from preuve.webhooks import replay
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
from preuve.webhooks.inbound import (
    MAX_INBOUND_BYTES,
    MSG_TOO_LARGE,
    InboundError,
    SyncTriggerHolder,
    TriggerSync,
    receive,
)
from preuve.webhooks.ssrf import AllowList, UnsafeUrlError

SYNC_TRIGGER_KEY = web.AppKey("webhooks_sync_trigger", SyncTriggerHolder)
MAX_LOG_LIMIT = 1000
MAX_GRACE_HOURS = 24 * 30
INBOUND_READ_CHUNK = 16 * 1024


def set_sync_trigger(app: web.Application, trigger: TriggerSync | None) -> None:
    """Give inbound events a way to queue a targeted sync (the sync subsystem calls this)."""
    holder = app.get(SYNC_TRIGGER_KEY)
    if holder is None:
        holder = SyncTriggerHolder()
        app[SYNC_TRIGGER_KEY] = holder
    holder.trigger = trigger


def _allow(request: web.Request) -> AllowList:
    return AllowList.parse(request.app[SETTINGS_KEY].webhooks.allow_networks)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        value = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text="body is not JSON") from exc
    if not isinstance(value, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return value


def _when(value: Any, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"{name}: expected an ISO 8601 date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def endpoints_list(request: web.Request) -> web.Response:
    tenant = request_tenant(request).id
    store = request.app[STORE_KEY]
    counts = await message_counts(store, tenant)
    return web.json_response(
        [
            {**e.as_json(), "messages": counts.get(e.id, {})}
            for e in await list_endpoints(store, tenant)
        ]
    )


async def endpoint_create(request: web.Request) -> web.Response:
    tenant = request_tenant(request).id
    body = await _json(request)
    url = body.get("url")
    types = body.get("event_types", [])
    if not isinstance(url, str) or not isinstance(types, list):
        return _error(400, "url (string) is required; event_types is a list")
    try:
        endpoint, secret = await add_endpoint(
            request.app[STORE_KEY],
            tenant,
            url,
            allow=_allow(request),
            event_types=[str(t) for t in types],
            description=str(body.get("description", "")),
        )
    except (EndpointError, UnsafeUrlError) as exc:
        return _error(422, str(exc))
    # The secret is shown this once; receivers need it to verify signatures.
    return web.json_response({**endpoint.as_json(), "secret": secret}, status=201)


async def _endpoint_action(request: web.Request, action: str) -> web.Response:
    tenant = request_tenant(request).id
    endpoint_id = request.match_info["endpoint"]
    store = request.app[STORE_KEY]
    try:
        if action == "get":
            return web.json_response((await get_endpoint(store, endpoint_id, tenant)).as_json())
        if action == "enable":
            endpoint = await enable_endpoint(store, endpoint_id, tenant=tenant)
            return web.json_response(endpoint.as_json())
        if action == "disable":
            body = await _json(request)
            reason = str(body.get("reason") or MSG_DISABLED_BY_ADMIN())
            endpoint = await disable_endpoint(store, endpoint_id, reason, tenant=tenant)
            return web.json_response(endpoint.as_json())
        if action == "rotate":
            body = await _json(request)
            hours = float(body.get("grace_hours", 24))
            if not 0 <= hours <= MAX_GRACE_HOURS:
                return _error(400, f"grace_hours: between 0 and {MAX_GRACE_HOURS}")
            grace = timedelta(hours=hours)
            secret = await rotate_secret(store, endpoint_id, tenant=tenant, grace=grace)
            return web.json_response({"id": endpoint_id, "secret": secret})
        if action == "delete":
            await remove_endpoint(store, endpoint_id, tenant=tenant)
            return web.json_response({"id": endpoint_id, "deleted": True})
        # deliveries
        await get_endpoint(store, endpoint_id, tenant)
        limit = int(request.query.get("limit", "50"))
        if not 1 <= limit <= MAX_LOG_LIMIT:
            return _error(400, f"limit: between 1 and {MAX_LOG_LIMIT}")
        attempts = await delivery_log(
            store,
            endpoint_id,
            limit=limit,
            since=_when(request.query.get("since"), "since"),
            msg_id=request.query.get("msg_id") or None,
        )
        return web.json_response(attempts)
    except EndpointNotFoundError as exc:
        return _error(404, str(exc))
    except (EndpointError, ValueError) as exc:
        return _error(400, str(exc))


async def endpoint_get(request: web.Request) -> web.Response:
    return await _endpoint_action(request, "get")


async def endpoint_enable(request: web.Request) -> web.Response:
    return await _endpoint_action(request, "enable")


async def endpoint_disable(request: web.Request) -> web.Response:
    return await _endpoint_action(request, "disable")


async def endpoint_rotate(request: web.Request) -> web.Response:
    return await _endpoint_action(request, "rotate")


async def endpoint_delete(request: web.Request) -> web.Response:
    return await _endpoint_action(request, "delete")


async def endpoint_deliveries(request: web.Request) -> web.Response:
    return await _endpoint_action(request, "deliveries")


async def replay_messages(request: web.Request) -> web.Response:
    """Body: ``since`` (required), ``until``, ``endpoint_id``, ``all`` (also delivered)."""
    tenant = request_tenant(request).id
    body = await _json(request)
    since = _when(body.get("since"), "since")
    if since is None:
        return _error(400, "since is required (ISO 8601 date-time)")
    count = await replay(
        request.app[STORE_KEY],
        tenant,
        since=since,
        until=_when(body.get("until"), "until"),
        endpoint_id=body.get("endpoint_id") or None,
        include_delivered=bool(body.get("all", False)),
    )
    return web.json_response({"replayed": count})


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is larger than ``limit`` (chunked too)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = bytearray()
    # read(n) returns what has arrived so far, not n bytes: read until the end.
    async for chunk in request.content.iter_chunked(INBOUND_READ_CHUNK):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def inbound_event(request: web.Request) -> web.Response:
    """LMS events, signed with the tenant's inbound secret (Standard Webhooks).

    No tenant lookup here: an unknown tenant gets the answer of a bad signature.
    """
    body = await _read_limited(request, MAX_INBOUND_BYTES)
    if body is None:
        return _error(413, MSG_TOO_LARGE())
    holder = request.app.get(SYNC_TRIGGER_KEY)
    try:
        result = await receive(
            request.app[STORE_KEY],
            request.app[SETTINGS_KEY],
            request.match_info["tenant"],
            request.headers,
            body,
            trigger=holder.trigger if holder else None,
        )
    except InboundError as exc:
        return _error(exc.status, str(exc))
    # A redelivery of an event already taken is acknowledged, not acted on again.
    status = 200 if result.status == "duplicate" else 202
    return web.json_response(result.as_json(), status=status)


def setup(app: web.Application) -> None:
    if SYNC_TRIGGER_KEY not in app:
        app[SYNC_TRIGGER_KEY] = SyncTriggerHolder()
    base = "/api/tenants/{tenant}/webhooks"
    app.router.add_get(f"{base}/endpoints", endpoints_list)
    app.router.add_post(f"{base}/endpoints", endpoint_create)
    app.router.add_get(f"{base}/endpoints/{{endpoint}}", endpoint_get)
    app.router.add_delete(f"{base}/endpoints/{{endpoint}}", endpoint_delete)
    app.router.add_post(f"{base}/endpoints/{{endpoint}}/enable", endpoint_enable)
    app.router.add_post(f"{base}/endpoints/{{endpoint}}/disable", endpoint_disable)
    app.router.add_post(f"{base}/endpoints/{{endpoint}}/rotate-secret", endpoint_rotate)
    app.router.add_get(f"{base}/endpoints/{{endpoint}}/deliveries", endpoint_deliveries)
    app.router.add_post(f"{base}/replay", replay_messages)
    app.router.add_post(f"{base}/inbound", inbound_event)
