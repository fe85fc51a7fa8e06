"""``GET /metrics``: the Prometheus registry of this process (see preuve/sync/metrics.py).

The queue depth is read at scrape time from the dispatcher (Redis or the
embedded scheduler).
"""

from __future__ import annotations

from aiohttp import web

from preuve.sync.metrics import CONTENT_TYPE, QUEUE_DEPTH, exposition
from preuve.web.routes_sync import DISPATCHER_KEY


async def metrics(request: web.Request) -> web.Response:
    dispatcher = request.app.get(DISPATCHER_KEY)
    if dispatcher is not None:
        for state, value in (await dispatcher.queue_depth()).items():
            QUEUE_DEPTH.labels(state).set(value)
    return web.Response(body=exposition(), headers={"Content-Type": CONTENT_TYPE})


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)
