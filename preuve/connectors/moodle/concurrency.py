"""Ordered, bounded fan-out: results come back in input order, few tasks in flight."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

from preuve.connectors.errors import SkipItem

T = TypeVar("T")
R = TypeVar("R")


async def ordered_map(
    items: Iterable[T], fn: Callable[[T], Awaitable[R]], limit: int
) -> AsyncIterator[tuple[T, R | SkipItem]]:
    """Yield ``(item, fn(item))`` in order with at most ``limit`` calls running.

    A :class:`SkipItem` is yielded as the result; any other error cancels the
    pending calls and propagates (memory stays bounded by ``limit``).
    """
    pending: deque[tuple[T, asyncio.Task[R]]] = deque()
    iterator = iter(items)
    try:
        while True:
            while len(pending) < limit:
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                pending.append((item, asyncio.ensure_future(fn(item))))
            if not pending:
                return
            item, task = pending.popleft()
            try:
                result: R | SkipItem = await task
            except SkipItem as exc:
                result = exc
            yield item, result
    finally:
        for _, task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*(task for _, task in pending), return_exceptions=True)
