"""Planted gaps: each is reported with the right status and reason, nothing else is."""

from __future__ import annotations

import pytest

from preuve.config.settings import TenantConfig
from preuve.mapping import Status, evaluate
from preuve.mapping.result import CoverageResult
from preuve.store import Store
from tests.mapping.scenario import (
    ACTIONS,
    AS_OF,
    EXPECTED_ACTIONS_2026,
    EXPECTED_ACTIONS_V9,
    EXPECTED_ORGANISATION_2026,
    EXPECTED_ORGANISATION_V9,
    NOT_APPLICABLE_ACTIONS,
    NOT_APPLICABLE_ORGANISATION,
    Expected,
    load_scenario,
    tenant_config,
)

# version -> (tenant, expected action gaps, expected organisation gaps, indicators)
VERSIONS: dict[str, tuple[TenantConfig, Expected, dict[int, tuple[str, str]], int]] = {
    # The audit date picks the 2026 version (in force from 2026-11-01).
    "rnq-2026": (tenant_config(), EXPECTED_ACTIONS_2026, EXPECTED_ORGANISATION_2026, 33),
    "rnq-2019-v9": (
        tenant_config(referential_version="rnq-2019-v9"),
        EXPECTED_ACTIONS_V9,
        EXPECTED_ORGANISATION_V9,
        32,
    ),
}


