"""Core routes: health, tenants, evidence counts, run history."""

from __future__ import annotations

from aiohttp import web

from preuve import __version__
from preuve.web.keys import SETTINGS_KEY, STORE_KEY
from preuve.web.requests import query_limit, request_tenant


async def health(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    async with store.engine.connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return web.json_response({"status": "ok", "version": __version__})


async def tenants(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    return web.json_response(
        [
            {"id": t.id, "name": t.name, "sources": [s.id for s in t.sources]}
            for t in settings.tenants
        ]
    )


async def evidence_counts(request: web.Request) -> web.Response:
    tenant_id = request_tenant(request).id
    counts = await request.app[STORE_KEY].evidence.count_by_kind(tenant_id)
    return web.json_response({"tenant": tenant_id, "evidence_counts": counts})


async def runs(request: web.Request) -> web.Response:
    tenant_id = request_tenant(request).id
    limit = query_limit(request)
    recent = await request.app[STORE_KEY].runs.recent(tenant=tenant_id, limit=limit)
    return web.json_response([r.as_json() for r in recent])


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", health)
    app.router.add_get("/api/tenants", tenants)
    app.router.add_get("/api/tenants/{tenant}/evidence/counts", evidence_counts)
    app.router.add_get("/api/tenants/{tenant}/runs", runs)
