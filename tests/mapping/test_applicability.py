"""Which indicators apply, for each category and condition, in both referential versions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from preuve.config.settings import TenantConfig
from preuve.evidence.model import ActionCategory, DocumentRef, ManualProof, TrainingAction
from preuve.mapping.applicability import action_applicability, organisation_applicability
from preuve.mapping.evaluate import evaluate_facts
from preuve.mapping.facts import ActionFacts, ManualProofFacts, TenantFacts
from preuve.mapping.referential import Referential, shipped_referentials
from preuve.mapping.result import Status
from preuve.mapping.rules import build_rules

VERSIONS = ["rnq-2019-v9", "rnq-2026"]
NEW_ENTRANT_PROCESS_ONLY = {2, 3, 11, 13, 14, 19, 22, 24, 25, 26, 32}


def _tenant(**values: Any) -> TenantConfig:
    return TenantConfig.model_validate({"id": "of", "name": "OF", **values})


def _action(**values: Any) -> TrainingAction:
    base: dict[str, Any] = {
        "action_ref": "a",
        "title": "Action",
        "start_date": date(2026, 10, 5),
        "end_date": date(2026, 10, 7),
    }
    base.update(values)
    return TrainingAction.model_validate(base)


def _applying(version: str, tenant: TenantConfig, action: TrainingAction) -> set[int]:
    referential = shipped_referentials()[version]
    return {n for n, a in action_applicability(referential, tenant, action).items() if a.applies}


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_versions_have_32_and_33_indicators() -> None:
    referentials = shipped_referentials()
    assert referentials["rnq-2019-v9"].numbers == tuple(range(1, 33))
    assert referentials["rnq-2026"].numbers == tuple(range(1, 34))
    assert not referentials["rnq-2019-v9"].provisional
    assert referentials["rnq-2026"].provisional
    reworded = {i.number for i in referentials["rnq-2026"].indicators if i.provisional}
    assert reworded == {1, 2, 3, 7, 12, 14, 15, 19, 20, 27, 30, 31, 32, 33}


def test_minor_nonconformity_split_matches_the_arrete() -> None:
    referential: Referential = shipped_referentials()["rnq-2019-v9"]
    major_only = {i.number for i in referential.indicators if not i.minor_nc_possible}
    assert major_only == {4, 5, 6, 7, 10, 11, 14, 15, 16, 20, 21, 22, 26, 27, 29, 31, 32}


def test_skills_assessment_is_not_asked_for_8(version: str) -> None:
    applying = _applying(version, _tenant(), _action(category="skills_assessment"))
    assert 8 not in applying
    assert {3, 7, 13, 14, 15, 16, 20, 28, 29} & applying == set()
    assert {1, 2, 4, 5, 6, 9, 10, 11, 12, 30} <= applying


def test_apprenticeship_sees_14_15_20_29(version: str) -> None:
    apprenticeship = _applying(version, _tenant(), _action(category="apprenticeship"))
    training = _applying(version, _tenant(), _action(category="training"))
    assert {14, 15, 20, 29} <= apprenticeship
    assert {14, 15, 20, 29} & training == set()
    # an apprenticeship always prepares a certification and is work-study
    assert {3, 7, 13, 16, 28} <= apprenticeship


def test_non_certifying_training_is_not_asked_for_3_7_16(version: str) -> None:
    plain = _applying(version, _tenant(), _action())
    certifying = _applying(
        version, _tenant(), _action(certification_register="RNCP", certification_code="RNCP1")
    )
    assert {3, 7, 16} & plain == set()
    assert {3, 7, 16} <= certifying


def test_12_applies_only_over_two_days(version: str) -> None:
    tenant = _tenant()
    assert 12 in _applying(version, tenant, _action())  # 3 days
    two_days = _action(end_date=date(2026, 10, 6))
    assert 12 not in _applying(version, tenant, two_days)
    undated_long = _action(start_date=None, end_date=None, duration_hours=21)
    undated_short = _action(start_date=None, end_date=None, duration_hours=14)
    assert 12 in _applying(version, tenant, undated_long)
    assert 12 not in _applying(version, tenant, undated_short)
    # the duration wins over the dates: 12 hours of evening classes over four weeks
    evenings = _action(start_date=date(2026, 10, 5), end_date=date(2026, 10, 30), duration_hours=12)
    assert 12 not in _applying(version, tenant, evenings)


def test_subcontracted_action_drops_1_2_3(version: str) -> None:
    action = _action(subcontracted=True, certification_code="RS1", certification_register="RS")
    applying = _applying(version, _tenant(), action)
    assert {1, 2, 3} & applying == set()
    assert {5, 7, 16, 30} <= applying


def test_work_study_brings_13_and_28(version: str) -> None:
    assert {13, 28} <= _applying(version, _tenant(), _action(work_study=True))
    assert {13, 28} & _applying(version, _tenant(), _action()) == set()


def test_28_follows_periods_in_a_company_not_only_work_study(version: str) -> None:
    internship = _action(work_based_periods=True)
    assert not internship.work_study
    applying = _applying(version, _tenant(), internship)
    assert 28 in applying
    assert 13 not in applying  # an internship is not work-study
    assert 28 not in _applying(version, _tenant(), _action(work_based_periods=False))
    # work-study implies periods in a company, stated or not
    assert 28 in _applying(version, _tenant(), _action(work_study=True, work_based_periods=None))
    for category in ("skills_assessment", "vae"):
        assert 28 not in _applying(
            version, _tenant(), _action(category=category, work_based_periods=True)
        )


def test_work_based_periods_is_optional_and_consistent() -> None:
    older = _action()  # a payload written before the field existed
    assert older.work_based_periods is None
    assert not older.in_company_periods
    assert _action(work_study=True).in_company_periods
    with pytest.raises(ValidationError, match="work_based_periods is false but work_study"):
        _action(work_study=True, work_based_periods=False)


def test_13_is_disputed_for_training_not_for_apprenticeship(version: str) -> None:
    referential = shipped_referentials()[version]
    assert referential.indicator(13).applies_to.training == "disputed"
    assert referential.indicator(13).conditions == ("work_study",)
    work_study = action_applicability(referential, _tenant(), _action(work_study=True))
    assert work_study[13].applies
    assert work_study[13].disputed
    plain = action_applicability(referential, _tenant(), _action())
    assert not plain[13].applies
    apprenticeship = action_applicability(
        referential, _tenant(), _action(category="apprenticeship")
    )
    assert apprenticeship[13].applies
    assert not apprenticeship[13].disputed
    # organisation level: disputed only when no action needs it undisputedly
    only_training = organisation_applicability(referential, _tenant(), [_action(work_study=True)])
    assert only_training[13].applies
    assert only_training[13].disputed
    mixed = organisation_applicability(
        referential,
        _tenant(categories=["training", "apprenticeship"]),
        [_action(work_study=True), _action(action_ref="b", category="apprenticeship")],
    )
    assert mixed[13].applies
    assert not mixed[13].disputed


def test_tenant_subcontracting_brings_27(version: str) -> None:
    assert 27 in _applying(version, _tenant(subcontracting=True), _action())
    assert 27 not in _applying(version, _tenant(), _action())


def test_vae_disputed_cells_are_flagged(version: str) -> None:
    referential = shipped_referentials()[version]
    action = _action(category="vae", certification_code="RNCP2", certification_register="RNCP")
    found = action_applicability(referential, _tenant(), action)
    assert found[8].applies
    assert found[8].disputed
    assert found[3].applies
    assert found[3].disputed
    assert found[16].applies
    assert not found[16].disputed


def test_new_entrant_is_asked_for_the_formalised_process_only(version: str) -> None:
    referential = shipped_referentials()[version]
    found = action_applicability(
        referential, _tenant(new_entrant=True), _action(category="apprenticeship")
    )
    flagged = {n for n, a in found.items() if a.new_entrant_process_only}
    assert flagged == NEW_ENTRANT_PROCESS_ONLY
    established = action_applicability(referential, _tenant(), _action(category="apprenticeship"))
    assert not any(a.new_entrant_process_only for a in established.values())


def test_indicator_33_is_2026_apprenticeship_only() -> None:
    assert 33 in _applying("rnq-2026", _tenant(), _action(category="apprenticeship"))
    for category in ("training", "skills_assessment", "vae"):
        assert 33 not in _applying("rnq-2026", _tenant(), _action(category=category))
    assert shipped_referentials()["rnq-2026"].indicator(33).provisional


def test_organisation_level_follows_actions_or_profile(version: str) -> None:
    referential = shipped_referentials()[version]
    tenant = _tenant(categories=["skills_assessment"])
    profile_only = organisation_applicability(referential, tenant, [])
    assert not profile_only[8].applies
    assert profile_only[1].applies
    cfa = organisation_applicability(referential, _tenant(categories=["apprenticeship"]), [])
    assert all(cfa[n].applies for n in (14, 15, 20, 29))
    mixed = organisation_applicability(
        referential,
        _tenant(categories=["training", "skills_assessment"]),
        [_action(category=ActionCategory.SKILLS_ASSESSMENT), _action(action_ref="b")],
    )
    assert mixed[8].applies  # the training action needs it


# Expected sets written from ../shared/reference/qualiopi.md §2-3 (not from the data
# files): the 22 "common" indicators, then what each category adds or drops.
COMMON = {1, 2, 4, 5, 6, 9, 10, 11, 12, 17, 18, 19, 21, 22, 23, 24, 25, 26, 27, 30, 31, 32}
PLAIN = {  # 3 days, not certifying, not work-study, the tenant does not subcontract
    "training": COMMON - {27} | {8},
    "skills_assessment": COMMON - {27},
    "vae": COMMON - {27} | {8, 16},  # 8 disputed for VAE: shown, flagged
    "apprenticeship": set(range(1, 33)) - {27},
}
EVERY_CONDITION = {  # certifying, work-study, and the tenant subcontracts
    "training": COMMON | {3, 7, 8, 13, 16, 28},
    "skills_assessment": COMMON,
    "vae": COMMON | {3, 7, 8, 16},
    "apprenticeship": set(range(1, 33)),
}


@pytest.mark.parametrize("category", sorted(PLAIN))
def test_exact_indicators_per_category(version: str, category: str) -> None:
    extra = {33} if version == "rnq-2026" and category == "apprenticeship" else set()
    plain = _applying(version, _tenant(), _action(category=category))
    assert plain == PLAIN[category] | extra
    every = _applying(
        version,
        _tenant(subcontracting=True),
        _action(
            category=category,
            certification_register="RNCP",
            certification_code="RNCP1",
            work_study=True,
        ),
    )
    assert every == EVERY_CONDITION[category] | extra
    # periods in a company without work-study: 28 for training, nothing else changes
    periods = _applying(version, _tenant(), _action(category=category, work_based_periods=True))
    assert periods == plain | ({28} if category == "training" else set())
    short = _applying(version, _tenant(), _action(category=category, end_date=date(2026, 10, 6)))
    assert short == plain - {12}


def test_2026_keeps_the_major_only_and_new_entrant_lists() -> None:
    # Reported unchanged by the 2026 reform (the arrêté was not amended); 33 is on neither.
    referential = shipped_referentials()["rnq-2026"]
    major_only = {i.number for i in referential.indicators if not i.minor_nc_possible}
    assert major_only == {4, 5, 6, 7, 10, 11, 14, 15, 16, 20, 21, 22, 26, 27, 29, 31, 32}
    process_only = {i.number for i in referential.indicators if i.new_entrant_process_only}
    assert process_only == NEW_ENTRANT_PROCESS_ONLY
    old = shipped_referentials()["rnq-2019-v9"]
    for indicator in old.indicators:  # 1-32 keep their criterion and applicability
        assert referential.indicator(indicator.number).criterion == indicator.criterion
        assert referential.indicator(indicator.number).applies_to == indicator.applies_to


# -- the organisation's profile, when no action says otherwise -------------------

CONDITIONAL = {3, 7, 13, 16, 28}


def _profile_only(version: str, **values: Any) -> set[int]:
    referential = shipped_referentials()[version]
    found = organisation_applicability(referential, _tenant(**values), [])
    return {n for n, a in found.items() if a.applies}


def test_unknown_profile_hides_nothing(version: str) -> None:
    # None (not stated) keeps the former behaviour: every condition counts as met
    assert _profile_only(version) >= CONDITIONAL
    assert (
        _profile_only(version, certifying=True, work_study=True, work_based_periods=True)
        >= CONDITIONAL
    )


def test_profile_not_certifying_drops_3_7_16(version: str) -> None:
    applying = _profile_only(version, certifying=False)
    assert {3, 7, 16} & applying == set()
    assert {13, 28} <= applying  # other conditions stay unknown
    assert {3, 7, 16} <= _profile_only(version, certifying=True)
    # an apprenticeship always prepares a certification, whatever the flag says
    assert {3, 7, 16} <= _profile_only(
        version, certifying=False, categories=["training", "apprenticeship"]
    )
    # VAE: 16 is asked of every VAE, 3 and 7 only when certifying
    vae = _profile_only(version, certifying=False, categories=["vae"])
    assert 16 in vae
    assert {3, 7} & vae == set()


def test_profile_without_work_study_drops_13(version: str) -> None:
    applying = _profile_only(version, work_study=False)
    assert 13 not in applying
    assert {3, 7, 16, 28} <= applying  # periods in a company are still unknown
    assert {13, 28} <= _profile_only(version, work_study=True)
    referential = shipped_referentials()[version]
    declared = organisation_applicability(referential, _tenant(work_study=True), [])
    assert declared[13].disputed  # a training organisation: the training cell is disputed


def test_profile_without_periods_in_a_company_drops_28(version: str) -> None:
    applying = _profile_only(version, work_based_periods=False)
    assert 28 not in applying
    assert {3, 7, 13, 16} <= applying
    assert 28 in _profile_only(version, work_based_periods=True)
    assert 28 in _profile_only(version, work_study=False, work_based_periods=True)
    training_only = _profile_only(
        version, certifying=False, work_study=False, work_based_periods=False
    )
    assert CONDITIONAL & training_only == set()
    assert (
        _profile_only(
            version,
            certifying=False,
            work_study=False,
            work_based_periods=False,
            categories=["training", "apprenticeship"],
        )
        >= CONDITIONAL
    )


def test_profile_flags_are_consistent() -> None:
    with pytest.raises(ValidationError, match="work_based_periods = false contradicts"):
        _tenant(work_study=True, work_based_periods=False)
    tenant = _tenant()
    assert (tenant.certifying, tenant.work_study, tenant.work_based_periods) == (None, None, None)


def test_an_action_overrides_a_profile_saying_no(version: str) -> None:
    referential = shipped_referentials()[version]
    tenant = _tenant(certifying=False, work_study=False, work_based_periods=False)
    certifying = _action(certification_register="RNCP", certification_code="RNCP1")
    found = organisation_applicability(referential, tenant, [certifying])
    assert all(found[n].applies for n in (3, 7, 16))
    assert not found[13].applies
    assert not found[28].applies
    internship = organisation_applicability(referential, tenant, [_action(work_based_periods=True)])
    assert internship[28].applies
    assert not internship[3].applies


def test_a_profile_saying_yes_keeps_the_indicator_when_no_action_needs_it(version: str) -> None:
    referential = shipped_referentials()[version]
    plain = [_action()]  # e.g. Moodle courses without a certification code
    unknown = organisation_applicability(referential, _tenant(), plain)
    assert not any(unknown[n].applies for n in CONDITIONAL)
    declared = organisation_applicability(
        referential,
        _tenant(certifying=True, work_study=True, new_entrant=True),
        plain,
    )
    assert all(declared[n].applies and declared[n].from_profile for n in CONDITIONAL)
    assert declared[13].disputed
    assert not declared[3].disputed
    assert declared[13].new_entrant_process_only
    # a skills-assessment centre is never asked for them
    bc = organisation_applicability(
        referential,
        _tenant(categories=["skills_assessment"], certifying=True, work_study=True),
        [_action(category="skills_assessment")],
    )
    assert not any(bc[n].applies for n in CONDITIONAL)


def test_a_declared_category_without_synced_actions_keeps_its_indicators(version: str) -> None:
    referential = shipped_referentials()[version]
    training_only = [_action()]  # the CFA's apprenticeship groups are not synced yet
    cfa = _tenant(categories=["training", "apprenticeship"])
    found = organisation_applicability(referential, cfa, training_only)
    for number in (14, 15, 20, 29):
        assert found[number].applies, number
        assert found[number].from_profile, number
    assert not found[8].from_profile  # needed by the training action itself
    # a training-only tenant is not asked for them
    plain = organisation_applicability(referential, _tenant(), training_only)
    assert not any(plain[n].applies for n in (14, 15, 20, 29))
    # once an apprenticeship action is known, the action answers, not the profile
    both = organisation_applicability(
        referential, cfa, [*training_only, _action(action_ref="b", category="apprenticeship")]
    )
    assert all(both[n].applies and not both[n].from_profile for n in (14, 15, 20, 29))


AS_OF_DAY = date(2026, 11, 30)


def _evaluate(version: str, tenant: TenantConfig, facts: TenantFacts) -> Any:
    referential = shipped_referentials()[version]
    return evaluate_facts(facts, tenant, referential, build_rules(), AS_OF_DAY, AS_OF_DAY)


def _facts(
    *actions: TrainingAction, proofs: dict[int, list[ManualProofFacts]] | None = None
) -> TenantFacts:
    return TenantFacts(
        actions={a.action_ref: ActionFacts(action=a, evidence_id=i) for i, a in enumerate(actions)},
        trainers={},
        manual_proofs=proofs or {},
    )


def test_coverage_follows_the_profile_without_actions(version: str) -> None:
    no_actions = _facts()
    unknown = _evaluate(version, _tenant(), no_actions)
    for n in CONDITIONAL:
        assert unknown.indicator(n).status is Status.MISSING  # no action: sync a source
    training_only = _evaluate(
        version,
        _tenant(certifying=False, work_study=False, work_based_periods=False),
        no_actions,
    )
    for n in CONDITIONAL:
        assert training_only.indicator(n).status is Status.NOT_APPLICABLE
    assert training_only.indicator(8).status is Status.MISSING


def test_coverage_of_an_indicator_only_the_profile_declares(version: str) -> None:
    tenant = _tenant(certifying=True, work_study=True)
    result = _evaluate(version, tenant, _facts(_action()))
    assert result.action("a").indicator(3).status is Status.NOT_APPLICABLE
    three = result.indicator(3)
    assert three.status is Status.MANUAL
    assert three.reason.fr.startswith("déclaré par le profil de l'organisme")
    assert result.indicator(13).disputed
    assert result.indicator(13).status is Status.MANUAL
    # without the flags the same action leaves them not applicable
    plain = _evaluate(version, _tenant(), _facts(_action()))
    assert plain.indicator(3).status is Status.NOT_APPLICABLE
    # an organisation-wide manual proof proves it
    proof = ManualProof(
        indicator=3,
        title="Taux d'obtention publiés",
        document=DocumentRef(uri="https://example.org/taux"),
        dated=date(2026, 9, 1),
    )
    proven = _evaluate(version, tenant, _facts(_action(), proofs={3: [ManualProofFacts(7, proof)]}))
    assert proven.indicator(3).status is Status.PROVEN
    assert proven.indicator(3).evidence_ids == [7]


def test_coverage_result_says_13_is_disputed(version: str) -> None:
    result = _evaluate(version, _tenant(), _facts(_action(work_study=True)))
    assert result.action("a").indicator(13).disputed
    assert result.action("a").indicator(13).status is Status.MANUAL
    assert result.indicator(13).disputed
    assert result.as_json()["organisation"][12]["disputed"] is True


def test_indicator_33_minor_nonconformity_is_inferred_and_provisional() -> None:
    new = shipped_referentials()["rnq-2026"].indicator(33)
    assert new.minor_nc_possible
    assert new.minor_nc_inferred
    assert new.provisional
    assert "inferred, not reported" in (new.applicability_note_en or "")
    inferred = [
        (r.version, i.number)
        for r in shipped_referentials().values()
        for i in r.indicators
        if i.minor_nc_inferred
    ]
    assert inferred == [("rnq-2026", 33)]
