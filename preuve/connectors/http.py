"""HTTP plumbing shared by the network connectors.

Every response and transport error is classified once, here: retry (with
exponential backoff, jitter and ``Retry-After``), fail with a message for the
admin, or skip the one item. Connectors add their protocol's own rules (Moodle
reports errors in a 200 body) on top of :func:`classify_status`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from preuve.connectors.errors import ErrorAction, PermanentError, TransientError

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_ATTEMPTS = 5
MAX_RETRY_AFTER_SECONDS = 300.0

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def classify_status(status: int) -> ErrorAction | None:
    """None for success; otherwise what to do about the status."""
    if 200 <= status < 300:
        return None
    if status in RETRY_STATUSES:
        return ErrorAction.RETRY
    if status == 404:
        return ErrorAction.SKIP
    return ErrorAction.FAIL


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER_SECONDS)


def transport_error(exc: BaseException, what: str) -> TransientError:
    """A transport failure (timeout, reset, DNS) as a retryable error."""
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return TransientError(f"{what}: délai dépassé / timed out", code="timeout")
    return TransientError(f"{what}: {type(exc).__name__}", code="connection")


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    asyncio.TimeoutError,
    TimeoutError,
)


class _WaitRetryAfter:
    """Exponential backoff with jitter, or the server's Retry-After when it gives one."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._backoff = wait_exponential_jitter(multiplier=initial, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and outcome.failed:
            exc = outcome.exception()
            if isinstance(exc, TransientError) and exc.retry_after is not None:
                return exc.retry_after
        return float(self._backoff(state))


def retry_policy(
    *, attempts: int = DEFAULT_ATTEMPTS, initial_wait: float = 0.5, max_wait: float = 30.0
) -> AsyncRetrying:
    """Retry only :class:`TransientError`; the last one is re-raised."""
    return AsyncRetrying(
        retry=retry_if_exception_type(TransientError),
        wait=_WaitRetryAfter(initial_wait, max_wait),
        stop=stop_after_attempt(attempts),
        reraise=True,
    )


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    initial_wait: float = 0.5,
    max_wait: float = 30.0,
) -> T:
    async for attempt in retry_policy(
        attempts=attempts, initial_wait=initial_wait, max_wait=max_wait
    ):
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity re-raises the last error")


def raise_for_status(status: int, headers: dict[str, str] | None, what: str) -> None:
    """Turn a non-2xx status into the classified connector error."""
    action = classify_status(status)
    if action is None:
        return
    if action is ErrorAction.RETRY:
        retry_after = parse_retry_after((headers or {}).get("Retry-After"))
        raise TransientError(
            f"{what}: HTTP {status}", code=f"http_{status}", retry_after=retry_after
        )
    if status in (401, 403):
        raise PermanentError(
            f"{what}: HTTP {status}, identifiants refusés / credentials refused",
            code="unauthorized",
        )
    raise PermanentError(f"{what}: HTTP {status}", code=f"http_{status}")


def client_timeout(total: float = DEFAULT_TIMEOUT_SECONDS) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total)
