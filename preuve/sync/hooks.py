"""After a sync: re-evaluate the tenant's coverage, then hand every event to the outbox.

The sync job calls :func:`after_sync` with its own events (``sync.completed`` or
``sync.failed``). Coverage is evaluated only when the sync brought data in
(succeeded or partial). The mapping and webhooks subsystems are imported on
first use; a failure of either is logged and counted, never turned into a
failed sync: the evidence is in the store, and the next sync tries again.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from preuve.config.settings import Settings, TenantConfig
from preuve.events import Event
from preuve.store import Store
from preuve.sync.metrics import POST_SYNC_ERRORS

log = logging.getLogger(__name__)

# Where the coverage evaluation lives ("module:function"), first found wins.
COVERAGE_ENTRY_POINTS: tuple[str, ...] = ("preuve.mapping.snapshot:evaluate_and_snapshot",)
OUTBOX_ENTRY_POINT = "preuve.webhooks.outbox:enqueue"

EvaluateFn = Callable[..., Awaitable[tuple[Any, list[Event]]]]
EnqueueFn = Callable[..., Awaitable[int]]


def _find(target: str) -> Callable[..., Any] | None:
    module_name, _, name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None  # that subsystem is not there (yet): nothing to call
        raise
    found = getattr(module, name, None)
    return found if callable(found) else None


def coverage_function() -> EvaluateFn | None:
    for target in COVERAGE_ENTRY_POINTS:
        found = _find(target)
        if found is not None:
            return found
    return None


def outbox_function() -> EnqueueFn | None:
    return _find(OUTBOX_ENTRY_POINT)


async def after_sync(
    store: Store,
    settings: Settings,
    tenant: TenantConfig,
    events: Sequence[Event],
    *,
    evaluate_coverage: bool,
) -> list[Event]:
    """Evaluate coverage (when asked) and enqueue every event; returns the events."""
    all_events = list(events)
    if evaluate_coverage:
        evaluate = coverage_function()
        if evaluate is not None:
            try:
                today = datetime.now(ZoneInfo(settings.schedule.timezone)).date()
                _, coverage_events = await evaluate(store, tenant, as_of=today)
                all_events.extend(coverage_events)
            except Exception:
                POST_SYNC_ERRORS.labels("coverage").inc()
                log.exception("coverage evaluation failed after sync of %s", tenant.id)
    enqueue = outbox_function()
    if enqueue is not None and all_events:
        try:
            await enqueue(store, all_events, public_url=settings.web.public_url)
        except Exception:
            POST_SYNC_ERRORS.labels("webhooks").inc()
            log.exception("webhook enqueue failed after sync of %s", tenant.id)
    return all_events
