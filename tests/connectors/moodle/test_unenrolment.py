"""A learner who leaves a course: what the coverage counts, what is withdrawn, what is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from preuve.mapping.facts import load_facts
from preuve.store import RunStatus, Store
from preuve.store.schema import evidence
from preuve.testing.moodle import MoodleStandIn
from preuve.testing.moodle.generator import GeneratedSite
from tests.connectors.moodle.conftest import TENANT, MakeConnector
from tests.connectors.moodle.test_sync import run
from tests.connectors.moodle.test_withdrawals import live_keys

ALL_BUT_ENROLMENTS = ["courses", "trainers", "attendance", "assessments", "completion", "surveys"]


@pytest.fixture(autouse=True)
def french(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages are asserted in French (the default), whatever an earlier test set."""
    monkeypatch.setattr("preuve.i18n._language", "fr")


def active_learner(site: GeneratedSite, course: int) -> int:
    """A learner whose enrolment in ``course`` is active (so Moodle lists its completion)."""
    return site.active_learners(course)[0]


async def person_of(store: Store, course: int, user: int) -> str:
    async for row in store.evidence.iter_evidence(
        TENANT.id, kind="enrolment", source="moodle", include_withdrawn=True
    ):
        if row.source_id == f"enrol:{course}:{user}":
            assert row.person_ref is not None
            return row.person_ref
    raise AssertionError(f"no enrolment of {user} in course {course}")


async def reasons(store: Store) -> dict[tuple[str, str], str]:
    """(kind, source_id) -> withdrawal reason, for the withdrawn rows of the source."""
    query = select(evidence.c.kind, evidence.c.source_id, evidence.c.withdrawn_reason).where(
        evidence.c.tenant == TENANT.id,
        evidence.c.source == "moodle",
        evidence.c.withdrawn.is_(True),
    )
    async with store.engine.connect() as conn:
        return {(k, s): str(r) for k, s, r in (await conn.execute(query)).all()}


