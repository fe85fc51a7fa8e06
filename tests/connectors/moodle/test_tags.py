"""Positioning and final assessments recognised by an activity tag (option ``tag``)."""

from __future__ import annotations

import math

import pytest

from preuve.connectors.base import CheckStatus
from preuve.connectors.moodle.constants import F_TAG_AREAS, F_TAG_INDEX, MENU_TAGS
from preuve.connectors.moodle.tags import module_ids
from preuve.store import RunStatus, Store
from preuve.testing.moodle import MoodleStandIn
from tests.connectors.moodle.conftest import MakeConnector
from tests.connectors.moodle.test_sync import rows, run

ONLY_GRADES = ["trainers", "attendance", "surveys", "completion"]
BY_TAG = {"positioning": {"tag": "Positionnement"}}  # no idnumber, no name: the tag alone


@pytest.fixture(autouse=True)
def french(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages are asserted in French (the default), whatever an earlier test set."""
    monkeypatch.setattr("preuve.i18n._language", "fr")


def test_module_ids_are_read_from_the_feed_links_only() -> None:
    feed = (
        '<ul class="tag_feed media-list"><li class="media"><div class="itemimage">'
        '<img src="https://m.example.org/theme/image.php/boost/quiz/1/monologo" /></div>'
        '<div class="media-body"><div class="media-heading">'
        '<a href="https://m.example.org/mod/quiz/view.php?id=210">Test 211 &amp; co</a>'
        '</div><div class="muted"><a href="https://m.example.org/course/view.php?id=2#s">'
        "Cours 77</a></div></div></li><li><a "
        'href="https://m.example.org/mod/lti/view.php?forceview=1&amp;id=35">LTI</a></li></ul>'
    )
    assert module_ids(feed) == {210, 35}
    assert module_ids("") == set()
    assert module_ids("<ul><li>not a link</li></ul>") == set()


async def test_default_options_read_no_tag(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    outcome = await run(store, make_connector(disabled_streams=ONLY_GRADES))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert moodle.requests[F_TAG_AREAS] == moodle.requests[F_TAG_INDEX] == 0


async def test_a_tagged_activity_is_a_positioning_test(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    assign = next(m for m in site.modules(3) if m.modname == "assign")
    scorm = next(m for m in site.modules(2) if m.modname == "scorm")
    site.tag_module(assign.cmid, "positionnement")
    site.tag_module(scorm.cmid, "POSITIONNEMENT")  # Moodle compares tags case-insensitively
    outcome = await run(store, make_connector(disabled_streams=ONLY_GRADES, **BY_TAG))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    stored = [r for r in await rows(store) if r["kind"] == "assessment"]
    kinds = {str(r["source_id"]): r["assessment_kind"] for r in stored}
    graded = {k: v for k, v in kinds.items() if k.startswith("grade:")}
    tagged = {m.cmid for c in site.course_ids for m in site.modules(c) if site.module_tags(m)}
    for key, kind in graded.items():
        _, _course, cmid, _user = key.split(":")
        if int(cmid) in tagged:
            assert kind == "entry_positioning", key  # the quizzes tagged, and the assignment
        else:
            assert kind in ("formative", "final"), key
    assert any(k.startswith(f"grade:3:{assign.cmid}:") for k in graded)
    scores = {k: v for k, v in kinds.items() if k.startswith("scorm-score:")}
    ours = {k: v for k, v in scores.items() if int(k.split(":")[1]) // 10 == scorm.cmid}
    assert ours
    assert set(ours.values()) == {"entry_positioning"}  # the SCORM tagged
    assert {v for k, v in scores.items() if k not in ours} == {"formative"}  # the other SCORM
    # One index read per sync, shared by the assessments and SCORM streams.
    assert moodle.requests[F_TAG_AREAS] == 1
    assert moodle.requests[F_TAG_INDEX] == 1


async def test_the_tag_index_is_read_page_by_page(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    every = [m for c in site.course_ids for m in site.modules(c)]
    for module in every:
        site.tag_module(module.cmid, "positionnement")
    assert len(every) > 20  # Moodle lists 20 activities per page
    outcome = await run(store, make_connector(disabled_streams=[*ONLY_GRADES, "scorm"], **BY_TAG))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    assert moodle.requests[F_TAG_INDEX] == math.ceil(len(every) / 20)
    kinds = {r["assessment_kind"] for r in await rows(store) if r["kind"] == "assessment"}
    assert kinds == {"entry_positioning"}  # the last page's activities too


async def test_tagging_an_activity_later_is_seen_by_the_next_sync(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    site = moodle.site
    options = {"disabled_streams": [*ONLY_GRADES, "scorm"], **BY_TAG}
    first = await run(store, make_connector(**options))
    assert first.status is RunStatus.SUCCEEDED, first.errors
    final = next(m for m in site.modules(4) if m.idnumber == "EVAL-FINALE")
    site.tag_module(final.cmid, "positionnement")  # saved from the activity's settings
    second = await run(store, make_connector(**options))
    assert second.status is RunStatus.SUCCEEDED, second.errors
    kinds = {
        r["assessment_kind"]
        for r in await rows(store)
        if str(r["source_id"]).startswith(f"grade:4:{final.cmid}:")
    }
    assert kinds == {"entry_positioning"}


async def test_an_unknown_tag_recognises_nothing_and_check_says_so(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    options = {"positioning": {"tag": "pas-de-tel-tag"}}
    outcome = await run(store, make_connector(disabled_streams=ONLY_GRADES, **options))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    kinds = {r["assessment_kind"] for r in await rows(store) if r["kind"] == "assessment"}
    assert "entry_positioning" not in kinds
    async with make_connector(**options) as connector:
        report = await connector.check()
    item = next(i for i in report.items if i.code == "tag_unused")
    assert item.status is CheckStatus.WARNING
    assert "pas-de-tel-tag" in item.message
    async with make_connector(**BY_TAG) as connector:
        report = await connector.check()
    ok = next(i for i in report.items if i.code == "tag")
    count = len(moodle.site.course_ids)  # one positioning quiz per course
    assert ok.message == f"{count} activités portent le tag « positionnement »"


async def test_tags_disabled_fail_with_the_fix(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.tags_disabled = True
    outcome = await run(store, make_connector(disabled_streams=ONLY_GRADES, **BY_TAG))
    assert outcome.status is RunStatus.FAILED
    error = outcome.errors[-1]
    assert error["code"] == "tags_disabled"
    assert "positioning.tag" in error["message"]
    async with make_connector(**BY_TAG) as connector:
        report = await connector.check()
    item = next(i for i in report.items if i.code == "tags_disabled")
    assert item.status is CheckStatus.ERROR
    assert item.hint == MENU_TAGS


async def test_missing_tag_functions_skip_the_streams_that_need_them(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.missing_functions.add(F_TAG_INDEX)
    outcome = await run(store, make_connector(disabled_streams=ONLY_GRADES, **BY_TAG))
    assert outcome.status is RunStatus.PARTIAL
    skipped = [e for e in outcome.errors if e["action"] == "skip"]
    assert {e["stream"] for e in skipped} == {"assessments", "scorm"}
    assert all(F_TAG_INDEX in e["item"] for e in skipped)
    async with make_connector(**BY_TAG) as connector:
        report = await connector.check()
    assert not report.ok
    item = next(i for i in report.items if i.code == "function_missing_for_option")
    assert F_TAG_INDEX in item.message
    assert "positioning.tag" in item.message
    assert report.details["missing_functions"]["options"] == [F_TAG_INDEX]
