"""More gaps on top of the scenario: attendance, distance follow-up, trainers, surveys,
the manual parts of indicators, and checks run on hand-built facts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from rich.console import Console
from sqlalchemy import select, update

from preuve.cli.coverage_commands import render_coverage
from preuve.evidence.model import EvidenceRecord, ManualProof, TrainingAction, Withdrawal
from preuve.mapping import Status, checks, evaluate
from preuve.mapping.evaluate import _sole_parts, evaluate_facts
from preuve.mapping.facts import (
    ActionFacts,
    LearnerFacts,
    ManualProofFacts,
    SurveyFacts,
    TenantFacts,
)
from preuve.mapping.referential import shipped_referentials
from preuve.mapping.rules import Rule, build_rules, rules_for_version, validate_overrides
from preuve.store import Store
from preuve.store.schema import evidence
from tests.factories import record
from tests.mapping.scenario import (
    AS_OF,
    COMPONENT_PROOFS,
    SOURCE,
    TENANT,
    load_scenario,
    manual_proof,
    tenant_config,
)

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
    assert ten.reason.fr == "1 apprenant sur 4 n'a pas émargé à au moins un des 6 créneaux : p_a3_0"
    assert ten.nonconformity == "major"  # 10 admits no minor non-conformity
    assert result.action("A3").indicator(12).status is Status.PARTIAL  # same rule feeds 12
    assert result.action("A1").indicator(10).status is Status.PROVEN


async def test_a_matching_qualification_must_be_dated_by_the_evaluation_day(
    store: Store,
) -> None:
    await load_scenario(store)

    async def p_t2_experience(**dates: str) -> None:
        payload = {
            "kind": "trainer_experience",
            "person_ref": "p_t2",
            "title": "Formateur Sauveteur Secouriste, animateur vente",
            "domains": ["secourisme", "vente"],
            **dates,
        }
        changed = record(payload, source_id="exp/p_t2", tenant=TENANT, source=SOURCE)
        await store.evidence.write_batch(TENANT, SOURCE, [changed])

    await p_t2_experience()  # the dates are gone
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    competence = result.indicator(21)
    assert competence.status is Status.PARTIAL
    assert competence.at_fault == ["p_t2"]
    assert competence.reason.fr == (
        "1 formateur sur 2 : p_t2 : qualification ou expérience non datée (en rapport avec "
        "secourisme, vente)"
    )
    assert competence.reason.en == (
        "1 trainer out of 2: p_t2: undated qualification or experience (matching secourisme, vente)"
    )

    await p_t2_experience(start="2027-01")  # dated, but after the evaluation day
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.indicator(21).at_fault == ["p_t2"]

    await p_t2_experience(start="2018")  # a partial date is a date
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.indicator(21).status is Status.PROVEN

    await p_t2_experience()
    lenient = tenant_config(rules={"trainer_competence": {"require_dated_qualification": False}})
    result = await evaluate(store, lenient, as_of=AS_OF)
    assert result.indicator(21).status is Status.PROVEN


def _completions(ref: str, learners: int, modules: tuple[str, ...]) -> list[Withdrawal]:
    return [
        _withdraw("completion", f"completion/{ref}/{module}/p_{ref.lower()}_{number}")
        for module in modules
        for number in range(learners)
    ]


async def test_distance_modules_are_checked_per_module(store: Store) -> None:
    await load_scenario(store)
    # p_a2_4 completed only the first of A2's two distance modules.
    await store.evidence.write_batch(
        TENANT,
        SOURCE,
        [],
        withdrawals=[_withdraw("completion", "completion/A2/A2-module-2/p_a2_4")],
    )
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    nineteen = result.action("A2").indicator(19)
    assert nineteen.status is Status.PARTIAL
    assert nineteen.at_fault == ["p_a2_4"]
    assert (
        "1 apprenant sur 5 a achevé moins de 2 des 2 modules à distance : p_a2_4"
        in nineteen.reason.fr
    )
    assert "1 learner out of 5 completed fewer than 2 of the 2 distance modules" in (
        nineteen.reason.en
    )
    # A share of the modules is enough when the tenant says so.
    half = tenant_config(rules={"distance_followed": {"min_module_share": 0.5}})
    assert (await evaluate(store, half, as_of=AS_OF)).action("A2").indicator(19).status is (
        Status.PROVEN
    )
    # The V9 reading guide does not ask for it: 19 is the resources there.
    v9 = await evaluate(store, tenant_config(referential_version="rnq-2019-v9"), as_of=AS_OF)
    assert v9.action("A2").indicator(19).status is Status.PROVEN
    assert {f.rule for f in v9.action("A2").indicator(19).findings} == {"resources"}
    # face-to-face actions without distance resources are not asked for it
    distance = next(
        f for f in result.action("A1").indicator(19).findings if f.rule == "distance_followed"
    )
    assert distance.status is Status.NOT_APPLICABLE


async def test_distance_module_completion_is_due_until_the_learner_s_end(store: Store) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(
        TENANT,
        SOURCE,
        [],
        withdrawals=[_withdraw("completion", "completion/A2/A2-module-2/p_a2_4")],
    )
    # A2 ends on 2026-10-13; modules_due_days (7) later, the completion is late.
    for day, status in ((date(2026, 10, 13), Status.DUE), (date(2026, 10, 21), Status.PARTIAL)):
        result = await evaluate(store, tenant_config(), as_of=day, audit_date=AS_OF)
        nineteen = result.action("A2").indicator(19)
        assert nineteen.status is status, day
    result = await evaluate(store, tenant_config(), as_of=date(2026, 10, 13), audit_date=AS_OF)
    nineteen = result.action("A2").indicator(19)
    assert nineteen.due_by == date(2026, 10, 20)
    assert nineteen.at_fault == []
    assert "achèvement des modules à distance attendu au plus tard le 2026-10-20" in (
        nineteen.reason.fr
    )


async def test_untracked_distance_modules_are_named(store: Store) -> None:
    await load_scenario(store)
    untracked = _lms(
        {
            "kind": "learning_resource",
            "action_ref": "A2",
            "resource_ref": "A2-classe-virtuelle",
            "title": "Classe virtuelle",
            "distance": True,
        },
        "resource/A2/A2-classe-virtuelle",
        None,
    )
    await store.evidence.write_batch(TENANT, SOURCE, [untracked])
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    nineteen = result.action("A2").indicator(19)
    assert nineteen.status is Status.PROVEN  # the tracked modules were completed
    assert "1 module à distance sans suivi d'achèvement, non vérifié" in nineteen.reason.fr


async def test_distance_falls_back_to_learners_without_module_completions(
    store: Store,
) -> None:
    await load_scenario(store)
    # No completion names a distance module: traces are checked per learner.
    withdrawals = _completions("A2", 5, ("A2-module-1", "A2-module-2"))
    withdrawals.append(_withdraw("activity", "activity/A2/p_a2_4"))
    await store.evidence.write_batch(TENANT, SOURCE, [], withdrawals=withdrawals)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    nineteen = result.action("A2").indicator(19)
    assert nineteen.status is Status.PARTIAL
    assert nineteen.at_fault == ["p_a2_4"]
    assert "1 apprenant sur 5 sans trace d'activité : p_a2_4" in nineteen.reason.fr
    await store.evidence.write_batch(
        TENANT,
        SOURCE,
        [
            _lms(
                {
                    "kind": "activity",
                    "action_ref": "A2",
                    "person_ref": "p_a2_4",
                    "activity_ref": "A2-module-1",
                    "verb": "viewed",
                    "at": "2026-10-12T20:00:00+00:00",
                },
                "activity/A2/p_a2_4/again",
                datetime(2026, 10, 12, 20, tzinfo=UTC),
            )
        ],
    )
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    nineteen = result.action("A2").indicator(19)
    assert nineteen.status is Status.PROVEN
    assert "contrôle par apprenant, pas par module" in nineteen.reason.fr


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
    assert competence.reason.fr == (
        "1 formateur sur 3 : p_t3 : aucun CV, aucune qualification ni expérience en rapport "
        "avec vente"
    )
    assert competence.reason.en == (
        "1 trainer out of 3: p_t3: no CV, no qualification or experience matching vente"
    )
    # an old CV is named too once the age limit is lowered
    strict = tenant_config(rules={"trainer_competence": {"max_cv_age_months": 12}})
    result = await evaluate(store, strict, as_of=AS_OF)
    assert "p_t1 : CV de plus de 12 mois ; p_t2 : " in result.indicator(21).reason.fr
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
        # 2 and 30 also name their manual parts (calculation method, funders' views)
        assert item.reason.fr.startswith(
            "aucune action de formation n'est connue : synchronisez une source"
        )
    assert result.indicator(21).reason.fr == "aucun formateur inscrit sur une action active"
    assert result.indicator(23).status is Status.MANUAL
    assert result.indicator(14).status is Status.NOT_APPLICABLE  # training-only profile


def _lms(data: dict[str, Any], source_id: str, when: datetime | None) -> EvidenceRecord:
    return record(data, source_id=source_id, tenant=TENANT, source=SOURCE, effective_at=when)


async def test_undated_records_count(store: Store) -> None:
    # A positioning and a signature stored without a date still prove the learner's.
    withdrawals = [
        _withdraw("attendance", "attendance/A3/p_a3_0/2026-11-03/am"),
        _withdraw("attendance", "attendance/A3/p_a3_0/2026-11-03/pm"),
    ]
    undated = [
        _lms(
            {
                "kind": "assessment",
                "action_ref": "A1",
                "person_ref": "p_a1_2",
                "assessment_kind": "entry_positioning",
            },
            "undated-positioning",
            None,
        ),
        *(
            _lms(
                {
                    "kind": "attendance",
                    "action_ref": "A3",
                    "person_ref": "p_a3_0",
                    "day": "2026-11-03",
                    "half": half,
                    "status": "present",
                },
                f"undated-attendance/{half}",
                None,
            )
            for half in ("am", "pm")
        ),
    ]
    await load_scenario(store)
    await store.evidence.write_batch(TENANT, SOURCE, undated, withdrawals=withdrawals)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.action("A1").indicator(8).at_fault == ["p_a1_1"]
    assert result.action("A3").indicator(10).status is Status.PROVEN


async def test_evidence_after_as_of_does_not_count_yet(store: Store) -> None:
    await load_scenario(store)
    late_final = {
        "kind": "assessment",
        "action_ref": "A4",
        "person_ref": "p_a4_3",
        "assessment_kind": "final",
        "passed": True,
    }
    await store.evidence.write_batch(
        TENANT, SOURCE, [_lms(late_final, "final/A4/p_a4_3", datetime(2026, 12, 2, 10, tzinfo=UTC))]
    )
    before = (await evaluate(store, tenant_config(), as_of=AS_OF)).action("A4").indicator(11)
    assert before.status is Status.DUE
    assert before.reason.fr == (
        "évaluation des acquis attendue au plus tard le 2026-12-03 pour 1 apprenant : p_a4_3"
    )
    after = await evaluate(store, tenant_config(), as_of=date(2026, 12, 2))
    assert after.action("A4").indicator(11).status is Status.PROVEN


async def test_the_evaluation_day_ends_at_midnight_in_paris(store: Store) -> None:
    await load_scenario(store)
    final = {
        "kind": "assessment",
        "action_ref": "A4",
        "person_ref": "p_a4_3",
        "assessment_kind": "final",
        "passed": True,
    }

    async def status_with_final_at(when: datetime) -> Status:
        await store.evidence.write_batch(TENANT, SOURCE, [_lms(final, "final/A4/p_a4_3", when)])
        result = await evaluate(store, tenant_config(), as_of=AS_OF)
        return result.action("A4").indicator(11).status

    # 00:30 in Paris on 1 December is still 30 November in UTC: not there yet
    assert await status_with_final_at(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) is Status.DUE
    # 23:30 in Paris on 30 November: there on the evaluation day
    assert await status_with_final_at(datetime(2026, 11, 30, 22, 30, tzinfo=UTC)) is Status.PROVEN


async def test_final_assessment_missing_once_the_grace_period_is_over(store: Store) -> None:
    await load_scenario(store)
    result = await evaluate(store, tenant_config(), as_of=date(2026, 12, 4))
    final = result.action("A4").indicator(11)
    assert final.status is Status.PARTIAL
    assert final.reason.fr == (
        "1 apprenant sur 4 ayant terminé n'a pas d'évaluation des acquis : p_a4_3"
    )
    assert final.nonconformity == "major"  # 11 admits no minor non-conformity


async def test_activity_does_not_stand_in_for_classroom_slots(store: Store) -> None:
    await load_scenario(store)
    viewed = {
        "kind": "activity",
        "action_ref": "A3",
        "person_ref": "p_a3_0",
        "activity_ref": "A3-support",
        "verb": "viewed",
        "at": "2026-11-03T20:00:00+00:00",
    }
    withdrawals = [
        _withdraw("attendance", "attendance/A3/p_a3_0/2026-11-03/am"),
        _withdraw("attendance", "attendance/A3/p_a3_0/2026-11-03/pm"),
    ]
    await store.evidence.write_batch(
        TENANT,
        SOURCE,
        [_lms(viewed, "activity/A3/p_a3_0", datetime(2026, 11, 3, 20, tzinfo=UTC))],
        withdrawals=withdrawals,
    )
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.action("A3").indicator(10).at_fault == ["p_a3_0"]


async def test_drop_out_follow_up_deadline_is_fixed_then_missed(store: Store) -> None:
    await load_scenario(store)
    dropped = {
        "kind": "enrolment",
        "action_ref": "A4",
        "person_ref": "p_a4_9",
        "role": "learner",
        "status": "dropped_out",
    }
    positioning = {
        "kind": "assessment",
        "action_ref": "A4",
        "person_ref": "p_a4_9",
        "assessment_kind": "entry_positioning",
    }
    await store.evidence.write_batch(
        TENANT,
        SOURCE,
        [
            _lms(dropped, "enrolment/A4/p_a4_9", datetime(2026, 11, 1, tzinfo=UTC)),
            _lms(positioning, "positioning/A4/p_a4_9", datetime(2026, 11, 10, tzinfo=UTC)),
        ],
    )
    # No drop-out date on the enrolment: 15 days after the end of A4 (2026-11-18),
    # the same deadline whichever day the evaluation runs.
    for day in (date(2026, 11, 17), AS_OF):
        twelve = (await evaluate(store, tenant_config(), as_of=day)).action("A4").indicator(12)
        assert twelve.status is Status.DUE, day
        assert twelve.due_by == date(2026, 12, 3)
        assert "p_a4_9" in twelve.reason.fr
        assert twelve.at_fault == []
    result = await evaluate(store, tenant_config(), as_of=date(2026, 12, 4))
    twelve = result.action("A4").indicator(12)
    # Attendance proven, but the only drop-out was not followed up: that part of 12
    # is fully absent, so 12 is missing (docs/coverage.md, "Combining statuses").
    assert twelve.status is Status.MISSING
    assert twelve.nonconformity == "major"
    assert "1 abandon sur 1 sans suivi tracé : p_a4_9" in twelve.reason.fr
    assert twelve.at_fault == ["p_a4_9"]


async def test_undated_action_waits_only_for_what_follows_its_end(store: Store) -> None:
    await load_scenario(store)
    undated = [
        _lms(
            {"kind": "training_action", "action_ref": "A5", "title": "Sans dates"},
            "action/A5",
            None,
        ),
        _lms(
            {
                "kind": "enrolment",
                "action_ref": "A5",
                "person_ref": "p_a5_0",
                "status": "completed",
            },
            "enrolment/A5/p_a5_0",
            None,
        ),
        _lms(
            {
                "kind": "enrolment",
                "action_ref": "A5",
                "person_ref": "p_a5_1",
                "status": "active",
            },
            "enrolment/A5/p_a5_1",
            None,
        ),
    ]
    await store.evidence.write_batch(TENANT, SOURCE, undated)
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    a5 = result.action("A5")
    # Expected at the start, which is past (learners are enrolled): missing, not due.
    assert a5.indicator(8).status is Status.MISSING
    # The learner who completed lacks an assessment; the active one is still due.
    assert a5.indicator(11).status is Status.MISSING
    assert a5.indicator(11).at_fault == ["p_a5_0"]
    assert "p_a5_1" in a5.indicator(11).reason.fr
    # Surveys follow the end, unknown here: due, with no made-up date.
    survey = a5.indicator(30)
    assert survey.status is Status.DUE
    assert survey.due_by is None
    assert "date inconnue" in survey.reason.fr


async def test_unreadable_stored_records_are_reported(store: Store) -> None:
    await load_scenario(store)
    async with store.engine.begin() as conn:  # a record an older model accepted
        await conn.execute(
            update(evidence)
            .where(evidence.c.tenant == TENANT, evidence.c.source_id == "action/A2")
            .values(payload={"kind": "training_action", "action_ref": "A2"})
        )
        row_id = await conn.scalar(
            select(evidence.c.id).where(
                evidence.c.tenant == TENANT, evidence.c.source_id == "action/A2"
            )
        )
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.problems == [f"training_action #{row_id} field title: Field required"]
    assert [a.action_ref for a in result.actions] == ["A1", "A3", "A4"]
    assert result.as_json()["problems"] == result.problems
    console = Console(record=True, width=200)
    render_coverage(console, result)  # the table says so too
    assert f"training_action #{row_id} field title: Field required" in console.export_text()


async def test_an_absence_is_not_attendance(store: Store) -> None:
    await load_scenario(store)
    absent = {
        "kind": "attendance",
        "action_ref": "A3",
        "person_ref": "p_a3_1",
        "day": "2026-11-04",
        "half": "pm",
        "status": "absent",
        "method": "signature",
    }
    # The same record, now marked absent (an update, not a new slot).
    when = datetime(2026, 11, 4, 14, tzinfo=UTC)
    await store.evidence.write_batch(
        TENANT, SOURCE, [_lms(absent, "attendance/A3/p_a3_1/2026-11-04/pm", when)]
    )
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    ten = result.action("A3").indicator(10)
    assert ten.reason.fr == "1 apprenant sur 4 n'a pas émargé à au moins un des 6 créneaux : p_a3_1"


# ---------------------------------------------------------------------------
# Indicator 30: who is asked, response rates, deadlines
# ---------------------------------------------------------------------------


def _rule(rule_id: str, **overrides: Any) -> Rule:
    rules = build_rules({rule_id: overrides} if overrides else None)
    return next(r for r in rules if r.id == rule_id)


def _action(**fields: Any) -> TrainingAction:
    values: dict[str, Any] = {
        "action_ref": "X1",
        "title": "Action",
        "start_date": "2026-10-05",
        "end_date": "2026-10-07",
    }
    values.update(fields)
    return TrainingAction.model_validate(values)


def _learners(count: int) -> list[LearnerFacts]:
    return [
        LearnerFacts("X1", f"p_{n}", "completed", date(2026, 10, 5), date(2026, 10, 7), n)
        for n in range(count)
    ]


def _survey(stakeholder: str, timing: str, invited: int | None, responses: int) -> SurveyFacts:
    return SurveyFacts(f"X1-{timing}-{stakeholder}", timing, stakeholder, invited, responses, 9)


def _asked(finding: Any) -> set[str]:
    """The stakeholder:timing pairs a satisfaction finding names as missing."""
    return set(finding.at_fault)


def test_satisfaction_asks_each_stakeholder_where_concerned() -> None:
    rule = _rule("satisfaction", cold_required=False)
    late = date(2026, 12, 1)  # every hot survey's deadline has passed
    plain = ActionFacts(action=_action(), evidence_id=1, learners=_learners(2), trainers=["p_t"])
    assert _asked(checks.satisfaction(rule, plain, late)) == {"hot:learner", "hot:trainer"}
    company = ActionFacts(
        action=_action(work_based_periods=True), evidence_id=1, learners=_learners(2)
    )
    assert _asked(checks.satisfaction(rule, company, late)) == {
        "hot:learner",
        "hot:trainer",
        "hot:employer",
    }
    apprenticeship = ActionFacts(action=_action(category="apprenticeship"), evidence_id=1)
    assert "hot:employer" in _asked(checks.satisfaction(rule, apprenticeship, late))
    # Guide V9: a subcontractor asks the learners and its client (donneur d'ordres);
    # a skills assessment, the learners and the teaching team.
    subcontracted = ActionFacts(action=_action(subcontracted=True, work_study=True), evidence_id=1)
    assert _asked(checks.satisfaction(rule, subcontracted, late)) == {"hot:learner", "hot:client"}
    assessment = ActionFacts(
        action=_action(category="skills_assessment", work_based_periods=True), evidence_id=1
    )
    assert _asked(checks.satisfaction(rule, assessment, late)) == {"hot:learner", "hot:trainer"}
    # per tenant: companies on every action, funders per action, learners only
    every = _rule("satisfaction", cold_required=False, employer_on_every_action=True)
    assert "hot:employer" in _asked(checks.satisfaction(every, plain, late))
    funders = _rule("satisfaction", cold_required=False, stakeholders=["learner", "funder"])
    assert _asked(checks.satisfaction(funders, plain, late)) == {"hot:learner", "hot:funder"}
    learners = _rule("satisfaction", cold_required=False, stakeholders=["learner"])
    assert _asked(checks.satisfaction(learners, plain, late)) == {"hot:learner"}
    assert _asked(checks.satisfaction(learners, subcontracted, late)) == {"hot:learner"}


def test_the_client_of_a_subcontracted_action_is_asked() -> None:
    rule = _rule("satisfaction", cold_required=False)
    late = date(2026, 12, 1)

    def facts(*client: SurveyFacts, subcontracted: bool = True) -> ActionFacts:
        return ActionFacts(
            action=_action(subcontracted=subcontracted),
            evidence_id=1,
            learners=_learners(2),
            surveys=[_survey("learner", "hot", 2, 2), *client],
        )

    missing = checks.satisfaction(rule, facts(), late)
    assert missing.status is Status.PARTIAL  # the learners answered
    assert missing.at_fault == ["hot:client"]
    assert missing.reason.fr.startswith("aucune enquête à chaud auprès des donneurs d'ordres")
    assert missing.reason.en.startswith("no hot survey of client organisations")
    assert checks.satisfaction(rule, facts(), date(2026, 10, 10)).status is Status.DUE
    # One client organisation: without an invited count, one answer out of one.
    answered = checks.satisfaction(rule, facts(_survey("client", "hot", None, 1)), late)
    assert answered.status is Status.PROVEN, answered.reason.fr
    low = checks.satisfaction(rule, facts(_survey("client", "hot", None, 0)), late)
    assert low.status is Status.PARTIAL
    assert "enquête à chaud (donneurs d'ordres) : 0 réponse sur 1" in low.reason.fr
    # Not asked on an action the organisation delivers itself, even when listed.
    assert "hot:client" not in checks.satisfaction(rule, facts(subcontracted=False), late).at_fault


def test_cold_surveys_are_asked_of_the_listed_stakeholders() -> None:
    facts = ActionFacts(
        action=_action(work_based_periods=True), evidence_id=1, learners=_learners(2)
    )
    after_cold = date(2027, 1, 10)
    default = checks.satisfaction(_rule("satisfaction"), facts, after_cold)
    assert {"cold:learner"} == {r for r in default.at_fault if r.startswith("cold:")}
    both = _rule("satisfaction", cold_stakeholders=["learner", "employer"])
    assert {r for r in checks.satisfaction(both, facts, after_cold).at_fault if "cold" in r} == {
        "cold:learner",
        "cold:employer",
    }


def test_a_low_response_rate_is_due_until_the_survey_deadline() -> None:
    rule = _rule("satisfaction", stakeholders=["learner"], cold_required=False)
    facts = ActionFacts(
        action=_action(),
        evidence_id=1,
        learners=_learners(4),
        surveys=[_survey("learner", "hot", 4, 1)],
    )
    deadline = date(2026, 10, 7 + rule.params.hot_due_days)
    before = checks.satisfaction(rule, facts, deadline)
    assert before.status is Status.DUE
    assert before.due_by == deadline
    assert before.at_fault == []
    assert "relances possibles jusqu'au" in before.reason.fr
    after = checks.satisfaction(rule, facts, date(2026, 10, 8 + rule.params.hot_due_days))
    assert after.status is Status.PARTIAL
    assert after.due_by is None
    assert after.at_fault == ["X1-hot-learner"]
    assert "sous le seuil de 50\u202f%" in after.reason.fr


def test_a_survey_without_invited_count_has_an_unknown_rate() -> None:
    facts = ActionFacts(
        action=_action(work_based_periods=True),
        evidence_id=1,
        surveys=[_survey("employer", "hot", None, 3)],
    )
    late = date(2026, 12, 1)
    rule = _rule("satisfaction", stakeholders=["employer"], cold_required=False)
    unknown = checks.satisfaction(rule, facts, late)
    assert unknown.status is Status.PARTIAL  # not 100 %: the rate is unknown
    assert unknown.reason.fr == (
        "enquête à chaud (entreprises) : 3 réponses, taux de réponse inconnu : "
        "nombre d'invités absent"
    )
    assert unknown.at_fault == ["X1-hot-employer"]
    in_time = checks.satisfaction(rule, facts, date(2026, 10, 10))
    assert in_time.status is Status.DUE
    # A tenant can accept a number of answers instead of a rate.
    enough = _rule(
        "satisfaction",
        stakeholders=["employer"],
        cold_required=False,
        min_responses_without_invited=3,
    )
    proven = checks.satisfaction(enough, facts, late)
    assert proven.status is Status.PROVEN
    assert "nombre d'invités inconnu (au moins 3 réponses attendues)" in proven.reason.fr
    more = _rule(
        "satisfaction",
        stakeholders=["employer"],
        cold_required=False,
        min_responses_without_invited=4,
    )
    assert checks.satisfaction(more, facts, late).status is Status.PARTIAL


def test_the_teaching_team_is_invited_by_default_as_enrolled() -> None:
    rule = _rule("satisfaction", stakeholders=["trainer"], cold_required=False)
    late = date(2026, 12, 1)
    facts = ActionFacts(
        action=_action(),
        evidence_id=1,
        trainers=["p_t1", "p_t2", "p_t3"],
        surveys=[_survey("trainer", "hot", None, 1)],
    )
    low = checks.satisfaction(rule, facts, late)
    assert low.status is Status.PARTIAL
    assert "1 réponse sur 3 (33\u202f%)" in low.reason.fr
    facts.surveys = [_survey("trainer", "hot", None, 2)]
    assert checks.satisfaction(rule, facts, late).status is Status.PROVEN


async def test_satisfaction_overrides_per_tenant(store: Store) -> None:
    await load_scenario(store)
    learners_only = tenant_config(rules={"satisfaction": {"stakeholders": ["learner"]}})
    result = await evaluate(store, learners_only, as_of=AS_OF)
    assert result.action("A2").indicator(30).at_fault == ["hot:learner"]
    # A4's company survey (2 answers, no invited count) is enough with a count threshold,
    # and its learners' rate with a lower one: only the cold survey is left.
    lenient = tenant_config(
        rules={"satisfaction": {"min_response_rate": 0.25, "min_responses_without_invited": 2}}
    )
    a4 = (await evaluate(store, lenient, as_of=date(2026, 12, 4))).action("A4").indicator(30)
    assert a4.status is Status.DUE
    assert a4.reason.fr.startswith("enquête à froid auprès des apprenants")
    strict = await evaluate(store, tenant_config(), as_of=date(2026, 12, 4))
    a4 = strict.action("A4").indicator(30)
    assert a4.status is Status.PARTIAL  # the hot-survey deadline (2026-12-03) has passed
    assert a4.at_fault == ["A4-hot", "A4-hot-employer"]


# ---------------------------------------------------------------------------
# Indicator 2: what the published rates cover
# ---------------------------------------------------------------------------


async def test_subcontracted_actions_are_left_out_of_the_rates(store: Store) -> None:
    await load_scenario(store)
    a3 = {
        "kind": "training_action",
        "action_ref": "A3",
        "title": "Sauveteur secouriste du travail",
        "duration_hours": 21,
        "modality": "face_to_face",
        "start_date": "2026-11-02",
        "end_date": "2026-11-04",
        "domains": ["secourisme"],
        "subcontracted": True,
    }
    await store.evidence.write_batch(TENANT, SOURCE, [_lms(a3, "action/A3", None)])
    for version in ("rnq-2026", "rnq-2019-v9"):
        result = await evaluate(store, tenant_config(referential_version=version), as_of=AS_OF)
        rates = result.indicator(2)
        assert rates.metrics is not None
        assert "A3" not in rates.metrics["per_action"]
        assert rates.metrics["per_year"]["2026"]["actions"] == 3
        finding = next(f for f in rates.findings if f.rule == "result_indicators")
        assert finding.status is Status.PROVEN
        assert finding.reason.fr == (
            "indicateurs de résultats calculés pour 3 actions terminées ; 1 action réalisée "
            "en sous-traitance exclue (le donneur d'ordres diffuse leurs résultats) : A3"
        )
        # 1, 2 and 3 do not apply to an action delivered as a subcontractor
        assert result.action("A3").indicator(1).status is Status.NOT_APPLICABLE


def test_rates_of_a_subcontractor_only_are_not_applicable() -> None:
    facts = TenantFacts(
        actions={"X1": ActionFacts(action=_action(subcontracted=True), evidence_id=1)},
        trainers={},
        manual_proofs={},
    )
    finding = checks.result_rates(_rule("result_indicators"), facts, AS_OF)
    assert finding.status is Status.NOT_APPLICABLE
    assert "donneur d'ordres" in finding.reason.fr


# ---------------------------------------------------------------------------
# Manual parts of indicators (rnq-2026 additions, funders' views)
# ---------------------------------------------------------------------------


def _proof_id(indicator: int) -> str:
    component, title = COMPONENT_PROOFS[indicator]
    return manual_proof(indicator, title=title, component=component).provenance.source_id


async def _withdraw_proofs(store: Store, *indicators: int) -> None:
    await store.evidence.write_batch(
        TENANT,
        "manual",
        [],
        withdrawals=[_withdraw("manual_proof", _proof_id(n)) for n in indicators],
    )


async def test_2026_components_need_their_proofs(store: Store) -> None:
    await load_scenario(store)
    await _withdraw_proofs(store, 2, 12, 19)
    new = await evaluate(store, tenant_config(), as_of=AS_OF)
    old = await evaluate(store, tenant_config(referential_version="rnq-2019-v9"), as_of=AS_OF)
    expected = {
        # (action or None, indicator): what the reason asks for
        (None, 2): "modalités de calcul des indicateurs de résultats publiées",
        ("A1", 12): "prévention et traitement des violences",
        ("A2", 19): "référent pédagogique désigné pour la formation",
    }
    for (ref, number), what in expected.items():
        item = new.action(ref).indicator(number) if ref else new.indicator(number)
        assert item.status is Status.MANUAL, (ref, number)
        assert item.reason.fr.startswith(
            f"preuve manuelle à joindre (document ou lien daté) : {what}"
        )
        assert item.reason.fr.endswith("(référentiel 2026, provisoire)")
        assert item.reason.en.startswith("manual proof needed (dated document or link): ")
        assert item.provisional
        before = old.action(ref).indicator(number) if ref else old.indicator(number)
        assert before.status is Status.PROVEN, (ref, number)
    # The evidence-based parts still say what they lack, next to the manual part.
    withdrawals = [
        _withdraw("attendance", "attendance/A3/p_a3_0/2026-11-03/am"),
        _withdraw("attendance", "attendance/A3/p_a3_0/2026-11-03/pm"),
    ]
    await store.evidence.write_batch(TENANT, SOURCE, [], withdrawals=withdrawals)
    twelve = (await evaluate(store, tenant_config(), as_of=AS_OF)).action("A3").indicator(12)
    assert twelve.status is Status.PARTIAL
    assert twelve.reason.fr.startswith("1 apprenant sur 4 n'a pas émargé")
    assert "prévention et traitement des violences" in twelve.reason.fr


async def test_an_action_level_proof_covers_its_action_only(store: Store) -> None:
    await load_scenario(store)
    await _withdraw_proofs(store, 12)
    a1_only = ManualProof.model_validate(
        {
            "indicator": 12,
            "component": "violence_prevention",
            "action_ref": "A1",
            "title": "Charte de prévention des violences (Excel)",
            "document": {"uri": "https://intranet.example.org/qualite/12-a1"},
            "dated": "2026-09-01",
        }
    )
    proof = record(
        a1_only.model_dump(mode="json"), source_id="proof-12-a1", tenant=TENANT, source="manual"
    )
    await store.evidence.write_batch(TENANT, "manual", [proof])
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.action("A1").indicator(12).status is Status.PROVEN
    assert result.action("A3").indicator(12).status is Status.MANUAL
    assert result.indicator(12).at_fault == ["A3", "A4"]


async def test_the_risk_analysis_needs_a_proof_of_its_component(store: Store) -> None:
    await load_scenario(store)
    await _withdraw_proofs(store, 32)  # the main part's proof of 32 is left
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    thirty_two = result.indicator(32)
    assert thirty_two.status is Status.MANUAL
    risk = next(f for f in thirty_two.findings if f.rule == "quality_risk_analysis")
    assert risk.reason.fr.startswith(
        "preuve manuelle à joindre (document ou lien daté) : analyse des risques sur la "
        "qualité des formations délivrées"
    )
    # The proof without a component counts for the main part, never for the risk
    # analysis, whatever its title; the reason says which component is expected.
    assert risk.reason.fr.endswith(
        "1 preuve de l'indicateur 32 sans composante ne compte pas pour cette partie "
        "(composante attendue : risk_analysis)"
    )
    assert "(expected component: risk_analysis)" in risk.reason.en
    main = next(f for f in thirty_two.findings if f.rule == "manual_organisation")
    assert main.status is Status.PROVEN
    titled = manual_proof(32, title="Cartographie des risques qualité")  # no component
    await store.evidence.write_batch(TENANT, "manual", [titled])
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.indicator(32).status is Status.MANUAL
    v9 = await evaluate(store, tenant_config(referential_version="rnq-2019-v9"), as_of=AS_OF)
    assert v9.indicator(32).status is Status.PROVEN
    tagged = manual_proof(32, title="Cartographie qualité", component="risk_analysis")
    await store.evidence.write_batch(TENANT, "manual", [tagged])
    assert (await evaluate(store, tenant_config(), as_of=AS_OF)).indicator(32).status is (
        Status.PROVEN
    )


async def test_a_component_proof_does_not_prove_the_main_part(store: Store) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(
        TENANT, "manual", [], withdrawals=[_withdraw("manual_proof", "proof-32-2026-09-01")]
    )
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    thirty_two = result.indicator(32)
    assert thirty_two.status is Status.MANUAL
    main = next(f for f in thirty_two.findings if f.rule == "manual_organisation")
    assert main.status is Status.MANUAL
    assert main.reason.fr == (
        "preuve manuelle à joindre (document ou lien daté, avec sa validité) ; les preuves "
        "rattachées à la composante risk_analysis ne comptent pas pour cette partie"
    )
    risk = next(f for f in thirty_two.findings if f.rule == "quality_risk_analysis")
    assert risk.status is Status.PROVEN
    v9 = await evaluate(store, tenant_config(referential_version="rnq-2019-v9"), as_of=AS_OF)
    assert v9.indicator(32).status is Status.MANUAL  # V9's 32 has no risk analysis part


async def test_an_untagged_proof_counts_for_the_only_manual_part(store: Store) -> None:
    """Proofs stored before components existed: unambiguous where the indicator has
    one manual part and no main one (12, 30), never where it has two (32)."""
    await load_scenario(store)
    await _withdraw_proofs(store, 12, 30)
    untagged = [
        manual_proof(12, title="Procédure de prévention des violences"),
        manual_proof(30, title="Sollicitation annuelle des financeurs"),
    ]
    await store.evidence.write_batch(TENANT, "manual", untagged)
    for version, rule_id in (
        ("rnq-2026", "funder_feedback_if_any"),
        ("rnq-2019-v9", "funder_feedback"),
    ):
        result = await evaluate(store, tenant_config(referential_version=version), as_of=AS_OF)
        funders = next(f for f in result.indicator(30).findings if f.rule == rule_id)
        assert funders.status is Status.PROVEN, version
        assert "« Sollicitation annuelle des financeurs »" in funders.reason.fr
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    violence = next(
        f for f in result.action("A1").indicator(12).findings if f.rule == "violence_prevention"
    )
    assert violence.status is Status.PROVEN
    # 32 has a main manual part next to the risk analysis: an untagged proof is the
    # main part's, never the risk analysis's.
    await _withdraw_proofs(store, 32)  # the main part's proof of 32 (untagged) is left
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    risk = next(f for f in result.indicator(32).findings if f.rule == "quality_risk_analysis")
    assert risk.status is Status.MANUAL
    assert "(composante attendue : risk_analysis)" in risk.reason.fr


async def test_sole_parts_follow_the_rules_of_the_version() -> None:
    rules = build_rules()
    sole_2026 = _sole_parts(rules_for_version(rules, "rnq-2026"))
    assert sole_2026 == {
        "public_information_recognition",
        "result_calculation_method",
        "violence_prevention",
        "pedagogical_referent",
        "funder_feedback_if_any",
        "content_evaluation",
    }
    assert _sole_parts(rules_for_version(rules, "rnq-2019-v9")) == {"funder_feedback"}


async def test_funders_views_where_there_are_funders(store: Store) -> None:
    await load_scenario(store)
    await _withdraw_proofs(store, 30)
    for version, rule_id in (
        ("rnq-2026", "funder_feedback_if_any"),
        ("rnq-2019-v9", "funder_feedback"),
    ):
        result = await evaluate(store, tenant_config(referential_version=version), as_of=AS_OF)
        funders = next(f for f in result.indicator(30).findings if f.rule == rule_id)
        assert funders.status is Status.MANUAL, version
        assert "appréciations des financeurs" in funders.reason.fr
    # rnq-2026: "financeurs (le cas échéant)": an organisation without funders says so.
    without = tenant_config(rules={"funder_feedback_if_any": {"required": False}})
    result = await evaluate(store, without, as_of=AS_OF)
    funders = next(f for f in result.indicator(30).findings if f.rule == "funder_feedback_if_any")
    assert funders.status is Status.NOT_APPLICABLE
    assert funders.reason.fr.startswith("sans objet : l'organisme déclare ne pas être concerné")
    # The V9 guide names funders without condition: they cannot be waived there.
    problems = validate_overrides({"funder_feedback": {"required": False}})
    assert any(
        p.startswith("rules.funder_feedback") and "cannot be waived" in p for p in problems
    ), problems


def test_funders_are_not_asked_of_skills_assessments_and_subcontracting() -> None:
    rule = _rule("funder_feedback_if_any")
    only = TenantFacts(
        actions={
            "X1": ActionFacts(action=_action(category="skills_assessment"), evidence_id=1),
            "X2": ActionFacts(action=_action(action_ref="X2", subcontracted=True), evidence_id=2),
        },
        trainers={},
        manual_proofs={},
    )
    finding = checks.manual_component_organisation(rule, only, AS_OF)
    assert finding.status is Status.NOT_APPLICABLE
    only.actions["X3"] = ActionFacts(action=_action(action_ref="X3"), evidence_id=3)
    assert checks.manual_component_organisation(rule, only, AS_OF).status is Status.MANUAL


def test_the_pedagogical_referent_threshold_is_set_per_tenant() -> None:
    facts = ActionFacts(action=_action(), evidence_id=1, trainers=["p_t1"])
    assert checks.manual_component_action(_rule("pedagogical_referent"), facts, AS_OF).status is (
        Status.MANUAL
    )
    two = _rule("pedagogical_referent", min_trainers=2)
    below = checks.manual_component_action(two, facts, AS_OF)
    assert below.status is Status.NOT_APPLICABLE
    assert below.reason.fr == "1 formateur : référent pédagogique exigé à partir de 2"
    facts.trainers.append("p_t2")
    assert checks.manual_component_action(two, facts, AS_OF).status is Status.MANUAL
    assert any(
        "min_trainers" in p
        for p in validate_overrides({"violence_prevention": {"min_trainers": 2}})
    )


def test_indicator_33_asks_for_the_learners_evaluation_under_2026_only() -> None:
    apprenticeship = _action(category="apprenticeship")
    facts = TenantFacts(
        actions={"X1": ActionFacts(action=apprenticeship, evidence_id=1)},
        trainers={},
        manual_proofs={},
    )
    tenant = tenant_config(categories=["apprenticeship"])
    referentials = shipped_referentials()
    new = evaluate_facts(facts, tenant, referentials["rnq-2026"], build_rules(), AS_OF, AS_OF)
    thirty_three = new.indicator(33)
    assert thirty_three.status is Status.MANUAL
    assert "évaluation des contenus et des enseignements par les apprenants" in (
        thirty_three.reason.fr
    )
    old = evaluate_facts(facts, tenant, referentials["rnq-2019-v9"], build_rules(), AS_OF, AS_OF)
    assert 33 not in {i.indicator for i in old.organisation}
    proof = ManualProof.model_validate(
        {
            "indicator": 33,
            "component": "content_evaluation",
            "title": "Évaluation des enseignements par les apprentis",
            "document": {"uri": "https://intranet.example.org/qualite/33"},
            "dated": "2026-09-01",
        }
    )
    facts.manual_proofs[33] = [ManualProofFacts(41, proof)]
    new = evaluate_facts(facts, tenant, referentials["rnq-2026"], build_rules(), AS_OF, AS_OF)
    assert new.indicator(33).status is Status.PROVEN
    assert new.indicator(33).evidence_ids == [41]


# ---------------------------------------------------------------------------
# Attendance: each learner's own window, distinct half-day slots
# ---------------------------------------------------------------------------


def _enrolment(ref: str, person: str, **fields: Any) -> EvidenceRecord:
    data = {"kind": "enrolment", "action_ref": ref, "person_ref": person, "role": "learner"}
    return _lms(data | fields, f"enrolment/{ref}/{person}", datetime(2026, 10, 1, tzinfo=UTC))


def _signed(
    ref: str, person: str, day: str, half: str, *, status: str = "present", source: str = ""
) -> EvidenceRecord:
    data = {
        "kind": "attendance",
        "action_ref": ref,
        "person_ref": person,
        "day": day,
        "half": half,
        "status": status,
    }
    # A second source dates the same half-day its own way (here 5 minutes later).
    hour, minute = (9 if half == "am" else 14), (5 if source else 0)
    when = datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00+00:00")
    source_id = f"attendance/{ref}/{person}/{day}/{half}"
    return record(
        data, source_id=source_id, tenant=TENANT, source=source or SOURCE, effective_at=when
    )


async def test_a_learner_is_asked_for_the_slots_from_their_own_start(store: Store) -> None:
    await load_scenario(store)
    # A3 runs 2 to 4 November. p_a3_late joined on the 4th and signed both halves;
    # p_a3_early joined on the 3rd and signed only the 4th.
    records = [
        _enrolment("A3", "p_a3_late", start_date="2026-11-04"),
        _enrolment("A3", "p_a3_early", start_date="2026-11-03"),
        *(
            _signed("A3", p, "2026-11-04", h)
            for p in ("p_a3_late", "p_a3_early")
            for h in ("am", "pm")
        ),
    ]
    await store.evidence.write_batch(TENANT, SOURCE, records)
    ten = (await evaluate(store, tenant_config(), as_of=AS_OF)).action("A3").indicator(10)
    assert ten.status is Status.PARTIAL
    assert ten.at_fault == ["p_a3_early"]
    assert "6 créneaux" in ten.reason.fr  # the action's slots, whoever is asked for which
    # The evaluation day ends the window too: on 3 November, p_a3_early is not asked
    # for the 4th yet, while p_a3_late is not asked at all.
    on_the_3rd = await evaluate(store, tenant_config(), as_of=date(2026, 11, 3))
    assert on_the_3rd.action("A3").indicator(10).at_fault == ["p_a3_early"]  # no 3rd
    await store.evidence.write_batch(
        TENANT, SOURCE, [_signed("A3", "p_a3_early", "2026-11-03", h) for h in ("am", "pm")]
    )
    result = await evaluate(store, tenant_config(), as_of=date(2026, 11, 3))
    assert result.action("A3").indicator(10).status is Status.PROVEN


async def test_a_learner_starting_after_the_evaluation_day_is_not_asked_yet(
    store: Store,
) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(
        TENANT, SOURCE, [_enrolment("A3", "p_a3_next", start_date="2026-12-07")]
    )
    ten = (await evaluate(store, tenant_config(), as_of=AS_OF)).action("A3").indicator(10)
    assert ten.status is Status.PROVEN
    assert ten.reason.fr == "émargement ou traces d'activité pour 6 créneaux de 5 apprenants"


def test_attendance_waits_while_no_learner_has_started() -> None:
    learners = [
        LearnerFacts("X1", "p_1", "active", date(2026, 12, 7), None, 1),
        LearnerFacts("X1", "p_2", "active", date(2026, 12, 14), None, 2),
    ]
    started = _action(start_date="2026-11-02", end_date="2026-12-18")
    facts = ActionFacts(action=started, evidence_id=1, learners=learners)
    facts.declared_slots = facts.slot_mask(["2026-11-02am", "2026-11-02pm"])
    finding = checks.attendance(_rule("attendance"), facts, AS_OF)
    assert finding.status is Status.DUE
    assert finding.due_by == date(2026, 12, 7)
    assert finding.reason.fr == "aucun apprenant n'a encore commencé (premier début le 2026-12-07)"


async def test_duplicate_records_of_a_slot_count_once(store: Store) -> None:
    await load_scenario(store)
    # A second source (e.g. a virtual classroom) records p_a3_1's six half-days again,
    # dated differently. Nobody else is asked for more slots because of it.
    days = ("2026-11-02", "2026-11-03", "2026-11-04")
    copies = [_signed("A3", "p_a3_1", d, h, source="visio") for d in days for h in ("am", "pm")]
    await store.evidence.write_batch(TENANT, "visio", copies)
    ten = (await evaluate(store, tenant_config(), as_of=AS_OF)).action("A3").indicator(10)
    assert ten.status is Status.PROVEN
    assert ten.reason.fr == "émargement ou traces d'activité pour 6 créneaux de 4 apprenants"
    # Two records of an absence are still no attendance; a copy of one present
    # half-day does not stand in for another.
    absent = [
        _signed("A3", "p_a3_2", "2026-11-04", "pm", status="absent"),
        _signed("A3", "p_a3_2", "2026-11-04", "pm", status="absent", source="visio"),
        _signed("A3", "p_a3_2", "2026-11-04", "am", source="visio"),
    ]
    await store.evidence.write_batch(TENANT, SOURCE, absent[:1])
    await store.evidence.write_batch(TENANT, "visio", absent[1:])
    ten = (await evaluate(store, tenant_config(), as_of=AS_OF)).action("A3").indicator(10)
    assert ten.status is Status.PARTIAL
    assert ten.at_fault == ["p_a3_2"]


async def test_only_enrolled_learners_imply_slots(store: Store) -> None:
    await load_scenario(store)
    # A3's trainer signs the three days and a preparation day; someone not enrolled
    # signs four days of their own. More records than any learner's, yet none of
    # these days is a slot the learners had to sign.
    days = ("2026-11-02", "2026-11-03", "2026-11-04")
    extra = [
        *(_signed("A3", "p_t2", d, h) for d in (*days, "2026-11-05") for h in ("am", "pm")),
        *(
            _signed("A3", "p_visitor", f"2026-11-{d:02d}", h)
            for d in range(5, 9)
            for h in ("am", "pm")
        ),
    ]
    await store.evidence.write_batch(TENANT, SOURCE, extra)
    ten = (await evaluate(store, tenant_config(), as_of=AS_OF)).action("A3").indicator(10)
    assert ten.status is Status.PROVEN
    assert ten.reason.fr == "émargement ou traces d'activité pour 6 créneaux de 4 apprenants"


async def test_a_drop_out_is_asked_until_the_day_they_left(store: Store) -> None:
    await load_scenario(store)
    # p_a1_5 signed 5 October, then was marked absent: left on the 5th, no gap.
    left = {"status": "dropped_out", "end_date": "2026-10-05"}
    await store.evidence.write_batch(TENANT, SOURCE, [_enrolment("A1", "p_a1_5", **left)])
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.action("A1").indicator(10).status is Status.PROVEN
    # Left on the 6th: the absences of the 6th are a gap.
    left["end_date"] = "2026-10-06"
    await store.evidence.write_batch(TENANT, SOURCE, [_enrolment("A1", "p_a1_5", **left)])
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    assert result.action("A1").indicator(10).at_fault == ["p_a1_5"]
