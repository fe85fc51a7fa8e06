"""Store each evaluation as a snapshot and turn the change since the last one into events.

Events are thin: tenant, indicator, action, statuses, a reason with every person
key taken out, the deadline. The caller hands them to the webhooks subsystem,
best inside the snapshot's own transaction (``sink``): then a snapshot is stored
only together with its events, and a change is never compared away unsent.

``indicator.due_soon`` is raised once per (action, indicator, deadline): on the
first snapshot whose ``as_of`` is within the deadline's warning window
(``warn_from`` <= ``as_of`` <= ``due_by``, stored on each status row), unless the
previous snapshot, on its own ``as_of``, was already within the window of the
same deadline.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from preuve.config.settings import TenantConfig
from preuve.events import DUE_SOON, PROOF_MISSING, PROOF_RESTORED, Event
from preuve.evidence.identity import PERSON_KEY_PREFIX
from preuve.mapping.evaluate import evaluate
from preuve.mapping.gcpause import gc_paused
from preuve.mapping.result import (
    DUE_SOON_DAYS,
    CoverageResult,
    IndicatorCoverage,
    Status,
    summarise,
    summarise_statuses,
)
from preuve.mapping.tables import ORGANISATION_REF, coverage_snapshot, coverage_status
from preuve.store import Store

# Receives a snapshot's events inside its transaction (e.g. the webhook outbox's
# ``enqueue_in``); if it raises, the snapshot is not stored either.
EventSink = Callable[[AsyncConnection, list[Event]], Awaitable[object]]

_LOST = frozenset({Status.MISSING, Status.PARTIAL})
_NEAR = frozenset({Status.DUE, Status.PROVEN})
_INSERT_CHUNK = 500
_REDACTED_RUN = re.compile(r"\u2026(, \u2026)+")
# Any person key, named at fault or not (learners still within a deadline are
# named in "due" reasons without being at fault).
_PERSON_KEY = re.compile(rf"(?<![\w-]){re.escape(PERSON_KEY_PREFIX)}[\w-]+")


@dataclass(frozen=True, slots=True)
class PreviousStatus:
    """What the previous snapshot stored for one (action, indicator)."""

    status: str
    due_by: date | None = None
    warn_from: date | None = None


@dataclass(slots=True)
class PreviousSnapshot:
    """The tenant's previous snapshot: its day and its statuses."""

    as_of: date
    statuses: dict[tuple[str, int], PreviousStatus] = field(default_factory=dict)


def _rows(result: CoverageResult) -> list[tuple[str, IndicatorCoverage]]:
    rows = [(ORGANISATION_REF, item) for item in result.organisation]
    for action in result.actions:
        rows.extend((action.action_ref, item) for item in action.indicators)
    return rows


def thin_reason(text: str) -> str:
    """The reason without person keys (events leave the instance)."""
    return _REDACTED_RUN.sub("\u2026", _PERSON_KEY.sub("\u2026", text))


async def _previous(conn: AsyncConnection, tenant: str, before_id: int) -> PreviousSnapshot | None:
    head = (
        await conn.execute(
            select(coverage_snapshot.c.id, coverage_snapshot.c.as_of)
            .where(coverage_snapshot.c.tenant == tenant, coverage_snapshot.c.id < before_id)
            .order_by(coverage_snapshot.c.id.desc())
            .limit(1)
        )
    ).first()
    if head is None:
        return None
    rows = await conn.execute(
        select(
            coverage_status.c.action_ref,
            coverage_status.c.indicator,
            coverage_status.c.status,
            coverage_status.c.due_by,
            coverage_status.c.warn_from,
        ).where(coverage_status.c.snapshot_id == head.id)
    )
    return PreviousSnapshot(
        as_of=head.as_of,
        statuses={
            (ref, number): PreviousStatus(status, due_by, warn_from)
            for ref, number, status, due_by, warn_from in rows
        },
    )


def warn_day(due_by: date | None, warn_from: date | None) -> date | None:
    """The day ``due_by`` enters its warning window (default window without ``warn_from``)."""
    if due_by is None:
        return None
    return warn_from or due_by - timedelta(days=DUE_SOON_DAYS)


