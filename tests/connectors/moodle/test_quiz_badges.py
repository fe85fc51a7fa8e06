"""Positioning quizzes dated by their attempts (per Moodle version) and trainer badges."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from preuve.connectors.base import CheckStatus
from preuve.connectors.moodle.constants import (
    F_BADGES,
    F_QUIZ_ATTEMPTS_NEW,
    F_QUIZ_ATTEMPTS_OLD,
    F_QUIZ_BEST_GRADE,
)
from preuve.connectors.registry import build_connector
from preuve.store import RunStatus, Store
from preuve.testing.moodle import MoodleStandIn, SiteSpec, start_stand_in
from preuve.testing.moodle.generator import GeneratedSite
from tests.connectors.moodle.conftest import TENANT, TOKEN_ENV, MakeConnector, source
from tests.connectors.moodle.test_sync import rows, run

ONLY_ASSESSMENTS = ["attendance", "surveys", "scorm", "completion", "trainers"]


def positioning_quizzes(site: GeneratedSite) -> list[tuple[int, int]]:
    return [
        (c, m.cmid)
        for c in site.course_ids
        for m in site.modules(c)
        if m.modname == "quiz" and m.idnumber == "POSITIONNEMENT"
    ]


async def test_positioning_quiz_is_dated_by_its_attempt_without_report_dates(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    moodle.faults.grade_dates_missing = True
    outcome = await run(store, make_connector(disabled_streams=ONLY_ASSESSMENTS))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    stored = {r["source_id"]: r for r in await rows(store) if r["kind"] == "assessment"}
    checked = 0
    for course, cmid in positioning_quizzes(site):
        start = datetime.fromtimestamp(site.course_dates(course)[0], UTC)
        module = site.module(cmid)
        assert module is not None
        for user in site.active_learners(course):
            finished = site.quiz_finished_at(course, module, user)
            record = stored.get(f"grade:{course}:{cmid}:{user}")
            if finished is None:
                assert record is None
                continue
            assert record is not None
            assert record["assessment_kind"] == "entry_positioning"
            assessed = datetime.fromisoformat(str(record["assessed_at"]))
            assert assessed == datetime.fromtimestamp(finished, UTC)
            assert assessed < start  # positioned before the course starts
            checked += 1
    assert checked > 10
    # Other assessments have no date to give: none invented.
    others = [r for r in stored.values() if r["assessment_kind"] != "entry_positioning"]
    assert others
    assert all("assessed_at" not in r for r in others)
    # 4.5: the old attempts function, once per learner of a positioning quiz.
    assert moodle.requests[F_QUIZ_ATTEMPTS_OLD] == sum(
        len(site.active_learners(c)) for c, _ in positioning_quizzes(site)
    )
    assert moodle.requests[F_QUIZ_ATTEMPTS_NEW] == 0
    assert moodle.requests[F_QUIZ_BEST_GRADE] == 0  # the report had every grade


async def test_report_dates_are_used_without_extra_calls(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    outcome = await run(store, make_connector(disabled_streams=ONLY_ASSESSMENTS))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    stored = {r["source_id"]: r for r in await rows(store) if r["kind"] == "assessment"}
    ungraded = 0
    for course, cmid in positioning_quizzes(site):
        module = site.module(cmid)
        assert module is not None
        for user in site.active_learners(course):
            finished = site.quiz_finished_at(course, module, user)
            if finished is None:
                ungraded += 1
                continue
            record = stored[f"grade:{course}:{cmid}:{user}"]
            # The attempt time (datesubmitted), not the later grading time.
            assert datetime.fromisoformat(str(record["assessed_at"])) == datetime.fromtimestamp(
                finished, UTC
            )
            assert finished != site.graded_at(course, module, user)
    # Only learners without a grade in the report cost a quiz request.
    assert ungraded > 0
    assert moodle.requests[F_QUIZ_ATTEMPTS_OLD] == ungraded


async def test_best_grade_fills_a_grade_missing_from_the_report(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    course, cmid = positioning_quizzes(site)[0]
    module = site.module(cmid)
    assert module is not None
    moodle.faults.ungraded_in_report.add(cmid)
    outcome = await run(store, make_connector(disabled_streams=ONLY_ASSESSMENTS))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    stored = {r["source_id"]: r for r in await rows(store) if r["kind"] == "assessment"}
    graded = [u for u in site.active_learners(course) if site.grade(course, module, u) is not None]
    assert graded
    for user in graded:
        record = stored[f"grade:{course}:{cmid}:{user}"]
        grade = site.grade(course, module, user)
        assert grade is not None
        assert record["score"] == grade
        assert record["passed"] is (grade >= module.grademax / 2)
    assert moodle.requests[F_QUIZ_BEST_GRADE] == len(graded)


async def test_moodle_5_uses_the_new_quiz_attempts_function(
    monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    spec = SiteSpec(courses=3, learners_per_course=4, release="5.0.2 (Build: 20250811)")
    stand_in = await start_stand_in(spec)
    monkeypatch.setenv(TOKEN_ENV, stand_in.token)
    try:
        connector = build_connector(TENANT, source(stand_in.url, disabled_streams=ONLY_ASSESSMENTS))
        outcome = await run(store, connector)  # type: ignore[arg-type]
        assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
        assert stand_in.requests[F_QUIZ_ATTEMPTS_NEW] > 0
        assert stand_in.requests[F_QUIZ_ATTEMPTS_OLD] == 0
        stand_in.faults.missing_functions.add(F_QUIZ_ATTEMPTS_NEW)
        async with build_connector(TENANT, source(stand_in.url)) as checker:
            report = await checker.check()
        # The deprecated name is still in the service: it is used, nothing to fix.
        assert report.details["quiz_attempts_function"] == F_QUIZ_ATTEMPTS_OLD
        stand_in.faults.missing_functions.add(F_QUIZ_ATTEMPTS_OLD)
        async with build_connector(TENANT, source(stand_in.url)) as checker:
            report = await checker.check()
        # Neither: on 5.x the admin is told to add the new name.
        assert F_QUIZ_ATTEMPTS_NEW in report.details["missing_functions"]["optional"]
        assert F_QUIZ_ATTEMPTS_OLD not in report.details["missing_functions"]["optional"]
    finally:
        await stand_in.close()


async def test_trainer_badges_become_qualifications_and_cpd(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    outcome = await run(store, make_connector())
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    stored = await rows(store)
    trainers = sorted(
        {int(contact["id"]) for c in site.course_ids for contact in site.course(c)["contacts"]}
    )
    badges = {str(r["source_id"]): r for r in stored if ":badge:" in str(r["source_id"])}
    assert len(badges) == sum(len(site.badges(uid)) for uid in trainers)
    profile_refs = {
        r["person_ref"] for r in stored if r["kind"] == "trainer_cv"
    }  # same pseudonymous key as the profile fields' records
    for uid in trainers:
        for index, (name, issuer, issued) in enumerate(site.badges(uid)):
            record = badges[f"trainer:{uid}:badge:{uid * 100 + index}"]
            assert record["title"] == name
            assert record["person_ref"] in profile_refs
            cpd = "continue" in name
            assert record["kind"] == ("trainer_cpd" if cpd else "trainer_qualification")
            day = datetime.fromtimestamp(issued, UTC).date()
            expected = {"year": day.year, "month": day.month, "day": day.day}
            assert record["completed" if cpd else "obtained"] == expected
            assert record["provider" if cpd else "issuer"] == issuer
            assert "badge.php?hash=" in record["document"]["uri"]  # type: ignore[index]
    kinds = Counter(r["kind"] for r in badges.values())
    assert kinds["trainer_cpd"] == kinds["trainer_qualification"] == len(trainers)


async def test_badges_disabled_is_reported_once_and_the_rest_goes_on(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.badges_disabled = True
    outcome = await run(store, make_connector(disabled_streams=ONLY_ASSESSMENTS[:-1]))
    assert outcome.status is RunStatus.PARTIAL
    skipped = [e for e in outcome.errors if e["action"] == "skip"]
    assert [e["code"] for e in skipped] == ["badgesdisabled"]
    assert moodle.requests[F_BADGES] == 1
    kinds = Counter(r["kind"] for r in await rows(store))
    assert kinds["trainer_cv"] > 0


async def test_check_probes_the_badges_capability(
    make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.missing_capabilities.add("moodle/badges:viewotherbadges")
    async with make_connector() as connector:
        report = await connector.check()
    item = next(i for i in report.items if i.code == "capability:moodle/badges:viewotherbadges")
    assert item.status is CheckStatus.WARNING
    assert "badges" in item.message


async def test_a_revoked_badge_is_withdrawn_and_the_rest_kept(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    only_trainers = {"disabled_streams": [*ONLY_ASSESSMENTS[:-1], "assessments"]}
    first = await run(store, make_connector(**only_trainers))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    before = {(r["kind"], r["source_id"]) for r in await rows(store)}
    trainer = int(moodle.site.course(2)["contacts"][0]["id"])
    moodle.site.revoked_badges.add((trainer, 1))
    second = await run(store, make_connector(**only_trainers))
    assert second.status is RunStatus.SUCCEEDED, second.errors
    after = {(r["kind"], r["source_id"]) for r in await rows(store)}
    assert before - after == {("trainer_cpd", f"trainer:{trainer}:badge:{trainer * 100 + 1}")}
    assert after <= before
    assert second.totals.withdrawn == 1

    # Badges switched off on the site: badge records are kept (unknown), nothing withdrawn.
    moodle.faults.badges_disabled = True
    third = await run(store, make_connector(**only_trainers))
    assert third.status is RunStatus.PARTIAL
    assert third.totals.withdrawn == 0
    assert {(r["kind"], r["source_id"]) for r in await rows(store)} == after
