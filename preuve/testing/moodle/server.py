"""The stand-in's HTTP side: Moodle's REST endpoint with its encoding and error rules.

* ``POST`` (or ``GET``) ``/webservice/rest/server.php`` with ``wstoken``,
  ``wsfunction``, ``moodlewsrestformat=json`` and PHP-style array parameters;
* every Moodle error is HTTP 200 with ``{"exception", "errorcode", "message"}``
  (``debuginfo`` only when debugging is on);
* requests are counted per function, so tests can compare two syncs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from aiohttp import web

from preuve.testing.moodle.faults import Faults
from preuve.testing.moodle.generator import GeneratedSite, SiteSpec
from preuve.testing.moodle.handlers import Functions, MoodleError, missing_record
from preuve.testing.moodle.params import BadKey, decode

REST_PATH = "/webservice/rest/server.php"
STATS_PATH = "/_stand_in/requests"  # GET: counts per function; POST: counts, then reset
LATENCY_PATH = "/_stand_in/latency"  # POST ?latency=0.02

INVALID_TOKEN = MoodleError(
    "core\\exception\\moodle_exception", "invalidtoken", "Invalid token - token not found"
)
NOT_IN_SERVICE = MoodleError(
    "webservice_access_exception", "accessexception", "Access control exception"
)


@dataclass
class MoodleStandIn:
    """A running stand-in: its URL, the site, the faults and request counts."""

    site: GeneratedSite
    faults: Faults
    token: str
    url: str = ""
    requests: Counter[str] = field(default_factory=Counter)
    revoked: bool = False
    request_log: IO[bytes] | None = None  # when set, one JSON line of form pairs per request
    _runner: web.AppRunner | None = None

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset_counts(self) -> None:
        self.requests.clear()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _json(body: Any) -> web.Response:
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def _error(error: MoodleError, faults: Faults) -> web.Response:
    body = dict(error.body)
    if faults.debug and error.debuginfo:
        body["debuginfo"] = error.debuginfo
    return _json(body)


async def _pairs(request: web.Request) -> list[tuple[str, str]]:
    pairs = [(k, v) for k, v in request.query.items()]
    if request.method == "POST":
        form = await request.post()
        pairs += [(k, v) for k, v in form.items() if isinstance(v, str)]
    return pairs


def build_app(stand_in: MoodleStandIn) -> web.Application:
    functions = Functions(stand_in.site, stand_in.faults)

    async def endpoint(request: web.Request) -> web.StreamResponse:
        faults = stand_in.faults
        pairs = await _pairs(request)
        params = dict(pairs)
        name = params.get("wsfunction", "")
        stand_in.requests[name] += 1
        if stand_in.request_log is not None:
            stand_in.request_log.write(orjson.dumps(pairs) + b"\n")
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.timeouts > 0:
            faults.timeouts -= 1
            await asyncio.sleep(faults.hang)
        if faults.error_5xx > 0:
            faults.error_5xx -= 1
            return web.Response(status=503, text="Service Unavailable")
        if faults.too_many > 0:
            faults.too_many -= 1
            return web.Response(
                status=429,
                text="Too Many Requests",
                headers={"Retry-After": str(faults.retry_after)},
            )
        if faults.html_pages > 0:
            faults.html_pages -= 1
            return web.Response(
                text="<html><body>Maintenance</body></html>", content_type="text/html"
            )
        if faults.revoke_after is not None:
            if faults.revoke_after <= 0:
                stand_in.revoked = True
            faults.revoke_after -= 1
        if params.get("moodlewsrestformat") != "json":
            # Moodle falls back to XML; the connector must always ask for JSON.
            return web.Response(
                text='<?xml version="1.0"?><RESPONSE/>', content_type="application/xml"
            )
        if stand_in.revoked or params.get("wstoken") != stand_in.token:
            return _error(INVALID_TOKEN, faults)
        handler = functions.table.get(name)
        if handler is None and name not in faults.missing_functions:
            return _error(missing_record("external_functions"), faults)
        if handler is None or name in faults.missing_functions:
            return _error(NOT_IN_SERVICE, faults)
        try:
            arguments = decode(
                (k, v) for k, v in pairs if k not in ("wstoken", "wsfunction", "moodlewsrestformat")
            )
            functions.check_capability(name, arguments)
            return _json(handler(arguments))
        except BadKey as exc:
            return _error(
                MoodleError(
                    "core\\exception\\invalid_parameter_exception",
                    "invalidparameter",
                    "Invalid parameter value detected",
                    str(exc),
                ),
                faults,
            )
        except MoodleError as exc:
            return _error(exc, faults)

    async def stats(request: web.Request) -> web.Response:
        """Request counts per function (the stand-in may run in another process)."""
        counts = dict(stand_in.requests)
        if request.method == "POST":
            stand_in.reset_counts()
        return _json(counts)

    async def set_latency(request: web.Request) -> web.Response:
        stand_in.faults.latency = float(request.query.get("latency", "0"))
        return _json({"latency": stand_in.faults.latency})

    app = web.Application()
    app.router.add_route("POST", LATENCY_PATH, set_latency)
    app.router.add_route("GET", STATS_PATH, stats)
    app.router.add_route("POST", STATS_PATH, stats)
    app.router.add_route("POST", REST_PATH, endpoint)
    app.router.add_route("GET", REST_PATH, endpoint)
    return app


async def start_stand_in(
    spec: SiteSpec | None = None,
    faults: Faults | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
) -> MoodleStandIn:
    """Start the stand-in on ``host`` (a free port by default); ``close()`` stops it."""
    site = GeneratedSite(spec)
    stand_in = MoodleStandIn(site=site, faults=faults or Faults(), token=site.spec.token)
    runner = web.AppRunner(build_app(stand_in), access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, host, port)
    await tcp.start()
    server = tcp._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    stand_in.url = f"http://{host}:{bound}"
    stand_in._runner = runner
    return stand_in
