"""More gaps on top of the scenario: attendance, distance follow-up, trainers."""

from __future__ import annotations

from datetime import UTC, datetime

from preuve.evidence.model import Withdrawal
from preuve.mapping import Status, evaluate
from preuve.store import Store
from tests.factories import record
from tests.mapping.scenario import AS_OF, SOURCE, TENANT, load_scenario, tenant_config

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _withdraw(kind: str, source_id: str) -> Withdrawal:
    return Withdrawal(kind=kind, source_id=source_id, reason="test", at=NOW)


async def test_missing_slots_are_named_but_not_for_a_drop_out(store: Store) -> None:
    await load_scenario(store)
    withdrawals = [
        _withdraw("attendance", "attendance/A3/p_a3_0/2026-11-03/am"),
        _withdraw("attendance", "attendance/A3/p_a3_0/2026-11-03/pm"),
        # the drop-out of A1 stops signing after the first day: not an attendance gap
        _withdraw("attendance", "attendance/A1/p_a1_5/2026-10-07/am"),
        _withdraw("attendance", "attendance/A1/p_a1_5/2026-10-07/pm"),
    ]
    await store.evidence.write_batch(TENANT, SOURCE, [], withdrawals=withdrawals)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    ten = result.action("A3").indicator(10)
    assert ten.status is Status.PARTIAL
    assert ten.reason.fr == (
        "1 apprenants sur 4 sans émargement sur tous les créneaux (6) : p_a3_0"
    )
    assert ten.nonconformity == "major"  # 10 admits no minor non-conformity
    assert result.action("A3").indicator(12).status is Status.PARTIAL  # same rule feeds 12
    assert result.action("A1").indicator(10).status is Status.PROVEN


async def test_distance_modules_must_be_followed(store: Store) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(
        TENANT, SOURCE, [], withdrawals=[_withdraw("activity", "activity/A2/p_a2_4")]
    )
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    nineteen = result.action("A2").indicator(19)
    assert nineteen.status is Status.PARTIAL
    assert nineteen.at_fault == ["p_a2_4"]
    assert "1 apprenants sur 5 sans trace d'activité : p_a2_4" in nineteen.reason.fr
    # face-to-face actions are not asked for distance traces
    assert result.action("A1").indicator(19).status is Status.PROVEN


async def test_trainer_without_file_or_matching_qualification(store: Store) -> None:
    await load_scenario(store)
    newcomer = record(
        {"kind": "enrolment", "action_ref": "A4", "person_ref": "p_t3", "role": "trainer"},
        source_id="enrolment/A4/p_t3",
        tenant=TENANT,
        source=SOURCE,
    )
    await store.evidence.write_batch(TENANT, SOURCE, [newcomer])
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    competence = result.indicator(21)
    assert competence.status is Status.PARTIAL
    assert competence.at_fault == ["p_t3"]
    assert "p_t3 sans CV" in competence.reason.fr
    assert "p_t3 sans qualification ni expérience en rapport avec vente" in competence.reason.fr
    # an old CV is named too once the age limit is lowered
    strict = tenant_config(rules={"trainer_competence": {"max_cv_age_months": 12}})
    result = await evaluate(store, strict, as_of=AS_OF)
    assert "p_t1 CV de plus de 12 mois" in result.indicator(21).reason.fr
    assert set(result.indicator(21).at_fault) == {"p_t1", "p_t2", "p_t3"}
    assert result.indicator(21).status is Status.MISSING


async def test_course_description_names_missing_fields(store: Store) -> None:
    await load_scenario(store)
    poor = record(
        {"kind": "course_description", "action_ref": "A2", "objectives": ["Objectif"]},
        source_id="description/A2",
        tenant=TENANT,
        source=SOURCE,
    )
    await store.evidence.write_batch(TENANT, SOURCE, [poor])
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    public = result.action("A2").indicator(1)
    assert public.status is Status.PARTIAL
    assert public.at_fault == [
        "prerequisites",
        "duration_hours",
        "modalities",
        "price",
        "access_lead_time",
        "assessment_methods",
        "accessibility",
    ]
    assert public.reason.fr.startswith("fiche programme incomplète, manque : prérequis, durée")
    assert result.action("A2").indicator(5).status is Status.PARTIAL
    assert result.action("A2").indicator(5).nonconformity == "major"


async def test_tenant_without_any_action(store: Store) -> None:
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.actions == []
    for number in (1, 2, 8, 30):
        item = result.indicator(number)
        assert item.status is Status.MISSING
        assert item.reason.fr == "aucune action de formation n'est connue : synchronisez une source"
    assert result.indicator(21).reason.fr == "aucun formateur inscrit sur une action active"
    assert result.indicator(23).status is Status.MANUAL
    assert result.indicator(14).status is Status.NOT_APPLICABLE  # training-only profile
