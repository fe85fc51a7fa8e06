"""The stand-in's answers are shaped like those recorded from a real Moodle 4.5.6.

Every key the stand-in sends, at every nesting level, must exist in the recorded
answer of the same function (the stand-in may leave keys out, never invent them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from preuve.connectors.moodle.client import MoodleClient
from preuve.connectors.moodle.encoding import options_list
from preuve.testing.moodle import MoodleStandIn

RECORDED = Path("/work/shared/reference/moodle-responses")
# Optional keys documented in the 4.5.6 function descriptions (moodle-ws.md, section 9)
# but absent from the recordings because the lab site had no value for them.
DOCUMENTED_OPTIONAL = {".courses[].customfields"}

CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("core_webservice_get_site_info.json", "core_webservice_get_site_info", {}),
    ("core_course_get_courses_by_field.json", "core_course_get_courses_by_field", {}),
    ("core_course_get_contents.json", "core_course_get_contents", {"courseid": 2}),
    (
        "core_course_get_updates_since.json",
        "core_course_get_updates_since",
        {"courseid": 2, "since": 0},
    ),
    (
        "core_enrol_get_enrolled_users.json",
        "core_enrol_get_enrolled_users",
        {"courseid": 2, "options": options_list(userfields="id,fullname,email,roles")},
    ),
    ("core_enrol_get_users_courses.json", "core_enrol_get_users_courses", {"userid": 1000}),
    (
        "core_completion_get_activities_completion_status.json",
        "core_completion_get_activities_completion_status",
        {"courseid": 2, "userid": 1000},
    ),
    (
        "core_user_get_users_by_field.json",
        "core_user_get_users_by_field",
        {"field": "id", "values": [100]},
    ),
    ("gradereport_user_get_grade_items.json", "gradereport_user_get_grade_items", {"courseid": 2}),
    ("mod_attendance_get_sessions.json", "mod_attendance_get_sessions", {"attendanceid": 201}),
    (
        "mod_feedback_get_feedbacks_by_courses.json",
        "mod_feedback_get_feedbacks_by_courses",
        {"courseids": [2]},
    ),
    (
        "mod_feedback_get_responses_analysis.json",
        "mod_feedback_get_responses_analysis",
        {"feedbackid": 250},
    ),
    (
        "mod_feedback_get_responses_analysis__anonymous.json",
        "mod_feedback_get_responses_analysis",
        {"feedbackid": 250},
    ),
    (
        "mod_feedback_get_non_respondents.json",
        "mod_feedback_get_non_respondents",
        {"feedbackid": 250},
    ),
    (
        "mod_quiz_get_user_attempts__finished.json",
        "mod_quiz_get_user_attempts",
        {"quizid": 210, "userid": 1001, "status": "finished"},  # 1001 has a grade
    ),
    (
        "mod_quiz_get_user_best_grade.json",
        "mod_quiz_get_user_best_grade",
        {"quizid": 210, "userid": 1001},
    ),
    (
        "mod_quiz_get_user_best_grade__noattempt.json",
        "mod_quiz_get_user_best_grade",
        {"quizid": 210, "userid": 1000},  # 1000 has none
    ),
    ("mod_scorm_get_scorms_by_courses.json", "mod_scorm_get_scorms_by_courses", {"courseids": [2]}),
    ("mod_scorm_get_scorm_scoes.json", "mod_scorm_get_scorm_scoes", {"scormid": 204}),
    (
        "mod_scorm_get_scorm_sco_tracks.json",
        "mod_scorm_get_scorm_sco_tracks",
        {"scoid": 2042, "userid": 1001, "attempt": 0},
    ),
]


def _merged(values: list[Any]) -> Any:
    """All items of a recorded list merged: optional keys appear in some items only."""
    dicts = [v for v in values if isinstance(v, dict)]
    if not dicts:
        return values[0] if values else None
    merged: dict[str, Any] = {}
    for item in dicts:
        for key, value in item.items():
            if key not in merged or merged[key] in (None, [], {}):
                merged[key] = value
            elif isinstance(value, list) and isinstance(merged[key], list):
                merged[key] = merged[key] + value
    return merged


def _extra_keys(ours: Any, recorded: Any, path: str = "") -> list[str]:
    if isinstance(ours, list) and isinstance(recorded, list):
        if not ours or not recorded:
            return []
        return _extra_keys(_merged(ours), _merged(recorded), path + "[]")
    if isinstance(ours, dict) and isinstance(recorded, dict):
        extra = [f"{path}.{k}" for k in ours if k not in recorded]
        for key, value in ours.items():
            if key in recorded and recorded[key] not in (None, [], {}):
                extra += _extra_keys(value, recorded[key], f"{path}.{key}")
        return extra
    return []


def _recorded(file: str) -> Any:
    if not RECORDED.is_dir():
        pytest.skip(f"recorded Moodle answers not available ({RECORDED} is absent)")
    return orjson.loads((RECORDED / file).read_bytes())


@pytest.mark.parametrize(("file", "function", "params"), CALLS, ids=[c[0] for c in CALLS])
async def test_stand_in_answers_have_recorded_keys_only(
    moodle: MoodleStandIn, file: str, function: str, params: dict[str, Any]
) -> None:
    recorded = _recorded(file)
    async with MoodleClient(moodle.url, moodle.token) as client:
        ours = await client.call(function, params)
    assert type(ours) is type(recorded)
    assert [k for k in _extra_keys(ours, recorded) if k not in DOCUMENTED_OPTIONAL] == []
