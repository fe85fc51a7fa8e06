"""Hand-written statements for the tests (not copied from any sample)."""

from __future__ import annotations

import copy
from typing import Any

HOME = "https://lms.of-test.example"
COURSE = f"{HOME}/course/view.php?id=12"
ADL = "http://adlnet.gov/expapi/verbs/"


def agent(n: int = 1) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "name": f"Learner {n}",
        "mbox": f"mailto:learner{n}@of-test.example",
    }


def course_parent() -> dict[str, Any]:
    return {
        "contextActivities": {
            "parent": [
                {
                    "objectType": "Activity",
                    "id": COURSE,
                    "definition": {"type": "https://w3id.org/xapi/cmi5/activitytype/course"},
                }
            ]
        }
    }


def attended(
    n: int = 1, *, ident: str | None = None, when: str = "2026-10-05T14:30:00+02:00"
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "actor": agent(n),
        "verb": {"id": ADL + "attended", "display": {"fr-FR": "a assisté"}},
        "object": {
            "objectType": "Activity",
            "id": f"{HOME}/mod/facetoface/view.php?id=3&session=9",
            "definition": {
                "name": {"fr-FR": "Journée 1"},
                "type": "https://w3id.org/xapi/acrossx/activities/face-to-face-discussion",
            },
        },
        "result": {"completion": True, "duration": "PT3H30M"},
        "context": {**course_parent(), "instructor": agent(99)},
        "timestamp": when,
    }
    if ident:
        statement["id"] = ident
    return statement


def quiz(n: int = 1, *, raw: float = 15, scaled: float | None = 0.0) -> dict[str, Any]:
    score: dict[str, Any] = {"raw": raw, "min": 0, "max": 20}
    if scaled is not None:
        score["scaled"] = scaled
    statement = {
        "actor": agent(n),
        "verb": {"id": ADL + "completed"},
        "object": {
            "id": f"{HOME}/mod/quiz/attempt.php?attempt=4",
            "definition": {"type": "http://adlnet.gov/expapi/activities/attempt"},
        },
        "result": {"score": score, "success": True, "completion": True},
        "context": copy.deepcopy(course_parent()),
        "timestamp": "2026-10-06T10:00:00Z",
    }
    statement["context"]["contextActivities"]["parent"].insert(  # type: ignore[index]
        0, {"id": f"{HOME}/mod/quiz/view.php?id=8"}
    )
    return statement


def voiding(target: str, ident: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "actor": agent(99),
        "verb": {"id": ADL + "voided"},
        "object": {"objectType": "StatementRef", "id": target},
    }
    if ident:
        statement["id"] = ident
    return statement
