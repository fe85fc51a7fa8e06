"""How an indicator's status combines its rules' findings (docs/coverage.md,
"Combining statuses"), rules with nothing to check, and the untagged proofs of an
indicator's only manual part; through the real store."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from preuve.mapping import Status, evaluate
from preuve.mapping.result import CoverageResult, combine, combine_across
from preuve.store import Store
from tests.factories import record
from tests.mapping.scenario import AS_OF, manual_proof, tenant_config

TENANT = "of-test"  # the scenario's tenant, without the scenario's records
SOURCE = "lms"

P, M, D, N, A, NA = (
    Status.PROVEN,
    Status.MISSING,
    Status.DUE,
    Status.MANUAL,
    Status.PARTIAL,
    Status.NOT_APPLICABLE,
)


@pytest.mark.parametrize(
    ("statuses", "indicator", "across"),
    [
        ([], NA, NA),
        ([NA, NA], NA, NA),
        ([P, NA], P, P),
        ([M, P], M, A),  # a part fully absent is a missing proof; across actions, partial
        ([M, A], M, A),
        ([M, N], M, M),
        ([M, D], M, M),
        ([M, NA], M, M),
        ([A, N], A, A),
        ([P, N], N, N),
        ([D, N], N, N),
        ([P, D], D, D),
        ([P, P], P, P),
    ],
)
def test_combination_rules(statuses: list[Status], indicator: Status, across: Status) -> None:
    assert combine(statuses) is indicator
    assert combine_across(statuses) is across


def _r(data: dict[str, Any], source_id: str) -> Any:
    return record(data, source_id=source_id, tenant=TENANT, source=SOURCE)


def _action(ref: str, start: str | None, end: str | None, **extra: Any) -> Any:
    data: dict[str, Any] = {
        "kind": "training_action",
        "action_ref": ref,
        "title": f"Action {ref}",
        "modality": "face_to_face",
        "domains": ["bureautique"],
        **extra,
    }
    if start:
        data["start_date"] = start
    if end:
        data["end_date"] = end
    return _r(data, f"action/{ref}")


def _enrolment(ref: str, person: str, status: str = "completed", role: str = "learner") -> Any:
    data = {
        "kind": "enrolment",
        "action_ref": ref,
        "person_ref": person,
        "role": role,
        "status": status,
    }
    return _r(data, f"enrolment/{ref}/{person}")


async def _evaluate(
    store: Store, records: list[Any], version: str = "rnq-2026", **config: Any
) -> CoverageResult:
    await store.evidence.write_batch(
        TENANT, SOURCE, [r for r in records if r.kind != "manual_proof"]
    )
    proofs = [r for r in records if r.kind == "manual_proof"]
    if proofs:
        await store.evidence.write_batch(TENANT, "manual", proofs)
    tenant = tenant_config(referential_version=version, **config)
    return await evaluate(store, tenant, as_of=AS_OF)


def _finding(result: CoverageResult, ref: str | None, number: int, rule: str) -> Any:
    item = result.action(ref).indicator(number) if ref else result.indicator(number)
    return next(f for f in item.findings if f.rule == rule)


@pytest.mark.parametrize("version", ["rnq-2019-v9", "rnq-2026"])
async def test_learners_without_any_attendance_miss_10_and_12(store: Store, version: str) -> None:
    records = [
        _action("X", "2026-10-05", "2026-10-07"),
        _enrolment("X", "p_1"),
        _enrolment("X", "p_2"),
        manual_proof(12, component="violence_prevention"),
    ]
    result = await _evaluate(store, records, version)
    action = result.action("X")
    assert action.indicator(10).status is Status.MISSING
    twelve = action.indicator(12)
    # No drop-out: nothing to follow up, the rule takes no part in 12.
    dropouts = _finding(result, "X", 12, "dropout_followup")
    assert dropouts.status is Status.NOT_APPLICABLE
    assert dropouts.reason.fr == "aucun abandon à suivre"
    assert twelve.status is Status.MISSING
    assert twelve.nonconformity == "major"
    assert "aucun abandon" not in twelve.reason.fr
    assert result.indicator(12).status is Status.MISSING


@pytest.mark.parametrize("version", ["rnq-2019-v9", "rnq-2026"])
async def test_no_survey_anywhere_is_missing_despite_the_funders_proof(
    store: Store, version: str
) -> None:
    records = [
        _action("X", "2026-05-04", "2026-05-06"),
        _action("Y", "2026-06-01", "2026-06-03"),
        _enrolment("X", "p_1"),
        _enrolment("Y", "p_2"),
        manual_proof(30, component="funder_feedback"),
    ]
    result = await _evaluate(store, records, version)
    assert result.action("X").indicator(30).status is Status.MISSING
    thirty = result.indicator(30)
    funders = next(f for f in thirty.findings if f.rule.startswith("funder_feedback"))
    assert funders.status is Status.PROVEN
    assert thirty.status is Status.MISSING
    assert thirty.nonconformity == "major"


async def test_no_resource_is_missing_despite_the_referent_proof(store: Store) -> None:
    records = [
        _action("X", "2026-10-05", "2026-10-07"),
        _enrolment("X", "p_1"),
        manual_proof(19, component="pedagogical_referent"),
    ]
    result = await _evaluate(store, records)
    nineteen = result.action("X").indicator(19)
    assert _finding(result, "X", 19, "pedagogical_referent").status is Status.PROVEN
    assert _finding(result, "X", 19, "distance_followed").status is Status.NOT_APPLICABLE
    assert nineteen.status is Status.MISSING
    assert nineteen.reason.fr == "0 ressource pédagogique (au moins 1 attendue)"
    assert result.indicator(19).status is Status.MISSING


async def test_every_learner_dropped_out_leaves_nothing_to_assess(store: Store) -> None:
    records = [
        _action("X", "2026-10-05", "2026-10-07", modality="distance"),
        _enrolment("X", "p_1", status="dropped_out"),
        _enrolment("X", "p_2", status="dropped_out"),
    ]
    result = await _evaluate(store, records)
    eleven = result.action("X").indicator(11)
    assert eleven.status is Status.NOT_APPLICABLE
    assert eleven.reason.fr == "aucun apprenant concerné : tous ont abandonné ou sont suspendus"
    assert eleven.reason.en == "no learner concerned: all of them dropped out or are suspended"
    distance = _finding(result, "X", 19, "distance_followed")
    assert distance.status is Status.NOT_APPLICABLE
    assert distance.reason.fr == eleven.reason.fr


async def test_an_action_not_started_is_due_by_each_rule_s_deadline(store: Store) -> None:
    records = [_action("X", "2026-12-10", "2026-12-12")]
    result = await _evaluate(store, records)
    action = result.action("X")
    # The positioning 7 days after the start, the assessment 15 days after the end.
    assert action.indicator(8).due_by == date(2026, 12, 17)
    assert action.indicator(8).reason.fr == (
        "action pas encore commencée (début le 2026-12-10, échéance le 2026-12-17)"
    )
    assert action.indicator(11).status is Status.DUE
    assert action.indicator(11).due_by == date(2026, 12, 27)
    assert action.indicator(11).warn_from == date(2026, 12, 13)
    assert action.indicator(10).due_by == date(2026, 12, 10)
    assert action.indicator(10).reason.fr == "action pas encore commencée (début le 2026-12-10)"


async def test_an_action_without_end_date_is_due_without_a_date(store: Store) -> None:
    records = [_action("X", "2026-12-10", None)]
    result = await _evaluate(store, records)
    eleven = result.action("X").indicator(11)
    assert eleven.status is Status.DUE
    assert eleven.due_by is None
    assert "None" not in eleven.reason.fr
    assert eleven.reason.fr == (
        "action pas encore commencée (début le 2026-12-10) ; échéance après la fin de "
        "l'action, dont la date est inconnue"
    )
    # No finished action, and no end date known: no "-" for a date.
    two = result.indicator(2)
    rates = _finding(result, None, 2, "result_indicators")
    assert rates.reason.fr == (
        "aucune action terminée, et aucune date de fin d'action connue pour les premiers résultats"
    )
    assert rates.reason.en == "no finished action yet, and no known end date for the first results"
    assert two.status is Status.MANUAL  # the calculation method's proof is missing


async def test_a_deadline_not_known_yet_is_not_rendered_as_a_date(store: Store) -> None:
    records = [_action("Z", None, None)]  # surveys follow an end nobody knows yet
    result = await _evaluate(store, records, "rnq-2019-v9")
    thirty = _finding(result, None, 30, "derived:30")
    assert thirty.status is Status.DUE
    assert thirty.due_by is None
    assert thirty.reason.fr == "1 action sur 1 à échéance, à une date encore inconnue : Z"
    assert thirty.reason.en == "1 action out of 1 due, on a date not known yet: Z"


@pytest.mark.parametrize(
    ("version", "number", "categories"),
    [
        ("rnq-2019-v9", 30, ["training"]),
        ("rnq-2026", 30, ["training"]),
        ("rnq-2026", 33, ["apprenticeship"]),  # 33 asks CFAs only
        ("rnq-2026", 2, ["training"]),
    ],
)
async def test_an_untagged_proof_counts_for_the_only_part(
    store: Store, version: str, number: int, categories: list[str]
) -> None:
    records = [
        _action("X", "2026-10-05", "2026-10-07"),
        manual_proof(number, title="Preuve enregistrée avant les composantes", until=None),
    ]
    result = await _evaluate(store, records, version, categories=categories)
    part = next(
        f
        for f in result.indicator(number).findings
        if f.rule not in ("result_indicators",) and not f.rule.startswith("derived")
    )
    assert part.status is Status.PROVEN, part.reason.fr
    assert part.reason.fr.endswith(
        "preuve manuelle « Preuve enregistrée avant les composantes » du 2026-09-01, "
        "sans date de fin de validité"
    )
    assert part.reason.en.endswith("of 2026-09-01, with no end of validity")


async def test_the_risk_analysis_stays_strict(store: Store) -> None:
    """32 has a main manual part next to the risk analysis: an untagged proof is ambiguous."""
    records = [_action("X", "2026-10-05", "2026-10-07"), manual_proof(32)]
    result = await _evaluate(store, records)
    risk = _finding(result, None, 32, "quality_risk_analysis")
    assert risk.status is Status.MANUAL
    assert _finding(result, None, 32, "manual_organisation").status is Status.PROVEN


async def test_course_fields_are_named_in_english_too(store: Store) -> None:
    records = [
        _action("X", "2026-10-05", "2026-10-07"),
        _r(
            {"kind": "course_description", "action_ref": "X", "objectives": ["Savoir faire"]},
            "description/X",
        ),
    ]
    result = await _evaluate(store, records)
    five = result.action("X").indicator(5)
    assert five.reason.fr == "fiche programme incomplète, manque : modalités d'évaluation"
    assert five.reason.en == "course description incomplete, missing: assessment methods"
    assert five.at_fault == ["assessment_methods"]
