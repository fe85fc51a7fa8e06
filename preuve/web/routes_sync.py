"""Sync routes: trigger a sync, see what runs (with counts so far), the run history.

- ``POST /api/tenants/{tenant}/sources/{source}/sync``: 202 queued, 409 when the
  same (tenant, source) is already queued or running (nothing is queued twice).
- ``POST /api/tenants/{tenant}/sync``: every enabled source of the tenant (422 when
  it has none).
- ``GET /api/sync/status``: mode, queue depth, running syncs with their counts.
- ``GET /api/sync/runs``: history (``tenant``, ``source``, ``limit``).
- ``GET /api/sync/runs/{run_id}``: one run, its per-stream counts (live while running).

The dispatcher is the arq queue when ``[redis] url`` is set, the embedded
scheduler otherwise (``preuve serve`` turns on its nightly loop and webhook delivery).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from preuve.i18n import Text
from preuve.sync.background import webhook_delivery
from preuve.sync.dispatch import ArqDispatcher, Dispatcher
from preuve.sync.embedded import EmbeddedScheduler
from preuve.sync.jobs import UnknownSourceError
from preuve.sync.plugins import apply_connector_classes
from preuve.sync.progress import active_runs, records_so_far
from preuve.web.keys import SETTINGS_KEY, STORE_KEY
from preuve.web.requests import query_limit, request_tenant
from preuve.web.routes_webhooks import set_sync_trigger
from preuve.webhooks.configured import apply_configured_endpoints
from preuve.webhooks.inbound import mark_inbound_queued, recorded_inbound

DISPATCHER_KEY = web.AppKey("sync_dispatcher", Dispatcher)
# Set to True before startup (``preuve serve``): without Redis, this process runs the
# background work itself (the nightly sync and webhook delivery).
BACKGROUND_KEY = web.AppKey("sync_background", bool)

MAX_RUNS = 500

MSG_NO_SOURCE = Text(
    fr="{tenant} n'a aucune source active à synchroniser",
    en="{tenant} has no enabled source to sync",
)
MSG_UNKNOWN_RUN = Text(fr="exécution inconnue", en="unknown run")


async def _dispatcher_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    dispatcher: Dispatcher
    background = not settings.redis.url and app.get(BACKGROUND_KEY, False)
    if settings.redis.url:
        dispatcher = await ArqDispatcher.connect(settings.redis.url)
    else:
        apply_connector_classes(settings)
        scheduler = EmbeddedScheduler(settings, app[STORE_KEY], nightly=background)
        await scheduler.start()
        dispatcher = scheduler
    app[DISPATCHER_KEY] = dispatcher
    await apply_configured_endpoints(app[STORE_KEY], settings)
    await _connect_inbound_events(app, dispatcher)
    async with contextlib.AsyncExitStack() as stack:
        if background:
            await stack.enter_async_context(webhook_delivery(app[STORE_KEY], settings))
        yield
        await dispatcher.close()


async def _connect_inbound_events(app: web.Application, dispatcher: Dispatcher) -> None:
    """Inbound LMS events queue a sync of the source they name (or of every source).

    The scope they carry (e.g. one course) is recorded with the event; the sync it
    queues is incremental, so it fetches only what changed since the last run.
    Events recorded while no dispatcher was listening are queued now.
    """
    settings = app[SETTINGS_KEY]

    async def trigger(tenant_id: str, source_id: str | None, scope: dict[str, Any]) -> None:
        try:
            tenant = settings.tenant(tenant_id)
        except KeyError:
            return  # the tenant left the configuration since the event was recorded
        sources = [source_id] if source_id else [s.id for s in tenant.sources if s.enabled]
        for source in sources:
            await dispatcher.trigger(tenant.id, source, trigger="inbound")

    set_sync_trigger(app, trigger)
    store = app[STORE_KEY]
    pending = await recorded_inbound(store)
    for event in pending:
        await trigger(event["tenant"], event.get("source"), event.get("scope") or {})
    await mark_inbound_queued(store, [event["id"] for event in pending])


async def trigger_sync(request: web.Request) -> web.Response:
    tenant = request.match_info["tenant"]
    source = request.match_info["source"]
    try:
        answer = await request.app[DISPATCHER_KEY].trigger(tenant, source, trigger="api")
    except UnknownSourceError as exc:
        raise web.HTTPNotFound(text=str(exc)) from exc
    return web.json_response(answer.as_json(), status=202 if answer.accepted else 409)


async def trigger_tenant(request: web.Request) -> web.Response:
    """Every enabled source of a tenant; 202 when at least one was queued."""
    tenant = request_tenant(request)
    if not any(source.enabled for source in tenant.sources):
        raise web.HTTPUnprocessableEntity(text=MSG_NO_SOURCE(tenant=tenant.id))
    dispatcher = request.app[DISPATCHER_KEY]
    answers = [
        await dispatcher.trigger(tenant.id, source.id, trigger="api")
        for source in tenant.sources
        if source.enabled
    ]
    accepted = any(a.accepted for a in answers)
    return web.json_response([a.as_json() for a in answers], status=202 if accepted else 409)


async def sync_status(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    runs = await active_runs(
        request.app[STORE_KEY],
        tenant=request.query.get("tenant"),
        source=request.query.get("source"),
    )
    return web.json_response(
        {
            "mode": "distributed" if settings.redis.url else "embedded",
            "queue": await request.app[DISPATCHER_KEY].queue_depth(),
            "running": [{**r.as_json(), "records_so_far": records_so_far(r)} for r in runs],
        }
    )


async def run_history(request: web.Request) -> web.Response:
    limit = query_limit(request, most=MAX_RUNS)
    runs = await request.app[STORE_KEY].runs.recent(
        tenant=request.query.get("tenant"), source=request.query.get("source"), limit=limit
    )
    return web.json_response([r.as_json() for r in runs])


async def run_detail(request: web.Request) -> web.Response:
    run = await request.app[STORE_KEY].runs.get(request.match_info["run_id"])
    if run is None:
        raise web.HTTPNotFound(text=MSG_UNKNOWN_RUN())
    return web.json_response({**run.as_json(), "records_so_far": records_so_far(run)})


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_dispatcher_ctx)
    app.router.add_post("/api/tenants/{tenant}/sync", trigger_tenant)
    app.router.add_post("/api/tenants/{tenant}/sources/{source}/sync", trigger_sync)
    app.router.add_get("/api/sync/status", sync_status)
    app.router.add_get("/api/sync/runs", run_history)
    app.router.add_get("/api/sync/runs/{run_id}", run_detail)
