"""Snapshots and the events derived from the change between two evaluations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from preuve.events import DUE_SOON, PROOF_MISSING, PROOF_RESTORED, Event
from preuve.evidence.model import Withdrawal
from preuve.mapping import Status, evaluate, evaluate_and_snapshot
from preuve.mapping.result import ActionCoverage, CoverageResult, IndicatorCoverage, Reason
from preuve.mapping.snapshot import diff_events, latest_statuses
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


async def test_due_soon_is_raised_once(store: Store) -> None:
    await load_scenario(store)
    # Two weeks before the end of A4's assessment window (2026-12-03).
    as_of = date(2026, 11, 25)
    _, first = await evaluate_and_snapshot(store, tenant_config(), as_of=as_of)
    due = [e for e in first if e.type == DUE_SOON and e.data["action_ref"] == "A4"]
    assert [e.data["indicator"] for e in due] == [11]
    assert due[0].data["due_by"] == "2026-12-03"
    _, second = await evaluate_and_snapshot(store, tenant_config(), as_of=as_of + timedelta(days=1))
    assert not [e for e in second if e.type == DUE_SOON and e.data["action_ref"] == "A4"]


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
        "A1", "Excel", "training", False, False, False, True, None, None, [item]
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
    [event] = diff_events(result, {})
    assert event.type == DUE_SOON
    assert event.data["reason"] == (
        "2 positionnements d'entrée attendus au plus tard le 2026-12-03 : …"
    )
    assert event.data["reason_en"] == "2 entry positionings expected by 2026-12-03: …"
