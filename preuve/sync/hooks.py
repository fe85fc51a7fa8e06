"""After a sync: re-evaluate the tenant's coverage, then hand every event to the outbox.

The sync job calls :func:`after_sync` with its own events (``sync.completed`` or
``sync.failed``). Coverage is evaluated only when the sync brought data in
(succeeded or partial). A failure of either step is logged and counted, never
turned into a failed sync: the evidence is in the store, and the next sync tries
again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from preuve.config.settings import Settings, TenantConfig
from preuve.events import Event
from preuve.mapping.snapshot import evaluate_and_snapshot
from preuve.store import Store
from preuve.sync.metrics import POST_SYNC_ERRORS
from preuve.webhooks.configured import apply_configured_endpoints
from preuve.webhooks.outbox import enqueue

log = logging.getLogger(__name__)


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
        try:
            today = datetime.now(ZoneInfo(settings.schedule.timezone)).date()
            _, coverage_events = await evaluate_and_snapshot(store, tenant, as_of=today)
            all_events.extend(coverage_events)
        except Exception:
            POST_SYNC_ERRORS.labels("coverage").inc()
            log.exception("coverage evaluation failed after sync of %s", tenant.id)
    if all_events:
        try:
            # Endpoints declared in the configuration receive this sync's events too.
            await apply_configured_endpoints(store, settings)
            await enqueue(store, all_events, public_url=settings.web.public_url)
        except Exception:
            POST_SYNC_ERRORS.labels("webhooks").inc()
            log.exception("webhook enqueue failed after sync of %s", tenant.id)
    return all_events
