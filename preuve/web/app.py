"""The web app: an app factory, resources in cleanup_ctx, one setup_* per concern."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator

from aiohttp import web

from preuve.config.settings import Settings
from preuve.store import Store, open_store
from preuve.web.auth import auth_middleware, setup_auth
from preuve.web.keys import SETTINGS_KEY, STORE_KEY

# Modules that add routes: each has ``setup(app: web.Application) -> None``.
ROUTE_MODULES: tuple[str, ...] = (
    "preuve.web.routes_core",
    "preuve.web.routes_coverage",
    "preuve.web.routes_sync",
    "preuve.web.routes_metrics",
    "preuve.web.routes_webhooks",
    "preuve.web.routes_scorm",
    "preuve.web.routes_xapi",
    "preuve.web.routes_trainers",
)


def setup_store(app: web.Application, store: Store | None) -> None:
    async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
        if store is not None:
            app[STORE_KEY] = store
            yield
            return
        opened = await open_store(app[SETTINGS_KEY].store.url)
        app[STORE_KEY] = opened
        yield
        await opened.close()

    app.cleanup_ctx.append(_store_ctx)


def create_app(
    settings: Settings, *, store: Store | None = None, host: str | None = None
) -> web.Application:
    """Build the app. ``store`` given: use it (tests, embedded runner) and don't close it.

    ``host``: the address the app will listen on (default ``[web] host``); with
    ``[web] auth = "auto"``, API tokens are required beyond the loopback
    (``preuve/web/auth.py``: the access rules of every route).
    """
    app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[auth_middleware])
    app[SETTINGS_KEY] = settings
    setup_store(app, store)
    setup_auth(app, settings.web.host if host is None else host)
    for module in ROUTE_MODULES:
        importlib.import_module(module).setup(app)
    return app
