"""Planted gaps: each is reported with the right status and reason, nothing else is."""

from __future__ import annotations

from preuve.mapping import Status, evaluate
from preuve.store import Store
from tests.mapping.scenario import (
    ACTIONS,
    AS_OF,
    EXPECTED_ACTIONS,
    EXPECTED_ORGANISATION,
    NOT_APPLICABLE_ACTIONS,
    NOT_APPLICABLE_ORGANISATION,
    load_scenario,
    tenant_config,
)


async def test_every_planted_gap_and_nothing_else(store: Store) -> None:
    await load_scenario(store)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)

    assert result.referential_version == "rnq-2026"
    assert [a.action_ref for a in result.actions] == sorted(ACTIONS)
    for action in result.actions:
        for item in action.indicators:
            key = (action.action_ref, item.indicator)
            if item.indicator in NOT_APPLICABLE_ACTIONS[action.action_ref]:
                expected = "not_applicable"
            else:
                expected = EXPECTED_ACTIONS.get(key, "proven")
            assert item.status.value == expected, (key, item.status, item.reason.fr)
    for item in result.organisation:
        if item.indicator in NOT_APPLICABLE_ORGANISATION:
            expected = "not_applicable"
        else:
            expected = EXPECTED_ORGANISATION.get(item.indicator, "proven")
        assert item.status.value == expected, (item.indicator, item.status, item.reason.fr)


async def test_reasons_name_what_is_at_fault(store: Store) -> None:
    await load_scenario(store)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)

    positioning = result.action("A1").indicator(8)
    assert positioning.reason.fr == (
        "2 apprenants sur 6 n'ont pas de positionnement d'entrée : p_a1_1, p_a1_2"
    )
    assert "2 learners out of 6" in positioning.reason.en
    assert positioning.at_fault == ["p_a1_1", "p_a1_2"]
    assert positioning.nonconformity == "minor"
    assert positioning.evidence_ids
    assert positioning.evidence_count == 4

    no_survey = result.action("A2").indicator(30)
    assert "aucune enquête à chaud auprès des apprenants" in no_survey.reason.fr
    assert no_survey.at_fault == ["hot:learner"]

    low = result.action("A3").indicator(30)
    assert "1 réponse sur 4 (25 %), sous le seuil de 50 %" in low.reason.fr
    assert low.at_fault == ["A3-hot"]
    assert low.nonconformity == "minor"

    cold = result.action("A1").indicator(30)
    assert (
        cold.reason.fr
        == "enquête à froid auprès des apprenants attendue au plus tard le 2027-01-05"
    )
    assert cold.due_by is not None
    assert cold.due_by.isoformat() == "2027-01-05"
    assert cold.nonconformity is None

    final = result.action("A4").indicator(11)
    assert final.status is Status.DUE
    assert final.due_by is not None
    assert final.due_by.isoformat() == "2026-12-03"

    dropout = result.action("A1").indicator(12)
    assert dropout.status is Status.PROVEN
    assert "1 abandon suivi" in dropout.reason.fr

    cpd = result.indicator(22)
    assert cpd.reason.fr == (
        "1 formateur sur 2 sans formation continue datée depuis 24 mois : p_t2"
    )
    assert cpd.at_fault == ["p_t2"]
    assert cpd.nonconformity == "major"  # 22 admits no minor non-conformity

    assert result.indicator(23).reason.fr.startswith("preuve manuelle à joindre")
    assert "expirée le 2026-01-10" in result.indicator(24).reason.fr
    assert result.indicator(25).evidence_ids  # the manual proof supports it

    survey_org = result.indicator(30)
    assert "A2 (manquant)" in survey_org.reason.fr
    assert "A3 (partiel)" in survey_org.reason.fr
    assert survey_org.at_fault == ["A2", "A3"]


async def test_result_indicators_are_computed_from_evidence(store: Store) -> None:
    await load_scenario(store)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    metrics = result.indicator(2).metrics
    assert metrics is not None
    a1 = metrics["per_action"]["A1"]
    assert a1["learners"] == 6
    assert a1["completion_rate"] == round(5 / 6, 4)
    assert a1["dropout_rate"] == round(1 / 6, 4)
    assert a1["success_rate"] == 1.0
    year = metrics["per_year"]["2026"]
    assert year["actions"] == 4
    assert year["learners"] == 19


async def test_summary_leaves_not_applicable_out(store: Store) -> None:
    await load_scenario(store)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    summary = result.as_json()["summary"]
    assert summary["applicable"] == 33 - len(NOT_APPLICABLE_ORGANISATION) == 25
    assert summary["counts"]["proven"] == 25 - len(EXPECTED_ORGANISATION) == 19
    assert summary["proven_percent"] == 76.0  # 19 / 25: not-applicable ones left out


async def test_pinned_2019_referential_has_32_indicators(store: Store) -> None:
    await load_scenario(store)
    result = await evaluate(store, tenant_config(referential_version="rnq-2019-v9"), as_of=AS_OF)
    assert result.referential_version == "rnq-2019-v9"
    assert [i.indicator for i in result.organisation] == list(range(1, 33))
    assert result.indicator(8).status is Status.PARTIAL