def _near(status: Status, due_by: date | None, warn_from: date | None, as_of: date) -> bool:
    """A deadline within its warning window on ``as_of``, on a status it can concern."""
    start = warn_day(due_by, warn_from)
    return status in _NEAR and start is not None and due_by is not None and start <= as_of <= due_by


def _already_warned(
    item: IndicatorCoverage, before: PreviousStatus | None, previous: PreviousSnapshot | None
) -> bool:
    """The previous snapshot was, on its own day, within the window of the same deadline."""
    if before is None or previous is None or before.due_by != item.due_by:
        return False
    try:
        status = Status(before.status)
    except ValueError:
        return False
    return _near(status, before.due_by, before.warn_from, previous.as_of)


def _event(
    event_type: str,
    result: CoverageResult,
    action_ref: str,
    item: IndicatorCoverage,
    before_status: Status | None,
    when: datetime,
) -> Event:
    return Event(
        type=event_type,
        tenant=result.tenant,
        occurred_at=when,
        data={
            "snapshot_id": result.snapshot_id,
            "referential_version": result.referential_version,
            "indicator": item.indicator,
            "action_ref": action_ref or None,
            "status": item.status.value,
            "previous_status": before_status.value if before_status else None,
            "nonconformity": item.nonconformity,
            "due_by": item.due_by.isoformat() if item.due_by else None,
            "reason": thin_reason(item.reason.fr),
            "reason_en": thin_reason(item.reason.en),
        },
    )


def diff_events(
    result: CoverageResult,
    previous: PreviousSnapshot | None,
    occurred_at: datetime | None = None,
) -> list[Event]:
    """Events from the change between the previous snapshot and this result.

    A status change raises at most one of ``proof_missing`` / ``proof_restored``;
    ``due_soon`` is decided on its own, so a proof restored with a deadline
    already near raises both.
    """
    when = occurred_at or datetime.now(UTC)
    statuses = previous.statuses if previous is not None else {}
    events: list[Event] = []
    for action_ref, item in _rows(result):
        before = statuses.get((action_ref, item.indicator))
        try:
            before_status = Status(before.status) if before else None
        except ValueError:  # a status an older version wrote: count it as unknown
            before_status = None
        types: list[str] = []
        if item.status in _LOST and before_status not in _LOST:
            types.append(PROOF_MISSING)
        elif item.status is Status.MANUAL and before_status is Status.PROVEN:
            types.append(PROOF_MISSING)  # a manual proof expired
        elif item.status is Status.PROVEN and before_status in (*_LOST, Status.MANUAL):
            types.append(PROOF_RESTORED)
        if _near(item.status, item.due_by, item.warn_from, result.as_of) and not _already_warned(
            item, before, previous
        ):
            types.append(DUE_SOON)
        events.extend(
            _event(event_type, result, action_ref, item, before_status, when)
            for event_type in types
        )
    return events


def _lock_key(tenant: str) -> int:
    """A stable signed 64-bit key per tenant for PostgreSQL's advisory locks."""
    digest = hashlib.sha256(f"preuve.coverage_snapshot\0{tenant}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def store_snapshot(
    store: Store, result: CoverageResult, *, sink: EventSink | None = None
) -> tuple[int, list[Event]]:
    """Write the snapshot and return its id with the events against the previous one.

    With ``sink``, the events are handed to it inside the snapshot's transaction:
    both are committed, or neither. Snapshots of one tenant are serialised (an
    advisory lock on PostgreSQL, the single writer on SQLite), so two concurrent
    ones never compare against the same previous snapshot.
    """
    now = datetime.now(UTC)
    try:
        async with store.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(select(func.pg_advisory_xact_lock(_lock_key(result.tenant))))
            snapshot_id = (
                await conn.execute(
                    insert(coverage_snapshot)
                    .values(
                        tenant=result.tenant,
                        referential_version=result.referential_version,
                        as_of=result.as_of,
                        audit_date=result.audit_date,
                        evaluated_at=now,
                        summary=summarise(result.organisation),
                    )
                    .returning(coverage_snapshot.c.id)
                )
            ).scalar_one()
            rows: list[dict[str, Any]] = [
                {
                    "snapshot_id": snapshot_id,
                    "action_ref": action_ref,
                    "indicator": item.indicator,
                    "status": item.status.value,
                    "reason": item.reason.fr,
                    "reason_en": item.reason.en,
                    "nonconformity": item.nonconformity,
                    "due_by": item.due_by,
                    "warn_from": warn_day(item.due_by, item.warn_from),
                    "evidence_count": item.evidence_count,
                    "at_fault": item.at_fault,
                }
                for action_ref, item in _rows(result)
            ]
            for start in range(0, len(rows), _INSERT_CHUNK):
                await conn.execute(insert(coverage_status), rows[start : start + _INSERT_CHUNK])
            previous = await _previous(conn, result.tenant, snapshot_id)
            result.snapshot_id = snapshot_id
            events = diff_events(result, previous, now)
            if sink is not None and events:
                await sink(conn, events)
    except BaseException:
        result.snapshot_id = None  # rolled back
        raise
    return snapshot_id, events


