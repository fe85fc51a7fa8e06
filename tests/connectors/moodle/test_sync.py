"""Full syncs of generated sites into the real store, re-syncs, faults and check()."""

from __future__ import annotations

import time
from collections import Counter

import orjson
import pytest

from preuve.connectors.base import CheckStatus
from preuve.connectors.moodle import MoodleConnector
from preuve.connectors.moodle.constants import MENU_FUNCTIONS
from preuve.connectors.moodle.cursor import CursorState
from preuve.connectors.registry import build_connector
from preuve.store import RunStatus, Store
from preuve.sync.runner import SyncOutcome, sync_connector
from preuve.testing.moodle import MoodleStandIn, SiteSpec, start_stand_in
from tests.connectors.moodle.conftest import SMALL_SITE, TENANT, TOKEN_ENV, MakeConnector, source


async def run(store: Store, connector: MoodleConnector) -> SyncOutcome:
    async with connector:
        return await sync_connector(store, connector)


async def rows(store: Store) -> list[dict[str, object]]:
    return [
        {"kind": row.kind, "source_id": row.source_id, **row.payload}
        async for row in store.evidence.iter_evidence(TENANT.id, source="moodle")
    ]


async def test_full_sync_of_a_generated_site(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    outcome = await run(store, make_connector())
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    site = moodle.site
    spec = site.spec
    stored = await rows(store)
    kinds = Counter(r["kind"] for r in stored)
    assert kinds["training_action"] == spec.courses
    assert kinds["course_description"] == spec.courses
    assert kinds["enrolment"] == spec.courses * (spec.learners_per_course + 2)
    taken = sum(
        1
        for c in site.course_ids
        for start, duration in site.session_times(c)
        if start + duration <= spec.now
    )
    assert kinds["attendance"] == taken * spec.learners_per_course
    assert kinds["slot"] == taken
    graded = sum(
        1
        for c in site.course_ids
        for m in site.modules(c)
        if m.grademax
        for u in site.active_learners(c)
        if site.grade(c, m, u) is not None
    )
    assert kinds["assessment"] - kinds_of(stored, "assessment", "scorm-score") == graded
    assert kinds["satisfaction_survey"] == sum(
        1 for c in site.course_ids for m in site.modules(c) if m.modname == "feedback"
    )
    assert kinds["trainer_cv"] >= 1
    assert kinds["trainer_cpd"] >= 1

    actions = {r["action_ref"] for r in stored if r["kind"] == "training_action"}
    assert actions == {f"moodle:course:{c}" for c in site.course_ids}
    assert all(r.get("action_ref") in actions for r in stored if "action_ref" in r)
    statuses = Counter(r["status"] for r in stored if r["kind"] == "enrolment")
    expected_suspended = sum(
        1 for c in site.course_ids for u in site.learners(c) if site.suspended(c, u)
    )
    assert statuses["suspended"] == expected_suspended
    roles = Counter(r["role"] for r in stored if r["kind"] == "enrolment")
    assert roles["trainer"] == roles["non_editing_trainer"] == spec.courses
    positioning = [r for r in stored if r.get("assessment_kind") == "entry_positioning"]
    assert positioning
    assert all("positionnement" in str(r["title"]) for r in positioning)
    assert any(r.get("assessment_kind") == "final" for r in stored)
    for response in (r for r in stored if r["kind"] == "satisfaction_response"):
        assert 0 <= float(response["rating"]) <= 1  # type: ignore[arg-type]
    anonymous = {r["survey_ref"] for r in stored if r.get("anonymous")}
    assert anonymous
    assert all(
        "respondent_ref" not in r
        for r in stored
        if r["kind"] == "satisfaction_response" and r["survey_ref"] in anonymous
    )
    action = next(
        r for r in stored if r["kind"] == "training_action" and r["source_id"] == "course:3"
    )
    assert action["certification_code"] == "RNCP35001"
    assert action["modality"] == "distance"


def kinds_of(stored: list[dict[str, object]], kind: str, prefix: str) -> int:
    return sum(1 for r in stored if r["kind"] == kind and str(r["source_id"]).startswith(prefix))


async def test_no_personal_data_beyond_trainer_names(
    store: Store, make_connector: MakeConnector
) -> None:
    outcome = await run(store, make_connector())
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    stored = await rows(store)
    dump = orjson.dumps(stored).decode()
    assert "@example.com" not in dump
    people = [r for r in stored if r["kind"] == "person"]
    assert all(("display_name" in r) == ("learner" not in r["roles"]) for r in people)  # type: ignore[operator]


async def test_resync_is_idempotent_and_cheap(
    monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    # Course dates spread over a year, like a real catalogue: few courses run at once.
    stand_in = await start_stand_in(SiteSpec(courses=30, learners_per_course=12, spread_days=365))
    monkeypatch.setenv(TOKEN_ENV, stand_in.token)
    try:
        make = lambda: build_connector(TENANT, source(stand_in.url))  # noqa: E731
        first = await run(store, make())  # type: ignore[arg-type]
        assert first.status is RunStatus.SUCCEEDED, first.errors
        first_requests = stand_in.total_requests
        before = await rows(store)
        stand_in.reset_counts()
        second = await run(store, make())  # type: ignore[arg-type]
        assert second.status is RunStatus.SUCCEEDED, second.errors
        assert second.totals.inserted == second.totals.updated == 0
        assert await rows(store) == before
        assert stand_in.total_requests <= 0.10 * first_requests, (
            stand_in.total_requests,
            first_requests,
            dict(stand_in.requests),
        )
        # A change in a running course is seen by the cheap re-sync.
        learner = stand_in.site.active_learners(2)[0]
        cmid = next(m.cmid for m in stand_in.site.modules(2) if m.modname == "assign")
        stand_in.site.set_grade(2, cmid, learner, 99.0)
        third = await run(store, make())  # type: ignore[arg-type]
        assert third.status is RunStatus.SUCCEEDED, third.errors
        changed = [
            r
            for r in await rows(store)
            if r["kind"] == "assessment" and r["source_id"] == f"grade:2:{cmid}:{learner}"
        ]
        assert changed
        assert changed[0]["score"] == 99.0
        assert third.totals.updated >= 1
    finally:
        await stand_in.close()


async def test_5xx_storm_429_timeout_and_html_page_recover(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn, tmp_path: object
) -> None:
    faults = moodle.faults
    faults.error_5xx = 6
    faults.too_many = 2
    faults.retry_after = 0
    faults.html_pages = 1
    faults.timeouts = 1
    faults.hang = 1.5
    outcome = await run(store, make_connector(retry_attempts=12, request_timeout=0.5))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert faults.error_5xx == faults.too_many == faults.timeouts == faults.html_pages == 0
    kinds = Counter(r["kind"] for r in await rows(store))
    assert kinds["training_action"] == SMALL_SITE.courses
    assert kinds["enrolment"] == SMALL_SITE.courses * (SMALL_SITE.learners_per_course + 2)


async def test_revoked_token_stops_the_sync_without_advancing_cursors(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.revoke_after = 3  # revoked while the first stream is being read
    failed = await run(store, make_connector())
    assert failed.status is RunStatus.FAILED
    error = failed.errors[-1]
    assert error["code"] == "invalid_token"
    assert "jeton" in error["message"]
    assert await store.evidence.cursors(TENANT.id, "moodle") == {}

    moodle.revoked = False
    moodle.faults.revoke_after = None
    done = await run(store, make_connector())
    assert done.status is RunStatus.SUCCEEDED, done.errors
    cursors = await store.evidence.cursors(TENANT.id, "moodle")
    moodle.faults.revoke_after = 4
    again = await run(store, make_connector())
    assert again.status is RunStatus.FAILED
    assert again.errors[-1]["code"] == "invalid_token"
    assert await store.evidence.cursors(TENANT.id, "moodle") == cursors


async def test_inaccessible_course_is_skipped_reported_and_retried(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.inaccessible_courses.add(3)
    partial = await run(store, make_connector())
    assert partial.status is RunStatus.PARTIAL
    skipped = [e for e in partial.errors if e["action"] == "skip"]
    assert skipped
    assert all(e["item"] == "cours 3" for e in skipped)
    cursor = await store.evidence.get_cursor(TENANT.id, "moodle", "courses")
    assert 3 in CursorState.parse(cursor).retry
    actions = {r["source_id"] for r in await rows(store) if r["kind"] == "training_action"}
    assert "course:3" not in actions
    assert len(actions) == SMALL_SITE.courses - 1

    moodle.faults.inaccessible_courses.clear()
    fixed = await run(store, make_connector())
    assert fixed.status is RunStatus.SUCCEEDED, fixed.errors
    actions = {r["source_id"] for r in await rows(store) if r["kind"] == "training_action"}
    assert "course:3" in actions
    cursor = await store.evidence.get_cursor(TENANT.id, "moodle", "courses")
    assert CursorState.parse(cursor).retry == ()


async def test_bad_options_are_named(store: Store, make_connector: MakeConnector) -> None:
    connector = make_connector(concurrency=0, bogus=1, positioning={"name": "("})
    outcome = await run(store, connector)
    assert outcome.status is RunStatus.FAILED
    message = outcome.errors[-1]["message"]
    assert outcome.errors[-1]["code"] == "invalid_options"
    for key in ("options.concurrency", "options.bogus", "options.positioning.name"):
        assert key in message
    async with make_connector(concurrency=0) as broken:
        report = await broken.check()
    assert not report.ok
    assert "options.concurrency" in report.items[0].message


async def test_check_lists_missing_functions_capabilities_and_admin_token(
    make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.missing_functions |= {"core_course_get_contents", "mod_attendance_get_sessions"}
    moodle.faults.missing_capabilities.add("moodle/grade:viewall")
    moodle.faults.site_admin = True
    async with make_connector() as connector:
        report = await connector.check()
    assert not report.ok
    by_code = {}
    for item in report.items:
        by_code.setdefault(item.code, []).append(item)
    required = by_code["function_missing"]
    assert [i.status for i in required] == [CheckStatus.ERROR]
    assert "core_course_get_contents" in required[0].message
    assert required[0].hint == MENU_FUNCTIONS
    assert "Administration du site > Serveur > Services web > Services externes" in MENU_FUNCTIONS
    optional = by_code["optional_function_missing"]
    assert any("mod_attendance_get_sessions" in i.message for i in optional)
    assert all(i.status is CheckStatus.WARNING for i in optional)
    assert by_code["site_admin_token"][0].status is CheckStatus.WARNING
    assert report.details["release"].startswith("4.5.6")
    assert report.details["plugins"]["feedback"] == "2024100706"
    assert "attendance" not in report.details["plugins"]  # its functions are not in the service
    assert report.details["missing_functions"]["required"] == ["core_course_get_contents"]

    # With the required function back, the probes find the missing capability.
    moodle.faults.missing_functions.discard("core_course_get_contents")
    async with make_connector() as connector:
        report = await connector.check()
    assert report.ok  # only warnings remain
    assert report.details["missing_capabilities"] == ["moodle/grade:viewall"]
    assert any(i.code == "capability:moodle/grade:viewall" for i in report.items)


async def test_missing_optional_function_skips_its_stream_only(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.missing_functions.add("mod_attendance_get_sessions")
    outcome = await run(store, make_connector())
    assert outcome.status is RunStatus.PARTIAL
    skipped = [e for e in outcome.errors if e["action"] == "skip"]
    assert [e["stream"] for e in skipped] == ["attendance"]
    assert skipped[0]["code"] == "function_not_in_service"
    kinds = Counter(r["kind"] for r in await rows(store))
    assert kinds["attendance"] == 0
    assert kinds["enrolment"] > 0


async def test_missing_capability_fails_with_a_clear_message(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.missing_capabilities.add("moodle/grade:viewall")
    moodle.faults.debug = True
    outcome = await run(store, make_connector())
    assert outcome.status is RunStatus.FAILED
    error = outcome.errors[-1]
    assert error["code"] == "missing_capability"
    assert "moodle/grade:viewall" in error["message"]
    assert "gradereport_user_get_grade_items" in error["message"]
    cursors = await store.evidence.cursors(TENANT.id, "moodle")
    assert "assessments" not in cursors
    assert "courses" in cursors


async def test_check_warns_about_an_unsupported_moodle_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stand_in = await start_stand_in(SiteSpec(courses=2, release="3.9.2", version="2020061502"))
    monkeypatch.setenv(TOKEN_ENV, stand_in.token)
    try:
        async with build_connector(TENANT, source(stand_in.url)) as connector:
            report = await connector.check()
    finally:
        await stand_in.close()
    warning = next(i for i in report.items if i.code == "old_version")
    assert warning.status is CheckStatus.WARNING
    assert "3.9.2" in warning.message


async def test_429_retry_after_is_honoured(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.too_many = 1
    moodle.faults.retry_after = 1
    started = time.perf_counter()
    outcome = await run(store, make_connector(disabled_streams=["attendance", "scorm"]))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert moodle.faults.too_many == 0
    assert time.perf_counter() - started >= 1.0  # waited as told, not our 10 ms backoff