@pytest.fixture(params=sorted(VERSIONS))
def version(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


async def _evaluate(store: Store, version: str) -> CoverageResult:
    await load_scenario(store)
    return await evaluate(store, VERSIONS[version][0], as_of=AS_OF)


async def test_every_planted_gap_and_nothing_else(store: Store, version: str) -> None:
    _, expected_actions, expected_org, count = VERSIONS[version]
    result = await _evaluate(store, version)

    assert result.referential_version == version
    assert [i.indicator for i in result.organisation] == list(range(1, count + 1))
    assert [a.action_ref for a in result.actions] == sorted(ACTIONS)
    for action in result.actions:
        for item in action.indicators:
            key = (action.action_ref, item.indicator)
            if item.indicator in NOT_APPLICABLE_ACTIONS[action.action_ref]:
                expected, fragment = "not_applicable", ""
            else:
                expected, fragment = expected_actions.get(key, ("proven", ""))
            assert item.status.value == expected, (key, item.status, item.reason.fr)
            assert fragment in item.reason.fr, (key, item.reason.fr)
        # every expected gap names an indicator the action reports
        reported = {i.indicator for i in action.indicators}
        assert {n for ref, n in expected_actions if ref == action.action_ref} <= reported
    for item in result.organisation:
        if item.indicator in NOT_APPLICABLE_ORGANISATION:
            expected, fragment = "not_applicable", ""
        else:
            expected, fragment = expected_org.get(item.indicator, ("proven", ""))
        assert item.status.value == expected, (item.indicator, item.status, item.reason.fr)
        assert fragment in item.reason.fr, (item.indicator, item.reason.fr)


async def test_reasons_name_what_is_at_fault(store: Store, version: str) -> None:
    result = await _evaluate(store, version)

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
    assert "no hot survey of teaching teams" in no_survey.reason.en
    assert no_survey.at_fault == ["hot:learner", "hot:trainer"]

    low = result.action("A3").indicator(30)  # the hot survey's deadline has passed
    assert "1 réponse sur 4 (25\u202f%), sous le seuil de 50\u202f%" in low.reason.fr
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

    # Within the hot-survey window: a low or unknown response rate is due, not partial.
    reminders = result.action("A4").indicator(30)
    assert reminders.status is Status.DUE
    assert reminders.due_by is not None
    assert reminders.due_by.isoformat() == "2026-12-03"
    assert reminders.at_fault == []
    assert (
        "1 réponse sur 4 (25\u202f%), sous le seuil de 50\u202f%, relances possibles "
        "jusqu'au 2026-12-03" in reminders.reason.fr
    )
    assert (
        "enquête à chaud (entreprises) : 2 réponses, taux de réponse inconnu : nombre "
        "d'invités absent (à compléter au plus tard le 2026-12-03)" in reminders.reason.fr
    )
    assert "response rate unknown: no invited count" in reminders.reason.en

    final = result.action("A4").indicator(11)
    assert final.status is Status.DUE
    assert final.due_by is not None
    assert final.due_by.isoformat() == "2026-12-03"

    dropout = result.action("A1").indicator(12)
    assert dropout.status is Status.PROVEN
    assert "1 abandon suivi" in dropout.reason.fr

    cpd = result.indicator(22)
    assert cpd.reason.fr == (
        "1 formateur sur 2 sans formation continue datée au cours des 24 derniers mois : p_t2"
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
    rules = {f.rule for f in survey_org.findings}
    funders = "funder_feedback_if_any" if version == "rnq-2026" else "funder_feedback"
    assert rules == {"derived:30", funders}


async def test_2026_components_are_evidenced_by_their_proofs(store: Store) -> None:
    """Under rnq-2026 the new parts have their own findings; rnq-2019-v9 has none of them."""
    new = await _evaluate(store, "rnq-2026")
    old = await evaluate(store, VERSIONS["rnq-2019-v9"][0], as_of=AS_OF)

    def rules(result: CoverageResult, ref: str | None, number: int) -> set[str]:
        item = result.action(ref).indicator(number) if ref else result.indicator(number)
        return {f.rule for f in item.findings}

    assert rules(new, "A1", 12) == {"attendance", "dropout_followup", "violence_prevention"}
    assert rules(old, "A1", 12) == {"attendance", "dropout_followup"}
    assert rules(new, "A2", 19) == {"resources", "distance_followed", "pedagogical_referent"}
    assert rules(old, "A2", 19) == {"resources"}
    assert rules(new, None, 2) == {"result_indicators", "result_calculation_method"}
    assert rules(old, None, 2) == {"result_indicators"}
    assert rules(new, None, 32) == {"manual_organisation", "quality_risk_analysis"}
    assert rules(old, None, 32) == {"manual_organisation"}
    assert rules(new, None, 33) == set()  # not applicable: no apprenticeship action
    violence = next(
        f for f in new.action("A1").indicator(12).findings if f.rule == "violence_prevention"
    )
    assert violence.status is Status.PROVEN
    assert violence.reason.fr.startswith("prévention et traitement des violences")
    distance = next(
        f for f in new.action("A2").indicator(19).findings if f.rule == "distance_followed"
    )
    assert distance.reason.fr.startswith("modules à distance suivis par les 5 apprenants")
    assert "2 modules à distance contrôlés par achèvement" in distance.reason.fr


async def test_result_indicators_are_computed_from_evidence(store: Store) -> None:
    result = await _evaluate(store, "rnq-2026")
    metrics = result.indicator(2).metrics
    assert metrics is not None
    a1 = metrics["per_action"]["A1"]
    learners = ACTIONS["A1"]["learners"]
    assert a1["learners"] == learners
    assert a1["completion_rate"] == round((learners - 1) / learners, 4)  # one drop-out
    assert a1["dropout_rate"] == round(1 / learners, 4)
    assert a1["success_rate"] == 1.0
    year = metrics["per_year"]["2026"]
    assert year["actions"] == len(ACTIONS)
    assert year["learners"] == sum(spec["learners"] for spec in ACTIONS.values())


async def test_summary_leaves_not_applicable_out(store: Store, version: str) -> None:
    _, _, expected_org, count = VERSIONS[version]
    result = await _evaluate(store, version)
    summary = result.as_json()["summary"]
    applicable = count - len(NOT_APPLICABLE_ORGANISATION & set(range(1, count + 1)))
    assert summary["applicable"] == applicable
    proven = applicable - len(expected_org)
    assert summary["counts"]["proven"] == proven
    assert summary["proven_percent"] == round(100 * proven / applicable, 1)
