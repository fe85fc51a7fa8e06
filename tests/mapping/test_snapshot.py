"""Snapshots and the events derived from the change between two evaluations."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from preuve.events import DUE_SOON, PROOF_MISSING, PROOF_RESTORED, Event
from preuve.evidence.model import Withdrawal
from preuve.mapping import Status, evaluate, evaluate_and_snapshot
from preuve.mapping.result import ActionCoverage, CoverageResult, IndicatorCoverage, Reason
from preuve.mapping.snapshot import (
    PreviousSnapshot,
    PreviousStatus,
    diff_events,
    latest_snapshot,
    latest_statuses,
    store_snapshot,
)
from preuve.mapping.tables import coverage_snapshot, coverage_status
from preuve.store import Store
from tests.factories import record
from tests.mapping.scenario import (
    AS_OF,
    SOURCE,
    TENANT,
    load_scenario,
    manual_proof,
    tenant_config,
)


def _events(events: list[Event], indicator: int, action_ref: str | None) -> list[Event]:
    return [
        e for e in events if e.data["indicator"] == indicator and e.data["action_ref"] == action_ref
    ]


async def test_first_snapshot_reports_current_gaps_without_personal_data(store: Store) -> None:
    await load_scenario(store)
    result, events = await evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF)
    assert result.snapshot_id is not None
    async with store.engine.connect() as conn:
        rows = await conn.scalar(
            select(func.count())
            .select_from(coverage_status)
            .where(coverage_status.c.snapshot_id == result.snapshot_id)
        )
        snapshots = await conn.scalar(select(func.count()).select_from(coverage_snapshot))
    assert snapshots == 1
    assert rows == len(result.organisation) + sum(len(a.indicators) for a in result.actions)

    missing = {
        (e.data["action_ref"], e.data["indicator"]) for e in events if e.type == PROOF_MISSING
    }
    assert missing == {("A1", 8), ("A2", 30), ("A3", 30), (None, 8), (None, 22), (None, 30)}
    positioning = _events(events, 8, "A1")[0]
    assert positioning.tenant == TENANT
    assert positioning.data["status"] == "partial"
    assert positioning.data["previous_status"] is None
    assert "p_a1_1" not in positioning.data["reason"]
    assert positioning.data["reason"].startswith("2 apprenants sur 6 n'ont pas de positionnement")
    cpd = _events(events, 22, None)[0]
    assert "p_t2" not in cpd.data["reason"]
    assert "p_t2" not in cpd.data["reason_en"]


async def test_unchanged_evaluation_yields_no_event(store: Store) -> None:
    await load_scenario(store)
    await evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF)
    _, events = await evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF)
    assert events == []


async def test_lost_and_restored_proof(store: Store) -> None:
    await load_scenario(store)
    await evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF)

    # The course description of A3 is withdrawn: 1, 5, 6 lose their proof.
    withdrawal = Withdrawal(
        kind="course_description",
        source_id="description/A3",
        reason="deleted",
        at=datetime.now(UTC),
    )
    await store.evidence.write_batch(TENANT, SOURCE, [], withdrawals=[withdrawal])
    result, events = await evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF)
    assert result.action("A3").indicator(1).status is Status.MISSING
    lost = {(e.data["action_ref"], e.data["indicator"]) for e in events if e.type == PROOF_MISSING}
    assert {("A3", 1), ("A3", 5), ("A3", 6), (None, 1), (None, 5), (None, 6)} == lost

    # A CPD for p_t2 and positionings for A1 restore 22 and 8.
    fixes = [
        record(
            {
                "kind": "trainer_cpd",
                "person_ref": "p_t2",
                "title": "Recyclage",
                "completed": "2026-06",
            },
            source_id="cpd/p_t2/2026",
            tenant=TENANT,
            source=SOURCE,
        )
    ]
    for key in ("p_a1_1", "p_a1_2"):
        fixes.append(
            record(
                {
                    "kind": "assessment",
                    "action_ref": "A1",
                    "person_ref": key,
                    "assessment_kind": "entry_positioning",
                },
                source_id=f"positioning-late-entry/{key}",
                tenant=TENANT,
                source=SOURCE,
                effective_at=datetime(2026, 10, 2, 9, tzinfo=UTC),
            )
        )
    await store.evidence.write_batch(TENANT, SOURCE, fixes)
    result, events = await evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF)
    restored = {
        (e.data["action_ref"], e.data["indicator"]) for e in events if e.type == PROOF_RESTORED
    }
    assert {("A1", 8), (None, 22)} <= restored
    assert result.indicator(22).status is Status.PROVEN
    statuses = await latest_statuses(store, TENANT)
    assert statuses[("A1", 8)][0] == "proven"


async def _warnings(
    store: Store, day: date, indicator: int, action_ref: str | None, **changes: Any
) -> list[str]:
    """Snapshot as of ``day``; the deadlines ``indicator.due_soon`` warns of for one row."""
    _, events = await evaluate_and_snapshot(store, tenant_config(**changes), as_of=day)
    return [e.data["due_by"] for e in _events(events, indicator, action_ref) if e.type == DUE_SOON]


async def test_due_soon_fires_once_when_the_deadline_enters_its_window(store: Store) -> None:
    await load_scenario(store)
    # A4 ended 2026-11-18: its assessment of the objectives (11) is due 2026-12-03,
    # known from the first snapshot on; the 14-day window opens on 2026-11-19.
    assert await _warnings(store, date(2026, 11, 10), 11, "A4") == []
    assert await _warnings(store, date(2026, 11, 18), 11, "A4") == []
    assert await _warnings(store, date(2026, 11, 19), 11, "A4") == ["2026-12-03"]
    assert await _warnings(store, date(2026, 11, 20), 11, "A4") == []
    assert await _warnings(store, date(2026, 11, 25), 11, "A4") == []
    assert await _warnings(store, date(2026, 12, 2), 11, "A4") == []
    statuses = await latest_statuses(store, TENANT)
    assert statuses[("A4", 11)] == ("due", date(2026, 12, 3))


async def test_due_soon_fires_on_the_first_snapshot_within_the_window(store: Store) -> None:
    await load_scenario(store)
    # Snapshots nine days apart: the one on 2026-11-19 is the first within 14 days.
    assert await _warnings(store, date(2026, 11, 10), 11, "A4") == []
    assert await _warnings(store, date(2026, 11, 19), 11, "A4") == ["2026-12-03"]
    assert await _warnings(store, date(2026, 11, 28), 11, "A4") == []


async def test_a_changed_deadline_warns_again(store: Store) -> None:
    await load_scenario(store)
    assert await _warnings(store, date(2026, 11, 19), 11, "A4") == ["2026-12-03"]
    # 20 days of grace instead of 15: the deadline moves to 2026-12-08, whose
    # window opens on 2026-11-24.
    later = {"rules": {"objectives_assessment": {"grace_days": 20}}}
    assert await _warnings(store, date(2026, 11, 20), 11, "A4", **later) == []
    assert await _warnings(store, date(2026, 11, 24), 11, "A4", **later) == ["2026-12-08"]
    assert await _warnings(store, date(2026, 11, 25), 11, "A4", **later) == []
    # Back to 15 days: the earlier deadline is already within its window.
    assert await _warnings(store, date(2026, 11, 26), 11, "A4") == ["2026-12-03"]


async def test_expiring_manual_proof_warns_once_within_due_soon_days(store: Store) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(TENANT, "manual", [manual_proof(23, until="2026-12-20")])
    # manual_organisation's due_soon_days (30): the window opens on 2026-11-20.
    assert await _warnings(store, date(2026, 11, 10), 23, None) == []
    _, events = await evaluate_and_snapshot(store, tenant_config(), as_of=date(2026, 11, 25))
    [soon] = [e for e in _events(events, 23, None) if e.type == DUE_SOON]
    assert soon.data["status"] == "proven"
    assert soon.data["previous_status"] == "proven"
    assert soon.data["due_by"] == "2026-12-20"
    assert await _warnings(store, date(2026, 12, 8), 23, None) == []
    assert await _warnings(store, date(2026, 12, 19), 23, None) == []
    _, events = await evaluate_and_snapshot(store, tenant_config(), as_of=date(2026, 12, 21))
    assert [e.type for e in _events(events, 23, None)] == [PROOF_MISSING]


async def test_the_warning_window_is_overridden_per_tenant(store: Store) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(TENANT, "manual", [manual_proof(23, until="2026-12-20")])
    week = {"rules": {"manual_organisation": {"due_soon_days": 7}}}
    assert await _warnings(store, date(2026, 11, 25), 23, None, **week) == []
    assert await _warnings(store, date(2026, 12, 8), 23, None, **week) == []
    assert await _warnings(store, date(2026, 12, 13), 23, None, **week) == ["2026-12-20"]
    assert await _warnings(store, date(2026, 12, 14), 23, None, **week) == []
    async with store.engine.connect() as conn:
        warn_from = await conn.scalar(
            select(coverage_status.c.warn_from)
            .where(coverage_status.c.action_ref == "", coverage_status.c.indicator == 23)
            .order_by(coverage_status.c.snapshot_id.desc())
            .limit(1)
        )
    assert warn_from == date(2026, 12, 13)


async def test_a_deadline_rule_window_is_overridden_per_tenant(store: Store) -> None:
    await load_scenario(store)
    # A4 ended 2026-11-18: its assessment of the objectives (11) and its surveys (30)
    # are due 2026-12-03. With 5 days instead of 14 for the assessment, its warning
    # comes on 2026-11-28; the surveys keep the default window (from 2026-11-19).
    days = {"rules": {"objectives_assessment": {"due_soon_days": 5}}}
    _, events = await evaluate_and_snapshot(store, tenant_config(**days), as_of=date(2026, 11, 19))
    assert [e.data["due_by"] for e in _events(events, 30, "A4") if e.type == DUE_SOON] == [
        "2026-12-03"
    ]
    assert not [e for e in _events(events, 11, "A4") if e.type == DUE_SOON]
    assert await _warnings(store, date(2026, 11, 27), 11, "A4", **days) == []
    assert await _warnings(store, date(2026, 11, 28), 11, "A4", **days) == ["2026-12-03"]
    assert await _warnings(store, date(2026, 11, 29), 11, "A4", **days) == []
    latest = await latest_snapshot(store, TENANT)
    assert latest is not None
    a4 = next(a for a in latest["actions"] if a["action_ref"] == "A4")
    eleven = next(i for i in a4["indicators"] if i["indicator"] == 11)
    assert (eleven["due_by"], eleven["warn_from"]) == ("2026-12-03", "2026-11-28")


async def test_a_wider_survey_window_warns_earlier(store: Store) -> None:
    await load_scenario(store)
    wide = {"rules": {"satisfaction": {"due_soon_days": 30}}}
    # A4's surveys are due 2026-12-03: a 30-day window opens on 2026-11-03.
    assert await _warnings(store, date(2026, 11, 2), 30, "A4", **wide) == []
    assert await _warnings(store, date(2026, 11, 3), 30, "A4", **wide) == ["2026-12-03"]


def _due_result(as_of: date, warn_from: date | None) -> CoverageResult:
    item = IndicatorCoverage(
        indicator=11,
        criterion=3,
        status=Status.DUE,
        reason=Reason("dû", "due"),
        minor_nc_possible=False,
        due_by=date(2026, 12, 3),
        warn_from=warn_from,
    )
    action = ActionCoverage(
        "A4", "Vente", "training", False, False, False, False, True, None, None, [item]
    )
    return CoverageResult(
        tenant=TENANT,
        referential_version="rnq-2026",
        referential_provisional=True,
        audit_date=as_of,
        as_of=as_of,
        new_entrant=False,
        organisation=[],
        actions=[action],
    )


def _previous_due(as_of: date, warn_from: date | None) -> PreviousSnapshot:
    return PreviousSnapshot(
        as_of=as_of,
        statuses={("A4", 11): PreviousStatus("due", date(2026, 12, 3), warn_from)},
    )


def test_a_window_changed_between_snapshots_warns_once() -> None:
    # Widened from 7 to 14 days after a snapshot outside the 7-day window: warn now.
    widened = diff_events(
        _due_result(date(2026, 11, 20), date(2026, 11, 19)),
        _previous_due(date(2026, 11, 19), date(2026, 11, 26)),
    )
    assert [e.type for e in widened] == [DUE_SOON]
    # Narrowed from 14 to 7 days after the 14-day warning: not again.
    narrowed = diff_events(
        _due_result(date(2026, 11, 27), date(2026, 11, 26)),
        _previous_due(date(2026, 11, 20), date(2026, 11, 19)),
    )
    assert narrowed == []
    # Rows stored without a warning day count with the default 14-day window.
    assert (
        diff_events(
            _due_result(date(2026, 11, 20), None),
            _previous_due(date(2026, 11, 19), None),
        )
        == []
    )


async def test_concurrent_snapshots_compare_against_each_other(store: Store) -> None:
    await load_scenario(store)
    first, second = await asyncio.gather(
        evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF),
        evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF),
    )
    counts = sorted([len(first[1]), len(second[1])])
    assert counts[0] == 0
    assert counts[1] > 0


async def test_a_failing_sink_stores_no_snapshot(store: Store) -> None:
    await load_scenario(store)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)

    async def refuse(conn: AsyncConnection, events: list[Event]) -> None:
        assert events
        raise RuntimeError("outbox unavailable")

    with pytest.raises(RuntimeError, match="outbox unavailable"):
        await store_snapshot(store, result, sink=refuse)
    assert result.snapshot_id is None
    async with store.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(coverage_snapshot)) == 0
        assert await conn.scalar(select(func.count()).select_from(coverage_status)) == 0
    # The next snapshot raises the same changes: nothing was compared away.
    received: list[Event] = []

    async def keep(conn: AsyncConnection, events: list[Event]) -> None:
        received.extend(events)

    snapshot_id, events = await store_snapshot(store, result, sink=keep)
    assert events
    assert received == events
    assert result.snapshot_id == snapshot_id


async def test_latest_snapshot_is_rebuilt_from_its_rows(store: Store) -> None:
    assert await latest_snapshot(store, TENANT) is None
    await load_scenario(store)
    await evaluate_and_snapshot(store, tenant_config(), as_of=date(2026, 11, 10))
    result, _ = await evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF)
    found = await latest_snapshot(store, TENANT)
    assert found is not None
    assert found["snapshot_id"] == result.snapshot_id
    assert found["as_of"] == "2026-11-30"
    assert found["referential_version"] == result.referential_version
    assert found["summary"] == result.as_json()["summary"]
    assert [i["indicator"] for i in found["organisation"]] == sorted(
        i.indicator for i in result.organisation
    )
    a1 = next(a for a in found["actions"] if a["action_ref"] == "A1")
    eight = next(i for i in a1["indicators"] if i["indicator"] == 8)
    assert eight["status"] == "partial"
    assert eight["at_fault"] == ["p_a1_1", "p_a1_2"]
    assert a1["summary"] == result.action("A1").as_json()["summary"]
    a4 = next(a for a in found["actions"] if a["action_ref"] == "A4")
    eleven = next(i for i in a4["indicators"] if i["indicator"] == 11)
    assert (eleven["due_by"], eleven["warn_from"]) == ("2026-12-03", "2026-11-19")


async def test_manual_proof_counts_and_expires(store: Store) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(TENANT, "manual", [manual_proof(23, until="2026-12-31")])
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.indicator(23).status is Status.PROVEN
    assert "valable jusqu'au 2026-12-31" in result.indicator(23).reason.fr
    later = await evaluate(store, tenant_config(), as_of=date(2027, 1, 2))
    assert later.indicator(23).status is Status.MANUAL
    assert "expirée le 2026-12-31" in later.indicator(23).reason.fr


async def test_new_entrant_needs_the_formalised_process(store: Store) -> None:
    await load_scenario(store)
    tenant = tenant_config(new_entrant=True)
    result = await evaluate(store, tenant, as_of=AS_OF)
    cpd = result.indicator(22)
    assert cpd.new_entrant_process_only
    assert cpd.status is Status.MANUAL
    assert cpd.reason.fr.startswith(
        "nouvel entrant : à l'audit initial seul le processus formalisé"
    )
    assert result.action("A1").indicator(8).status is Status.PARTIAL  # 8 is audited normally
    await store.evidence.write_batch(TENANT, "manual", [manual_proof(22)])
    result = await evaluate(store, tenant, as_of=AS_OF)
    assert result.indicator(22).status is Status.PROVEN


async def test_tenant_override_changes_the_outcome(store: Store) -> None:
    await load_scenario(store)
    lenient = tenant_config(rules={"satisfaction": {"min_response_rate": 0.25}})
    result = await evaluate(store, lenient, as_of=AS_OF)
    assert result.action("A3").indicator(30).status is Status.DUE  # only the cold survey left
    strict_cpd = tenant_config(rules={"trainer_cpd": {"window_months": 6}})
    result = await evaluate(store, strict_cpd, as_of=AS_OF)
    assert result.indicator(22).status is Status.MISSING


async def test_expiring_manual_proof_warns_then_is_lost(store: Store) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(TENANT, "manual", [manual_proof(23, until="2026-12-10")])
    _, events = await evaluate_and_snapshot(store, tenant_config(), as_of=AS_OF)
    soon = _events(events, 23, None)
    assert [e.type for e in soon] == [DUE_SOON]
    assert soon[0].data["status"] == "proven"
    assert soon[0].data["due_by"] == "2026-12-10"
    _, events = await evaluate_and_snapshot(store, tenant_config(), as_of=date(2026, 12, 11))
    lost = _events(events, 23, None)
    assert [e.type for e in lost] == [PROOF_MISSING]
    assert lost[0].data["previous_status"] == "proven"
    assert lost[0].data["status"] == "manual"


def test_events_never_carry_person_keys_even_when_due() -> None:
    # A "due" reason names the learners still within the deadline; they are not
    # at fault, yet their keys must not leave in the event either.
    reason = Reason(
        fr="2 positionnements d'entrée attendus au plus tard le 2026-12-03 : "
        "p_0a1b2c3d4e5f60718293, p_ffeeddccbbaa99887766",
        en="2 entry positionings expected by 2026-12-03: "
        "p_0a1b2c3d4e5f60718293, p_ffeeddccbbaa99887766",
    )
    item = IndicatorCoverage(
        indicator=8,
        criterion=2,
        status=Status.DUE,
        reason=reason,
        minor_nc_possible=True,
        due_by=date(2026, 12, 3),
    )
    action = ActionCoverage(
        "A1", "Excel", "training", False, False, False, False, True, None, None, [item]
    )
    result = CoverageResult(
        tenant=TENANT,
        referential_version="rnq-2026",
        referential_provisional=True,
        audit_date=AS_OF,
        as_of=AS_OF,
        new_entrant=False,
        organisation=[],
        actions=[action],
    )
    [event] = diff_events(result, None)
    assert event.type == DUE_SOON
    assert event.data["reason"] == (
        "2 positionnements d'entrée attendus au plus tard le 2026-12-03 : …"
    )
    assert event.data["reason_en"] == "2 entry positionings expected by 2026-12-03: …"