async def test_coverage_ignores_the_records_of_a_learner_without_enrolment(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    """The mapping keys learner facts on enrolments: a completion (or grade) of someone
    no longer enrolled counts for nobody, even while it is still live evidence."""
    site = moodle.site
    first = await run(store, make_connector())
    assert first.status is RunStatus.SUCCEEDED, first.errors
    course = site.course_ids[0]
    learner = active_learner(site, course)
    person = await person_of(store, course, learner)
    completion = ("completion", f"completion:{course}:{learner}")
    assert completion in await live_keys(store)

    site.unenrol(course, learner)
    site.touch_course(course)
    # Only the enrolments are read again: the completion and grades read earlier stay live.
    second = await run(store, make_connector(disabled_streams=ALL_BUT_ENROLMENTS))
    assert second.status is RunStatus.SUCCEEDED, second.errors
    live = await live_keys(store)
    assert ("enrolment", f"enrol:{course}:{learner}") not in live
    assert completion in live
    assert any(k[0] == "assessment" and k[1].endswith(f":{learner}") for k in live)

    facts = await load_facts(store.engine, TENANT.id, datetime.now(UTC).date())
    action = facts.actions[f"moodle:course:{course}"]
    people = {x.person_ref for x in action.learners}
    assert person not in people
    assert len(people) == len(site.learners(course))
    # The learner still counts on the other courses they are enrolled on.
    elsewhere = [c for c in site.course_ids if learner in site.learners(c)]
    for other in elsewhere:
        assert person in {x.person_ref for x in facts.actions[f"moodle:course:{other}"].learners}


def learner_keys(keys: set[tuple[str, str]], course: int, user: int) -> set[tuple[str, str]]:
    """The per-learner records of ``user`` in ``course`` (not their Person, not surveys).

    Stand-in ids: an activity is ``course * 100 + k``, an attendance session
    ``cmid * 100 + k`` and a SCO ``cmid * 10 + k``.
    """
    found = set()
    for kind, source_id in keys:
        parts = source_id.split(":")
        if parts[-1] != str(user) and not (kind == "attendance" and parts[2] == str(user)):
            continue
        prefix, first = parts[0], int(parts[1])
        if (
            (prefix in ("enrol", "completion", "grade") and first == course)
            or (prefix == "att" and first // 10000 == course)
            or (prefix.startswith("scorm") and first // 1000 == course)
        ):
            found.add((kind, source_id))
    return found


async def test_a_learner_who_leaves_loses_their_records_and_a_suspended_one_keeps_them(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    first = await run(store, make_connector())
    assert first.status is RunStatus.SUCCEEDED, first.errors
    course = site.course_ids[0]
    leaver, paused = site.active_learners(course)[:2]
    before = await live_keys(store)
    left = learner_keys(before, course, leaver)
    kept = learner_keys(before, course, paused)
    for records in (left, kept):
        kinds = {k for k, _ in records}
        assert {"enrolment", "completion", "assessment", "attendance"} <= kinds, kinds

    site.unenrol(course, leaver)
    site.suspend(course, paused)  # or the enrolment's end date passed
    site.touch_course(course)
    second = await run(store, make_connector())
    assert second.status is RunStatus.SUCCEEDED, second.errors
    after = await live_keys(store)
    gone = before - after
    # Everything the leaver had in the course is withdrawn, nothing else.
    assert gone == left
    assert second.totals.withdrawn == len(left)
    why = await reasons(store)
    assert {why[k] for k in left} == {
        f"la personne n'est plus inscrite au cours {course} dans Moodle (historique conservé)"
    }
    # The suspended learner is still enrolled: the grade report and their course list
    # (active enrolments only) leave them out, yet nothing of theirs is withdrawn.
    assert kept <= after
    enrolment = {
        r.source_id: r.payload
        async for r in store.evidence.iter_evidence(TENANT.id, kind="enrolment", source="moodle")
    }
    assert enrolment[f"enrol:{course}:{paused}"]["status"] == "suspended"
    # History: the withdrawn rows are still there, flagged.
    history = {
        (r.kind, r.source_id)
        async for r in store.evidence.iter_evidence(
            TENANT.id, source="moodle", include_withdrawn=True
        )
        if r.withdrawn
    }
    assert history == left

    # Nothing changes: nothing more is withdrawn.
    site.touch_course(course)
    third = await run(store, make_connector())
    assert third.status is RunStatus.SUCCEEDED, third.errors
    assert third.totals.withdrawn == 0
    assert await live_keys(store) == after

    # Removed by mistake and enrolled again: the records come back.
    site.enrol(course, leaver)
    site.touch_course(course)
    fourth = await run(store, make_connector())
    assert fourth.status is RunStatus.SUCCEEDED, fourth.errors
    assert left <= await live_keys(store)

    # The suspended learner then leaves: what was kept while hidden is withdrawn now.
    site.unenrol(course, paused)
    site.touch_course(course)
    fifth = await run(store, make_connector())
    assert fifth.status is RunStatus.SUCCEEDED, fifth.errors
    assert not kept & await live_keys(store)


async def test_completion_tracking_switched_off_keeps_the_completions(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    only = {"disabled_streams": ["trainers", "attendance", "surveys", "scorm"]}
    first = await run(store, make_connector(activity_completion=True, **only))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    course = site.course_ids[1]
    completions = {k for k in await live_keys(store) if k[1].startswith(f"completion:{course}:")}
    assert any(":cm" in k[1] for k in completions)  # activity completions too
    leaver = site.active_learners(course)[0]
    site.disable_completion(course)
    site.unenrol(course, leaver)
    second = await run(store, make_connector(activity_completion=True, **only))
    assert second.status is RunStatus.SUCCEEDED, second.errors
    live = await live_keys(store)
    stayed = {k for k in completions if not k[1].endswith(f":{leaver}")}
    assert stayed <= live  # Moodle keeps the data: so does Preuve
    assert not {k for k in completions if k[1].endswith(f":{leaver}")} & live


async def test_a_failed_read_withdraws_nothing_and_keeps_the_cursor(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    only = {"disabled_streams": [*ALL_BUT_ENROLMENTS[:4], "surveys", "enrolments"]}
    assert "completion" not in only["disabled_streams"]
    first = await run(store, make_connector(**only))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    cursors = await store.evidence.cursors(TENANT.id, "moodle")
    course = site.course_ids[0]
    leaver = site.active_learners(course)[0]
    key = ("completion", f"completion:{course}:{leaver}")
    assert key in await live_keys(store)
    site.unenrol(course, leaver)
    site.touch_course(course)
    moodle.faults.revoke_after = 3  # the token is revoked while the course is read
    failed = await run(store, make_connector(**only))
    assert failed.status is RunStatus.FAILED
    assert key in await live_keys(store)
    assert await store.evidence.cursors(TENANT.id, "moodle") == cursors

    moodle.revoked = False
    moodle.faults.revoke_after = None
    done = await run(store, make_connector(**only))
    assert done.status is RunStatus.SUCCEEDED, done.errors
    assert key not in await live_keys(store)


async def test_a_completion_in_a_course_not_read_again_is_still_refreshed(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    """A course completion reached without a module update is seen when another course
    of the learner is read (one call gives all their courses)."""
    site = moodle.site
    only = {"disabled_streams": ["trainers", "attendance", "surveys", "scorm", "assessments"]}
    first = await run(store, make_connector(**only))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    learner, courses = next(
        (u, [c for c in site.course_ids if u in site.active_learners(c)])
        for u in site.active_learners(site.course_ids[0])
        if sum(u in site.active_learners(c) for c in site.course_ids) >= 2
    )
    read, other = courses[0], courses[1]
    done = not site.completed(other, learner)[0]
    site.set_completed(other, learner, done)
    site.touch_course(read)  # only this course is read again
    second = await run(store, make_connector(**only))
    assert second.status is RunStatus.SUCCEEDED, second.errors
    state = {
        r.source_id: r.payload["state"]
        async for r in store.evidence.iter_evidence(TENANT.id, kind="completion", source="moodle")
    }
    assert state[f"completion:{other}:{learner}"] == ("completed" if done else "incomplete")
    assert second.totals.withdrawn == 0
