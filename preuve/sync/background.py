"""Background work next to the syncs: webhook delivery.

``preuve worker`` (distributed) and ``preuve serve`` (embedded) deliver the
outbox while they run, so the events of the nightly sync reach their receivers
without anyone starting anything else. Several dispatchers are safe: messages
are claimed with a lease (see docs/webhooks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from preuve.config.settings import Settings
from preuve.store import Store

log = logging.getLogger(__name__)

DISPATCHER_ENTRY_POINT = "preuve.webhooks.delivery:run_dispatcher"
STOP_WAIT_SECONDS = 10.0


def _run_dispatcher() -> Any:
    module_name, _, name = DISPATCHER_ENTRY_POINT.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None
        raise
    return getattr(module, name, None)


@contextlib.asynccontextmanager
async def webhook_delivery(store: Store, settings: Settings) -> AsyncIterator[bool]:
    """Deliver webhooks in the background for the block; yields whether it runs."""
    run = _run_dispatcher()
    if run is None:
        yield False
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        run(store, config=settings.webhooks, public_url=settings.web.public_url, stop=stop)
    )
    try:
        yield True
    finally:
        stop.set()
        done, _ = await asyncio.wait([task], timeout=STOP_WAIT_SECONDS)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await task
            except Exception:
                log.exception("webhook delivery stopped with an error")
