"""The Moodle REST client: one aiohttp session, bounded concurrency, classified errors.

Each call is retried on transient failures (timeouts, connection errors, 5xx,
429 with Retry-After) with exponential backoff and jitter; the concurrency slot
is released while waiting, so a backing-off call does not block the others.
The token travels in the POST body, never in a URL or a log line.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from preuve.connectors.errors import TransientError
from preuve.connectors.http import (
    TRANSPORT_ERRORS,
    client_timeout,
    raise_for_status,
    retry_policy,
    transport_error,
)
from preuve.connectors.moodle.constants import REST_PATH
from preuve.connectors.moodle.encoding import encode_params
from preuve.connectors.moodle.errors import raise_for_error
from preuve.i18n import Text

MSG_NOT_JSON = Text(
    fr="{function} : réponse illisible (pas du JSON), page de maintenance ou erreur PHP ?",
    en="{function}: unreadable answer (not JSON), maintenance page or PHP error?",
)


class MoodleClient:
    """Calls ``{url}/webservice/rest/server.php``; use inside ``async with``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        concurrency: int = 4,
        timeout: float = 30.0,
        attempts: int = 5,
        initial_wait: float = 0.5,
        max_wait: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url + REST_PATH
        self._token = token
        self._concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._timeout = timeout
        self._attempts = attempts
        self._initial_wait = initial_wait
        self._max_wait = max_wait
        self._session: aiohttp.ClientSession | None = None
        self.requests: Counter[str] = Counter()  # HTTP requests sent, per function

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=client_timeout(self._timeout),
                connector=aiohttp.TCPConnector(limit=self._concurrency * 2),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> MoodleClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(
        self, function: str, params: Mapping[str, Any] | None = None, *, item: str | None = None
    ) -> Any:
        """Call ``function``; ``item`` names what is skipped if Moodle says it is
        not accessible (a course), otherwise such errors fail the sync."""
        body = [
            ("wstoken", self._token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *encode_params(params or {}),
        ]
        try:
            decoded = await self._attempt(function, body)
        except TransientError as first:
            if self._attempts <= 1:
                raise
            # Tenacity only on the (rare) failure path: it costs per call.
            # The server's Retry-After wins over our own backoff (already capped).
            wait = first.retry_after if first.retry_after is not None else self._initial_wait
            await asyncio.sleep(wait)
            decoded = await self._retry(function, body)
        raise_for_error(decoded, function, item=item)
        return decoded

    async def _retry(self, function: str, body: list[tuple[str, str]]) -> Any:
        async for attempt in retry_policy(
            attempts=self._attempts - 1, initial_wait=self._initial_wait, max_wait=self._max_wait
        ):
            with attempt:
                return await self._attempt(function, body)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _attempt(self, function: str, body: list[tuple[str, str]]) -> Any:
        if self._session is None:
            raise RuntimeError("MoodleClient used outside 'async with'")
        async with self._semaphore:
            self.requests[function] += 1
            try:
                async with self._session.post(self.endpoint, data=body) as response:
                    raise_for_status(response.status, dict(response.headers), function)
                    raw = await response.read()
            except TRANSPORT_ERRORS as exc:
                raise transport_error(exc, function) from exc
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            # Proxies and PHP fatals answer HTML with a 200: usually passing.
            raise TransientError(MSG_NOT_JSON(function=function), code="not_json") from exc

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())
