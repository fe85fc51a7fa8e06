"""SCORM tracks of both standards, normalised by the SCORM subsystem, into the store."""

from __future__ import annotations

from preuve.connectors.moodle.stream_scorm import sco_thresholds
from preuve.store import RunStatus, Store
from preuve.testing.moodle import MoodleStandIn
from preuve.testing.moodle.handlers import SCORM_MASTERY, SCORM_PASSING, SCORM_THRESHOLD
from tests.connectors.moodle.conftest import MakeConnector
from tests.connectors.moodle.test_sync import rows, run


async def test_scorm_12_and_2004_tracks_become_evidence(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    outcome = await run(store, make_connector(disabled_streams=["attendance", "surveys"]))
    assert outcome.status is RunStatus.SUCCEEDED, outcome.errors
    stored = {(r["kind"], r["source_id"]): r for r in await rows(store)}
    site = moodle.site
    versions = set()
    checked = 0
    for course_id in site.course_ids:
        for module in (m for m in site.modules(course_id) if m.modname == "scorm"):
            version = site.scorm_version(course_id)
            versions.add(version)
            sco_id = module.instance * 10 + 2
            for user_id in site.learners(course_id):
                result = site.scorm_result(course_id, sco_id, user_id)
                key = f"{sco_id}:{user_id}"
                if result is None:
                    assert ("assessment", f"scorm-score:{key}") not in stored
                    continue
                checked += 1
                score = stored["assessment", f"scorm-score:{key}"]
                trace = stored["activity", f"scorm:{key}"]
                done = stored["completion", f"scorm-completion:{key}"]
                assert score["score"] == result.score
                assert score["max_score"] == 100.0
                assert trace["duration_seconds"] == result.minutes * 60
                if version == "SCORM_1.2":
                    assert score["passed"] is (result.score >= SCORM_MASTERY)
                    assert done["state"] == "completed"
                    assert "progress" not in trace
                else:
                    # 2004: success and completion follow the manifest's thresholds.
                    assert score["passed"] is (result.score / 100 >= SCORM_PASSING)
                    expected = "completed" if result.progress >= SCORM_THRESHOLD else "incomplete"
                    assert done["state"] == expected
                    assert trace["progress"] == result.progress
    assert versions == {"SCORM_1.2", "SCORM_1.3"}
    assert checked > 5


def test_sco_thresholds_come_from_the_manifest_extradata() -> None:
    sco = {
        "extradata": [
            {"element": "isvisible", "value": "true"},
            {"element": "completionThreshold", "value": "0.75"},
            {"element": "minnormalizedmeasure", "value": "0.6"},
        ]
    }
    assert sco_thresholds(sco) == (0.75, 0.6)
    assert sco_thresholds({"extradata": []}) == (None, None)


async def test_unreadable_scorm_value_is_reported_and_the_rest_kept(
    store: Store, make_connector: MakeConnector, moodle: MoodleStandIn
) -> None:
    moodle.faults.scorm_bad_time = True
    streams = ["attendance", "surveys", "assessments", "completion", "trainers"]
    outcome = await run(store, make_connector(disabled_streams=streams))
    assert outcome.status is RunStatus.PARTIAL
    bad = [e for e in outcome.errors if e["code"] == "invalid_value"]
    assert bad
    assert all("cmi.core.total_time" in e["reason"] for e in bad)
    assert all(e["reason"].startswith("valeur SCORM illisible") for e in bad)
    stored = [r for r in await rows(store) if str(r["source_id"]).startswith("scorm")]
    scores = [r for r in stored if r["kind"] == "assessment"]
    traces = [r for r in stored if r["kind"] == "activity"]
    assert len(scores) == len(traces) >= len(bad)  # 1.2 SCOs lost only their time
    assert sum("duration_seconds" not in r for r in traces) == len(bad)
