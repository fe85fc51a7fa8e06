"""Typed application keys shared by the route modules."""

from __future__ import annotations

from aiohttp import web

from preuve.config.settings import Settings
from preuve.store import Store

SETTINGS_KEY = web.AppKey("settings", Settings)
STORE_KEY = web.AppKey("store", Store)
