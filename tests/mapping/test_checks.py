"""More gaps on top of the scenario: attendance, distance follow-up, trainers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from rich.console import Console
from sqlalchemy import select, update

from preuve.cli.coverage_commands import render_coverage
from preuve.evidence.model import EvidenceRecord, Withdrawal
from preuve.mapping import Status, evaluate
from preuve.store import Store
from preuve.store.schema import evidence
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
    assert ten.reason.fr == ("1 apprenant sur 4 sans émargement sur tous les créneaux (6) : p_a3_0")
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
    assert (
        "p_t2 : qualification ou expérience en rapport avec secourisme, vente non datée"
        in competence.reason.fr
    )
    assert "p_t2: the qualification or experience matching" in competence.reason.en

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


async def test_distance_modules_must_be_followed(store: Store) -> None:
    await load_scenario(store)
    await store.evidence.write_batch(
        TENANT, SOURCE, [], withdrawals=[_withdraw("activity", "activity/A2/p_a2_4")]
    )
    result = await evaluate(store, tenant_config(), as_of=AS_OF)
    nineteen = result.action("A2").indicator(19)
    assert nineteen.status is Status.PARTIAL
    assert nineteen.at_fault == ["p_a2_4"]
    assert "1 apprenant sur 5 sans trace d'activité : p_a2_4" in nineteen.reason.fr
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
    assert twelve.status is Status.PARTIAL  # attendance proven, follow-up missing
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
    assert ten.reason.fr == "1 apprenant sur 4 sans émargement sur tous les créneaux (6) : p_a3_1"
