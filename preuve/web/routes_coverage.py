"""Coverage routes: the per-indicator coverage of a tenant, as ``preuve coverage --json``.

- ``GET /api/tenants/{tenant}/coverage``: evaluated now from the stored evidence
  (``as_of`` and ``audit_date`` query parameters, ``YYYY-MM-DD``, optional); a
  preview, nothing is stored.
- ``POST /api/tenants/{tenant}/coverage/snapshots``: evaluates as of today, stores
  the snapshot and queues its events for the webhooks, like the nightly sync;
  201 with the coverage JSON and ``events``. ``as_of`` or ``audit_date`` other
  than what the sync would use: 400, nothing stored.
- ``GET /api/tenants/{tenant}/coverage/snapshots/latest``: the latest stored
  snapshot, rebuilt from its rows; 404 when there is none.
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from preuve.i18n import Text
from preuve.mapping.evaluate import evaluate
from preuve.mapping.snapshot import latest_snapshot
from preuve.sync.hooks import SnapshotRefused, coverage_day, snapshot_coverage, snapshot_json
from preuve.web.keys import SETTINGS_KEY, STORE_KEY
from preuve.web.requests import request_tenant

MSG_BAD_DATE = Text(
    fr="{name} : une date AAAA-MM-JJ est attendue", en="{name}: a YYYY-MM-DD date is expected"
)
MSG_NO_SNAPSHOT = Text(
    fr="aucun instantané de couverture pour {tenant}",
    en="no coverage snapshot for {tenant}",
)


def _date(request: web.Request, name: str) -> date | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=MSG_BAD_DATE(name=name)) from exc


async def coverage(request: web.Request) -> web.Response:
    tenant = request_tenant(request)
    result = await evaluate(
        request.app[STORE_KEY],
        tenant,
        as_of=_date(request, "as_of") or coverage_day(request.app[SETTINGS_KEY]),
        audit_date=_date(request, "audit_date"),
    )
    return web.json_response(result.as_json())


async def snapshot_create(request: web.Request) -> web.Response:
    tenant = request_tenant(request)
    try:
        result, events = await snapshot_coverage(
            request.app[STORE_KEY],
            request.app[SETTINGS_KEY],
            tenant,
            as_of=_date(request, "as_of"),
            audit_date=_date(request, "audit_date"),
        )
    except SnapshotRefused as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc
    return web.json_response(snapshot_json(result, events), status=201)


async def snapshot_latest(request: web.Request) -> web.Response:
    tenant = request_tenant(request)
    found = await latest_snapshot(request.app[STORE_KEY], tenant.id)
    if found is None:
        raise web.HTTPNotFound(text=MSG_NO_SNAPSHOT(tenant=tenant.id))
    return web.json_response(found)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/tenants/{tenant}/coverage", coverage)
    app.router.add_post("/api/tenants/{tenant}/coverage/snapshots", snapshot_create)
    app.router.add_get("/api/tenants/{tenant}/coverage/snapshots/latest", snapshot_latest)
