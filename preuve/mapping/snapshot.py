"""Store each evaluation as a snapshot and turn the change since the last one into events.

Events are thin: tenant, indicator, action, statuses, a reason with every person
key taken out, the deadline. The sync job hands them to the webhooks subsystem.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from preuve.config.settings import TenantConfig
from preuve.events import DUE_SOON, PROOF_MISSING, PROOF_RESTORED, Event
from preuve.evidence.identity import PERSON_KEY_PREFIX
from preuve.mapping.evaluate import evaluate
from preuve.mapping.gcpause import gc_paused
from preuve.mapping.result import CoverageResult, IndicatorCoverage, Status, summarise
from preuve.mapping.tables import ORGANISATION_REF, coverage_snapshot, coverage_status
from preuve.store import Store

# A deadline this close (or closer) raises ``indicator.due_soon``.
DUE_SOON_DAYS = 14
_LOST = frozenset({Status.MISSING, Status.PARTIAL})
_INSERT_CHUNK = 500
_REDACTED_RUN = re.compile(r"\u2026(, \u2026)+")
# Any person key, named at fault or not (learners still within a deadline are
# named in "due" reasons without being at fault).
_PERSON_KEY = re.compile(rf"(?<![\w-]){re.escape(PERSON_KEY_PREFIX)}[\w-]+")


def _rows(result: CoverageResult) -> list[tuple[str, IndicatorCoverage]]:
    rows = [(ORGANISATION_REF, item) for item in result.organisation]
    for action in result.actions:
        rows.extend((action.action_ref, item) for item in action.indicators)
    return rows


def thin_reason(text: str) -> str:
    """The reason without person keys (events leave the instance)."""
    return _REDACTED_RUN.sub("\u2026", _PERSON_KEY.sub("\u2026", text))


async def _previous(
    conn: AsyncConnection, tenant: str, before_id: int
) -> dict[tuple[str, int], tuple[str, date | None]]:
    previous_id = await conn.scalar(
        select(coverage_snapshot.c.id)
        .where(coverage_snapshot.c.tenant == tenant, coverage_snapshot.c.id < before_id)
        .order_by(coverage_snapshot.c.id.desc())
        .limit(1)
    )
    if previous_id is None:
        return {}
    rows = await conn.execute(
        select(
            coverage_status.c.action_ref,
            coverage_status.c.indicator,
            coverage_status.c.status,
            coverage_status.c.due_by,
        ).where(coverage_status.c.snapshot_id == previous_id)
    )
    return {(ref, number): (status, due_by) for ref, number, status, due_by in rows}


def _due_soon(item: IndicatorCoverage, as_of: date) -> bool:
    return (
        item.due_by is not None
        and item.status in (Status.DUE, Status.PROVEN)
        and as_of <= item.due_by <= as_of + timedelta(days=DUE_SOON_DAYS)
    )


def diff_events(
    result: CoverageResult,
    previous: dict[tuple[str, int], tuple[str, date | None]],
    occurred_at: datetime | None = None,
) -> list[Event]:
    """Events from the change between the previous statuses and this result."""
    when = occurred_at or datetime.now(UTC)
    events: list[Event] = []
    for action_ref, item in _rows(result):
        before = previous.get((action_ref, item.indicator))
        before_status = Status(before[0]) if before else None
        event_type: str | None = None
        if item.status in _LOST and before_status not in _LOST:
            event_type = PROOF_MISSING
        elif item.status is Status.MANUAL and before_status is Status.PROVEN:
            event_type = PROOF_MISSING  # a manual proof expired
        elif item.status is Status.PROVEN and before_status in (*_LOST, Status.MANUAL):
            event_type = PROOF_RESTORED
        elif _due_soon(item, result.as_of):
            was_soon = (
                before is not None
                and before[1] is not None
                and before[1] == item.due_by
                and before[1] <= result.as_of + timedelta(days=DUE_SOON_DAYS)
            )
            if not was_soon:
                event_type = DUE_SOON
        if event_type is None:
            continue
        events.append(
            Event(
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
        )
    return events


async def store_snapshot(store: Store, result: CoverageResult) -> tuple[int, list[Event]]:
    """Write the snapshot and return its id with the events against the previous one."""
    now = datetime.now(UTC)
    async with store.engine.begin() as conn:
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
                "evidence_count": item.evidence_count,
                "at_fault": item.at_fault,
            }
            for action_ref, item in _rows(result)
        ]
        for start in range(0, len(rows), _INSERT_CHUNK):
            await conn.execute(insert(coverage_status), rows[start : start + _INSERT_CHUNK])
        previous = await _previous(conn, result.tenant, snapshot_id)
    result.snapshot_id = snapshot_id
    return snapshot_id, diff_events(result, previous, now)


async def evaluate_and_snapshot(
    store: Store,
    tenant: TenantConfig,
    *,
    as_of: date | None = None,
    audit_date: date | None = None,
) -> tuple[CoverageResult, list[Event]]:
    """Evaluate, store the snapshot, and return the result with its events."""
    with gc_paused():  # the snapshot rows are as many as the statuses: see gcpause
        result = await evaluate(store, tenant, as_of=as_of, audit_date=audit_date)
        _, events = await store_snapshot(store, result)
    return result, events


async def latest_statuses(
    store: Store, tenant: str
) -> dict[tuple[str, int], tuple[str, date | None]]:
    """The statuses of the latest snapshot of a tenant (empty when none)."""
    async with store.engine.connect() as conn:
        return await _previous(conn, tenant, 2**62)
