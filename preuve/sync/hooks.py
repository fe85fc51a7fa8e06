"""Coverage snapshots with their events delivered: after a sync, and on demand.

:func:`snapshot_coverage` is the one way to take a snapshot (the sync hook, ``preuve
coverage``, ``POST /api/tenants/{tenant}/coverage/snapshots``): it evaluates the
tenant's coverage as of today, stores the snapshot and puts the events of the
change since the previous one in the webhook outbox, in one transaction. A
snapshot is therefore never stored without its events (the next one compares
against it, so events left out then would be lost for good).

The sync job calls :func:`after_sync` with its own events (``sync.completed`` or
``sync.failed``). Coverage is evaluated only when the sync brought data in
(succeeded or partial). A failure of either step is logged and counted, never
turned into a failed sync: the evidence is in the store, and the next sync tries
again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from preuve.config.settings import Settings, TenantConfig
from preuve.events import Event
from preuve.i18n import Text
from preuve.mapping.result import CoverageResult
from preuve.mapping.snapshot import evaluate_and_snapshot
from preuve.store import Store
from preuve.sync.metrics import POST_SYNC_ERRORS
from preuve.webhooks.configured import apply_configured_endpoints
from preuve.webhooks.outbox import enqueue, enqueue_in, wakeup_event

log = logging.getLogger(__name__)

MSG_SNAPSHOT_DAY = Text(
    fr="un instantané se prend au jour même ({today}), pas au {as_of} : les événements "
    "naissent de l'écart avec l'instantané précédent, et un instantané d'un autre jour "
    "fausserait les suivants",
    en="a snapshot is taken as of today ({today}), not {as_of}: events come from the "
    "change since the previous snapshot, and a snapshot of another day would make the "
    "next ones wrong",
)
MSG_SNAPSHOT_AUDIT = Text(
    fr="un instantané se prend avec la date d'audit de la configuration ({expected}), "
    "pas le {audit_date} : elle choisit la version du référentiel, et les événements "
    "comparent deux instantanés de la même version",
    en="a snapshot is taken with the configured audit date ({expected}), not "
    "{audit_date}: it picks the referential version, and events compare two snapshots "
    "of the same version",
)


class SnapshotRefused(ValueError):
    """A snapshot asked for another day or audit date than the sync would use."""


def coverage_day(settings: Settings) -> date:
    """Today in the schedule's time zone: the day every snapshot stands on."""
    return datetime.now(ZoneInfo(settings.schedule.timezone)).date()


def snapshot_problem(
    settings: Settings,
    tenant: TenantConfig,
    *,
    as_of: date | None = None,
    audit_date: date | None = None,
) -> str | None:
    """Why a snapshot with these dates would break the chain of events (None: it would not).

    A snapshot is the evaluation the nightly sync makes: as of today, with the
    tenant's audit date (else today). Another day, or another referential version,
    would make the next comparison raise events for changes that never happened.
    """
    today = coverage_day(settings)
    if as_of is not None and as_of != today:
        return MSG_SNAPSHOT_DAY(today=today, as_of=as_of)
    expected = tenant.audit_date or today
    if audit_date is not None and audit_date != expected:
        return MSG_SNAPSHOT_AUDIT(expected=expected, audit_date=audit_date)
    return None


async def snapshot_coverage(
    store: Store,
    settings: Settings,
    tenant: TenantConfig,
    *,
    as_of: date | None = None,
    audit_date: date | None = None,
    apply_endpoints: bool = True,
) -> tuple[CoverageResult, list[Event]]:
    """Evaluate as of today, store the snapshot and enqueue its events, all or nothing.

    ``as_of`` and ``audit_date``, when given, must be what the sync would use
    (:func:`snapshot_problem`); otherwise :class:`SnapshotRefused` is raised and
    nothing is stored. The endpoints declared in the configuration are applied
    first (``apply_endpoints=False``: the caller just did), so they receive these
    events too. Returns the result (with its ``snapshot_id``) and the events.
    """
    problem = snapshot_problem(settings, tenant, as_of=as_of, audit_date=audit_date)
    if problem is not None:
        raise SnapshotRefused(problem)
    if apply_endpoints:
        await apply_configured_endpoints(store, settings, tenant.id)
    stored = 0

    async def to_outbox(conn: AsyncConnection, events: list[Event]) -> None:
        nonlocal stored
        stored = await enqueue_in(conn, events, public_url=settings.web.public_url)

    result, events = await evaluate_and_snapshot(
        store, tenant, as_of=coverage_day(settings), audit_date=audit_date, sink=to_outbox
    )
    if stored:
        wakeup_event(store.engine).set()  # dispatchers in this process start at once
    return result, events


def snapshot_json(result: CoverageResult, events: Sequence[Event]) -> dict[str, Any]:
    """A snapshot as answered by the CLI and the API: the coverage JSON and its events."""
    return {
        **result.as_json(),
        "events": [
            {
                "id": event.id,
                "type": event.type,
                "tenant": event.tenant,
                "occurred_at": event.occurred_at.isoformat(),
                "data": event.data,
            }
            for event in events
        ],
    }


async def after_sync(
    store: Store,
    settings: Settings,
    tenant: TenantConfig,
    events: Sequence[Event],
    *,
    evaluate_coverage: bool,
) -> list[Event]:
    """Enqueue the sync's events, then snapshot coverage (when asked); returns every event."""
    sync_events = list(events)
    applied = False
    if sync_events or evaluate_coverage:
        try:
            # Endpoints declared in the configuration receive this sync's events too.
            await apply_configured_endpoints(store, settings, tenant.id)
            applied = True
            if sync_events:
                await enqueue(store, sync_events, public_url=settings.web.public_url)
        except Exception:
            POST_SYNC_ERRORS.labels("webhooks").inc()
            log.exception("webhook enqueue failed after sync of %s", tenant.id)
    coverage_events: list[Event] = []
    if evaluate_coverage:
        try:
            _, coverage_events = await snapshot_coverage(
                store, settings, tenant, apply_endpoints=not applied
            )
        except Exception:
            POST_SYNC_ERRORS.labels("coverage").inc()
            log.exception("coverage snapshot failed after sync of %s", tenant.id)
    return [*sync_events, *coverage_events]
