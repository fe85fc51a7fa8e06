"""A webhook receiver stand-in: an aiohttp server on 127.0.0.1 that behaves badly on demand.

Modes: ``ok`` (204), ``fail`` (500 or ``fail_status``), ``timeout`` (answers after
``delay`` seconds, meant to exceed the sender's timeout), ``slow`` (200 after
``delay``), ``gone`` (410), ``redirect`` (302 to ``/elsewhere``, which records
anything that follows it), ``retry_after`` (503 with a ``Retry-After`` header).
The mode can change while deliveries run, e.g. fail for a while then recover; the
receiver can also be closed and started again on the same port (down, then back).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

from aiohttp import web

Mode = Literal["ok", "fail", "timeout", "slow", "gone", "redirect", "retry_after"]

HOOK_PATH = "/hook"
ELSEWHERE_PATH = "/elsewhere"
SUMMARY_PATH = "/summary"


@dataclass(frozen=True, slots=True)
class Received:
    msg_id: str
    timestamp: str
    signature: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float  # time.time() when the request arrived


@dataclass
class WebhookReceiver:
    mode: Mode = "ok"
    delay: float = 0.0
    fail_status: int = 500
    retry_after: str = "1"
    keep_bodies: bool = True
    received: list[Received] = field(default_factory=list)
    followed_redirects: int = 0
    distinct_delivered: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    _port: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}{HOOK_PATH}"

    def set_mode(self, mode: Mode, *, delay: float | None = None) -> None:
        self.mode = mode
        if delay is not None:
            self.delay = delay

    # -- what was received -------------------------------------------------
    def delivered(self) -> list[Received]:
        """Requests answered with a 2xx status."""
        return [r for r in self.received if 200 <= r.status < 300]

    def delivered_ids(self) -> list[str]:
        return [r.msg_id for r in self.delivered()]

    async def wait_for(self, count: int, *, within: float = 20.0) -> None:
        """Until ``count`` distinct ids were delivered (TimeoutError otherwise)."""
        await self._wait(lambda: len(self.distinct_delivered) >= count, within)

    async def wait_requests(self, count: int, *, within: float = 20.0) -> None:
        """Until ``count`` requests arrived, whatever the answer."""
        await self._wait(lambda: len(self.received) >= count, within)

    async def _wait(self, done: Callable[[], bool], within: float) -> None:
        async def _until() -> None:
            while not done():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(_until(), within)

    def reset(self) -> None:
        """Forget what was received so far."""
        self.received.clear()
        self.distinct_delivered.clear()

    # -- the server -----------------------------------------------------------
    def _record(self, request: web.Request, body: bytes, status: int) -> None:
        headers = dict(request.headers)
        self.received.append(
            Received(
                msg_id=request.headers.get("webhook-id", ""),
                timestamp=request.headers.get("webhook-timestamp", ""),
                signature=request.headers.get("webhook-signature", ""),
                headers=headers,
                body=body if self.keep_bodies else b"",
                status=status,
                at=time.time(),
            )
        )
        if 200 <= status < 300:
            self.distinct_delivered.add(request.headers.get("webhook-id", ""))
        self._changed.set()

    async def _hook(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        mode = self.mode
        if mode in ("timeout", "slow"):
            await asyncio.sleep(self.delay)
        status, response = self._answer(mode)
        self._record(request, body, status)
        return response

    def _answer(self, mode: Mode) -> tuple[int, web.StreamResponse]:
        if mode in ("ok", "slow", "timeout"):
            return 204, web.Response(status=204)
        if mode == "gone":
            return 410, web.Response(status=410)
        if mode == "redirect":
            return 302, web.Response(status=302, headers={"Location": ELSEWHERE_PATH})
        if mode == "retry_after":
            return 503, web.Response(status=503, headers={"Retry-After": self.retry_after})
        return self.fail_status, web.Response(status=self.fail_status)

    async def _elsewhere(self, request: web.Request) -> web.Response:
        await request.read()
        self.followed_redirects += 1
        return web.Response(status=200)

    async def _summary(self, request: web.Request) -> web.Response:
        """What arrived, for a benchmark running the receiver in another process."""
        if request.query.get("full") != "1":
            return web.json_response({"delivered": len(self.distinct_delivered)})
        rows = [[r.msg_id, r.at, r.status] for r in self.received]
        return web.json_response({"delivered": len(self.distinct_delivered), "received": rows})

    @property
    def port(self) -> int:
        return self._port

    async def start(self, port: int = 0) -> WebhookReceiver:
        """Listen on ``port`` (0: any free one); after ``close`` it may start again."""
        if port:
            self._port = port
        app = web.Application()
        app.router.add_post(HOOK_PATH, self._hook)
        app.router.add_get(SUMMARY_PATH, self._summary)
        app.router.add_route("*", ELSEWHERE_PATH, self._elsewhere)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WebhookReceiver:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
