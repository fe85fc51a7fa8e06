"""Coverage routes: the per-indicator coverage of a tenant, as ``preuve coverage --json``.

- ``GET /api/tenants/{tenant}/coverage``: evaluated now from the stored evidence
  (``as_of`` and ``audit_date`` query parameters, ``YYYY-MM-DD``, optional).
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from preuve.i18n import Text
from preuve.mapping.evaluate import evaluate
from preuve.web.keys import STORE_KEY
from preuve.web.requests import request_tenant

MSG_BAD_DATE = Text(
    fr="{name} : une date AAAA-MM-JJ est attendue", en="{name}: a YYYY-MM-DD date is expected"
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
        as_of=_date(request, "as_of"),
        audit_date=_date(request, "audit_date"),
    )
    return web.json_response(result.as_json())


def setup(app: web.Application) -> None:
    app.router.add_get("/api/tenants/{tenant}/coverage", coverage)
