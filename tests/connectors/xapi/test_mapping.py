"""Statements -> evidence: verbs, profiles, scores, actors, action refs (no I/O)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from preuve.config.settings import SourceConfig
from preuve.connectors.errors import PermanentError
from preuve.connectors.registry import build_connector
from preuve.connectors.xapi import XapiConnector
from preuve.connectors.xapi.client import resolve_more
from preuve.connectors.xapi.constants import STATEMENT_KINDS
from preuve.connectors.xapi.mapping import Mapped, compute_score
from preuve.evidence.identity import Pseudonymiser
from tests.connectors.xapi.conftest import TENANT
from tests.connectors.xapi.statements import ADL, COURSE, HOME, agent, attended, quiz, voiding

PSEUDO = Pseudonymiser(TENANT.pseudonym_secret())
AU = "https://contenus.example/sst/au/module-1"
CMI5_COURSE = "https://contenus.example/sst"
W3ID = "https://w3id.org/xapi/adl/verbs/"


def _connector(**options: Any) -> XapiConnector:
    source = SourceConfig(id="lrs", kind="xapi", url="http://lrs.invalid/xapi/", options=options)
    connector = build_connector(TENANT, source)
    assert isinstance(connector, XapiConnector)
    return connector


def _map(statement: dict[str, Any], **options: Any) -> Mapped:
    statement.setdefault("id", "6f0c8a1e-2d3b-4c5d-8e9f-0a1b2c3d4e5f")
    return _connector(**options).mapper().map(statement)


def _data(statement: dict[str, Any], **options: Any) -> dict[str, Any]:
    mapped = _map(statement, **options)
    assert mapped.record is not None, mapped.skipped
    return mapped.record.payload


def cmi5(verb: str, result: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "actor": {"account": {"homePage": "https://lms.of-test.example", "name": "1042"}},
        "verb": {"id": verb},
        "object": {"id": AU, "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"}},
        "context": {
            "registration": "cffff7b3-2307-4360-a031-95e92cb5dd7b",
            "contextActivities": {
                "grouping": [{"id": CMI5_COURSE}, {"id": AU}],
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}],
            },
        },
        "timestamp": "2026-11-29T20:44:49.402Z",
        **extra,
    }
    if result is not None:
        statement["result"] = result
    return statement


def test_cmi5_session() -> None:
    launched = _data(cmi5(ADL + "launched"))
    assert (launched["kind"], launched["verb"]) == ("activity", ADL + "launched")
    assert launched["action_ref"] == f"xapi:{CMI5_COURSE}"  # the first grouping activity

    terminated = _data(cmi5(ADL + "terminated", {"duration": "PT31M56S"}))
    assert terminated["duration_seconds"] == 31 * 60 + 56
    abandoned = _data(cmi5(W3ID + "abandoned", {"duration": "PT1H0.5S"}))
    assert (abandoned["kind"], abandoned["duration_seconds"]) == ("activity", 3600.5)
    progressed = _data(
        cmi5(
            ADL + "progressed",
            {"extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": 50}},
        )
    )
    assert progressed["progress"] == 0.5

    passed = _data(
        cmi5(
            ADL + "passed",
            {"score": {"raw": 17, "min": 0, "max": 20, "scaled": 0.85}, "success": True},
        )
    )
    assert passed["kind"] == "assessment"
    assert (passed["score"], passed["max_score"], passed["passed"]) == (17.0, 20.0, True)
    failed = _data(cmi5(ADL + "failed", {"score": {"scaled": 0.4}}))
    assert (failed["score"], failed["max_score"], failed["passed"]) == (0.4, 1.0, False)

    completed = _data(cmi5(ADL + "completed", {"completion": True, "duration": "PT20M"}))
    assert (completed["kind"], completed["state"], completed["activity_ref"]) == (
        "completion",
        "completed",
        AU,
    )
    waived = _data(cmi5(W3ID + "waived", {"success": True, "completion": True}))
    assert waived["kind"] == "completion"

    satisfied = cmi5(W3ID + "satisfied")
    satisfied["object"] = {
        "id": CMI5_COURSE,
        "definition": {"type": "https://w3id.org/xapi/cmi5/activitytype/course"},
    }
    whole = _data(satisfied)
    assert (whole["kind"], whole.get("activity_ref")) == ("completion", None)
    assert whole["action_ref"] == f"xapi:{CMI5_COURSE}"


def test_attendance_half_day_in_paris_time() -> None:
    afternoon = _data(attended(1, when="2026-10-05T14:30:00+02:00"))
    assert afternoon["kind"] == "attendance"
    assert (afternoon["day"], afternoon["half"], afternoon["status"]) == (
        "2026-10-05",
        "pm",
        "present",
    )
    assert afternoon["method"] == "trainer"  # context.instructor is set
    assert afternoon["action_ref"] == f"xapi:{COURSE}"
    morning = attended(1, when="2026-10-05T07:00:00Z")  # 09:00 in Paris
    morning["result"]["completion"] = False
    data = _data(morning)
    assert (data["half"], data["status"]) == ("am", "absent")


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ({"raw": 50, "min": 0, "max": 100, "scaled": 0.0}, (50.0, 100.0)),  # scaled inconsistent
        ({"raw": 15, "min": 10, "max": 20}, (5.0, 10.0)),  # scaled missing, min offsets
        ({"raw": 7, "max": 10}, (7.0, 10.0)),
        ({"scaled": 0.75}, (0.75, 1.0)),
        ({"raw": 12}, (12.0, None)),
        ({}, (None, None)),
        (None, (None, None)),
    ],
)
def test_compute_score(score: Any, expected: tuple[float | None, float | None]) -> None:
    assert compute_score(score) == expected


def test_quiz_attempt_is_an_assessment_of_the_quiz() -> None:
    data = _data(quiz(1, raw=15, scaled=0.0))
    assert data["kind"] == "assessment"
    assert (data["score"], data["max_score"], data["passed"]) == (15.0, 20.0, True)
    assert data["activity_ref"] == f"{HOME}/mod/quiz/view.php?id=8"
    assert data["assessment_kind"] == "formative"
    assert _data(quiz(1), assessment_kind="final")["assessment_kind"] == "final"


def test_survey_submission_is_a_satisfaction_response() -> None:
    statement = {
        "actor": agent(4),
        "verb": {"id": "http://activitystrea.ms/schema/1.0/submit"},
        "object": {
            "id": f"{HOME}/mod/feedback/view.php?id=95",
            "definition": {
                "type": "https://xapi.edlm/profiles/edlm-lms/concepts/activity-types/feedback"
            },
        },
        "context": {"contextActivities": {"parent": [{"id": COURSE}]}},
        "timestamp": "2026-10-06T16:00:00Z",
    }
    data = _data(statement)
    assert data["kind"] == "satisfaction_response"
    assert data["survey_ref"] == f"{HOME}/mod/feedback/view.php?id=95"
    assert data["timing"] == "hot"
    assert data["respondent_ref"] == PSEUDO.from_email("learner4@of-test.example")
    assert _data(statement, survey_timing="cold")["timing"] == "cold"


def test_course_completion_and_uncompletion() -> None:
    statement = {
        "actor": agent(1),
        "verb": {"id": ADL + "completed"},
        "object": {
            "id": COURSE,
            "definition": {"type": "https://w3id.org/xapi/cmi5/activitytype/course"},
        },
        "timestamp": "2026-10-07T10:00:00Z",
    }
    data = _data(statement)
    assert (data["kind"], data["state"], data.get("activity_ref")) == (
        "completion",
        "completed",
        None,
    )
    statement["verb"] = {"id": "https://xapi.edlm/profiles/edlm-lms/concepts/verbs/uncompleted"}
    assert _data(statement)["state"] == "incomplete"


def test_unknown_verb_is_kept_as_raw_activity() -> None:
    statement = attended(1)
    statement["verb"] = {"id": "http://example.org/verbs/doodled"}
    data = _data(statement)
    assert (data["kind"], data["verb"]) == ("activity", "http://example.org/verbs/doodled")
    assert data["duration_seconds"] == 3.5 * 3600


def test_voiding_withdraws_every_kind_of_the_target() -> None:
    mapped = _map(voiding("1b9e5c7e-4f0a-4c3e-8d2b-5a6f7e8d9c0a"))
    assert mapped.record is None
    assert {w.kind for w in mapped.withdrawals} == set(STATEMENT_KINDS)
    assert {w.source_id for w in mapped.withdrawals} == {"1b9e5c7e-4f0a-4c3e-8d2b-5a6f7e8d9c0a"}


def test_action_rules_join_other_sources() -> None:
    rule = {"pattern": r"/course/view\.php\?id=(?P<id>\d+)$", "template": "moodle:{id}"}
    assert _data(attended(1), action_rules=[rule])["action_ref"] == "moodle:12"
    with pytest.raises(PermanentError, match="action_rules"):
        _ = _connector(action_rules=[{"pattern": "(", "template": "x"}]).options


def test_actor_matching_rule(tmp_path: Path) -> None:
    email = "Camille.Martin@of-test.example"
    by_mail = _data(cmi5(ADL + "launched", actor={"mbox": f"mailto:{email}"}))["person_ref"]
    assert by_mail == PSEUDO.from_email(email)

    sha1 = hashlib.sha1(f"mailto:{email}".encode()).hexdigest()
    hashed = cmi5(ADL + "launched", actor={"mbox_sha1sum": sha1})
    unresolved = _data(hashed)["person_ref"]
    assert unresolved != by_mail
    assert _data(hashed)["person_ref"] == unresolved, "stable without the address"
    known = tmp_path / "emails.txt"
    known.write_text(f"# learners\n{email}\nother@of-test.example\n", encoding="utf-8")
    assert _data(hashed, known_emails_file=str(known))["person_ref"] == by_mail

    account = cmi5(ADL + "launched")
    plain = _data(account)["person_ref"]
    assert plain == PSEUDO.from_account("https://lms.of-test.example", "1042")
    mapped = _data(account, account_sources={"https://lms.of-test.example/": "moodle"})
    assert mapped["person_ref"] == PSEUDO.from_source_user("moodle", "1042")
    named = cmi5(
        ADL + "launched", actor={"account": {"homePage": "https://sso.example", "name": email}}
    )
    assert _data(named, account_names_are_emails=True)["person_ref"] == by_mail


def test_anonymous_group_is_skipped_and_reported() -> None:
    statement = cmi5(
        ADL + "launched", actor={"objectType": "Group", "member": [agent(1), agent(2)]}
    )
    mapped = _map(statement)
    assert mapped.record is None
    assert mapped.skipped is not None
    assert mapped.skipped.code == "no_actor"
    assert "6f0c8a1e" in mapped.skipped.item


async def test_intake_only_source_has_no_stream_and_checks_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = SourceConfig(
        id="lms",
        kind="xapi",
        credentials={"username": "XAPI_TEST_U", "password": "XAPI_TEST_P"},
        options={"intake": True},
    )
    connector = build_connector(TENANT, source)
    async with connector:
        assert connector.streams() == []
        report = await connector.check()
    assert not report.ok, "the credential variables are not set"
    monkeypatch.setenv("XAPI_TEST_U", "u")
    monkeypatch.setenv("XAPI_TEST_P", "p")
    async with connector:
        report = await connector.check()
    assert report.ok
    assert report.items[0].code == "intake"


def test_more_links_stay_on_the_lrs() -> None:
    endpoint = "https://lrs.example.org/xapi/"
    assert resolve_more(endpoint, "/xapi/statements/more/abc") == (
        "https://lrs.example.org/xapi/statements/more/abc"
    )
    with pytest.raises(PermanentError) as caught:
        resolve_more(endpoint, "https://elsewhere.example/xapi/statements/more/abc")
    assert caught.value.code == "more_other_origin"
