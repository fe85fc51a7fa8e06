"""What several route modules read from a request: the tenant, an uploaded file name."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web

from preuve.config.settings import TenantConfig
from preuve.i18n import Text
from preuve.web.keys import SETTINGS_KEY

MSG_UNKNOWN_TENANT = Text(fr="organisme inconnu : {tenant}", en="unknown tenant: {tenant}")
MSG_BAD_LIMIT = Text(
    fr="limit : un entier de 1 à {most} est attendu",
    en="limit: an integer from 1 to {most} is expected",
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def request_tenant(request: web.Request) -> TenantConfig:
    """The tenant named by the ``{tenant}`` path segment; 404 when it is not configured."""
    tenant_id = request.match_info["tenant"]
    try:
        return request.app[SETTINGS_KEY].tenant(tenant_id)
    except KeyError:
        raise web.HTTPNotFound(text=MSG_UNKNOWN_TENANT(tenant=tenant_id)) from None


def safe_base_name(raw: str | None) -> str:
    """An uploaded file's base name only, in safe characters ("" when nothing is left).

    Clients percent-encode multipart file names (browsers may not); keeping the
    base name cuts any path traversal, and the name is shown in messages.
    """
    decoded = unquote(raw or "").replace("\\", "/")
    return _UNSAFE.sub("_", Path(decoded).name).strip(" .")


def query_limit(request: web.Request, *, default: int = 20, most: int = 500) -> int:
    """The ``limit`` query parameter: 1 to ``most`` (400 otherwise), ``default`` when absent."""
    raw = request.query.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= most:
        raise web.HTTPBadRequest(text=MSG_BAD_LIMIT(most=most))
    return limit
