"""Deletions in Moodle withdraw evidence (history kept) with incremental cursors."""

from __future__ import annotations

import re

import orjson

from preuve.connectors.moodle.cursor import CursorState, Seen
from preuve.store import RunStatus, Store
from preuve.testing.moodle import MoodleStandIn
from tests.connectors.moodle.conftest import TENANT, MakeConnector
from tests.connectors.moodle.test_sync import run


async def live_keys(store: Store) -> set[tuple[str, str]]:
    return {
        (row.kind, row.source_id)
        async for row in store.evidence.iter_evidence(TENANT.id, source="moodle")
    }


async def test_unenrolled_learner_and_deleted_activity_are_withdrawn(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    first = await run(store, make_connector())
    assert first.status is RunStatus.SUCCEEDED, first.errors
    before = await live_keys(store)

    course = site.course_ids[0]
    learner = site.active_learners(course)[0]
    quiz = next(m for m in site.modules(course) if m.modname == "assign")
    graded = {u for u in site.active_learners(course) if site.grade(course, quiz, u) is not None}
    assert ("enrolment", f"enrol:{course}:{learner}") in before
    assert ("learning_resource", f"cm:{quiz.cmid}") in before
    assert {("assessment", f"grade:{course}:{quiz.cmid}:{u}") for u in graded} <= before
    site.unenrol(course, learner)
    site.delete_module(quiz.cmid)
    site.touch_course(course)  # an incremental pass reads the course again

    second = await run(store, make_connector())
    assert second.status is RunStatus.SUCCEEDED, second.errors
    after = await live_keys(store)
    gone = before - after
    expected = {
        ("enrolment", f"enrol:{course}:{learner}"),
        ("learning_resource", f"cm:{quiz.cmid}"),
        *(("assessment", f"grade:{course}:{quiz.cmid}:{u}") for u in graded),
    }
    # The learner's other grades, course completion and attendance go too (mod_attendance
    # still returns their statuses: a person no longer enrolled is left out).
    assert expected <= gone
    assert ("completion", f"completion:{course}:{learner}") in gone
    assert any(k[0] == "attendance" and f":{learner}:" in k[1] for k in gone)
    # Their survey answers stay (Moodle keeps them; they count for the action, not the person).
    others = [k for k in gone if str(learner) not in k[1] and str(quiz.cmid) not in k[1]]
    assert not others
    assert second.totals.withdrawn == len(gone)
    assert second.totals.inserted == 0

    # History is kept: the withdrawn row is still there, flagged.
    withdrawn = [
        row
        async for row in store.evidence.iter_evidence(
            TENANT.id, source="moodle", include_withdrawn=True
        )
        if row.withdrawn
    ]
    assert {(r.kind, r.source_id) for r in withdrawn} == gone
    # Nothing in other courses was touched.
    assert {r.action_ref for r in withdrawn} == {f"moodle:course:{course}"}

    # A re-sync with no change withdraws nothing more.
    third = await run(store, make_connector())
    assert third.status is RunStatus.SUCCEEDED, third.errors
    assert third.totals.withdrawn == 0
    assert await live_keys(store) == after


async def test_deleted_course_withdraws_its_evidence(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    first = await run(store, make_connector(disabled_streams=["trainers"]))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    course = site.course_ids[-1]
    before = await live_keys(store)
    site.delete_course(course)
    second = await run(store, make_connector(disabled_streams=["trainers"]))
    assert second.status is RunStatus.SUCCEEDED, second.errors
    gone = before - await live_keys(store)
    assert ("training_action", f"course:{course}") in gone
    assert ("course_description", f"course:{course}") in gone
    enrolments = {k for k in before if k[0] == "enrolment" and k[1].startswith(f"enrol:{course}:")}
    assert enrolments
    assert enrolments <= gone
    cursor = await store.evidence.get_cursor(TENANT.id, "moodle", "enrolments")
    assert course not in CursorState.parse(cursor).seen


async def test_a_partial_read_withdraws_nothing(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    first = await run(store, make_connector())
    assert first.status is RunStatus.SUCCEEDED, first.errors
    before = await live_keys(store)
    course = moodle.site.course_ids[0]
    moodle.faults.inaccessible_courses.add(course)
    moodle.site.touch_course(course)
    second = await run(store, make_connector())
    assert second.status is RunStatus.PARTIAL
    assert second.totals.withdrawn == 0
    assert await live_keys(store) == before


def test_cursor_round_trips_seen_and_survives_garbage() -> None:
    state = CursorState(since=5, seen={3: Seen(frozenset({"a", "b"}), frozenset({7, 9}))})
    again = CursorState.parse(state.dump())
    assert again.seen == state.seen
    assert orjson.loads(state.dump())["seen"] == {"3": [["a", "b"], [7, 9]]}
    assert CursorState.parse('{"since": 1, "seen": {"3": [[]]}}').seen == {}
    assert CursorState.parse('{"since": 1, "seen": {"x": [[], []]}}') == CursorState()


async def test_a_moodle_warning_is_reported_and_withdraws_nothing(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    streams = {"disabled_streams": ["attendance", "scorm", "completion", "trainers"]}
    first = await run(store, make_connector(**streams))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    before = await live_keys(store)
    course = moodle.site.course_ids[0]
    assert ("satisfaction_survey", f"feedback:{course * 100 + 50}") in before
    moodle.faults.warning_courses.add(course)
    moodle.site.touch_course(course)
    second = await run(store, make_connector(**streams))
    assert second.status is RunStatus.PARTIAL
    warned = [e for e in second.errors if e["code"] == "moodle_warning"]
    assert [(e["stream"], e["item"]) for e in warned] == [("surveys", f"cours {course}")]
    assert warned[0]["reason"].startswith("Moodle signale une partie illisible (1)")
    assert second.totals.withdrawn == 0
    assert await live_keys(store) == before


async def test_a_value_that_became_invalid_is_reported_and_withdrawn(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    streams = {"disabled_streams": ["attendance", "scorm", "completion", "trainers", "surveys"]}
    first = await run(store, make_connector(**streams))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    before = await live_keys(store)
    course = moodle.site.course_ids[1]
    moodle.faults.bad_grade_courses.add(course)  # one grade item now above its maximum
    moodle.site.touch_course(course)
    second = await run(store, make_connector(**streams))
    assert second.status is RunStatus.PARTIAL
    invalid = [e for e in second.errors if e["code"] == "invalid_record"]
    gone = before - await live_keys(store)
    # Exactly the records now invalid ("cours 3, note 311, apprenant 1005"): the rest
    # of the course was read completely and is kept.
    named = {tuple(re.findall(r"\d+", e["item"])) for e in invalid}
    assert named
    assert gone == {("assessment", f"grade:{c}:{i}:{u}") for c, i, u in named}