async def evaluate_and_snapshot(
    store: Store,
    tenant: TenantConfig,
    *,
    as_of: date | None = None,
    audit_date: date | None = None,
    sink: EventSink | None = None,
) -> tuple[CoverageResult, list[Event]]:
    """Evaluate, store the snapshot, and return the result with its events.

    ``sink``: see :func:`store_snapshot` (the webhook outbox, inside the
    snapshot's transaction).
    """
    with gc_paused():  # the snapshot rows are as many as the statuses: see gcpause
        result = await evaluate(store, tenant, as_of=as_of, audit_date=audit_date)
        _, events = await store_snapshot(store, result, sink=sink)
    return result, events


async def latest_statuses(
    store: Store, tenant: str
) -> dict[tuple[str, int], tuple[str, date | None]]:
    """The statuses of the latest snapshot of a tenant (empty when none)."""
    async with store.engine.connect() as conn:
        previous = await _previous(conn, tenant, 2**62)
    if previous is None:
        return {}
    return {key: (row.status, row.due_by) for key, row in previous.statuses.items()}


async def latest_snapshot(store: Store, tenant: str) -> dict[str, Any] | None:
    """The latest stored snapshot of a tenant, as JSON (None when there is none).

    Rebuilt from the stored rows only: the snapshot's header, then per
    (action, indicator) what a snapshot keeps (status, reasons, NC, deadline,
    warning day, evidence count, refs at fault), organisation level first.
    """
    async with store.engine.connect() as conn:
        head = (
            await conn.execute(
                select(coverage_snapshot)
                .where(coverage_snapshot.c.tenant == tenant)
                .order_by(coverage_snapshot.c.id.desc())
                .limit(1)
            )
        ).first()
        if head is None:
            return None
        rows = (
            await conn.execute(
                select(coverage_status)
                .where(coverage_status.c.snapshot_id == head.id)
                .order_by(coverage_status.c.action_ref, coverage_status.c.indicator)
            )
        ).all()
    organisation: list[dict[str, Any]] = []
    actions: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        item = {
            "indicator": row.indicator,
            "status": row.status,
            "reason": row.reason,
            "reason_en": row.reason_en,
            "nonconformity": row.nonconformity,
            "due_by": row.due_by.isoformat() if row.due_by else None,
            "warn_from": row.warn_from.isoformat() if row.warn_from else None,
            "evidence_count": row.evidence_count,
            "at_fault": row.at_fault,
        }
        if row.action_ref == ORGANISATION_REF:
            organisation.append(item)
        else:
            actions.setdefault(row.action_ref, []).append(item)
    return {
        "snapshot_id": head.id,
        "tenant": head.tenant,
        "referential_version": head.referential_version,
        "as_of": head.as_of.isoformat(),
        "audit_date": head.audit_date.isoformat(),
        "evaluated_at": head.evaluated_at.isoformat(),
        "summary": head.summary,
        "organisation": organisation,
        "actions": [
            {
                "action_ref": ref,
                "summary": summarise_statuses(Status(i["status"]) for i in items),
                "indicators": items,
            }
            for ref, items in actions.items()
        ],
    }
