"""HTTP error classification and retries, against a real local aiohttp server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from preuve.connectors.errors import ErrorAction, PermanentError, TransientError
from preuve.connectors.http import (
    TRANSPORT_ERRORS,
    classify_status,
    parse_retry_after,
    raise_for_status,
    transport_error,
    with_retries,
)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (200, None),
        (204, None),
        (429, ErrorAction.RETRY),
        (503, ErrorAction.RETRY),
        (408, ErrorAction.RETRY),
        (401, ErrorAction.FAIL),
        (403, ErrorAction.FAIL),
        (400, ErrorAction.FAIL),
        (404, ErrorAction.SKIP),
    ],
)
def test_every_status_is_classified_once(status: int, action: ErrorAction | None) -> None:
    assert classify_status(status) is action


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30)), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30)), now=now) == 0.0
    assert parse_retry_after("100000") == 300.0  # capped
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_statuses_become_the_right_errors() -> None:
    with pytest.raises(TransientError) as transient:
        raise_for_status(429, {"Retry-After": "2"}, "GET /x")
    assert transient.value.retry_after == 2.0
    with pytest.raises(PermanentError, match="credentials refused"):
        raise_for_status(401, {}, "GET /x")
    raise_for_status(200, None, "GET /x")


async def test_transient_failures_are_retried_until_success() -> None:
    calls = {"count": 0}

    async def flaky(request: web.Request) -> web.Response:
        calls["count"] += 1
        if calls["count"] < 3:
            return web.Response(status=503, headers={"Retry-After": "0"})
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/x", flaky)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:

        async def call() -> dict[str, bool]:
            try:
                async with session.get(server.make_url("/x")) as response:
                    raise_for_status(response.status, dict(response.headers), "GET /x")
                    data: dict[str, bool] = await response.json()
                    return data
            except TRANSPORT_ERRORS as exc:
                raise transport_error(exc, "GET /x") from exc

        assert await with_retries(call, attempts=5, initial_wait=0.01, max_wait=0.05) == {
            "ok": True
        }
    assert calls["count"] == 3


async def test_permanent_failures_are_not_retried() -> None:
    calls = {"count": 0}

    async def call() -> None:
        calls["count"] += 1
        raise PermanentError("token refusé", code="invalidtoken")

    with pytest.raises(PermanentError, match="token"):
        await with_retries(call, attempts=5, initial_wait=0.01)
    assert calls["count"] == 1


async def test_retries_give_up_with_the_last_error() -> None:
    calls = {"count": 0}

    async def call() -> None:
        calls["count"] += 1
        raise TransientError(f"try {calls['count']}")

    with pytest.raises(TransientError, match="try 3"):
        await with_retries(call, attempts=3, initial_wait=0.01, max_wait=0.02)
