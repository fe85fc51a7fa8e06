"""Typed application keys shared by the route modules."""

from __future__ import annotations

from aiohttp import web

from preuve.config.settings import Settings
from preuve.store import Store
from preuve.web.tokens import ApiToken

SETTINGS_KEY = web.AppKey("settings", Settings)
STORE_KEY = web.AppKey("store", Store)
# The API token a request was authenticated with (absent when auth is not enforced
# or the route is open): a route may narrow what it shows to ``token.tenant``.
TOKEN_KEY = web.RequestKey("api_token", ApiToken)
